# This file is part of the lead trading suite. See README.rst for details.
"""Referral payouts against committed data: two exports at the same moment
pay a referrer once"""
import unittest
from decimal import Decimal

from trytond import backend
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.tools import run_committed
from trytond.modules.referral_commission.exceptions import PayoutError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import configure_referrals, create_party, invoice, payout, refer


class PayoutCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'referral_commission'
    extras = ['lead_complaints']

    # the billing tests of the base class run in lead_billing already
    test_documents_emailed_after_commit_once = None
    test_failure_in_the_middle_leaves_nothing = None
    test_concurrent_runs_bill_once = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def prepare(fixture):
            configure_referrals(fixture)
            referrer = create_party("Werber GmbH", 'R', lead_buyer=True)
            for code, amount in [('A', '60.00'), ('B', '140.00')]:
                customer = create_party(f"Kunde {code}", code,
                    lead_buyer=True)
                refer(referrer, customer)
                invoice(fixture, customer, amount)
        run_committed(DB_NAME, cls.in_company(prepare))

    def paid(self):
        "(voucher amounts, {commission: voucher}) as committed"
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Voucher = pool.get('referral.voucher')
            Commission = pool.get('commission')
            return (sorted(v.amount for v in Voucher.search([])),
                {c.id: c.referral_voucher.id if c.referral_voucher
                    else None for c in Commission.search([])})

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (SQLite has one writer)")
    def test_concurrent_exports_pay_once(self):
        def prepare(fixture):
            Payout = Pool().get('referral.payout')
            record = payout()
            # both see the open commission before either exports
            Payout.preview([record])
            return record.id

        def export(fixture, payout_id):
            Payout = Pool().get('referral.payout')
            Payout.export([Payout(payout_id)])
        errors = self.run_together(prepare, export)

        self.assertEqual([type(e) for e in errors], [PayoutError])
        self.assertIn('nothing to export', str(errors[0]))
        amounts, paid_by = self.paid()
        self.assertEqual(amounts, [Decimal('10.00')])
        self.assertEqual(len(paid_by), 2)
        self.assertEqual(len(set(paid_by.values())), 1,
            "both lines paid by the one voucher")
