# This file is part of the lead trading suite. See README.rst for details.
"Billing runs on a database: documents, grouping, links, states"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.lead_billing.tests.tools import (
    create_price, lead_values, setup_accounting,
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
        setup_accounting(fixture, [2026])
        create_price(fixture.solar, 'sale', '25.00', party=fixture.buyer2)
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
