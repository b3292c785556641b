# This file is part of the lead trading suite. See README.rst for details.
"""What an export leaves: the files per branch, the voucher letters and
the vouchers' life after booking (redeemed against invoices, paid in
cash); and what Tryton's commission machinery may no longer do with
referral commission"""
import csv
import io
import unittest
from decimal import Decimal as D

import openpyxl

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.referral_commission.exceptions import (
    ReferralError, VoucherError)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction, check_access

from .tools import (
    TODAY, create_party, export, invoice, payout, refer, setup_referrals,
    with_lead_trading)


def workbook(file):
    return openpyxl.load_workbook(io.BytesIO(file.data))


def sheet_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


class VoucherTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['referral_commission', 'lead_complaints'])

    def exported(self, fixture, cash_rate='0'):
        """A done payout: referrer R (branch N, German) brought A and B,
        collector V (no branch) brought C"""
        pool = Pool()
        Branch = pool.get('referral.branch')
        Lang = pool.get('ir.lang')
        Payout = pool.get('referral.payout')
        setup_referrals(fixture, cash_rate=cash_rate)
        german, = Lang.search([('code', '=', 'de')])
        north, = Branch.create([{
                    'code': 'N', 'name': "Nord",
                    'sender': "Leadhandel Nord\nHafenstraße 1\n20457 Hamburg",
                    'contact': "nord@leadhandel.example",
                    'signature': "Ihr Team Nord",
                    }])
        fixture.referrer = create_party(
            "Werber GmbH", 'R', lead_buyer=True, lang=german.id)
        fixture.collector = create_party("Verein e.V.", 'V', lead_buyer=True)
        a = create_party("Kunde A", 'A', lead_buyer=True)
        b = create_party("Kunde B", 'B', lead_buyer=True)
        c = create_party("Kunde C", 'C', lead_buyer=True)
        refer(fixture.referrer, a, branch=north)
        refer(fixture.referrer, b, branch=north)
        refer(fixture.collector, c, kind='collector')
        invoice(fixture, a, '421.00')
        invoice(fixture, b, '200.00')
        invoice(fixture, c, '120.00')
        record = export(payout())
        Payout.done([record])
        return Payout(record.id)

    def voucher_of(self, record, party):
        voucher, = [v for v in record.vouchers if v.party == party]
        return voucher

    @with_lead_trading
    def test_files_per_branch(self, fixture):
        record = self.exported(fixture, cash_rate='2')
        files = {(f.branch.code if f.branch else None, f.format): f
            for f in record.files}
        self.assertEqual(set(files), {
                ('N', 'xlsx'), ('N', 'csv'), (None, 'xlsx'), (None, 'csv')})

        voucher = self.voucher_of(record, fixture.referrer)
        book = workbook(files['N', 'xlsx'])
        self.assertEqual(book.sheetnames, ['Vouchers', 'Details'])
        header, *data = sheet_rows(book['Vouchers'])
        self.assertEqual(len(data), 1)
        row = dict(zip(header, data[0]))
        self.assertEqual(row['Voucher'], voucher.number)
        self.assertEqual(row['Referrer'], "Werber GmbH")
        self.assertEqual(row['Customer Code'], 'R')
        self.assertEqual(row['Postal Code'], '10115')
        self.assertEqual(row['City'], 'Berlin')
        self.assertEqual(row['Branch'], 'N Nord')
        self.assertEqual(row['Referred Customers'], "Kunde A, Kunde B")
        self.assertEqual(row['Revenue'], 621)
        self.assertEqual(row['New'], 31.05)
        self.assertEqual(row['Voucher Amount'], 31.05)
        self.assertEqual(row['Voucher Amount in Words'],
            "einunddreißig Euro und fünf Cent")
        self.assertEqual(row['Cash Alternative'], 12.42)
        self.assertEqual(row['Cash Alternative in Words'],
            "zwölf Euro und zweiundvierzig Cent")
        self.assertEqual(row['Language'], 'de')
        header, *details = sheet_rows(book['Details'])
        self.assertEqual(sorted((d[2], d[3], d[4], d[5]) for d in details), [
                ("Kunde A", "New", 421, 21.05), ("Kunde B", "New", 200, 10)])

        collector_book = workbook(files[None, 'xlsx'])
        header, *data = sheet_rows(collector_book['Vouchers'])
        row = dict(zip(header, data[0]))
        self.assertEqual((row['Referrer'], row['Voucher Amount']),
            ("Verein e.V.", 6))
        self.assertEqual(row['Voucher Amount in Words'], "six euro")

        content = bytes(files['N', 'csv'].data)
        self.assertTrue(content.startswith('\ufeff'.encode('utf-8')))
        header, *data = list(csv.reader(
                io.StringIO(content.decode('utf-8-sig')), delimiter=';'))
        row = dict(zip(header, data[0]))
        self.assertEqual(row['Voucher'], voucher.number)
        self.assertEqual(row['Voucher Amount'], '31.05')
        self.assertEqual(row['Cash Alternative in Words'],
            "zwölf Euro und zweiundvierzig Cent")

        # saved: the export can be opened and downloaded again, unchanged
        Payout = Pool().get('referral.payout')
        again = {f.name: bytes(f.data) for f in Payout(record.id).files}
        self.assertEqual(again[files['N', 'csv'].name], content)

    @with_lead_trading
    def test_voucher_letter(self, fixture):
        Document = Pool().get('referral.voucher.document', type='report')
        record = self.exported(fixture, cash_rate='2')
        voucher = self.voucher_of(record, fixture.referrer)
        context = Document.get_context([voucher], {}, {})
        letter = context['letters'][voucher.id]
        self.assertEqual(letter.words, "einunddreißig Euro und fünf Cent")
        self.assertEqual(letter.cash_words,
            "zwölf Euro und zweiundvierzig Cent")
        self.assertEqual(letter.sender,
            ["Leadhandel Nord", "Hafenstraße 1", "20457 Hamburg"])
        self.assertEqual(letter.signature, "Ihr Team Nord")
        self.assertEqual(letter.recipient[0], "Werber GmbH")
        self.assertEqual(letter.referred, ["Kunde A", "Kunde B"])

        ext, content, _, name = Document.execute([voucher.id], {})
        self.assertEqual(ext, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))
        self.assertEqual(bytes(voucher.__class__(voucher.id).document_cache),
            bytes(content), "kept as it was sent")

        collector = self.voucher_of(record, fixture.collector)
        letter = Document.get_context(
            [collector], {}, {})['letters'][collector.id]
        self.assertEqual(letter.sender[0], "Leadhandel GmbH",
            "no branch: the company's letterhead")

    @with_lead_trading
    def test_redeem_against_the_referrers_invoices(self, fixture):
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        Invoice = pool.get('account.invoice')
        record = self.exported(fixture)
        voucher = self.voucher_of(record, fixture.referrer)
        self.assertEqual((voucher.amount, voucher.balance),
            (D('31.05'), D('31.05')))
        first = invoice(fixture, fixture.referrer, '20.00', date=TODAY,
            paid=False)
        second = invoice(fixture, fixture.referrer, '50.00', date=TODAY,
            paid=False)

        # as the accountant does it: Redeem on the voucher
        Redeem = pool.get('referral.voucher.redeem', type='wizard')
        session_id, _, _ = Redeem.create()
        redeem = Redeem(session_id)
        with Transaction().set_context(
                active_model='referral.voucher', active_id=voucher.id,
                active_ids=[voucher.id]):
            defaults = redeem.default_start(None)
            self.assertEqual(defaults['balance'], D('31.05'))
            redeem.start.invoice = first
            redeem.start.balance = defaults['balance']
            redeem.start.on_change_invoice()
            self.assertEqual(redeem.start.amount, D('20.00'))
            redeem.start.date = TODAY
            self.assertEqual(redeem.transition_redeem(), 'end')
        Redeem.delete(session_id)
        self.assertEqual(Invoice(first.id).state, 'paid')
        voucher = Voucher(voucher.id)
        self.assertEqual((voucher.state, voucher.balance),
            ('issued', D('11.05')))
        with self.assertRaises(VoucherError) as raised:
            voucher.redeem_against(second, D('11.06'), TODAY)
        self.assertIn('at most', str(raised.exception))
        other = invoice(fixture, fixture.collector, '50.00', date=TODAY,
            paid=False)
        with self.assertRaises(VoucherError):
            voucher.redeem_against(other, D('5.00'), TODAY)

        voucher.redeem_against(second, D('11.05'), TODAY)
        voucher = Voucher(voucher.id)
        self.assertEqual((voucher.state, voucher.balance),
            ('redeemed', D('0')))
        second = Invoice(second.id)
        self.assertEqual(second.state, 'posted')
        self.assertEqual(second.amount_to_pay, D('38.95'))
        self.assertEqual(sum(r.amount for r in voucher.redemptions),
            D('31.05'))
        # the voucher liability to the referrer is settled
        MoveLine = pool.get('account.move.line')
        self.assertEqual(sum(line.credit - line.debit
                for line in MoveLine.search([
                        ('account', '=', fixture.voucher_account.id),
                        ('party', '=', fixture.referrer.id)])), D('0'))
        with self.assertRaises(VoucherError):
            voucher.redeem_against(second, D('1.00'), TODAY)

    @with_lead_trading
    def test_cash_payout_instead_of_the_voucher(self, fixture):
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        record = self.exported(fixture, cash_rate='2')
        voucher = self.voucher_of(record, fixture.referrer)
        Voucher.cash_out([voucher])
        voucher = Voucher(voucher.id)
        self.assertEqual((voucher.state, voucher.balance), ('cashed', D('0')))
        lines = {(line.account, line.party): (line.debit, line.credit)
            for line in voucher.cash_move.lines}
        payable = fixture.referrer.account_payable_used
        self.assertEqual(lines, {
                (fixture.voucher_account, fixture.referrer):
                (D('31.05'), D('0')),
                (payable, fixture.referrer): (D('0'), D('12.42')),
                (fixture.expense_account, None): (D('0'), D('18.63'))})

        # a voucher partly redeemed, or without cash offer, stays a voucher
        without_cash = self.voucher_of(record, fixture.collector)
        self.assertEqual(without_cash.cash_amount, D('2.40'))
        due = invoice(fixture, fixture.collector, '50.00', date=TODAY,
            paid=False)
        without_cash.redeem_against(due, D('1.00'), TODAY)
        with self.assertRaises(VoucherError):
            Voucher.cash_out([Voucher(without_cash.id)])

    @with_lead_trading
    def test_tryton_does_not_invoice_referral_commission(self, fixture):
        pool = Pool()
        Commission = pool.get('commission')
        CreateInvoice = pool.get('commission.create_invoice', type='wizard')
        setup_referrals(fixture)
        referrer = create_party("Werber GmbH", 'R', lead_buyer=True)
        customer = create_party("Kunde A", 'A', lead_buyer=True)
        refer(referrer, customer)
        invoice(fixture, customer, '100.00')
        commission, = Commission.search([])
        self.assertEqual(commission.agent.pending_amount, D('5.0000'))
        with self.assertRaises(ReferralError):
            Commission.invoice([commission])
        session_id, _, _ = CreateInvoice.create()
        wizard = CreateInvoice(session_id)
        wizard.ask.from_ = wizard.ask.to = None
        wizard.ask.type_ = 'both'
        wizard.ask.agents = []
        self.assertEqual(
            Commission.search(wizard.get_domain()), [],
            "the agent invoicing of Tryton leaves referral commission alone")
        CreateInvoice.delete(session_id)

    @with_lead_trading
    def test_referral_rules(self, fixture):
        Referral = Pool().get('referral.referral')
        setup_referrals(fixture)
        referrer = create_party("Werber GmbH", 'R', lead_buyer=True)
        customer = create_party("Kunde A", 'A', lead_buyer=True)
        with self.assertRaises(UserError) as raised:
            refer(referrer, referrer)
        self.assertIn('cannot refer itself', str(raised.exception))
        referral = refer(referrer, customer)
        # without commission a referral may still change
        other_customer = create_party("Kunde B", 'B', lead_buyer=True)
        other = create_party("Werber 2", 'R2', lead_buyer=True)
        Referral.write([referral], {'referrer': other.id})
        self.assertEqual(referral.agent.party, other)
        Referral.write([referral], {'referrer': referrer.id})
        invoice(fixture, customer, '100.00')
        with self.assertRaises(ReferralError) as raised:
            Referral.delete([referral])
        self.assertIn('has commission', str(raised.exception))
        with self.assertRaises(ReferralError) as raised:
            Referral.write([referral], {'referred': other_customer.id})
        self.assertIn('can no longer change', str(raised.exception))
        Referral.write([referral], {'kind': 'collector'})
        # last: a refused insert ends the transaction on PostgreSQL
        with self.assertRaises(UserError) as raised:
            refer(other, customer)
        self.assertIn('referred only once', str(raised.exception))

    @with_lead_trading
    def test_referrer_sees_only_its_own_vouchers(self, fixture):
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        Referral = pool.get('referral.referral')
        Redemption = pool.get('referral.voucher.redemption')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        record = self.exported(fixture)
        own = self.voucher_of(record, fixture.referrer)
        other = self.voucher_of(record, fixture.collector)
        due = invoice(fixture, fixture.referrer, '20.00', date=TODAY,
            paid=False)
        own.redeem_against(due, D('5.00'), TODAY)
        group = ModelData.get_id('lead_billing', 'group_lead_buyer_external')
        user, = User.create([{
                    'login': 'werber', 'name': "Werber (extern)",
                    'lead_party': fixture.referrer.id,
                    'groups': [('add', [group])],
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    }])

        with Transaction().set_user(user.id), check_access():
            self.assertEqual(Voucher.search([]), [own])
            with self.assertRaises(AccessError):
                Voucher.read([other.id], ['amount'])
            self.assertEqual(
                [r.referred.code for r in Referral.search([])], ['B', 'A'])
            self.assertEqual(len(Redemption.search([])), 1)
            for Model, view, ids in [
                    (Voucher, 'voucher_view_list', [own.id]),
                    (Voucher, 'voucher_view_form', [own.id]),
                    (Redemption, 'redemption_view_list',
                        [r.id for r in own.redemptions]),
                    (Referral, 'referral_view_form',
                        [r.id for r in Referral.search([])]),
                    ]:
                with self.subTest(view=view):
                    fields = Model.fields_view_get(ModelData.get_id(
                            'referral_commission', view))['fields']
                    names = [f'{n}.rec_name' if fields[n]['type'] in {
                            'many2one', 'one2many'} and n != 'currency'
                        else n for n in fields]
                    self.assertTrue(Model.read(ids, names))
                    for hidden in ['payout', 'commissions', 'cash_move',
                            'invoice', 'move', 'agent', 'note']:
                        self.assertNotIn(hidden, fields)
