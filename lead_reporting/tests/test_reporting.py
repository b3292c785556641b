# This file is part of the lead trading suite. See README.rst for details.
"""The reports on a small trade computed by hand (see tools): each measure,
the date range and period boundaries, the agreement with the ledger, the
spreadsheet and the dashboard"""
import datetime as dt
import io
import unittest
from decimal import Decimal as D

import openpyxl

from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

from .tools import (
    CREDIT_DAY, MARCH, RUN_DAY, configure_prepaid, deliver_lead,
    make_prepaid, report, top_up, trade, with_lead_trading)


def by(records, dimension, *measures):
    "{dimension code or date: tuple of the measures}"
    result = {}
    for record in records:
        key = getattr(record, dimension)
        key = getattr(key, 'code', key)
        result[key] = tuple(getattr(record, m) for m in measures)
    return result


class ReportingTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(
            ['lead_reporting', 'lead_complaints', 'lead_prepaid',
                'dunning_levels'])

    @with_lead_trading
    def test_revenue_and_margin_by_buyer(self, fixture):
        trade(fixture)
        rows = report('lead.reporting.buyer', *MARCH)
        self.assertEqual(by(rows, 'buyer', 'leads', 'revenue', 'cost',
                'margin', 'margin_rate', 'revenue_per_lead'), {
                'B1': (2, D('50.00'), D('10.00'), D('40.00'), D('0.8000'),
                    D('25.00')),
                'B2': (2, D('60.00'), D('15.00'), D('45.00'), D('0.7500'),
                    D('30.00')),
                })
        self.assertEqual({r.currency for r in rows},
            {fixture.company.currency})

    @with_lead_trading
    def test_purchase_cost_and_margin_by_supplier(self, fixture):
        trade(fixture)
        rows = report('lead.reporting.supplier', *MARCH)
        self.assertEqual(by(rows, 'supplier', 'leads_bought', 'cost',
                'purchase_price', 'leads', 'revenue', 'margin'), {
                'S1': (2, D('20.00'), D('10.00'), 3, D('90.00'), D('70.00')),
                'S2': (2, D('20.00'), D('10.00'), 1, D('30.00'), D('10.00')),
                })

    @with_lead_trading
    def test_margin_by_category(self, fixture):
        trade(fixture)
        rows = report('lead.reporting.category', *MARCH)
        self.assertEqual(by(rows, 'category', 'leads', 'revenue', 'cost',
                'margin'), {
                'SOLAR': (3, D('80.00'), D('20.00'), D('60.00')),
                'HEAT': (1, D('30.00'), D('20.00'), D('10.00')),
                })

    @with_lead_trading
    def test_date_range_follows_the_documents(self, fixture):
        trade(fixture)
        # the credit note of 20 March is left out before it
        rows = report('lead.reporting.buyer', RUN_DAY, CREDIT_DAY
            - dt.timedelta(days=1))
        self.assertEqual(by(rows, 'buyer', 'revenue'), {
                'B1': (D('60.00'),), 'B2': (D('60.00'),)})
        # nothing was billed in February
        self.assertEqual(
            report('lead.reporting.buyer', dt.date(2026, 2, 1),
                dt.date(2026, 2, 28)), [])

    @with_lead_trading
    def test_lead_trade_by_week(self, fixture):
        trade(fixture)
        rows = report('lead.reporting.period', *MARCH, granularity='week')
        self.assertEqual([r.period_start for r in rows], [
                dt.date(2026, 2, 23), dt.date(2026, 3, 2),
                dt.date(2026, 3, 9), dt.date(2026, 3, 16),
                dt.date(2026, 3, 23), dt.date(2026, 3, 30)])
        week = {r.period_start: r for r in rows}
        delivered = week[dt.date(2026, 3, 2)]
        self.assertEqual(
            (delivered.leads_received, delivered.deliveries,
                delivered.internal_deliveries, delivered.sell_through,
                delivered.sale_price, delivered.purchase_price),
            (4, 5, 1, D('1.2500'), D('30.00'), D('10.00')))
        billed = week[dt.date(2026, 3, 16)]
        self.assertEqual((billed.revenue, billed.cost, billed.margin),
            (D('110.00'), D('40.00'), D('70.00')))
        quiet = week[dt.date(2026, 3, 9)]
        self.assertEqual(
            (quiet.deliveries, quiet.sell_through, quiet.sale_price,
                quiet.revenue),
            (0, None, None, D('0.00')))

    @with_lead_trading
    def test_days_follow_the_company_timezone(self, fixture):
        # Berlin is one hour ahead of UTC in March until the 29th
        setup = trade(fixture)
        deliver_lead(setup, 'LATE', setup.buyer,
            delivered_at=dt.datetime(2026, 3, 1, 22, 59),
            received_at=dt.datetime(2026, 3, 1, 22, 58))
        deliver_lead(setup, 'EARLY', setup.buyer,
            delivered_at=dt.datetime(2026, 3, 1, 23, 1),
            received_at=dt.datetime(2026, 3, 1, 23, 0))
        rows = report('lead.reporting.period', dt.date(2026, 3, 1),
            dt.date(2026, 3, 2), granularity='day')
        self.assertEqual(by(rows, 'period_start', 'leads_received',
                'deliveries'), {
                dt.date(2026, 3, 1): (1, 1),
                dt.date(2026, 3, 2): (5, 6),
                })
        # a range cut inside a month keeps the month's start as its name
        rows = report('lead.reporting.period', dt.date(2026, 3, 2),
            dt.date(2026, 3, 2))
        self.assertEqual(by(rows, 'period_start', 'leads_received'), {
                dt.date(2026, 3, 1): (5,)})
        self.assertEqual(report('lead.reporting.period',
                dt.date(2026, 3, 2), dt.date(2026, 3, 1)), [])

    @with_lead_trading
    def test_revenue_agrees_with_the_ledger(self, fixture):
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        trade(fixture)
        ledger = sum((line.credit - line.debit for line in MoveLine.search([
                        ('move.state', '=', 'posted'),
                        ('move.date', '>=', MARCH[0]),
                        ('move.date', '<=', MARCH[1]),
                        ('account.type.revenue', '=', True),
                        ])), D(0))
        cost = sum((line.debit - line.credit for line in MoveLine.search([
                        ('move.state', '=', 'posted'),
                        ('move.date', '>=', MARCH[0]),
                        ('move.date', '<=', MARCH[1]),
                        ('account.type.expense', '=', True),
                        ])), D(0))
        self.assertEqual((ledger, cost), (D('110.00'), D('40.00')))
        for model in [
                'lead.reporting.buyer', 'lead.reporting.category',
                'lead.reporting.period']:
            with self.subTest(model=model):
                rows = report(model, *MARCH)
                self.assertEqual(sum(r.revenue for r in rows), ledger)
        for model in [
                'lead.reporting.supplier', 'lead.reporting.category',
                'lead.reporting.period']:
            with self.subTest(model=model):
                rows = report(model, *MARCH)
                self.assertEqual(sum(r.cost for r in rows), cost)

    @with_lead_trading
    def test_payment_status(self, fixture):
        trade(fixture)
        rows = report('lead.reporting.payment.period', *MARCH)
        self.assertEqual(by(rows, 'period_start', 'invoices', 'invoiced',
                'paid', 'open', 'overdue', 'days_to_pay'), {
                dt.date(2026, 3, 1): (2, D('144.00'), D('72.00'), D('0.00'),
                    D('72.00'), D('10.0')),
                })
        rows = report('lead.reporting.payment.buyer', *MARCH)
        self.assertEqual(by(rows, 'buyer', 'paid', 'overdue',
                'days_to_pay'), {
                'B1': (D('0.00'), D('72.00'), None),
                'B2': (D('72.00'), D('0.00'), D('10.0')),
                })

    @with_lead_trading
    def test_spreadsheet(self, fixture):
        pool = Pool()
        Spreadsheet = pool.get('lead.reporting.spreadsheet', type='report')
        trade(fixture)
        rows = report('lead.reporting.buyer', *MARCH)
        with Transaction().set_context(
                from_date=MARCH[0], to_date=MARCH[1]):
            ext, content, _, title = Spreadsheet.execute(
                [r.id for r in rows], {'model': 'lead.reporting.buyer'})
        self.assertEqual(ext, 'xlsx')
        self.assertIn('Revenue and Margin by Buyer', title)
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        header, *data = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(header[:6], ['Buyer', 'Leads', 'Revenue',
                'Purchase Cost', 'Margin', 'Margin Rate'])
        self.assertEqual(sorted(tuple(d[:6]) for d in data), [
                ("Solar Nord GmbH", 2, 50, 10, 40, 0.8),
                ("Wärme Süd KG", 2, 60, 15, 45, 0.75),
                ])

    @with_lead_trading
    def test_dashboard(self, fixture):
        pool = Pool()
        View = pool.get('ir.ui.view')
        ModelData = pool.get('ir.model.data')
        Action = pool.get('ir.action.act_window')
        trade(fixture)
        board = View(
            ModelData.get_id('lead_reporting', 'dashboard_view_board'))
        arch = board.view_get()['arch']
        names = ['act_dashboard_revenue', 'act_dashboard_deliveries',
            'act_dashboard_category', 'act_dashboard_payment',
            'act_dashboard_complaints', 'act_dashboard_dunning',
            'act_dashboard_prepaid']
        for name in names:
            with self.subTest(chart=name):
                self.assertIn(f'lead_reporting.{name}', arch)
                action = Action(ModelData.get_id('lead_reporting', name))
                Model = pool.get(action.res_model)
                context = PYSONDecoder().decode(action.context or '{}')
                with Transaction().set_context(context,
                        from_date=MARCH[0], to_date=MARCH[1]):
                    rows = Model.search([])
                # the trade was not dunned
                self.assertEqual(bool(rows), name != 'act_dashboard_dunning')

    @with_lead_trading
    def test_returned_lead_leaves_the_margin(self, fixture):
        "With complaints: the correction and the supplier's share go back"
        pool = Pool()
        Party = pool.get('party.party')
        Complaint = pool.get('lead.complaint')
        Reason = pool.get('lead.complaint.reason')
        Date = pool.get('ir.date')
        trade(fixture)
        Party.write([fixture.buyer2], {'lead_complaint_window_days': 9999})
        delivery, = [d for line in fixture.b2_invoice.lines
            for d in line.lead_deliveries if d.lead.reference == 'L1']
        reason, = Reason.search([('code', '=', 'UNREACHABLE')])
        complaint, = Complaint.create([{
                    'delivery': delivery.id, 'reason': reason.id,
                    'description': "Nobody answers"}])
        Complaint.submit([complaint])
        Complaint.write([complaint], {'decision_note': "Checked"})
        Complaint.accept([complaint])
        self.assertEqual(Complaint(complaint.id).supplier_amount, D('5.00'))
        rows = report('lead.reporting.buyer', MARCH[0], Date.today())
        self.assertEqual(by(rows, 'buyer', 'revenue', 'cost', 'margin')['B2'],
            (D('30.00'), D('10.00'), D('20.00')))
        rows = report('lead.reporting.supplier', MARCH[0], Date.today())
        self.assertEqual(by(rows, 'supplier', 'revenue')['S1'], (D('60.00'),))

    @with_lead_trading
    def test_prepaid_balances(self, fixture):
        pool = Pool()
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        trade(fixture)
        tax, = Tax.search([('company', '=', fixture.company.id)])
        configure_prepaid(fixture, tax)
        top_up(make_prepaid(fixture.buyer2), '100.00')
        today = Date.today()
        rows = report('lead.reporting.prepaid', MARCH[0], today)
        months = {r.period_start: r for r in rows}
        march = months[dt.date(2026, 3, 1)]
        self.assertEqual((march.top_ups, march.consumption, march.balance),
            (D('0.00'), D('60.00'), D('0.00')))
        this = months[today.replace(day=1)]
        self.assertEqual((this.top_ups, this.balance),
            (D('100.00'), D('100.00')))
