# This file is part of the lead trading suite. See README.rst for details.
"Erasure of the personal data of leads, by hand and by the retention job"
import datetime as dt
import unittest
from zoneinfo import ZoneInfo

from trytond.modules.lead_billing.gdpr import retention_limit
from trytond.modules.lead_billing.tests.test_billing import (
    deliver, new_run, utc)
from trytond.modules.lead_billing.tests.tools import (
    ago, lead_values, setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

BERLIN = ZoneInfo('Europe/Berlin')
UTC = dt.timezone.utc
PERSONAL = [
    'name', 'email', 'phone', 'postal_code', 'city', 'country',
    'phone_key', 'email_key']


class RetentionLimitTestCase(unittest.TestCase):
    "The instant before which leads are kept longer than the retention"

    def test_same_day_months_back_at_local_midnight(self):
        self.assertEqual(
            retention_limit(dt.date(2026, 9, 15), 1, BERLIN),
            dt.datetime(2026, 8, 14, 22, 0))

    def test_end_of_month(self):
        self.assertEqual(
            retention_limit(dt.date(2026, 5, 31), 3, BERLIN),
            dt.datetime(2026, 2, 27, 23, 0))
        self.assertEqual(
            retention_limit(dt.date(2028, 5, 31), 3, BERLIN),
            dt.datetime(2028, 2, 28, 23, 0))
        self.assertEqual(
            retention_limit(dt.date(2026, 3, 30), 1, UTC),
            dt.datetime(2026, 2, 28))

    def test_across_years(self):
        self.assertEqual(
            retention_limit(dt.date(2026, 1, 10), 2, UTC),
            dt.datetime(2025, 11, 10))
        self.assertEqual(
            retention_limit(dt.date(2026, 6, 1), 24, UTC),
            dt.datetime(2024, 6, 1))


def erase_wizard(leads):
    """Start the erase wizard on `leads`; return its proposal and a function
    that confirms it"""
    Erase = Pool().get('lead.erase_personal_data', type='wizard')
    session_id, _, _ = Erase.create()
    wizard = Erase(session_id)
    context = {
        'active_model': 'lead.lead',
        'active_id': leads[0].id,
        'active_ids': [lead.id for lead in leads],
        }
    with Transaction().set_context(context):
        start = wizard.default_start(None)

    def confirm():
        with Transaction().set_context(context):
            wizard.transition_erase()
            return wizard.end()
    return start, confirm


def billing_snapshot(leads, invoices):
    "What erasing personal data must not change"
    return (
        [(lead.reference, lead.supplier.id, lead.category.id,
                lead.received_at, lead.purchase_price, lead.quality_state,
                lead.delivery_count,
                lead.statement_line.id if lead.statement_line else None,
                [(d.buyer.id, d.unit_price, d.state, d.invoice_line.id)
                    for d in lead.deliveries])
            for lead in leads],
        [(invoice.number, invoice.state, invoice.untaxed_amount,
                invoice.tax_amount, invoice.total_amount,
                sorted((line.quantity, line.unit_price, line.amount,
                        sorted(d.lead.reference
                            for d in line.lead_deliveries),
                        sorted(lead.reference for lead in line.lead_leads))
                    for line in invoice.lines))
            for invoice in invoices])


class ErasePersonalDataTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    @with_lead_trading
    def test_erase_keeps_billing(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Lead = pool.get('lead.lead')
        Invoice = pool.get('account.invoice')
        Attachment = pool.get('ir.attachment')
        Note = pool.get('ir.note')
        setup_accounting(fixture, [2026])
        leads = [
            deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8)),
            deliver(fixture, 'L2', fixture.buyer2, utc(2026, 10, 2, 8))]
        kept = deliver(fixture, 'L3', fixture.buyer, utc(2026, 10, 3, 8))
        run = new_run(fixture)
        Run.compute([run])
        Run.post([run])
        invoices = Invoice.search([], order=[('id', 'ASC')])
        self.assertEqual(len(invoices), 3)
        for lead in leads + [kept]:
            Attachment.create([{
                        'resource': str(lead), 'name': 'consent.txt',
                        'data': b'Erika Mustermann agreed'}])
            Note.create([{'resource': str(lead), 'message': 'Call at 9'}])
        before = billing_snapshot(Lead.browse(leads), invoices)

        start, confirm = erase_wizard(leads)
        self.assertEqual(start, {'lead_count': 2, 'erased_count': 0})
        self.assertEqual(confirm(), 'reload')

        leads = Lead.browse(leads)
        self.assertEqual(
            billing_snapshot(leads, Invoice.browse(invoices)), before)
        for lead in leads:
            self.assertTrue(all(getattr(lead, n) is None for n in PERSONAL))
            self.assertIsNotNone(lead.personal_data_erased)
        self.assertEqual(
            {a.resource for a in Attachment.search([])}, {kept})
        self.assertEqual({n.resource for n in Note.search([])}, {kept})
        kept = Lead(kept.id)
        self.assertEqual(
            (kept.name, kept.email, kept.personal_data_erased),
            ('Erika Mustermann', 'l3@example.com', None))
        # erased leads still pass every validation of the model
        Lead._validate(leads)

        erased_at = [lead.personal_data_erased for lead in leads]
        start, confirm = erase_wizard(leads + [kept])
        self.assertEqual(start, {'lead_count': 3, 'erased_count': 2})
        confirm()
        self.assertEqual(
            [lead.personal_data_erased for lead in Lead.browse(leads)],
            erased_at)
        self.assertIsNone(Lead(kept.id).email_key)

    @with_lead_trading
    def test_retention_job(self, fixture):
        pool = Pool()
        Lead = pool.get('lead.lead')
        Configuration = pool.get('lead.configuration')
        Cron = pool.get('ir.cron')
        ModelData = pool.get('ir.model.data')
        old, recent = Lead.create([
                lead_values(fixture, 'OLD', received_at=ago(days=100)),
                lead_values(fixture, 'RECENT', received_at=ago(days=80)),
                ])

        Lead.erase_expired_personal_data()
        self.assertEqual(
            [lead.email for lead in Lead.browse([old, recent])],
            ['old@example.com', 'recent@example.com'])

        config = Configuration(1)
        config.personal_data_retention = 3
        config.save()
        cron = Cron(ModelData.get_id(
                'lead_billing', 'cron_erase_expired_personal_data'))
        Cron.run_once([cron])
        old, recent = Lead.browse([old, recent])
        self.assertEqual((old.email, old.phone, old.name), (None,) * 3)
        self.assertIsNotNone(old.personal_data_erased)
        self.assertEqual(recent.email, 'recent@example.com')
        self.assertIsNone(recent.personal_data_erased)
