# This file is part of the lead trading suite. See README.rst for details.
"""Referral payouts against committed data: two exports at the same moment
pay a referrer once; an export failing or killed in the middle leaves the
payout a draft with its commission open and exporting it again pays each
line once"""
import unittest
from decimal import Decimal

from trytond import backend
# the module, not its test case: pytest would run an imported test case
# here a second time
from trytond.modules.lead_billing.tests import test_billing_committed
from trytond.modules.lead_billing.tests.test_billing_committed import (
    KILL_NEEDS_POSTGRESQL)
from trytond.modules.lead_billing.tests.tools import (
    injected_failure, interrupted, kill_midway, run_committed,
    with_lock_timeout)
from trytond.modules.referral_commission.exceptions import PayoutError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import configure_referrals, create_party, invoice, payout, refer

# after the vouchers are made and the commission lines marked paid by them,
# before the export files of the branches are saved
EXPORT_FILES = ('referral.payout.file', 'save_exports', 0)
# the revenue of the customers each branch's referrer brought: 5 % of it
# makes a voucher of 10.00 in the first branch and of 6.00 in the second
BRANCH_REVENUE = [['60.00', '140.00'], ['120.00']]


def export_payout(payout_id):
    "Export the payout, as its button does"
    Payout = Pool().get('referral.payout')
    Payout.export([Payout(payout_id)])


class PayoutCommittedTestCase(
        test_billing_committed.BillingCommittedTestCase):
    module = 'referral_commission'
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

    def branch_payout(self, prefix):
        """Commit two branches, each with a referrer whose customers' paid
        revenue earns commission (BRANCH_REVENUE), and a draft payout of
        these branches with its preview; return the payout's id and the
        voucher amounts its preview plans"""
        def refer_customers(fixture):
            Branch = Pool().get('referral.branch')
            branches = Branch.create([{
                        'code': f'{prefix}{i}', 'name': f"Filiale {i}",
                        'sender': f"Leadhandel Filiale {i}\n10115 Berlin",
                        } for i in range(len(BRANCH_REVENUE))])
            customers = []
            for branch, revenue in zip(branches, BRANCH_REVENUE):
                referrer = create_party(
                    f"Werber {branch.code}", branch.code, lead_buyer=True)
                for i, amount in enumerate(revenue):
                    code = f'{branch.code}-{i}'
                    customer = create_party(
                        f"Kunde {code}", code, lead_buyer=True)
                    refer(referrer, customer, branch=branch)
                    customers.append((customer.id, amount))
            return [b.id for b in branches], customers

        def invoice_and_preview(fixture):
            pool = Pool()
            Party = pool.get('party.party')
            Payout = pool.get('referral.payout')
            PaymentMethod = pool.get('account.invoice.payment.method')
            # what configure_referrals gave the fixture of setUpClass
            fixture.revenue_account = fixture.product.account_revenue_used
            fixture.bank, = PaymentMethod.search([('name', '=', "Bank")])
            for customer_id, amount in customers:
                invoice(fixture, Party(customer_id), amount)
            record = payout(branches=[('add', branch_ids)])
            Payout.preview([record])
            return record.id, sorted(r.voucher_amount
                for r in Payout(record.id).recipients
                if r.status == 'included')
        # apart: Tryton starts the invoicing again for the locks it needs
        branch_ids, customers = run_committed(
            DB_NAME, self.in_company(refer_customers))
        return run_committed(DB_NAME, self.in_company(invoice_and_preview))

    def exported(self, payout_id):
        """(state, voucher amounts, file names, {commission of the payout's
        branches: the payout of its voucher}) of the payout as committed"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Payout = pool.get('referral.payout')
            Commission = pool.get('commission')
            record = Payout(payout_id)
            commissions = Commission.search([
                    ('referral.branch', 'in',
                        [b.id for b in record.branches]),
                    ])
            return (record.state, sorted(v.amount for v in record.vouchers),
                sorted(f.name for f in record.files),
                {c.id: c.referral_voucher.payout.id if c.referral_voucher
                    else None for c in commissions})

    def failing_after_marking(self, payout_id, seen):
        """At EXPORT_FILES note in `seen` how many commission lines of the
        payout's branches the export has marked paid, then fail"""
        def interrupt():
            pool = Pool()
            Payout = pool.get('referral.payout')
            Commission = pool.get('commission')
            seen.append(Commission.search([
                        ('referral.branch', 'in',
                            [b.id for b in Payout(payout_id).branches]),
                        ('referral_voucher', '!=', None),
                        ], count=True))
            injected_failure()
        return interrupted(*EXPORT_FILES, interrupt=interrupt)

    def assertLeftOpen(self, payout_id):
        "The payout is a draft that paid nothing: no voucher, no file"
        state, amounts, files, paid_by = self.exported(payout_id)
        self.assertEqual((state, amounts, files), ('draft', [], []))
        self.assertEqual(len(paid_by), 3)
        self.assertEqual(set(paid_by.values()), {None})

    def assertPaidOnce(self, payout_id, planned):
        """The payout is exported with the vouchers its preview planned, one
        file set per branch, each commission line paid by one of them"""
        state, amounts, files, paid_by = self.exported(payout_id)
        self.assertEqual(planned, [Decimal('6.00'), Decimal('10.00')])
        self.assertEqual((state, amounts), ('exported', planned))
        self.assertEqual(len(files), 4)
        self.assertEqual(len(paid_by), 3)
        self.assertEqual(set(paid_by.values()), {payout_id})
        with Transaction().start(DB_NAME, 0, readonly=True):
            Payout = Pool().get('referral.payout')
            record = Payout(payout_id)
            self.assertEqual((record.voucher_count, record.voucher_total,
                    record.commission_count), (2, sum(planned), 3))

    def test_failure_in_export_rerun_pays_once(self):
        "An export failing after the lines are marked paid leaves a draft"
        payout_id, planned = self.branch_payout('HALF')
        export = self.in_company(lambda fixture: export_payout(payout_id))
        seen = []
        with self.failing_after_marking(payout_id, seen):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, export)
        self.assertEqual(seen, [3])
        self.assertLeftOpen(payout_id)

        run_committed(DB_NAME, export)
        self.assertPaidOnce(payout_id, planned)

    @unittest.skipUnless(backend.name == 'postgresql', KILL_NEEDS_POSTGRESQL)
    def test_killed_export_rerun_pays_once(self):
        "An export whose process dies is exported again, as if never started"
        payout_id, planned = self.branch_payout('KILL')
        kill_midway(export_payout, [payout_id], EXPORT_FILES,
            self.company_id())
        self.assertLeftOpen(payout_id)

        run_committed(DB_NAME, with_lock_timeout(self.in_company(
                    lambda fixture: export_payout(payout_id))))
        self.assertPaidOnce(payout_id, planned)
