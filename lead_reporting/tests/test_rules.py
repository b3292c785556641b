# This file is part of the lead trading suite. See README.rst for details.
"The arithmetic and the charts of the reports, without a database"
import datetime as dt
import unittest
from decimal import Decimal as D
from xml.etree import ElementTree

from trytond.modules.lead_reporting.charts import chart
from trytond.modules.lead_reporting.rules import (
    delivery_cost, month_end, months_back, parse_recipients, previous_month,
    ratio, report_periods)

SVG = '{http://www.w3.org/2000/svg}'


class ReportPeriodsTestCase(unittest.TestCase):

    def test_weeks_cut_by_the_range_keep_their_monday(self):
        periods = report_periods(
            'week', dt.date(2026, 3, 1), dt.date(2026, 3, 10))
        self.assertEqual([(p.start, p.first, p.last) for p in periods], [
                (dt.date(2026, 2, 23), dt.date(2026, 3, 1),
                    dt.date(2026, 3, 1)),
                (dt.date(2026, 3, 2), dt.date(2026, 3, 2),
                    dt.date(2026, 3, 8)),
                (dt.date(2026, 3, 9), dt.date(2026, 3, 9),
                    dt.date(2026, 3, 10)),
                ])

    def test_months_over_the_year_end(self):
        periods = report_periods(
            'month', dt.date(2025, 12, 15), dt.date(2026, 2, 28))
        self.assertEqual([(p.start, p.first, p.last) for p in periods], [
                (dt.date(2025, 12, 1), dt.date(2025, 12, 15),
                    dt.date(2025, 12, 31)),
                (dt.date(2026, 1, 1), dt.date(2026, 1, 1),
                    dt.date(2026, 1, 31)),
                (dt.date(2026, 2, 1), dt.date(2026, 2, 1),
                    dt.date(2026, 2, 28)),
                ])

    def test_days(self):
        periods = report_periods(
            'day', dt.date(2026, 3, 29), dt.date(2026, 3, 30))
        self.assertEqual([p.start for p in periods],
            [dt.date(2026, 3, 29), dt.date(2026, 3, 30)])

    def test_empty_range(self):
        self.assertEqual(report_periods(
                'month', dt.date(2026, 3, 2), dt.date(2026, 3, 1)), [])

    def test_unknown_granularity(self):
        with self.assertRaises(ValueError):
            report_periods('year', dt.date(2026, 1, 1), dt.date(2026, 1, 1))


class DatesTestCase(unittest.TestCase):

    def test_twelve_months_back(self):
        self.assertEqual(months_back(dt.date(2026, 12, 3), 12),
            dt.date(2026, 1, 1))
        self.assertEqual(months_back(dt.date(2026, 3, 31), 12),
            dt.date(2025, 4, 1))
        self.assertEqual(months_back(dt.date(2026, 3, 31), 1),
            dt.date(2026, 3, 1))

    def test_previous_month(self):
        self.assertEqual(previous_month(dt.date(2026, 1, 15)),
            (dt.date(2025, 12, 1), dt.date(2025, 12, 31)))
        self.assertEqual(previous_month(dt.date(2026, 3, 1)),
            (dt.date(2026, 2, 1), dt.date(2026, 2, 28)))

    def test_month_end(self):
        self.assertEqual(month_end(dt.date(2028, 2, 3)), dt.date(2028, 2, 29))


class RatioTestCase(unittest.TestCase):

    def test_rounded(self):
        self.assertEqual(ratio(D('70'), D('110')), D('0.6364'))

    def test_nothing_to_divide_by(self):
        self.assertIsNone(ratio(D('5'), 0))
        self.assertIsNone(ratio(D('5'), None))


class DeliveryCostTestCase(unittest.TestCase):

    def test_lead_sold_twice_costs_each_half(self):
        self.assertEqual(delivery_cost(D('10.00'), 2), D('5.00'))

    def test_no_price(self):
        self.assertEqual(delivery_cost(None, 2), 0)


class RecipientsTestCase(unittest.TestCase):

    def test_separators(self):
        self.assertEqual(parse_recipients(
                'a@example.com; b@example.com,\nc@example.com, '),
            ['a@example.com', 'b@example.com', 'c@example.com'])

    def test_empty(self):
        self.assertEqual(parse_recipients(None), [])
        self.assertEqual(parse_recipients('  '), [])

    def test_not_an_address(self):
        with self.assertRaises(ValueError) as raised:
            parse_recipients('a@example.com, chef')
        self.assertEqual(str(raised.exception), 'chef')


class ChartTestCase(unittest.TestCase):

    def test_bars_per_value_and_series(self):
        svg = ElementTree.fromstring(chart("Revenue", ['01/26', '02/26'], [
                    ("Revenue", [D('100'), D('250')]),
                    ("Margin", [D('-20'), None]),
                    ]))
        bars = [r for r in svg.iter(f'{SVG}rect')
            if float(r.get('height')) != 10]
        self.assertEqual(len(bars), 3)
        texts = [t.text for t in svg.iter(f'{SVG}text')]
        self.assertIn("Revenue", texts)
        self.assertIn("Margin", texts)
        self.assertIn("01/26", texts)
        # the axis reaches the values in round steps, zero on a line
        self.assertEqual(
            [t for t in texts if t.lstrip('-').isdigit()],
            ['-100', '0', '100', '200', '300'])

    def test_line(self):
        svg = ElementTree.fromstring(chart(
                "Leads", ['a', 'b', 'c'], [("Leads", [1, 5, 2])],
                kind='line'))
        line, = svg.iter(f'{SVG}polyline')
        self.assertEqual(len(line.get('points').split()), 3)

    def test_text_is_escaped(self):
        svg = chart("P&L <1>", ['A & B'], [("x", [1])])
        self.assertIn('P&amp;L &lt;1&gt;', svg)
        ElementTree.fromstring(svg)

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            chart("x", [], [], kind='pie')
