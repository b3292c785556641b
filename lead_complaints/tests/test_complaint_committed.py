# This file is part of the lead trading suite. See README.rst for details.
"""Complaints against committed data: the invoice correction e-mailed after
commit, once; two users accepting the same complaint at once credit once;
an acceptance failing or killed in the middle leaves the complaint open and
accepting it again credits once"""
import unittest


from trytond import backend
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.test_billing_committed import (
    KILL_NEEDS_POSTGRESQL, serve_mail)
from trytond.modules.lead_billing.tests.tools import (
    interrupted, kill_midway, run_committed, with_lock_timeout)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import ago, complain, deliver, run_billing, weekly_parties

# after the invoice correction is made and posted
SUPPLIER_SHARES = ('lead.complaint', 'reverse_supplier_shares', 0)


def accept_complaint(complaint_id):
    "Accept the complaint, as its button does"
    Complaint = Pool().get('lead.complaint')
    Complaint.accept([Complaint(complaint_id)])


class ComplaintCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'lead_complaints'

    # the billing tests of the base class run in lead_billing already
    test_documents_emailed_after_commit_once = None
    test_failure_in_the_middle_leaves_nothing = None
    test_concurrent_runs_bill_once = None
    test_failure_after_buyer_documents_rerun_bills_once = None
    test_killed_run_leaves_nothing_rerun_bills_once = None

    def billed_complaint(self, reference):
        """Deliver a lead, bill it in a posted run and file a complaint
        about it, all committed; return the complaint id"""
        def prepare(fixture):
            weekly_parties(fixture)
            delivery, = deliver(fixture, reference, fixture.buyer,
                delivered_at=ago(days=10))
            run_billing(fixture)
            return complain(delivery, 'FAKE').id
        return run_committed(DB_NAME, self.in_company(prepare))

    def test_correction_emailed_after_commit_once(self):
        mailbox = serve_mail(self.addCleanup)
        complaint_id = self.billed_complaint('MAILC')

        def accept(fixture):
            Complaint = Pool().get('lead.complaint')
            Complaint.accept([Complaint(complaint_id)])
            self.assertEqual(mailbox.messages, [], "sent before commit")
            return list(Transaction().tasks)
        tasks = run_committed(DB_NAME, self.in_company(accept))
        for task_id in tasks * 2:
            run_committed(DB_NAME, lambda: Pool().get('ir.queue')(
                    task_id).run())

        # the run's own documents may be sent meanwhile; one correction
        (recipients, message), = [(r, m) for r, m in mailbox.messages
            if 'correction' in m['Subject']]
        self.assertEqual(recipients, ['einkauf@solar-nord.example'])
        self.assertIn('Invoice correction', message['Subject'])
        names = sorted(part.get_filename()
            for part in message.iter_attachments())
        self.assertEqual([n.rsplit('.', 1)[1] for n in names],
            ['pdf', 'xlsx'])
        self.assertTrue(names[0].startswith('Invoice-Correction-'), names)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Complaint = Pool().get('lead.complaint')
            credit = Complaint(complaint_id).credit_note
            self.assertEqual(credit.state, 'posted')
            self.assertTrue(credit.lead_document_email)
            self.assertIn(credit.number, message['Subject'])

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (runs in its pass)")
    def test_concurrent_accept_credits_once(self):
        complaint_id = self.billed_complaint('CONCC')
        def read(fixture):
            complaint = Pool().get('lead.complaint')(complaint_id)
            complaint.state  # read before the other one commits
            return complaint

        def accept(fixture, complaint):
            Pool().get('lead.complaint').accept([complaint])
        errors = self.run_together(read, accept)

        self.assertEqual(errors, [])
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Complaint = pool.get('lead.complaint')
            Invoice = pool.get('account.invoice')
            complaint = Complaint(complaint_id)
            self.assertEqual(complaint.state, 'accepted')
            corrections = Invoice.search([
                    ('lead_correction', '=', True),
                    ('lines.lead_credited_complaints', '=', complaint_id),
                    ])
            self.assertEqual(corrections, [complaint.credit_note])
            self.assertEqual(
                complaint.credit_note.total_amount, -36)

    def decision(self, complaint_id):
        """(state, credit note, supplier amount, corrections, moves) of the
        complaint as committed"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Complaint = pool.get('lead.complaint')
            Invoice = pool.get('account.invoice')
            Move = pool.get('account.move')
            complaint = Complaint(complaint_id)
            corrections = Invoice.search([
                    ('lead_correction', '=', True),
                    ('lines.lead_credited_complaints', '=', complaint_id),
                    ])
            return (complaint.state,
                complaint.credit_note.total_amount
                if complaint.credit_note else None,
                complaint.supplier_amount, len(corrections),
                Move.search([], count=True))

    def assertDecidedAgain(self, complaint_id, before):
        "The complaint is accepted once: one correction, one more move"
        state, credit, share, corrections, moves = self.decision(
            complaint_id)
        self.assertEqual(before[:4], ('submitted', None, None, 0))
        self.assertEqual((state, credit, corrections, moves),
            ('accepted', -36, 1, before[4] + 1))
        self.assertIsNotNone(share)
        self.assertConsistent()

    def test_failure_in_acceptance_rerun_credits_once(self):
        complaint_id = self.billed_complaint('HALFC')
        before = self.decision(complaint_id)
        accept = self.in_company(lambda fixture: accept_complaint(
                complaint_id))
        with interrupted(*SUPPLIER_SHARES):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, accept)
        self.assertEqual(self.decision(complaint_id), before)
        self.assertConsistent()

        run_committed(DB_NAME, accept)
        self.assertDecidedAgain(complaint_id, before)

    @unittest.skipUnless(backend.name == 'postgresql', KILL_NEEDS_POSTGRESQL)
    def test_killed_acceptance_rerun_credits_once(self):
        complaint_id = self.billed_complaint('KILLC')
        before = self.decision(complaint_id)
        kill_midway(accept_complaint, [complaint_id], SUPPLIER_SHARES,
            self.company_id())
        self.assertEqual(self.decision(complaint_id), before)
        self.assertConsistent()

        run_committed(DB_NAME, with_lock_timeout(self.in_company(
                    lambda fixture: accept_complaint(complaint_id))))
        self.assertDecidedAgain(complaint_id, before)
