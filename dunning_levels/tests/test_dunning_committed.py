# This file is part of the lead trading suite. See README.rst for details.
"""The dunning job against committed data: e-mails received by an SMTP
server with their attachments, once; two jobs at the same time dun once"""
import unittest


from trytond import backend
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.test_billing_committed import (
    serve_mail)
from trytond.modules.lead_billing.tests.tools import run_committed
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import backdate, post_invoice, procedure, run_job


class DunningCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'dunning_levels'
    extras = ['lead_complaints']

    # the billing tests of the base class run in lead_billing already
    test_documents_emailed_after_commit_once = None
    test_failure_in_the_middle_leaves_nothing = None
    test_concurrent_runs_bill_once = None
    test_failure_after_buyer_documents_rerun_bills_once = None
    test_killed_run_leaves_nothing_rerun_bills_once = None

    def overdue_invoice(self, days_ago):
        def prepare(fixture):
            procedure(fixture.buyer)
            invoice = post_invoice(fixture, fixture.buyer, days_ago)
            return invoice.id, invoice.number
        return run_committed(DB_NAME, self.in_company(prepare))

    def mailbox(self):
        return serve_mail(self.addCleanup)

    def dunning_id(self, invoice_id):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Dunning = Pool().get('account.dunning')
            dunning, = Dunning.search([('invoice', '=', invoice_id)])
            return dunning.id

    def test_reminder_and_notice_received_once(self):
        mailbox = self.mailbox()
        invoice_id, number = self.overdue_invoice(20)

        def job(fixture):
            run_job()
        for _ in range(2):
            run_committed(DB_NAME, self.in_company(job))
        mine = [(rcpt, m) for rcpt, m in mailbox.messages
            if 'reminder' in m['Subject'] and number in m['Subject']]
        (recipients, reminder), = mine
        self.assertEqual(recipients, ['einkauf@solar-nord.example'])
        names = [p.get_filename() for p in reminder.iter_attachments()]
        self.assertEqual(len(names), 1)
        self.assertTrue(names[0].endswith('.pdf'), names)
        pdf = next(reminder.iter_attachments()).get_payload(decode=True)
        self.assertTrue(pdf.startswith(b'%PDF'))

        dunning_id = self.dunning_id(invoice_id)

        def later(fixture):
            Dunning = Pool().get('account.dunning')
            backdate([Dunning(dunning_id)], 14)
            run_job()
        run_committed(DB_NAME, self.in_company(later))
        run_committed(DB_NAME, self.in_company(job))
        notices = [m for _, m in mailbox.messages
            if 'Formal notice' in m['Subject'] and number in m['Subject']]
        notice, = notices
        names = [p.get_filename() for p in notice.iter_attachments()]
        self.assertEqual(len(names), 1)
        self.assertTrue(names[0].endswith('.pdf'), names)

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (runs in its pass)")
    def test_concurrent_jobs_dun_once(self):
        mailbox = self.mailbox()
        invoice_id, number = self.overdue_invoice(25)
        def read(fixture):
            Pool().get('account.dunning').search([])

        def job(fixture, _):
            run_job()
        errors = self.run_together(read, job)
        # The job that finds the other one working leaves; one that starts
        # from a snapshot taken before the other committed fails on the
        # database's guards (one dunning per line, serialized writes) and
        # sends nothing, as its e-mails leave only on commit.
        self.assertLess(len(errors), 2, errors)
        for error in errors:
            self.assertIsInstance(error, (
                    backend.DatabaseIntegrityError,
                    backend.DatabaseOperationalError))
        dunning_id = self.dunning_id(invoice_id)
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Email = pool.get('ir.email')
            Log = pool.get('account.dunning.log')
            self.assertEqual(Email.search(
                    [('resource', '=', f'account.dunning,{dunning_id}')],
                    count=True), 1)
            self.assertEqual(Log.search(
                    [('dunning', '=', dunning_id)], count=True), 1)
        self.assertEqual(len([m for _, m in mailbox.messages
                    if number in m['Subject']]), 1)
