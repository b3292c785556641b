# This file is part of the lead trading suite. See README.rst for details.
"Staged dunning on a database: delays, stages, exceptions, stop, fees"
import datetime as dt
import unittest
from decimal import Decimal
from pathlib import Path


from trytond.exceptions import UserError
from trytond.modules.lead_billing.tests.test_billing_committed import (
    serve_mail)
from trytond.modules.lead_billing.tests.tools import (
    lead_values, setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

from .tools import (
    backdate, level, pay, post_invoice, procedure, run_job, sent_emails,
    today)


class DunningTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['dunning_levels', 'lead_complaints'])
        # dunning e-mails are sent strictly: give them a server that takes
        # them (the committed tests look at what arrives)
        cls.mailbox = serve_mail(cls.addClassCleanup)

    def prepare(self, fixture):
        setup_accounting(fixture, [
                (today() - dt.timedelta(days=60)).year])
        procedure(fixture.buyer)
        fixture.buyer.lead_document_email = 'buchhaltung@solar-nord.example'
        fixture.buyer.save()

    def dunning(self, invoice):
        Dunning = Pool().get('account.dunning')
        dunnings = Dunning.search([('invoice', '=', invoice.id)])
        return dunnings[0] if dunnings else None

    @with_lead_trading
    def test_reminder_then_formal_notice(self, fixture):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Log = pool.get('account.dunning.log')
        self.prepare(fixture)
        invoice = post_invoice(fixture, fixture.buyer, days_ago=20)
        not_due = post_invoice(fixture, fixture.buyer, days_ago=0)

        run_job()
        dunning = self.dunning(invoice)
        self.assertEqual(dunning.level, level('reminder'))
        self.assertEqual(dunning.state, 'waiting')
        self.assertEqual(dunning.date, today())
        self.assertIsNone(self.dunning(not_due))
        self.assertTrue(Invoice(invoice.id).dunning_overdue)
        self.assertEqual(Invoice(invoice.id).dunning_level, level('reminder'))
        self.assertFalse(Invoice(not_due.id).dunning_overdue)
        self.assertEqual(
            Invoice.search([('dunning_overdue', '=', True)]), [invoice])
        buyer = fixture.buyer.__class__(fixture.buyer.id)
        self.assertTrue(buyer.dunning_overdue)
        self.assertEqual(buyer.dunning_overdue_amount, Decimal('120.00'))
        self.assertFalse(buyer.dunning_deliveries_stopped)
        email, = sent_emails(dunning)
        self.assertEqual(email.dunning_level, level('reminder'))
        self.assertIn(invoice.number, email.subject)
        self.assertTrue(email.subject.startswith('Payment reminder'))
        self.assertIn('buchhaltung@solar-nord.example', email.recipients)

        # the same day again: nothing new, nothing sent twice
        run_job()
        self.assertEqual(self.dunning(invoice).level, level('reminder'))
        self.assertEqual(len(sent_emails(dunning)), 1)

        # thirteen days after the reminder the notice is not due yet
        backdate([dunning], 13)
        run_job()
        self.assertEqual(self.dunning(invoice).level, level('reminder'))

        # fourteen days after the reminder (the further period) it is
        backdate([dunning], 14)
        run_job()
        dunning = self.dunning(invoice)
        self.assertEqual(dunning.level, level('notice'))
        self.assertEqual(dunning.state, 'waiting')
        reminder, notice = sent_emails(dunning)
        self.assertEqual(notice.dunning_level, level('notice'))
        self.assertTrue(notice.subject.startswith('Formal notice'))
        self.assertEqual(
            [(log.level, log.amount) for log in Log.search(
                    [('dunning', '=', dunning.id)], order=[('id', 'ASC')])],
            [(level('reminder'), Decimal('120.00')),
                (level('notice'), Decimal('120.00'))])
        self.assertTrue(fixture.buyer.__class__(
                fixture.buyer.id).dunning_deliveries_stopped)

    @with_lead_trading
    def test_texts_in_the_party_language(self, fixture):
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        german, = Lang.search([('code', '=', 'de')])
        german.translatable = True
        german.save()
        Translation.translation_import('de', 'dunning_levels', [str(
                    Path(__file__).parent.parent / 'locale' / 'de.po')])
        self.prepare(fixture)
        fixture.buyer.lang = german
        fixture.buyer.save()
        english = post_invoice(fixture, fixture.buyer2, days_ago=20)
        procedure(fixture.buyer2)
        fixture.buyer2.lead_document_email = 'rechnung@waerme-sued.example'
        fixture.buyer2.save()
        invoice = post_invoice(fixture, fixture.buyer, days_ago=20)
        run_job()
        email, = sent_emails(self.dunning(invoice))
        self.assertTrue(email.subject.startswith('Zahlungserinnerung'),
            email.subject)
        self.assertIn('Guten Tag', email.body)
        self.assertIn('Die Rechnung finden Sie im Anhang', email.body)
        other, = sent_emails(self.dunning(english))
        self.assertTrue(other.subject.startswith('Payment reminder'))

    @with_lead_trading
    def test_delay_from_due_date(self, fixture):
        self.prepare(fixture)
        notice = level('notice')
        notice.delay_base = 'due_date'
        notice.overdue = dt.timedelta(days=30)
        notice.save()
        late = post_invoice(fixture, fixture.buyer, days_ago=31)
        invoice = post_invoice(fixture, fixture.buyer, days_ago=25)
        run_job()
        # a line past both levels starts with the first
        self.assertEqual(self.dunning(late).level, level('reminder'))
        self.assertEqual(self.dunning(invoice).level, level('reminder'))
        backdate([self.dunning(late), self.dunning(invoice)], 20)
        run_job()
        # 31 days past due: the notice, counted from the due date, is due;
        # 25 days past due is not, however long ago the reminder went out
        self.assertEqual(self.dunning(late).level, level('notice'))
        self.assertEqual(self.dunning(invoice).level, level('reminder'))

    @with_lead_trading
    def test_manual_level_waits_for_a_person(self, fixture):
        Dunning = Pool().get('account.dunning')
        self.prepare(fixture)
        reminder = level('reminder')
        reminder.automatic = False
        reminder.save()
        invoice = post_invoice(fixture, fixture.buyer, days_ago=5)
        run_job()
        dunning = self.dunning(invoice)
        self.assertEqual(dunning.state, 'draft')
        self.assertEqual(sent_emails(dunning), [])
        Dunning.process([dunning])
        self.assertEqual(dunning.state, 'waiting')
        email = dunning.send_email()
        email.save()
        self.assertIsNone(dunning.send_email(), "sent twice")

    @with_lead_trading
    def test_internal_account_not_dunned(self, fixture):
        self.prepare(fixture)
        procedure(fixture.internal)
        invoice = post_invoice(fixture, fixture.internal, days_ago=30)
        run_job()
        self.assertIsNone(self.dunning(invoice))

    @with_lead_trading
    def test_open_complaint_blocks(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        Invoice = pool.get('account.invoice')
        Lead = pool.get('lead.lead')
        Reason = pool.get('lead.complaint.reason')
        Run = pool.get('lead.billing.run')
        self.prepare(fixture)
        fixture.buyer.lead_complaint_window_days = 90
        fixture.buyer.save()
        delivered = dt.datetime.combine(
            today().replace(day=1) - dt.timedelta(days=20),
            dt.time(10))
        lead, = Lead.create([lead_values(
                    fixture, 'C1', received_at=delivered)])
        delivery, = Delivery.create([{
                    'lead': lead.id, 'buyer': fixture.buyer.id,
                    'delivered_at': delivered}])
        run, = Run.create([{'company': fixture.company.id,
                    'cut_off': today() - dt.timedelta(days=1)}])
        Run._compute([run])
        invoice, = [i for i in Run(run.id).invoices if i.type == 'out']
        # the run was posted three weeks ago
        Invoice.write([invoice], {
                'invoice_date': today() - dt.timedelta(days=21),
                'payment_term': None,
                'payment_term_date': today() - dt.timedelta(days=21),
                })
        with Transaction().set_context(_skip_warnings=True):
            Run.post([run])
        invoice = Invoice(invoice.id)
        reason, = Reason.search([('code', '=', 'UNREACHABLE')])
        complaint, = Complaint.create([{
                    'delivery': delivery.id, 'reason': reason.id}])
        Complaint.submit([complaint])

        run_job()
        dunning = self.dunning(invoice)
        self.assertTrue(dunning.blocked)
        self.assertIn('C1', dunning.block_reason)
        self.assertEqual(dunning.state, 'draft')
        self.assertEqual(sent_emails(dunning), [])

        complaint.decision_note = "Reached on the second call."
        complaint.save()
        Complaint.reject([complaint])
        run_job()
        dunning = self.dunning(invoice)
        self.assertFalse(dunning.blocked)
        self.assertIsNone(dunning.block_reason)
        self.assertEqual(dunning.state, 'waiting')
        self.assertEqual(len(sent_emails(dunning)), 1)

    @with_lead_trading
    def test_payment_ends_dunning_and_lifts_delivery_stop(self, fixture):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Invoice = pool.get('account.invoice')
        Lead = pool.get('lead.lead')
        Dunning = pool.get('account.dunning')
        self.prepare(fixture)
        invoice = post_invoice(fixture, fixture.buyer, days_ago=20)
        run_job()
        backdate([self.dunning(invoice)], 14)
        run_job()
        dunning = self.dunning(invoice)
        self.assertEqual(dunning.level, level('notice'))

        lead, = Lead.create([lead_values(fixture, 'S1',
                    received_at=dt.datetime.now() - dt.timedelta(hours=1))])
        with self.assertRaises(UserError) as cm:
            Delivery.create([{'lead': lead.id, 'buyer': fixture.buyer.id}])
        self.assertIn('stopped', cm.exception.message)
        self.assertIn('Formal notice', cm.exception.message)
        # other buyers still get leads
        Delivery.create([{'lead': lead.id, 'buyer': fixture.buyer2.id}])

        pay(invoice)
        self.assertFalse(Invoice(invoice.id).dunning_overdue)
        self.assertEqual(
            Dunning.search([('invoice', '=', invoice.id)]), [])
        self.assertFalse(fixture.buyer.__class__(
                fixture.buyer.id).dunning_deliveries_stopped)
        delivery, = Delivery.create([{
                    'lead': lead.id, 'buyer': fixture.buyer.id}])
        self.assertEqual(delivery.state, 'delivered')
        # the settled dunning goes no further, even 30 days on
        backdate([dunning], 30)
        run_job()
        self.assertEqual(len(sent_emails(dunning)), 2)
        self.assertFalse(Dunning(dunning.id).active)

    @with_lead_trading
    def test_fee_booked_with_the_notice(self, fixture):
        pool = Pool()
        Fee = pool.get('account.dunning.fee')
        Journal = pool.get('account.journal')
        Template = pool.get('product.template')
        self.prepare(fixture)
        template, = Template.copy([fixture.product.template], {
                'name': "Mahngebühr", 'list_price': Decimal('5.00')})
        journal, = Journal.search([('type', '=', 'revenue')], limit=1)
        fee, = Fee.create([{
                    'name': "Dunning fee", 'product': template.products[0].id,
                    'journal': journal.id, 'compute_method': 'list_price'}])
        notice = level('notice')
        notice.fee = fee
        notice.save()
        invoice = post_invoice(fixture, fixture.buyer, days_ago=20)
        run_job()
        dunning = self.dunning(invoice)
        self.assertEqual(dunning.fees, ())
        backdate([dunning], 14)
        run_job()
        dunning = self.dunning(invoice)
        booked, = dunning.fees
        self.assertEqual(booked.amount, Decimal('5.00'))
        self.assertEqual(booked.level, notice)
        move, = booked.moves
        self.assertEqual(move.state, 'posted')
        self.assertEqual(
            sorted((line.debit, line.credit) for line in move.lines),
            [(Decimal(0), Decimal('5.00')), (Decimal('5.00'), Decimal(0))])
        notice_email = sent_emails(dunning)[-1]
        body = notice_email.body or ''
        self.assertIn('5.00', body)
        self.assertEqual(dunning.get_email_context()['fee'], Decimal('5.00'))

    @with_lead_trading
    def test_level_changes_logged(self, fixture):
        pool = Pool()
        Level = pool.get('account.dunning.level')
        Change = pool.get('lead.audit.change')
        notice = level('notice')
        email_text = notice.email_text.rec_name
        Level.write([notice], {
                'overdue': dt.timedelta(days=21), 'automatic': False,
                'email_text': None})
        self.assertEqual({(c.field, c.old_value, c.new_value)
                for c in Change.search([
                        ('model', '=', 'account.dunning.level'),
                        ('record_id', '=', notice.id),
                        ('action', '=', 'write'),
                        ])}, {
                ('overdue', '14 days, 0:00:00', '21 days, 0:00:00'),
                ('automatic', 'True', 'False'),
                ('email_text', email_text, None),
                })
