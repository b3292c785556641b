# This file is part of the lead trading suite. See README.rst for details.
"The complaint rules, without database"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.lead_complaints.rules import (
    complaint_deadline, exceeds_cap, return_rate, select_clawbacks,
    supplier_share, window_days, within_window)


class WindowTestCase(unittest.TestCase):

    def test_deadline_counts_days_after_delivery(self):
        self.assertEqual(
            complaint_deadline(dt.date(2026, 11, 2), 7),
            dt.date(2026, 11, 9))

    def test_deadline_over_month_and_year_end(self):
        self.assertEqual(
            complaint_deadline(dt.date(2026, 12, 28), 7),
            dt.date(2027, 1, 4))
        self.assertEqual(
            complaint_deadline(dt.date(2028, 2, 25), 7),
            dt.date(2028, 3, 3))

    def test_zero_days_means_the_day_of_delivery(self):
        day = dt.date(2026, 11, 2)
        self.assertEqual(complaint_deadline(day, 0), day)

    def test_negative_window_refused(self):
        with self.assertRaises(ValueError):
            complaint_deadline(dt.date(2026, 11, 2), -1)

    def test_within_window_edges(self):
        deadline = dt.date(2026, 11, 9)
        self.assertTrue(within_window(dt.date(2026, 11, 2), deadline))
        self.assertTrue(within_window(deadline, deadline))
        self.assertFalse(within_window(dt.date(2026, 11, 10), deadline))

    def test_buyer_window_wins(self):
        self.assertEqual(window_days(7, 14), 14)
        self.assertEqual(window_days(7, 0), 0)
        self.assertEqual(window_days(10, None), 10)
        self.assertEqual(window_days(None, None), 7)


class CapTestCase(unittest.TestCase):

    def test_rate(self):
        self.assertEqual(return_rate(3, 20), Decimal('0.15'))
        self.assertEqual(return_rate(0, 0), Decimal(0))

    def test_cap_allows_up_to_the_share(self):
        cap = Decimal('0.15')
        self.assertFalse(exceeds_cap(3, 20, cap))
        self.assertTrue(exceeds_cap(4, 20, cap))

    def test_no_cap(self):
        self.assertFalse(exceeds_cap(20, 20, None))

    def test_zero_cap_flags_every_return(self):
        self.assertTrue(exceeds_cap(1, 100, Decimal(0)))


class SupplierShareTestCase(unittest.TestCase):

    def test_single_delivery_reverses_the_price(self):
        self.assertEqual(
            supplier_share(Decimal('10.00'), Decimal(0), 1),
            Decimal('10.00'))

    def test_shares_of_a_lead_sold_three_times_add_up(self):
        price = Decimal('10.00')
        shares = []
        for open_deliveries in (3, 2, 1):
            shares.append(
                supplier_share(price, sum(shares, Decimal(0)),
                    open_deliveries))
        self.assertEqual(shares, [
                Decimal('3.33'), Decimal('3.34'), Decimal('3.33')])
        self.assertEqual(sum(shares), price)

    def test_partly_returned_lead_keeps_the_rest(self):
        share = supplier_share(Decimal('10.00'), Decimal(0), 2)
        self.assertEqual(share, Decimal('5.00'))

    def test_no_price_nothing_to_reverse(self):
        self.assertEqual(supplier_share(None, Decimal(0), 1), Decimal(0))

    def test_nothing_left(self):
        self.assertEqual(
            supplier_share(Decimal('10.00'), Decimal('10.00'), 1),
            Decimal(0))

    def test_open_deliveries_include_the_returned_one(self):
        with self.assertRaises(ValueError):
            supplier_share(Decimal('10.00'), Decimal(0), 0)

    def test_other_currency_exponent(self):
        self.assertEqual(
            supplier_share(Decimal('10'), Decimal(0), 3, Decimal('1')),
            Decimal('3'))


class ClawbackTestCase(unittest.TestCase):

    def test_all_fit(self):
        self.assertEqual(select_clawbacks(
                Decimal('30'), [Decimal('10'), Decimal('20')]), [0, 1])

    def test_exact_fit_leaves_zero(self):
        self.assertEqual(
            select_clawbacks(Decimal('10'), [Decimal('10')]), [0])

    def test_too_large_waits_smaller_later_fits(self):
        self.assertEqual(select_clawbacks(
                Decimal('15'),
                [Decimal('10'), Decimal('10'), Decimal('5')]), [0, 2])

    def test_nothing_available(self):
        self.assertEqual(
            select_clawbacks(Decimal(0), [Decimal('1')]), [])
