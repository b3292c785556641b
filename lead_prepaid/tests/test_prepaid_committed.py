# This file is part of the lead trading suite. See README.rst for details.
"""Prepaid balances against committed data: deliveries at the same moment
never spend the same money"""
import threading
import unittest
from decimal import Decimal

from trytond import backend
from trytond.modules.lead_billing.exceptions import DeliveryRefused
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.tools import run_committed
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import configure_prepaid, make_prepaid, new_lead, top_up


class PrepaidCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'lead_prepaid'
    extras = ['lead_complaints']

    # the billing tests of the base class run in lead_billing already
    test_documents_emailed_after_commit_once = None
    test_failure_in_the_middle_leaves_nothing = None
    test_concurrent_runs_bill_once = None

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
