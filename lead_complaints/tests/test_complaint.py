# This file is part of the lead trading suite. See README.rst for details.
"Complaints on a database: window, reasons, cap, rules, money on both sides"
import datetime as dt
import unittest
from decimal import Decimal
from pathlib import Path

from sql import Table

from trytond.exceptions import UserError
from trytond.model.exceptions import (
    AccessError, SQLConstraintError, ValidationError)
from trytond.modules.lead_billing.bulk import forget_cached
from trytond.modules.lead_billing.tests.tools import (
    setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

from .tools import (
    ago, complain, deliver, reason, run_billing, third_buyer,
    weekly_parties)

LOCALE = Path(__file__).resolve().parent.parent / 'locale'


def set_lead_field(lead, **values):
    "Change a stored lead behind the quality rules, as a later discovery"
    pool = Pool()
    Lead = pool.get('lead.lead')
    table = Table(Lead._table)
    cursor = Transaction().connection.cursor()
    for name, value in values.items():
        cursor.execute(*table.update(
                [getattr(table, name)], [value],
                where=table.id == lead.id))
    forget_cached(Lead)


class ComplaintTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('lead_complaints')

    def accounting(self, fixture):
        today = dt.date.today()
        setup_accounting(fixture, [today.year, (today - dt.timedelta(
                        days=40)).year])

    # Window, reasons, who may complain

    @with_lead_trading
    def test_window_edges(self, fixture):
        on_deadline, = deliver(fixture, 'W7', fixture.buyer,
            delivered_at=ago(days=7))
        late, = deliver(fixture, 'W8', fixture.buyer,
            delivered_at=ago(days=8))
        complaint = complain(on_deadline)
        self.assertEqual(complaint.state, 'submitted')
        self.assertEqual(
            complaint.deadline, Pool().get('ir.date').today())
        with self.assertRaises(UserError) as cm:
            complain(late)
        self.assertIn('closed on', cm.exception.message)
        self.assertIn('(today is', cm.exception.message)

        fixture.buyer.lead_complaint_window_days = 10
        fixture.buyer.save()
        Complaint = Pool().get('lead.complaint')
        draft, = Complaint.search([('state', '=', 'draft')])
        Complaint.submit([draft])
        self.assertEqual(draft.state, 'submitted')

    @with_lead_trading
    def test_category_window(self, fixture):
        fixture.solar.complaint_window_days = 2
        fixture.solar.save()
        delivery, = deliver(fixture, 'C3', fixture.buyer,
            delivered_at=ago(days=3))
        with self.assertRaises(UserError):
            complain(delivery)
        fixture.solar.complaint_window_days = 3
        fixture.solar.save()
        Complaint = Pool().get('lead.complaint')
        draft, = Complaint.search([('state', '=', 'draft')])
        Complaint.submit([draft])
        self.assertEqual(draft.state, 'submitted')

    @with_lead_trading
    def test_disabled_reason_refused(self, fixture):
        fixture.solar.complaint_reasons_disabled = [reason('NO_INTEREST')]
        fixture.solar.save()
        solar, = deliver(fixture, 'R1', fixture.buyer)
        heat, = deliver(fixture, 'R2', fixture.buyer,
            category=fixture.heat.id)
        with self.assertRaises(ValidationError) as cm:
            complain(solar, 'NO_INTEREST')
        self.assertIn('switched off', cm.exception.message)
        self.assertEqual(complain(heat, 'NO_INTEREST').state, 'submitted')

    @with_lead_trading
    def test_internal_delivery_refused(self, fixture):
        delivery, = deliver(fixture, 'I1', fixture.internal)
        with self.assertRaises(ValidationError) as cm:
            complain(delivery)
        self.assertIn('internal account', cm.exception.message)

    @with_lead_trading
    def test_other_buyer_refused(self, fixture):
        delivery, = deliver(fixture, 'O1', fixture.buyer)
        with self.assertRaises(ValidationError):
            complain(delivery, buyer=fixture.buyer2.id)

    @with_lead_trading
    def test_one_holding_complaint_per_delivery(self, fixture):
        Complaint = Pool().get('lead.complaint')
        delivery, = deliver(fixture, 'U1', fixture.buyer)
        first = complain(delivery)
        first.decision_note = "Reached the customer on the second try."
        first.save()
        Complaint.reject([first])
        self.assertEqual(first.state, 'rejected')
        self.assertEqual(first.decided_by.id, Transaction().user)
        self.assertIsNotNone(first.decided_at)
        self.assertEqual(complain(delivery).state, 'submitted')
        with self.assertRaises(SQLConstraintError):
            complain(delivery, submit=False)

    @with_lead_trading
    def test_reject_needs_note_and_cancel(self, fixture):
        Complaint = Pool().get('lead.complaint')
        first, second = [complain(d) for d in (
                deliver(fixture, 'J1', fixture.buyer)
                + deliver(fixture, 'J2', fixture.buyer))]
        with self.assertRaises(UserError):
            Complaint.reject([first])
        Complaint.cancel([second])
        self.assertEqual(second.state, 'cancelled')
        with self.assertRaises(UserError):
            Complaint.delete([first])
        Complaint.delete([second])

    # Return cap

    @with_lead_trading
    def test_return_cap_flags_and_stops_automatic_acceptance(self, fixture):
        fixture.buyer.lead_return_cap = Decimal('0.15')
        fixture.buyer.save()
        fixture.solar.check_phone = False
        fixture.solar.save()
        deliveries = [deliver(fixture, f'CAP{i}', fixture.buyer)[0]
            for i in range(10)]
        for delivery in deliveries[:2]:
            set_lead_field(delivery.lead, phone='123')
        first = complain(deliveries[0], 'PHONE')
        self.assertFalse(first.over_cap)
        self.assertEqual(first.period_return_rate, Decimal('0.1'))
        self.assertEqual(first.state, 'accepted')
        second = complain(deliveries[1], 'PHONE')
        self.assertTrue(second.over_cap)
        self.assertEqual(second.period_return_rate, Decimal('0.2'))
        self.assertEqual(second.state, 'submitted')
        self.assertIn('over its cap of 15.00%', second.auto_check)

    # Automatic decisions

    @with_lead_trading
    def test_automatic_rules(self, fixture):
        for name in ['check_phone', 'check_email', 'check_postal_code',
                'check_duplicates']:
            setattr(fixture.solar, name, False)
        fixture.solar.save()
        cases = [
            ('PHONE', {'phone': '0301'}, True),
            ('PHONE', {}, False),
            ('EMAIL', {'email': 'nobody@'}, True),
            ('EMAIL', {}, False),
            ('AREA', {'postal_code': '1234'}, True),
            ('AREA', {}, False),
            ('UNREACHABLE', {}, False),
            ]
        for i, (code, lead_changes, accepted) in enumerate(cases):
            with self.subTest(code=code, changes=lead_changes):
                delivery, = deliver(fixture, f'A{i}', fixture.buyer,
                    **lead_changes)
                complaint = complain(delivery, code)
                self.assertEqual(
                    complaint.state,
                    'accepted' if accepted else 'submitted')
                self.assertEqual(complaint.decided_automatically, accepted)
                self.assertTrue(complaint.auto_check)
                if accepted:
                    self.assertTrue(
                        complaint.auto_check.startswith('Accepted'))
                    self.assertIsNone(complaint.decided_by)
                else:
                    self.assertIn('a person decides', complaint.auto_check)

    @with_lead_trading
    def test_erased_lead_decided_by_hand(self, fixture):
        "Erased contact data does not pass for invalid contact data"
        Lead = Pool().get('lead.lead')
        delivery, = deliver(fixture, 'ERASED', fixture.buyer)
        Lead.erase_personal_data([delivery.lead])
        complaint = complain(delivery, 'PHONE')
        self.assertEqual(complaint.state, 'submitted')
        self.assertFalse(complaint.decided_automatically)
        self.assertIn('erased', complaint.auto_check)
        self.assertIn('decide by hand', complaint.auto_check)

    @with_lead_trading
    def test_duplicate_rule(self, fixture):
        fixture.solar.check_duplicates = False
        fixture.solar.save()
        original, = deliver(fixture, 'D1', fixture.buyer,
            phone='030 5550001', email='same@example.com')
        copy, = deliver(fixture, 'D2', fixture.buyer,
            phone='030 5550001', email='other@example.com')
        unique, = deliver(fixture, 'D3', fixture.buyer,
            phone='030 5550003', email='unique@example.com')
        complaint = complain(copy, 'DUPLICATE')
        self.assertEqual(complaint.state, 'accepted')
        self.assertIn('D1', complaint.auto_check)
        self.assertEqual(complain(unique, 'DUPLICATE').state, 'submitted')

    # Acceptance: buyer side

    @with_lead_trading
    def test_accept_unbilled_leaves_next_invoice(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        self.accounting(fixture)
        weekly_parties(fixture)
        kept, = deliver(fixture, 'K1', fixture.buyer,
            delivered_at=ago(days=10))
        returned, = deliver(fixture, 'K2', fixture.buyer,
            delivered_at=ago(days=10))
        complaint = complain(returned)
        Complaint.accept([complaint])
        self.assertEqual(complaint.state, 'accepted')
        self.assertFalse(Delivery(returned.id).billable)
        self.assertTrue(Delivery(returned.id).returned)
        self.assertIsNone(complaint.credit_line)
        self.assertEqual(
            Delivery.search([('returned', '=', True)]), [returned])

        run = run_billing(fixture)
        invoice, = [i for i in run.invoices if i.type == 'out']
        self.assertEqual(invoice.untaxed_amount, Decimal('30.00'))
        self.assertEqual(
            [d.id for line in invoice.lines for d in line.lead_deliveries],
            [kept.id])
        # supplier side: single delivery not paid yet, so never paid
        statement, = [i for i in run.invoices if i.type == 'in']
        self.assertEqual(statement.untaxed_amount, Decimal('10.00'))
        lead = returned.lead.__class__(returned.lead.id)
        self.assertTrue(lead.supplier_not_payable)
        self.assertIsNone(lead.statement_line)
        self.assertEqual(complaint.supplier_amount, Decimal('10.00'))
        self.assertEqual(complaint.supplier_state, 'not_paid')

    @with_lead_trading
    def test_accept_billed_credits_exactly_the_delivery(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        self.accounting(fixture)
        weekly_parties(fixture)
        deliveries = [deliver(fixture, f'B{i}', fixture.buyer,
                delivered_at=ago(days=10))[0] for i in range(3)]
        run = run_billing(fixture)
        invoice, = [i for i in run.invoices if i.type == 'out']
        self.assertEqual(invoice.total_amount, Decimal('108.00'))

        complaint = complain(deliveries[1], 'FAKE')
        Complaint.accept([complaint])
        Complaint.accept([complaint])  # a second click does nothing more
        credit = complaint.credit_note
        self.assertEqual(credit.state, 'posted')
        self.assertEqual(credit.type, 'out')
        self.assertTrue(credit.lead_correction)
        self.assertTrue(credit.lead_document)
        self.assertEqual(credit.party, fixture.buyer)
        self.assertEqual(credit.untaxed_amount, Decimal('-30.00'))
        self.assertEqual(credit.tax_amount, Decimal('-6.00'))
        self.assertEqual(credit.total_amount, Decimal('-36.00'))
        line, = credit.lines
        self.assertEqual(line.quantity, -1)
        self.assertEqual(line.unit_price, Decimal('30.00'))
        self.assertEqual(line.origin, deliveries[1].invoice_line)
        self.assertIn('B1', line.description)
        self.assertIn(invoice.number, credit.description)
        self.assertEqual(
            (credit.lead_period_start, credit.lead_period_end),
            (invoice.lead_period_start, invoice.lead_period_end))
        self.assertEqual(
            [c.id for c in line.lead_credited_complaints], [complaint.id])
        self.assertEqual(Pool().get('account.invoice').search(
                [('lead_correction', '=', True)], count=True), 1)
        self.assertEqual(credit.get_lead_document_title(),
            "Invoice Correction")
        annex = list(credit.get_lead_annex_rows())
        self.assertEqual([(r.reference, r.unit_price) for r in annex],
            [('B1', Decimal('-30.00'))])

        # the delivery stays on the original invoice: posted is immutable
        self.assertEqual(deliveries[1].invoice_line.invoice, invoice)
        self.assertEqual(invoice.state, 'posted')

    @with_lead_trading
    def test_correction_title_in_german(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Translation = pool.get('ir.translation')
        Lang = pool.get('ir.lang')
        german, = Lang.search([('code', '=', 'de')])
        german.translatable = True
        german.save()
        Translation.translation_import(
            'de', 'lead_complaints', [str(LOCALE / 'de.po')])
        self.accounting(fixture)
        weekly_parties(fixture)
        fixture.buyer.lang = german
        fixture.buyer.save()
        delivery, = deliver(fixture, 'DE1', fixture.buyer,
            delivered_at=ago(days=10))
        run_billing(fixture)
        complaint = complain(delivery, 'FAKE')
        Complaint.accept([complaint])
        with Transaction().set_context(language='de'):
            title = complaint.credit_note.get_lead_document_title()
        self.assertEqual(title, "Rechnungskorrektur")
        self.assertIn('Rechnung', complaint.credit_note.description)

    @with_lead_trading
    def test_draft_invoice_blocks_acceptance(self, fixture):
        Complaint = Pool().get('lead.complaint')
        self.accounting(fixture)
        weekly_parties(fixture)
        delivery, = deliver(fixture, 'DR1', fixture.buyer,
            delivered_at=ago(days=10))
        run_billing(fixture, post=False)
        complaint = complain(delivery, 'FAKE')
        with self.assertRaises(UserError) as cm:
            Complaint.accept([complaint])
        self.assertIn('draft invoice', cm.exception.message)

    # Acceptance: supplier side

    @with_lead_trading
    def test_supplier_already_paid_is_netted_on_next_statement(
            self, fixture):
        Complaint = Pool().get('lead.complaint')
        self.accounting(fixture)
        weekly_parties(fixture)
        delivery, = deliver(fixture, 'P1', fixture.buyer,
            delivered_at=ago(days=10))
        first_run = run_billing(fixture)
        first_statement, = [
            i for i in first_run.invoices if i.type == 'in']
        self.assertEqual(first_statement.untaxed_amount, Decimal('10.00'))

        complaint = complain(delivery, 'FAKE')
        Complaint.accept([complaint])
        self.assertEqual(complaint.supplier_amount, Decimal('10.00'))
        self.assertEqual(complaint.supplier_state, 'pending')
        self.assertFalse(delivery.lead.supplier_not_payable)

        # nothing new for the supplier: no statement, the return waits
        second_run = run_billing(fixture)
        self.assertEqual(
            [i for i in second_run.invoices if i.type == 'in'], [])
        self.assertEqual(Complaint(complaint.id).supplier_state, 'pending')

        for i in range(2):
            deliver(fixture, f'P2{i}', fixture.buyer2,
                delivered_at=ago(days=10))
        third_run = run_billing(fixture, post=False)
        statement, = [i for i in third_run.invoices if i.type == 'in']
        self.assertEqual(statement.untaxed_amount, Decimal('10.00'))
        self.assertEqual(statement.tax_amount, Decimal('2.00'))
        return_line, = [
            line for line in statement.lines if line.quantity < 0]
        self.assertEqual(
            (return_line.quantity, return_line.unit_price),
            (-1, Decimal('10.00')))
        complaint = Complaint(complaint.id)
        self.assertEqual(complaint.supplier_line, return_line)
        self.assertEqual(complaint.supplier_state, 'netted')
        annex = list(statement.get_lead_annex_rows())
        self.assertEqual(sum(r.unit_price for r in annex),
            statement.untaxed_amount)
        row, = [r for r in third_run.parties if r.invoice == statement]
        self.assertEqual(row.amount, Decimal('10.00'))

        # cancelling the run frees the return for the next statement
        third_run.__class__.cancel([third_run])
        self.assertEqual(Complaint(complaint.id).supplier_state, 'pending')
        fourth_run = run_billing(fixture)
        statement, = [i for i in fourth_run.invoices if i.type == 'in']
        self.assertEqual(statement.state, 'posted')
        self.assertEqual(statement.untaxed_amount, Decimal('10.00'))
        self.assertEqual(Complaint(complaint.id).supplier_state, 'netted')

    @with_lead_trading
    def test_netting_never_makes_a_payment_demand(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Price = pool.get('lead.price')
        self.accounting(fixture)
        weekly_parties(fixture)
        delivery, = deliver(fixture, 'N1', fixture.buyer,
            delivered_at=ago(days=10))
        run_billing(fixture)
        complaint = complain(delivery, 'FAKE')
        Complaint.accept([complaint])
        cheap, = Price.search([('category', '=', fixture.heat.id),
                ('kind', '=', 'purchase')])
        cheap.unit_price = Decimal('4.00')
        cheap.save()
        deliver(fixture, 'N2', fixture.buyer2, delivered_at=ago(days=10),
            category=fixture.heat.id)
        run = run_billing(fixture)
        statement, = [i for i in run.invoices if i.type == 'in']
        self.assertEqual(statement.untaxed_amount, Decimal('4.00'))
        self.assertEqual(Complaint(complaint.id).supplier_state, 'pending')

    @with_lead_trading
    def test_multi_sold_lead_paid_reverses_each_share(self, fixture):
        Complaint = Pool().get('lead.complaint')
        self.accounting(fixture)
        weekly_parties(fixture)
        buyer3 = third_buyer(fixture)
        deliveries = deliver(fixture, 'M1', fixture.buyer, fixture.buyer2,
            buyer3, delivered_at=ago(days=10))
        run_billing(fixture)
        shares = []
        for delivery in deliveries:
            complaint = complain(delivery, 'FAKE')
            Complaint.accept([complaint])
            shares.append(complaint.supplier_amount)
            self.assertEqual(complaint.supplier_state, 'pending')
            self.assertEqual(complaint.credit_note.untaxed_amount,
                Decimal('-30.00'))
        self.assertEqual(shares, [
                Decimal('3.33'), Decimal('3.34'), Decimal('3.33')])
        self.assertEqual(sum(shares), Decimal('10.00'))

    @with_lead_trading
    def test_multi_sold_lead_unpaid(self, fixture):
        Complaint = Pool().get('lead.complaint')
        self.accounting(fixture)
        weekly_parties(fixture)
        deliveries = deliver(fixture, 'M2', fixture.buyer, fixture.buyer2,
            delivered_at=ago(days=10))
        partly, = deliver(fixture, 'M3', fixture.buyer, fixture.buyer2,
            delivered_at=ago(days=10))[:1]
        first = complain(deliveries[0], 'FAKE')
        Complaint.accept([first])
        self.assertEqual(first.supplier_amount, Decimal('5.00'))
        self.assertEqual(first.supplier_state, 'pending')
        second = complain(deliveries[1], 'FAKE')
        Complaint.accept([second])
        self.assertEqual(second.supplier_amount, Decimal('5.00'))
        self.assertEqual(
            [Complaint(c.id).supplier_state for c in (first, second)],
            ['not_paid', 'not_paid'])
        partial = complain(partly, 'FAKE')
        Complaint.accept([partial])

        run = run_billing(fixture)
        statement, = [i for i in run.invoices if i.type == 'in']
        # M2 is off the statement; M3 is paid and its half netted at once
        self.assertEqual(
            sorted(lead.reference for line in statement.lines
                for lead in line.lead_leads), ['M3'])
        self.assertEqual(statement.untaxed_amount, Decimal('5.00'))
        self.assertEqual(Complaint(partial.id).supplier_state, 'netted')
        self.assertEqual(Complaint(first.id).supplier_state, 'not_paid')

    # Bulk and analysis on the party

    @with_lead_trading
    def test_decide_many_at_once(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Decide = pool.get('lead.complaint.decide', type='wizard')
        complaints = [complain(d) for i in range(3)
            for d in deliver(fixture, f'W{i}', fixture.buyer)]
        session_id, _, _ = Decide.create()
        with Transaction().set_context(
                active_model='lead.complaint',
                active_ids=[c.id for c in complaints[:2]],
                active_id=complaints[0].id):
            decide = Decide(session_id)
            decide.start.decision = 'reject'
            decide.start.note = "Reached on the second call."
            decide.transition_decide()
        self.assertEqual([Complaint(c.id).state for c in complaints],
            ['rejected', 'rejected', 'submitted'])
        self.assertEqual(Complaint(complaints[0].id).decision_note,
            "Reached on the second call.")

        session_id, _, _ = Decide.create()
        with Transaction().set_context(
                active_model='lead.complaint',
                active_ids=[complaints[2].id], active_id=complaints[2].id):
            decide = Decide(session_id)
            decide.start.decision = 'accept'
            decide.start.note = None
            decide.transition_decide()
        self.assertEqual(Complaint(complaints[2].id).state, 'accepted')
        self.assertFalse(complaints[2].delivery.billable)

    @with_lead_trading
    def test_return_rates_on_parties(self, fixture):
        Complaint = Pool().get('lead.complaint')
        deliveries = [deliver(fixture, f'RR{i}', fixture.buyer)[0]
            for i in range(4)]
        Complaint.accept([complain(deliveries[0])])
        complain(deliveries[1])
        buyer = fixture.buyer.__class__(fixture.buyer.id)
        supplier = fixture.supplier.__class__(fixture.supplier.id)
        self.assertEqual(buyer.lead_buyer_return_rate, Decimal('0.25'))
        self.assertEqual(supplier.lead_supplier_return_rate, Decimal('0.25'))
        self.assertEqual(
            fixture.buyer2.__class__(fixture.buyer2.id)
            .lead_buyer_return_rate, Decimal(0))

    # Decided complaints and the audit trail

    @with_lead_trading
    def test_decided_complaint_cannot_change(self, fixture):
        Complaint = Pool().get('lead.complaint')
        accepted, rejected = [complain(d) for d in (
                deliver(fixture, 'D1', fixture.buyer)
                + deliver(fixture, 'D2', fixture.buyer))]
        Complaint.accept([accepted])
        Complaint.write([rejected], {'decision_note': "Reached."})
        Complaint.reject([rejected])
        other = reason('DUPLICATE')
        for complaint in [Complaint(accepted.id), Complaint(rejected.id)]:
            for values in [
                    {'description': "Changed afterwards"},
                    {'reason': other.id},
                    {'decision_note': "Changed afterwards"},
                    {'state': 'submitted'},
                    ]:
                with self.subTest(state=complaint.state, values=values):
                    with self.assertRaises(AccessError) as context:
                        Complaint.write([complaint], values)
                    self.assertIs(type(context.exception), AccessError)
            with self.assertRaises(AccessError) as context:
                Complaint.delete([complaint])
            self.assertIs(type(context.exception), AccessError)
        # no transition leads away from a decision
        Complaint.cancel([Complaint(accepted.id)])
        accepted = Complaint(accepted.id)
        self.assertEqual(accepted.state, 'accepted')
        self.assertEqual(accepted.description, "Customer cannot be reached")
        self.assertEqual(accepted.reason.code, 'UNREACHABLE')

    @with_lead_trading
    def test_reasons_and_complaint_terms_logged(self, fixture):
        pool = Pool()
        Reason = pool.get('lead.complaint.reason')
        Party = pool.get('party.party')
        Change = pool.get('lead.audit.change')
        record = reason('UNREACHABLE')
        Reason.write([record], {'auto_rule': 'phone', 'active': False})
        Party.write([fixture.buyer], {
                'lead_return_cap': Decimal('0.1'),
                'lead_complaint_window_days': 14})

        def logged(record):
            return {(c.field, c.old_value, c.new_value)
                for c in Change.search([
                        ('model', '=', record.__name__),
                        ('record_id', '=', record.id),
                        ('action', '=', 'write'),
                        ])}
        self.assertEqual(logged(record), {
                ('auto_rule', None, "Phone number invalid"),
                ('active', 'True', 'False'),
                })
        self.assertEqual(logged(fixture.buyer), {
                ('lead_return_cap', None, '0.1000'),
                ('lead_complaint_window_days', None, '14'),
                })
