# This file is part of the lead trading suite. See README.rst for details.
"""Prepaid balances against committed data: deliveries at the same moment
never spend the same money; a top-up whose booking fails or is killed in
the middle stays requested and booking it again raises the balance once"""
import threading
import unittest
from decimal import Decimal

from trytond import backend
from trytond.modules.lead_billing.exceptions import DeliveryRefused
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.test_billing_committed import (
    KILL_NEEDS_POSTGRESQL)
from trytond.modules.lead_billing.tests.tools import (
    injected_failure, interrupted, kill_midway, run_committed,
    with_lock_timeout)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .test_prepaid import process
from .tools import configure_prepaid, make_prepaid, new_lead, top_up

# after the prepayment invoice is posted, its move raising the deposit,
# before the money received pays it and the top-up is marked booked
MONEY_RECEIVED = ('account.invoice', 'pay_invoice', 0)


def book_top_up(top_up_id):
    "Book the money of the top-up, as its button does"
    TopUp = Pool().get('lead.prepaid.top_up')
    TopUp.book([TopUp(top_up_id)])


def payment_succeeded(payment_id):
    "Report the success of a top-up's payment, as a payment provider does"
    Payment = Pool().get('account.payment')
    Payment.succeed([Payment(payment_id)])


class PrepaidCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'lead_prepaid'
    extras = ['lead_complaints']

    # the billing tests of the base class run in lead_billing already
    test_documents_emailed_after_commit_once = None
    test_failure_in_the_middle_leaves_nothing = None
    test_concurrent_runs_bill_once = None
    test_failure_after_buyer_documents_rerun_bills_once = None
    test_killed_run_leaves_nothing_rerun_bills_once = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def prepare(fixture):
            Tax = Pool().get('account.tax')
            tax, = Tax.search([('company', '=', fixture.company.id)])
            configure_prepaid(fixture, tax)
            account = make_prepaid(fixture.buyer2)
            top_up(account, '30.00')
        run_committed(DB_NAME, cls.in_company(prepare))

    def available(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Account = pool.get('lead.prepaid.account')
            Delivery = pool.get('lead.delivery')
            company_id = self.fixture().company.id
            with Transaction().set_context(company=company_id):
                account, = Account.search([])
                buyer = account.party
                return account.available, Delivery.search(
                    [('buyer', '=', buyer.id)], count=True)

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (SQLite has one writer)")
    def test_concurrent_deliveries_never_overdraw(self):
        def create_leads(fixture):
            return [new_lead(fixture, f'CONC{i}').id for i in range(2)]
        lead_ids = run_committed(DB_NAME, self.in_company(create_leads))
        lock = threading.Lock()
        leads_of = {}

        def pick(fixture):
            "Each transaction delivers its own lead, also when run again"
            with lock:
                thread = threading.get_ident()
                if thread not in leads_of:
                    leads_of[thread] = lead_ids[len(leads_of)]
            # read the balance before the other one commits
            Account = Pool().get('lead.prepaid.account')
            Account.search([])[0].available
            return leads_of[thread]

        def deliver(fixture, lead_id):
            Delivery = Pool().get('lead.delivery')
            Delivery.create([{'lead': lead_id, 'buyer': fixture.buyer2.id}])
        errors = self.run_together(pick, deliver)

        self.assertEqual([type(e) for e in errors], [DeliveryRefused])
        self.assertIn('does not cover', str(errors[0]))
        available, delivered = self.available()
        self.assertEqual(delivered, 1)
        self.assertEqual(available, Decimal('0.00'))

    def request(self, amount, processing=False):
        """Commit a top-up request of net `amount` for buyer2 and, when
        `processing`, send its payment to the bank; return the ids of the
        top-up and its payment"""
        def request(fixture):
            pool = Pool()
            TopUp = pool.get('lead.prepaid.top_up')
            Account = pool.get('lead.prepaid.account')
            account, = Account.search([('party', '=', fixture.buyer2.id)])
            requested = TopUp.request(account, Decimal(amount))
            if processing:
                process(requested.payment)
            return requested.id, requested.payment.id
        return run_committed(DB_NAME, self.in_company(request))

    def booking(self, top_up_id):
        """(deposit, moves, state of the top-up, of its invoice, of its
        payment) as committed"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            TopUp = pool.get('lead.prepaid.top_up')
            Move = pool.get('account.move')
            with Transaction().set_context(
                    company=self.fixture().company.id):
                top_up = TopUp(top_up_id)
                return (top_up.account.deposit, Move.search([], count=True),
                    top_up.state, top_up.invoice.state,
                    top_up.payment.state if top_up.payment else None)

    def failing_after_deposit(self, seen):
        """At MONEY_RECEIVED note the deposit of buyer2 as the booking sees
        it in `seen`, then fail"""
        def interrupt():
            Account = Pool().get('lead.prepaid.account')
            account, = Account.search(
                [('party', '=', self.fixture().buyer2.id)])
            seen.append(account.deposit)
            injected_failure()
        return interrupted(*MONEY_RECEIVED, interrupt=interrupt)

    def assertBookedOnce(self, top_up_id, before, amount, payment_state):
        """The top-up is booked once: the deposit rose by `amount`, one
        move posted the prepayment invoice and one paid it"""
        deposit, moves, *_ = before
        self.assertEqual(self.booking(top_up_id), (
                deposit + Decimal(amount), moves + 2, 'booked', 'paid',
                payment_state))
        self.assertConsistent()

    def test_failure_in_booking_rerun_books_once(self):
        "A booking failing after the invoice is posted leaves the request"
        top_up_id, _ = self.request('40.00')
        before = self.booking(top_up_id)
        book = self.in_company(lambda fixture: book_top_up(top_up_id))
        seen = []
        with self.failing_after_deposit(seen):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, book)
        self.assertEqual(seen, [before[0] + Decimal('40.00')])
        self.assertEqual(before[2:], ('requested', 'draft', 'submitted'))
        self.assertEqual(self.booking(top_up_id), before)
        self.assertConsistent()

        run_committed(DB_NAME, book)
        # booked by hand, the payment the request expected is dropped
        self.assertBookedOnce(top_up_id, before, '40.00', None)

    def test_failure_in_paid_booking_rerun_books_once(self):
        "A payment's success failing in its booking leaves it processing"
        top_up_id, payment_id = self.request('50.00', processing=True)
        before = self.booking(top_up_id)
        succeed = self.in_company(
            lambda fixture: payment_succeeded(payment_id))
        seen = []
        with self.failing_after_deposit(seen):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, succeed)
        self.assertEqual(seen, [before[0] + Decimal('50.00')])
        self.assertEqual(before[2:], ('requested', 'draft', 'processing'))
        self.assertEqual(self.booking(top_up_id), before)
        self.assertConsistent()

        run_committed(DB_NAME, succeed)
        self.assertBookedOnce(top_up_id, before, '50.00', 'succeeded')

    # the manual booking runs the same _book: one process killed in it is
    # enough
    @unittest.skipUnless(backend.name == 'postgresql', KILL_NEEDS_POSTGRESQL)
    def test_killed_paid_booking_rerun_books_once(self):
        "A payment's success whose process dies is reported again"
        top_up_id, payment_id = self.request('70.00', processing=True)
        before = self.booking(top_up_id)
        kill_midway(payment_succeeded, [payment_id], MONEY_RECEIVED,
            self.company_id())
        self.assertEqual(self.booking(top_up_id), before)
        self.assertConsistent()

        run_committed(DB_NAME, with_lock_timeout(self.in_company(
                    lambda fixture: payment_succeeded(payment_id))))
        self.assertBookedOnce(top_up_id, before, '70.00', 'succeeded')
