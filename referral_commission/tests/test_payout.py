# This file is part of the lead trading suite. See README.rst for details.
"""Referral payouts on a database: the revenue that earns commission, the
three areas, the minimum with carry-forward, netting, the filters of a run,
the preview, export, undo and done"""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.referral_commission.exceptions import PayoutError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction, check_access

from .tools import (
    PERIOD_START, TODAY, ago, create_party, credit, deliver_lead, export,
    invoice, pay, payout, preview, refer, rows, run_billing, setup_referrals,
    vouchers, with_lead_trading)


class PayoutTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['referral_commission', 'lead_complaints'])

    def parties(self, fixture):
        "The referrer R and the customers A and B it brought"
        fixture.referrer = create_party("Werber GmbH", 'R', lead_buyer=True)
        fixture.a = create_party("Kunde A", 'A', lead_buyer=True)
        fixture.b = create_party("Kunde B", 'B', lead_buyer=True)
        return fixture

    @with_lead_trading
    def test_small_amounts_carry_forward_to_the_minimum(self, fixture):
        "3 € + 3 € reach a 5 € minimum: the first 3 € wait for the second"
        setup_referrals(fixture)
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        refer(fixture.referrer, fixture.b)
        invoice(fixture, fixture.a, '60.00')

        first = preview(payout())
        self.assertEqual(rows(first), {
                ('A', 'new'): (D('3.00'), 'below_minimum')})
        recipient, = first.recipients
        self.assertEqual(recipient.voucher_amount, D('3.00'))
        self.assertEqual(recipient.status, 'below_minimum')
        with self.assertRaises(PayoutError) as raised:
            export(first)
        self.assertIn('nothing to export', str(raised.exception))

        invoice(fixture, fixture.b, '60.00')
        second = export(payout())
        self.assertEqual(second.state, 'exported')
        self.assertEqual(rows(second), {
                ('A', 'new'): (D('3.00'), 'included'),
                ('B', 'new'): (D('3.00'), 'included')})
        self.assertEqual(vouchers(second), [('R', D('6.00'))])
        self.assertEqual(second.voucher_total, D('6.00'))
        self.assertEqual(second.commission_count, 2)

        # paid once: nothing is left for a third run
        with self.assertRaises(PayoutError):
            export(payout())

    @with_lead_trading
    def test_overpaid_is_netted_against_open_commission(self, fixture):
        pool = Pool()
        Commission = pool.get('commission')
        setup_referrals(fixture)
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        first_invoice = invoice(fixture, fixture.a, '200.00')
        first = export(payout())
        self.assertEqual(vouchers(first), [('R', D('10.00'))])

        # half of the paid revenue is credited, more revenue comes
        credit(fixture, first_invoice, '100.00')
        invoice(fixture, fixture.a, '300.00')

        without = preview(payout(scope_overpaid=False))
        self.assertEqual(rows(without), {
                ('A', 'difference'): (D('15.00'), 'included'),
                ('A', 'overpaid'): (D('-5.00'), 'out_of_scope')})
        recipient, = without.recipients
        self.assertEqual(recipient.voucher_amount, D('15.00'))

        netted = export(payout())
        self.assertEqual(rows(netted), {
                ('A', 'difference'): (D('15.00'), 'included'),
                ('A', 'overpaid'): (D('-5.00'), 'included')})
        recipient, = netted.recipients
        self.assertEqual(
            (recipient.difference_amount, recipient.overpaid_amount,
                recipient.voucher_amount),
            (D('15.00'), D('-5.00'), D('10.00')))
        self.assertEqual(vouchers(netted), [('R', D('10.00'))])
        overpaid, = Commission.search([('referral_area', '=', 'overpaid')])
        self.assertEqual(overpaid.base_amount, D('-100.00'))
        self.assertEqual(overpaid.amount, D('-5.0000'))
        self.assertEqual(overpaid.referral_voucher, netted.vouchers[0])

    @with_lead_trading
    def test_overpaid_beyond_open_commission_waits(self, fixture):
        "Netting never asks money back: a negative voucher is not issued"
        setup_referrals(fixture, minimum='0')
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        first_invoice = invoice(fixture, fixture.a, '200.00')
        export(payout())
        credit(fixture, first_invoice, '200.00')
        invoice(fixture, fixture.a, '100.00')
        held = preview(payout())
        self.assertEqual(rows(held), {
                ('A', 'difference'): (D('5.00'), 'not_positive'),
                ('A', 'overpaid'): (D('-10.00'), 'not_positive')})
        with self.assertRaises(PayoutError):
            export(held)

    @with_lead_trading
    def test_differences_after_partial_payout(self, fixture):
        setup_referrals(fixture)
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        invoice(fixture, fixture.a, '100.00')
        unpaid = invoice(fixture, fixture.a, '300.00', paid=False)
        first = export(payout())
        self.assertEqual(rows(first), {('A', 'new'): (D('5.00'), 'included')})

        # the rest of the customer's revenue is paid later: a difference
        pay(fixture, unpaid)
        second = export(payout())
        self.assertEqual(rows(second), {
                ('A', 'difference'): (D('15.00'), 'included')})
        self.assertEqual(vouchers(second), [('R', D('15.00'))])

    @with_lead_trading
    def test_revenue_earns_once_settled_in_the_period(self, fixture):
        setup_referrals(fixture, minimum='0')
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        before = TODAY - dt.timedelta(days=10)
        invoice(fixture, fixture.a, '100.00', paid=False)
        original = invoice(fixture, fixture.a, '80.00', paid=False)
        # a credit of revenue not paid out yet waits with its revenue
        credit(fixture, original, '20.00')
        invoice(fixture, fixture.a, '40.00', date=TODAY)
        record = preview(payout(period_end=before))
        self.assertEqual(rows(record), {})
        pay(fixture, original)
        record = preview(payout(period_end=before))
        self.assertEqual(rows(record), {
                ('A', 'new'): (D('3.00'), 'included')})
        line, = record.lines
        self.assertEqual(line.base_amount, D('60.00'))
        self.assertEqual(line.commission_count, 2)

    @with_lead_trading
    def test_revenue_before_the_referral_earns_nothing(self, fixture):
        pool = Pool()
        Referral = pool.get('referral.referral')
        Commission = pool.get('commission')
        setup_referrals(fixture)
        self.parties(fixture)
        old = invoice(fixture, fixture.a, '100.00',
            date=TODAY - dt.timedelta(days=40))
        invoice(fixture, fixture.a, '200.00',
            date=TODAY - dt.timedelta(days=20))
        # recorded late: the revenue since the referral date is collected
        referral = refer(fixture.referrer, fixture.a,
            date=TODAY - dt.timedelta(days=30))
        commission, = referral.commissions
        self.assertEqual(commission.base_amount, D('200.00'))
        self.assertEqual(commission.amount, D('10.0000'))
        self.assertEqual(commission.agent.party, fixture.referrer)
        self.assertTrue(commission.agent.referral_programme)
        self.assertEqual(commission.product, fixture.commission_product)
        self.assertIsNotNone(commission.date, "the invoice is paid")
        Referral.collect([referral])
        self.assertEqual(len(Referral(referral.id).commissions), 1)
        # crediting revenue that never earned takes nothing back
        credit(fixture, old, '50.00')
        self.assertEqual(Commission.search([], count=True), 1)
        self.assertEqual(Referral(referral.id).revenue, D('200.00'))

    @with_lead_trading
    def test_cancelled_revenue_is_taken_back(self, fixture):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Reconciliation = pool.get('account.move.reconciliation')
        Commission = pool.get('commission')
        fixture.company.cancel_invoice_out = True
        fixture.company.save()
        setup_referrals(fixture)
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        paid_out = invoice(fixture, fixture.a, '200.00')
        export(payout())
        # the payment bounced and the invoice was cancelled (the GoBD way
        # is a credit note; a company may allow cancelling)
        Reconciliation.delete(list({line.reconciliation
                    for line in paid_out.lines_to_pay}))
        Invoice.process([paid_out])
        open_ = invoice(fixture, fixture.a, '300.00', paid=False)
        partly_credited = credit(fixture, open_, '100.00')
        Invoice.cancel([Invoice(paid_out.id), open_])
        self.assertEqual(Commission.search([
                    ('referral_line.invoice', 'in',
                        [open_.id, partly_credited.id]),
                    ]), [], "commission never paid is dropped")
        reversal, = Commission.search([
                ('referral_line.invoice', '=', paid_out.id),
                ('referral_voucher', '=', None)])
        self.assertEqual(reversal.base_amount, D('-200.00'))
        self.assertEqual(reversal.referral_corrects.base_amount, D('200.00'))

        invoice(fixture, fixture.a, '400.00')
        record = export(payout())
        self.assertEqual(rows(record), {
                ('A', 'difference'): (D('20.00'), 'included'),
                ('A', 'overpaid'): (D('-10.00'), 'included')})
        self.assertEqual(vouchers(record), [('R', D('10.00'))])

    def branches(self, fixture):
        Branch = Pool().get('referral.branch')
        fixture.north, fixture.south = Branch.create([{
                    'code': 'N', 'name': "Nord",
                    'sender': "Leadhandel Nord\nHafenstraße 1\n20457 Hamburg",
                    'contact': "nord@leadhandel.example",
                    'signature': "Ihr Team Nord",
                    }, {
                    'code': 'S', 'name': "Süd",
                    'sender': "Leadhandel Süd\nMarienplatz 2\n80331 München",
                    }])
        return fixture

    @with_lead_trading
    def test_filters_of_a_run(self, fixture):
        pool = Pool()
        Referral = pool.get('referral.referral')
        setup_referrals(fixture, minimum='0')
        self.parties(fixture)
        self.branches(fixture)
        collector = create_party("Verein e.V.", 'V', lead_buyer=True)
        c = create_party("Kunde C", 'C', lead_buyer=True)
        d = create_party("Kunde D", 'D', lead_buyer=True)
        approved = refer(fixture.referrer, fixture.a, branch=fixture.north)
        Referral.approve([approved])
        refer(fixture.referrer, fixture.b, branch=fixture.south)
        refer(collector, c, branch=fixture.north, kind='collector')
        blocked = refer(collector, d, branch=fixture.north, kind='collector')
        Referral.block([blocked])
        for party in [fixture.a, fixture.b, c, d]:
            invoice(fixture, party, '100.00')

        every = preview(payout())
        self.assertEqual(rows(every), {
                ('A', 'new'): (D('5.00'), 'included'),
                ('B', 'new'): (D('5.00'), 'included'),
                ('C', 'new'): (D('5.00'), 'included'),
                ('D', 'new'): (D('5.00'), 'blocked')})
        north = preview(payout(branches=[('add', [fixture.north.id])]))
        self.assertEqual(set(rows(north)), {
                ('A', 'new'), ('C', 'new'), ('D', 'new')})
        collectors = preview(payout(kind='collector'))
        self.assertEqual(set(rows(collectors)), {('C', 'new'), ('D', 'new')})
        standard = preview(payout(kind='standard'))
        self.assertEqual(set(rows(standard)), {('A', 'new'), ('B', 'new')})
        green = preview(payout(approved_only=True))
        self.assertEqual(rows(green), {
                ('A', 'new'): (D('5.00'), 'included'),
                ('B', 'new'): (D('5.00'), 'not_approved'),
                ('C', 'new'): (D('5.00'), 'not_approved'),
                ('D', 'new'): (D('5.00'), 'blocked')})
        new_only = preview(payout(scope_new=False))
        self.assertEqual({s for _, s in rows(new_only).values()},
            {'out_of_scope', 'blocked'})

        # one file set per branch: a referrer in two branches gets two
        exported = export(payout())
        self.assertEqual(vouchers(exported), [
                ('R', D('5.00')), ('R', D('5.00')), ('V', D('5.00'))])
        self.assertEqual(sorted(f.name for f in exported.files), [
                'payout-%s-N.csv' % exported.id,
                'payout-%s-N.xlsx' % exported.id,
                'payout-%s-S.csv' % exported.id,
                'payout-%s-S.xlsx' % exported.id])

    @with_lead_trading
    def test_voucher_per_referral_but_collectors_get_one(self, fixture):
        setup_referrals(fixture, minimum='0')
        self.parties(fixture)
        collector = create_party("Verein e.V.", 'V', lead_buyer=True)
        c = create_party("Kunde C", 'C', lead_buyer=True)
        d = create_party("Kunde D", 'D', lead_buyer=True)
        refer(fixture.referrer, fixture.a)
        refer(fixture.referrer, fixture.b)
        refer(collector, c, kind='collector')
        refer(collector, d, kind='collector')
        for party, amount in [(fixture.a, '100.00'), (fixture.b, '60.00'),
                (c, '40.00'), (d, '20.00')]:
            invoice(fixture, party, amount)
        per_referrer = preview(payout())
        self.assertEqual(sorted((r.referrer.code, r.voucher_amount)
                for r in per_referrer.recipients), [
                ('R', D('8.00')), ('V', D('3.00'))])
        per_referral = export(payout(variant='referral'))
        self.assertEqual(vouchers(per_referral), [
                ('R', D('3.00')), ('R', D('5.00')), ('V', D('3.00'))])
        by_referral = {v.referral.referred.code: v.amount
            for v in per_referral.vouchers if v.referral}
        self.assertEqual(by_referral, {'A': D('5.00'), 'B': D('3.00')})
        collector_voucher, = [v for v in per_referral.vouchers
            if v.party == collector]
        self.assertEqual(collector_voucher.referred.splitlines(),
            ["Kunde C", "Kunde D"])

    @with_lead_trading
    def test_block_and_release_in_the_preview(self, fixture):
        setup_referrals(fixture)
        self.parties(fixture)
        referral = refer(fixture.referrer, fixture.a)
        invoice(fixture, fixture.a, '200.00')
        record = preview(payout(approved_only=True))
        line, = record.lines
        self.assertEqual((line.status, line.referral_state),
            ('not_approved', 'open'))

        Line = Pool().get('referral.payout.line')
        Line.release([line])
        line, = preview(record).lines
        self.assertEqual((line.status, line.referral_state),
            ('included', 'approved'))
        Line.block([line])
        line, = preview(record).lines
        self.assertEqual((line.status, line.referral_state),
            ('blocked', 'blocked'))
        self.assertEqual(referral.state, 'blocked')
        with self.assertRaises(PayoutError):
            export(record)
        Line.release(Pool().get('referral.payout')(record.id).lines)
        exported = export(record)
        self.assertEqual(vouchers(exported), [('R', D('10.00'))])

    @with_lead_trading
    def test_undo_reopens_and_done_books(self, fixture):
        pool = Pool()
        Payout = pool.get('referral.payout')
        Commission = pool.get('commission')
        Voucher = pool.get('referral.voucher')
        setup_referrals(fixture, cash_rate='2')
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        invoice(fixture, fixture.a, '200.00')
        first = export(payout())
        voucher, = first.vouchers
        self.assertEqual((voucher.amount, voucher.cash_amount),
            (D('10.00'), D('4.00')))
        commission, = Commission.search([])
        self.assertEqual(commission.referral_voucher, voucher)
        self.assertEqual(commission.referral_cash_amount, D('4.0000'))
        self.assertEqual(commission.referral_area, 'new')
        self.assertEqual(commission.agent.pending_amount, D('0'))

        Payout.undo([first])
        first = Payout(first.id)
        self.assertEqual(first.state, 'undone')
        self.assertIsNotNone(first.undone_at)
        self.assertEqual(first.vouchers, ())
        self.assertEqual(Voucher.search([]), [])
        self.assertIsNone(Commission(commission.id).referral_voucher)
        self.assertEqual(len(first.files), 2, "the files stay as history")
        with self.assertRaises(AccessError):
            Payout.delete([first])
        self.assertEqual(commission.agent.pending_amount, D('10.0000'))

        second = export(payout())
        Payout.done([second])
        second = Payout(second.id)
        self.assertEqual(second.state, 'done')
        self.assertEqual(second.move.state, 'posted')
        lines = {(line.account, line.party): (line.debit, line.credit)
            for line in second.move.lines}
        self.assertEqual(lines, {
                (fixture.voucher_account, fixture.referrer):
                (D('0'), D('10.00')),
                (fixture.expense_account, None): (D('10.00'), D('0'))})
        voucher, = second.vouchers
        self.assertEqual(voucher.state, 'issued')
        # a done export stays done
        Payout.undo([second])
        self.assertEqual(Payout(second.id).state, 'done')
        self.assertEqual(Commission(commission.id).referral_voucher, voucher)

    @with_lead_trading
    def test_revenue_waits_for_the_complaint_window(self, fixture):
        pool = Pool()
        Party = pool.get('party.party')
        setup_referrals(fixture, minimum='0')
        referrer = create_party("Werber GmbH", 'R', lead_buyer=True)
        Party.write([fixture.buyer], {'lead_billing_interval': 'weekly'})
        refer(referrer, fixture.buyer)
        deliver_lead(fixture, 'L1', fixture.buyer, delivered_at=ago(days=20))
        deliver_lead(fixture, 'L2', fixture.buyer, delivered_at=ago(days=19))
        run = run_billing(fixture)
        billed, = [i for i in run.invoices if i.party == fixture.buyer]
        pay(fixture, billed)

        # the buyer may still return its leads for 60 days
        Party.write([fixture.buyer], {'lead_complaint_window_days': 60})
        self.assertEqual(rows(preview(payout())), {})
        # with the category's 7 days the window has passed
        Party.write([fixture.buyer], {'lead_complaint_window_days': None})
        self.assertEqual(rows(preview(payout())), {
                ('B1', 'new'): (D('3.00'), 'included')})

    @with_lead_trading
    def test_staff_previews_accountants_export(self, fixture):
        pool = Pool()
        Payout = pool.get('referral.payout')
        Line = pool.get('referral.payout.line')
        Referral = pool.get('referral.referral')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        setup_referrals(fixture)
        self.parties(fixture)
        invoice(fixture, fixture.a, '200.00')
        lead_trading = ModelData.get_id('lead_billing', 'group_lead_trading')
        accounting = ModelData.get_id('account', 'group_account')
        staff, accountant = User.create([{
                    'login': login, 'name': login,
                    'groups': [('add', groups)],
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    } for login, groups in [
                    ('staff', [lead_trading]),
                    ('accountant', [lead_trading, accounting])]])

        with Transaction().set_user(staff.id), check_access():
            # recording the referral collects the revenue already invoiced
            referral = refer(fixture.referrer, fixture.a)
            self.assertEqual(referral.revenue, D('200.00'))
            Referral.write([referral], {'note': "Empfehlung auf der Messe"})
            record, = Payout.create([{
                        'period_start': PERIOD_START, 'period_end': TODAY}])
            Payout.preview([record])
            line, = Payout(record.id).lines
            Line.block([line])
            line, = Payout(record.id).lines
            self.assertEqual(line.status, 'blocked')
            Line.release([line])
            line, = Payout(record.id).lines
            self.assertEqual(line.status, 'included')
            with self.assertRaises(AccessButtonError):
                Payout.export([record])
        with Transaction().set_user(accountant.id), check_access():
            Payout.export([Payout(record.id)])
            Payout.done([Payout(record.id)])
        self.assertEqual(vouchers(Payout(record.id)), [('R', D('10.00'))])

    @with_lead_trading
    def test_scheduled_job_prepares_the_payout_once(self, fixture):
        Payout = Pool().get('referral.payout')
        setup_referrals(fixture)
        self.parties(fixture)
        refer(fixture.referrer, fixture.a)
        last_month = TODAY.replace(day=1) - dt.timedelta(days=1)
        invoice(fixture, fixture.a, '200.00', date=last_month)
        Payout.prepare_due()
        Payout.prepare_due()
        prepared, = Payout.search([])
        self.assertEqual(prepared.state, 'draft')
        self.assertEqual(prepared.period_end, last_month)
        self.assertEqual(rows(prepared), {
                ('A', 'new'): (D('10.00'), 'included')})

    @with_lead_trading
    def test_programme_settings_and_referrals_logged(self, fixture):
        pool = Pool()
        Referral = pool.get('referral.referral')
        Settings = pool.get('lead.configuration.referral')
        Change = pool.get('lead.audit.change')
        setup_referrals(fixture, voucher_rate='7.5')
        self.parties(fixture)

        def logged(record, action):
            return {(c.field, c.old_value, c.new_value)
                for c in Change.search([
                        ('model', '=', record.__name__),
                        ('record_id', '=', record.id),
                        ('action', '=', action),
                        ])}
        settings, = Settings.search([('company', '=', fixture.company.id)])
        # only what differs from the defaults in force before
        self.assertEqual(logged(settings, 'write'), {
                ('referral_programme_start', None, PERIOD_START.isoformat()),
                ('referral_voucher_rate', '5.00', '7.50'),
                ('referral_product', None, settings.referral_product.rec_name),
                ('referral_voucher_method', None,
                    settings.referral_voucher_method.rec_name),
                })
        referral = refer(fixture.referrer, fixture.a)
        Referral.approve([referral])
        self.assertEqual(logged(referral, 'create'), {
                ('referrer', None, "Werber GmbH"),
                ('referred', None, "Kunde A"),
                ('date', None, PERIOD_START.isoformat()),
                ('kind', None, "Standard Recipient"),
                ('state', None, "Open"),
                })
        self.assertEqual(
            logged(referral, 'write'), {('state', "Open", "Approved")})
