# This file is part of the lead trading suite. See README.rst for details.
"""Complaint analysis on a database: every measure of every analysis on a
small data set counted by hand, the date range in the company's timezone,
internal accounts left out and the spreadsheet export."""
import datetime as dt
import io
import unittest
import zipfile
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.modules.lead_billing.tests.tools import (
    create_party, lead_values, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
RANGE = {'from_date': MARCH, 'to_date': dt.date(2026, 4, 30)}


def deliver(fixture, reference, supplier, category, deliveries):
    """Create a valid lead and deliver it to each (buyer, naive UTC time)
    of `deliveries`; return the deliveries"""
    pool = Pool()
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    received_at = min(at for _, at in deliveries) - dt.timedelta(hours=1)
    lead, = Lead.create([lead_values(fixture, reference,
                supplier=supplier.id, category=category.id,
                received_at=received_at)])
    return Delivery.create([{
                'lead': lead.id, 'buyer': buyer.id, 'delivered_at': at,
                } for buyer, at in deliveries])


def complain(delivery, reason, state):
    "Record a complaint about `delivery` straight in `state`"
    Complaint = Pool().get('lead.complaint')
    complaint, = Complaint.create([{
                'delivery': delivery.id, 'reason': reason.id}])
    if state != 'draft':
        Complaint.write([complaint], {'state': state})
    return complaint


def measures(model, **context):
    """Return {dimension: (delivered, submitted, accepted, rejected, rate)}
    of the rows of the analysis `model` in `context`"""
    Analysis = Pool().get(model)
    with Transaction().set_context(context):
        records = Analysis.search([])
        return {
            getattr(r, Analysis._dimension): (
                r.delivered, r.submitted, r.accepted, r.rejected, r.rate)
            for r in records}


class AnalysisTestCase(unittest.TestCase):
    "Test the complaint analysis"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_complaints')

    def create_data(self, fixture):
        """Deliveries and complaints of March and April 2026 (Berlin time)
        and just outside, with the counts the tests expect"""
        pool = Pool()
        Reason = pool.get('lead.complaint.reason')
        Delivery = pool.get('lead.delivery')
        buyer, buyer2 = fixture.buyer, fixture.buyer2
        supplier = fixture.supplier
        supplier2 = create_party(
            "Leadfabrik KG", 'S2', lead_supplier=True,
            self_billing_agreement_date=dt.date(2024, 1, 1),
            self_billing_agreement_reference='GS-2024-2')
        solar, heat = fixture.solar, fixture.heat
        phone, unreachable = Reason.create([
                {'name': "Phone", 'code': 'T-PHONE'},
                {'name': "Unreachable", 'code': 'T-NR'},
                ])
        utc = dt.datetime
        d1, d2 = deliver(fixture, 'L1', supplier, solar, [
                (buyer, utc(2026, 3, 2, 8)), (buyer2, utc(2026, 3, 2, 9))])
        d3, = deliver(fixture, 'L2', supplier, heat, [
                (buyer, utc(2026, 3, 10, 8))])
        # 1 April 00:30 in Berlin (summer time since 29 March)
        d4, = deliver(fixture, 'L3', supplier2, solar, [
                (buyer, utc(2026, 3, 31, 22, 30))])
        d5, _ = deliver(fixture, 'L4', supplier2, heat, [
                (buyer2, utc(2026, 4, 15, 8)),
                (fixture.internal, utc(2026, 4, 15, 8))])
        # 28 February 23:30 in Berlin: before the range
        before, = deliver(fixture, 'L5', supplier, solar, [
                (buyer, utc(2026, 2, 28, 22, 30))])
        # 1 May 00:30 in Berlin: after the range
        deliver(fixture, 'L6', supplier, solar, [
                (buyer2, utc(2026, 4, 30, 22, 30))])
        # 30 April 23:30 in Berlin: the last hour of the range
        d7, = deliver(fixture, 'L7', supplier2, solar, [
                (buyer2, utc(2026, 4, 30, 21, 30))])
        cancelled, = deliver(fixture, 'L8', supplier, heat, [
                (buyer, utc(2026, 3, 5, 8))])
        Delivery.cancel([cancelled])
        deliver(fixture, 'L9', supplier2, heat, [
                (buyer, utc(2026, 4, 20, 8))])

        complain(d1, phone, 'accepted')
        complain(d2, unreachable, 'submitted')
        # A rejected complaint and a later accepted one of one delivery:
        # the delivery still counts once
        complain(d3, phone, 'rejected')
        complain(d3, unreachable, 'accepted')
        complain(d4, unreachable, 'accepted')
        complain(d5, phone, 'draft')
        complain(d7, phone, 'cancelled')
        complain(before, phone, 'accepted')
        return supplier2, phone, unreachable

    @with_lead_trading
    def test_rate_by_buyer(self, fixture):
        "Internal buyer, cancelled and out of range deliveries left out"
        self.create_data(fixture)
        rows = measures('lead.complaint.rate.buyer', **RANGE)
        self.assertEqual(rows, {
                fixture.buyer: (4, 0, 3, 1, Decimal('0.7500')),
                fixture.buyer2: (3, 1, 0, 0, Decimal('0.0000')),
                })

    @with_lead_trading
    def test_rate_by_supplier(self, fixture):
        supplier2, _, _ = self.create_data(fixture)
        rows = measures('lead.complaint.rate.supplier', **RANGE)
        self.assertEqual(rows, {
                fixture.supplier: (3, 1, 2, 1, Decimal('0.6667')),
                supplier2: (4, 0, 1, 0, Decimal('0.2500')),
                })

    @with_lead_trading
    def test_rate_by_category(self, fixture):
        self.create_data(fixture)
        rows = measures('lead.complaint.rate.category', **RANGE)
        self.assertEqual(rows, {
                fixture.solar: (4, 1, 2, 0, Decimal('0.5000')),
                fixture.heat: (3, 0, 1, 1, Decimal('0.3333')),
                })

    @with_lead_trading
    def test_rate_by_reason(self, fixture):
        "Every reason against all deliveries; unused reasons show zeros"
        Reason = Pool().get('lead.complaint.reason')
        _, phone, unreachable = self.create_data(fixture)
        rows = measures('lead.complaint.rate.reason', **RANGE)
        self.assertEqual(rows.pop(phone), (7, 0, 1, 1, Decimal('0.1429')))
        self.assertEqual(
            rows.pop(unreachable), (7, 1, 2, 0, Decimal('0.2857')))
        self.assertEqual(set(rows), set(Reason.search([])) - {
                phone, unreachable})
        self.assertEqual(
            set(rows.values()), {(7, 0, 0, 0, Decimal('0.0000'))})

    @with_lead_trading
    def test_rate_by_month(self, fixture):
        self.create_data(fixture)
        rows = measures(
            'lead.complaint.rate.period', granularity='month', **RANGE)
        self.assertEqual(rows, {
                MARCH: (3, 1, 2, 1, Decimal('0.6667')),
                APRIL: (4, 0, 1, 0, Decimal('0.2500')),
                })

    @with_lead_trading
    def test_rate_by_week(self, fixture):
        "Weeks cut by the range count their days inside, empty ones show"
        Period = Pool().get('lead.complaint.rate.period')
        self.create_data(fixture)
        context = {
            'from_date': MARCH, 'to_date': dt.date(2026, 3, 10),
            'granularity': 'week',
            }
        rows = measures('lead.complaint.rate.period', **context)
        self.assertEqual(rows, {
                dt.date(2026, 2, 23): (0, 0, 0, 0, Decimal('0.0000')),
                dt.date(2026, 3, 2): (2, 1, 1, 0, Decimal('0.5000')),
                dt.date(2026, 3, 9): (1, 0, 1, 1, Decimal('1.0000')),
                })
        with Transaction().set_context(context):
            self.assertEqual(
                [(p.id, p.period_start) for p in Period.search([])],
                [(d.toordinal(), d) for d in [
                        dt.date(2026, 2, 23), dt.date(2026, 3, 2),
                        dt.date(2026, 3, 9)]])

    @with_lead_trading
    def test_ids_are_the_dimension(self, fixture):
        "A row keeps its id whatever the context"
        Buyer = Pool().get('lead.complaint.rate.buyer')
        self.create_data(fixture)
        for context, buyers in [
                (RANGE, {fixture.buyer, fixture.buyer2}),
                ({'from_date': APRIL, 'to_date': APRIL}, {fixture.buyer}),
                ]:
            with Transaction().set_context(context):
                self.assertEqual(
                    {r.id for r in Buyer.search([])}, {b.id for b in buyers})
        with Transaction().set_context(RANGE):
            buyer, = Buyer.search([('rate', '>', Decimal('0.5'))])
            self.assertEqual(buyer.buyer, fixture.buyer)

    @with_lead_trading
    def test_empty_range(self, fixture):
        self.create_data(fixture)
        context = {'from_date': APRIL, 'to_date': MARCH}
        for model in ['buyer', 'period']:
            self.assertEqual(
                measures(f'lead.complaint.rate.{model}', **context), {})
        self.assertEqual(
            set(measures('lead.complaint.rate.reason', **context).values()),
            {(0, 0, 0, 0, Decimal(0))})

    @with_lead_trading
    def test_default_context(self, fixture):
        "A year of months up to today"
        pool = Pool()
        Context = pool.get('lead.complaint.analysis.context')
        Date = pool.get('ir.date')
        today = Date.today()
        context = Context.get_context()
        self.assertEqual(context, {
                'company': fixture.company.id,
                'from_date': today.replace(day=1) - relativedelta(months=11),
                'to_date': today,
                'granularity': 'month',
                })

    @with_lead_trading
    def test_spreadsheet(self, fixture):
        pool = Pool()
        Buyer = pool.get('lead.complaint.rate.buyer')
        Spreadsheet = pool.get(
            'lead.complaint.analysis.spreadsheet', type='report')
        self.create_data(fixture)
        with Transaction().set_context(RANGE):
            ids = [r.id for r in Buyer.search([])]
            format_, content, direct_print, title = Spreadsheet.execute(
                ids, {'model': Buyer.__name__})
        self.assertEqual(format_, 'xlsx')
        self.assertFalse(direct_print)
        self.assertEqual(
            title, "Return Rate by Buyer, 03/01/2026 to 04/30/2026")
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            strings = workbook.read('xl/sharedStrings.xml').decode()
            sheet = workbook.read('xl/worksheets/sheet1.xml').decode()
        for text in ["Buyer", "Delivered", "Return Rate",
                "Solar Nord GmbH", "Wärme Süd KG"]:
            self.assertIn(f'>{text}<', strings)
        # Solar Nord's row: 4 delivered, 3 accepted, a rate of 75 %
        self.assertIn('<c r="B2"><v>4</v></c>', sheet)
        self.assertIn('<c r="D2"><v>3</v></c>', sheet)
        self.assertRegex(sheet, r'<c r="F2" s="\d+"><v>0\.75</v></c>')

    @with_lead_trading
    def test_spreadsheet_by_period(self, fixture):
        "Periods are dates of the spreadsheet"
        pool = Pool()
        Period = pool.get('lead.complaint.rate.period')
        Spreadsheet = pool.get(
            'lead.complaint.analysis.spreadsheet', type='report')
        self.create_data(fixture)
        with Transaction().set_context(RANGE):
            ids = [r.id for r in Period.search([])]
            _, content, _, _ = Spreadsheet.execute(
                ids, {'model': Period.__name__})
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            sheet = workbook.read('xl/worksheets/sheet1.xml').decode()
        # Spreadsheets count days from 30 December 1899
        for row, day in [(2, MARCH), (3, APRIL)]:
            serial = (day - dt.date(1899, 12, 30)).days
            self.assertRegex(sheet, rf'<c r="A{row}" s="\d+"><v>{serial}</v>')
        self.assertIn('<c r="B3"><v>4</v></c>', sheet)
