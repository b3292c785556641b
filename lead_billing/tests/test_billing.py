# This file is part of the lead trading suite. See README.rst for details.
"Billing runs on a database: documents, grouping, links, states"
import datetime as dt
import io
import unittest
import zipfile
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.lead_billing.tests.tools import (
    create_party, create_price, lead_values, setup_accounting,
    with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

OCTOBER = dt.date(2026, 10, 31)


def utc(*args):
    return dt.datetime(*args)


def deliver(fixture, reference, buyer, delivered_at, category=None,
        received_at=None, supplier=None):
    "Create a valid lead and deliver it to `buyer`"
    pool = Pool()
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    values = {'received_at': received_at or delivered_at}
    if category:
        values['category'] = category.id
    if supplier:
        values['supplier'] = supplier.id
    lead, = Lead.create([lead_values(fixture, reference, **values)])
    Delivery.create([{
                'lead': lead.id, 'buyer': buyer.id,
                'delivered_at': delivered_at,
                }])
    return lead


def new_run(fixture, cut_off=OCTOBER):
    Run = Pool().get('lead.billing.run')
    run, = Run.create([{'company': fixture.company.id, 'cut_off': cut_off}])
    return run


def set_final_check(value):
    Configuration = Pool().get('lead.configuration')
    config = Configuration(1)
    config.billing_final_check = value
    config.save()


class BillingRunTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    @with_lead_trading
    def test_buyer_invoice_grouped_per_category_and_price(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Delivery = pool.get('lead.delivery')
        Lang = pool.get('ir.lang')
        setup_accounting(fixture, [2026])
        create_price(fixture.solar, 'sale', '25.00', party=fixture.buyer2)
        # the documents speak the buyer's language
        fixture.buyer.lang, = Lang.search([('code', '=', 'de')])
        fixture.buyer.save()
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        deliver(fixture, 'L2', fixture.buyer, utc(2026, 10, 15, 8))
        deliver(fixture, 'L3', fixture.buyer, utc(2026, 10, 20, 8),
            category=fixture.heat)
        # 1 November 00:30 in Berlin belongs to November
        deliver(fixture, 'L4', fixture.buyer, utc(2026, 10, 31, 23, 30))
        deliver(fixture, 'L5', fixture.buyer2, utc(2026, 10, 2, 8))
        deliver(fixture, 'L6', fixture.internal, utc(2026, 10, 2, 8))

        run = new_run(fixture)
        Run.compute([run])

        self.assertEqual(run.state, 'computed')
        invoices = {i.party: i for i in run.invoices if i.type == 'out'}
        self.assertEqual(set(invoices), {fixture.buyer, fixture.buyer2})
        invoice = invoices[fixture.buyer]
        self.assertEqual(invoice.state, 'draft')
        self.assertEqual(
            (invoice.lead_period_start, invoice.lead_period_end),
            (dt.date(2026, 10, 1), dt.date(2026, 10, 31)))
        self.assertEqual(sorted(
                (line.origin.code, line.quantity, line.unit_price)
                for line in invoice.lines), [
                ('HEAT', 1, Decimal('30.00')),
                ('SOLAR', 2, Decimal('30.00')),
                ])
        self.assertEqual(invoice.untaxed_amount, Decimal('90.00'))
        self.assertIn('01.10.2026', invoice.description)
        self.assertIn('10/01/2026', invoices[fixture.buyer2].description)
        self.assertEqual(invoice.tax_amount, Decimal('18.00'))
        self.assertEqual(invoice.total_amount, Decimal('108.00'))
        solar_line, = [
            line for line in invoice.lines if line.origin.code == "SOLAR"]
        self.assertEqual(
            sorted(d.lead.reference for d in solar_line.lead_deliveries),
            ['L1', 'L2'])
        self.assertEqual(invoices[fixture.buyer2].untaxed_amount,
            Decimal('25.00'))
        unbilled = Delivery.search([('invoice_line', '=', None)])
        self.assertEqual(
            sorted(d.lead.reference for d in unbilled), ['L4', 'L6'])
        buyer_rows = [r for r in run.parties if r.role == 'buyer']
        self.assertEqual(sorted((r.party.code, r.lead_count, r.amount)
                for r in buyer_rows), [
                ('B1', 3, Decimal('90.00')), ('B2', 1, Decimal('25.00'))])
        self.assertEqual(run.buyer_invoice_count, 2)
        self.assertEqual(run.delivery_count, 4)

    @with_lead_trading
    def test_internal_account_gets_nothing(self, fixture):
        Run = Pool().get('lead.billing.run')
        setup_accounting(fixture, [2026])
        deliver(fixture, 'L1', fixture.internal, utc(2026, 10, 1, 8))
        run = new_run(fixture)
        Run.compute([run])
        self.assertEqual(
            [i for i in run.invoices if i.type == 'out'], [])
        self.assertEqual(
            [r for r in run.parties if r.role == 'buyer'], [])

    @with_lead_trading
    def test_weekly_and_semi_monthly_buyers(self, fixture):
        Run = Pool().get('lead.billing.run')
        setup_accounting(fixture, [2026])
        fixture.buyer.lead_billing_interval = 'weekly'
        fixture.buyer.save()
        fixture.buyer2.lead_billing_interval = 'semi_monthly'
        fixture.buyer2.save()
        # Sunday 25 October 23:59 Berlin (CET since that night)
        deliver(fixture, 'W1', fixture.buyer, utc(2026, 10, 25, 22, 59))
        # Monday 26 October 00:00 Berlin: the week that ends 1 November
        deliver(fixture, 'W2', fixture.buyer, utc(2026, 10, 25, 23, 0))
        deliver(fixture, 'W3', fixture.buyer, utc(2026, 10, 19, 8))
        deliver(fixture, 'S1', fixture.buyer2, utc(2026, 10, 15, 21, 59))
        deliver(fixture, 'S2', fixture.buyer2, utc(2026, 10, 15, 22, 0))

        run = new_run(fixture, dt.date(2026, 10, 31))
        Run.compute([run])

        periods = sorted(
            (r.party.code, r.period_start, r.period_end, r.lead_count)
            for r in run.parties)
        self.assertEqual(periods, [
                ('B1', dt.date(2026, 10, 19), dt.date(2026, 10, 25), 2),
                ('B2', dt.date(2026, 10, 1), dt.date(2026, 10, 15), 1),
                ('B2', dt.date(2026, 10, 16), dt.date(2026, 10, 31), 1),
                ('S1', dt.date(2026, 10, 1), dt.date(2026, 10, 31), 5),
                ])

    @with_lead_trading
    def test_self_billing_statement(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Lead = pool.get('lead.lead')
        setup_accounting(fixture, [2026])
        set_final_check(True)
        other = create_party("Datenhof OHG", 'S2', lead_supplier=True)
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        deliver(fixture, 'L2', fixture.buyer, utc(2026, 10, 2, 8),
            category=fixture.heat)
        Lead.create([lead_values(fixture, 'L3', supplier=other.id,
                    received_at=utc(2026, 10, 3, 8))])
        Lead.create([lead_values(fixture, 'R1', phone='12',
                    received_at=utc(2026, 10, 3, 8))])

        run = new_run(fixture)
        Run.compute([run])

        statement, = [i for i in run.invoices if i.type == 'in']
        self.assertTrue(statement.lead_self_billing)
        self.assertEqual(statement.party, fixture.supplier)
        self.assertEqual(statement.lead_agreement_reference, 'GS-2024-1')
        self.assertEqual(statement.untaxed_amount, Decimal('20.00'))
        self.assertEqual(
            sorted(lead.reference for line in statement.lines
                for lead in line.lead_leads), ['L1', 'L2'])
        missing, = [r for r in run.parties if r.status == 'no_agreement']
        self.assertEqual(
            (missing.party, missing.lead_count, missing.amount),
            (other, 1, Decimal('10.00')))
        self.assertIsNone(missing.invoice)
        self.assertEqual(run.missing_agreement_count, 1)
        self.assertIsNone(Lead.search([('reference', '=', 'L3')])[0]
            .statement_line)

        Run.post([run])
        statement = statement.__class__(statement.id)
        self.assertEqual(statement.state, 'posted')
        self.assertRegex(statement.number, r'^GS-\d{4}-000001$')
        invoice, = [i for i in run.invoices if i.type == 'out']
        self.assertEqual(invoice.state, 'posted')
        self.assertFalse(invoice.number.startswith('GS-'))

    @with_lead_trading
    def test_statement_hold(self, fixture):
        Run = Pool().get('lead.billing.run')
        setup_accounting(fixture, [2026])
        fixture.supplier.lead_statement_hold_days = 10
        fixture.supplier.save()
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 30, 8))

        run = new_run(fixture, dt.date(2026, 11, 9))
        Run.compute([run])
        self.assertEqual(
            [i.type for i in run.invoices], ['out'])

        later = new_run(fixture, dt.date(2026, 11, 10))
        Run.compute([later])
        statement, = later.invoices
        self.assertEqual(statement.type, 'in')
        self.assertEqual(statement.lead_period_end, dt.date(2026, 10, 31))

    @with_lead_trading
    def test_final_check_or_post_at_once(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        setup_accounting(fixture, [2026])
        set_final_check(False)
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        run = new_run(fixture)
        Run.compute([run])
        self.assertEqual(run.state, 'posted')
        self.assertEqual({i.state for i in run.invoices}, {'posted'})

    @with_lead_trading
    def test_cancel_frees_the_leads(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Invoice = pool.get('account.invoice')
        Delivery = pool.get('lead.delivery')
        setup_accounting(fixture, [2026])
        set_final_check(True)
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        run = new_run(fixture)
        Run.compute([run])
        Run.cancel([run])
        self.assertEqual(run.state, 'cancelled')
        self.assertEqual(Invoice.search([]), [])
        delivery, = Delivery.search([])
        self.assertIsNone(delivery.invoice_line)

        again = new_run(fixture)
        Run.compute([again])
        invoice, = [i for i in again.invoices if i.type == 'out']
        self.assertEqual(invoice.lead_count, 1)

    @with_lead_trading
    def test_posted_documents_stay(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Invoice = pool.get('account.invoice')
        Delivery = pool.get('lead.delivery')
        setup_accounting(fixture, [2026])
        set_final_check(False)
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        run = new_run(fixture)
        Run.compute([run])
        invoice, = [i for i in run.invoices if i.type == 'out']
        delivery, = Delivery.search([])

        with self.assertRaises(UserError):
            Invoice.delete([invoice])
        with self.assertRaises(UserError):
            Invoice.write([invoice], {'invoice_date': dt.date(2026, 1, 1)})
        Run.cancel([run])
        self.assertEqual(run.state, 'posted')
        self.assertEqual(invoice.state, 'posted')
        with self.assertRaises(UserError):
            Delivery.cancel([delivery])

        credit, = Invoice.credit([invoice])
        self.assertEqual(credit.total_amount, -invoice.total_amount)
        self.assertEqual(Delivery(delivery.id).invoice_line.invoice, invoice)

    @with_lead_trading
    def test_nothing_billed_twice(self, fixture):
        Run = Pool().get('lead.billing.run')
        setup_accounting(fixture, [2026])
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        first = new_run(fixture)
        Run.compute([first])
        second = new_run(fixture, dt.date(2026, 11, 30))
        Run.compute([second])
        self.assertEqual(second.invoices, ())
        self.assertEqual(second.parties, ())

    @with_lead_trading
    def test_document_pdf_and_annex(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Document = pool.get('lead.billing.document', type='report')
        Annex = pool.get('lead.billing.annex', type='report')
        setup_accounting(fixture, [2026])
        set_final_check(False)
        deliver(fixture, 'L-PDF-1', fixture.buyer, utc(2026, 10, 1, 8))
        run = new_run(fixture)
        Run.compute([run])
        for invoice in run.invoices:
            ext, content, _, _ = Document.execute([invoice.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(bytes(content).startswith(b'%PDF'))
            # Kept as rendered: the posted document never changes
            self.assertEqual(
                bytes(invoice.__class__(invoice.id).invoice_report_cache),
                bytes(content))
            ext, content, _, _ = Annex.execute([invoice.id], {})
            self.assertEqual(ext, 'xlsx')
            with zipfile.ZipFile(io.BytesIO(content)) as xlsx:
                sheet = xlsx.read('xl/worksheets/sheet1.xml').decode()
            self.assertIn('L-PDF-1', sheet)

    @with_lead_trading
    def test_run_due(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        setup_accounting(fixture, [2026])
        set_final_check(True)
        deliver(fixture, 'L1', fixture.buyer, utc(2026, 10, 1, 8))
        Run.run_due()
        Run.run_due()
        run, = Run.search([])
        self.assertEqual(run.state, 'computed')
        self.assertEqual(run.delivery_count, 1)
