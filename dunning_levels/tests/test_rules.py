# This file is part of the lead trading suite. See README.rst for details.
"The dunning rules, without database"
import datetime as dt
import unittest

from trytond.modules.dunning_levels.rules import (
    days_to_pay, level_due, overdue_days, unit_days)

DUE = dt.date(2026, 10, 1)


class LevelDueTestCase(unittest.TestCase):

    def test_from_due_date(self):
        delay = unit_days(14)
        self.assertFalse(level_due(
                'due_date', delay, dt.date(2026, 10, 14), DUE, None))
        self.assertTrue(level_due(
                'due_date', delay, dt.date(2026, 10, 15), DUE, None))

    def test_due_date_base_ignores_previous_level(self):
        self.assertTrue(level_due('due_date', unit_days(14),
                dt.date(2026, 10, 15), DUE, dt.date(2026, 10, 14)))

    def test_from_previous_level(self):
        reminded = dt.date(2026, 10, 20)
        delay = unit_days(14)
        self.assertFalse(level_due('previous_level', delay,
                dt.date(2026, 11, 2), DUE, reminded))
        self.assertTrue(level_due('previous_level', delay,
                dt.date(2026, 11, 3), DUE, reminded))

    def test_previous_level_base_without_previous_level(self):
        "A first level counting from a previous one counts from the due date"
        self.assertTrue(level_due('previous_level', unit_days(3),
                dt.date(2026, 10, 4), DUE, None))

    def test_same_day(self):
        self.assertTrue(level_due(
                'due_date', unit_days(0), DUE, DUE, None))

    def test_no_delay_never_applies(self):
        self.assertFalse(level_due(
                'due_date', None, dt.date(2030, 1, 1), DUE, None))

    def test_no_due_date(self):
        self.assertFalse(level_due(
                'due_date', unit_days(1), dt.date(2026, 10, 2), None, None))


class DaysTestCase(unittest.TestCase):

    def test_days_to_pay(self):
        self.assertEqual(days_to_pay(DUE, dt.date(2026, 10, 11)), 10)
        self.assertEqual(days_to_pay(DUE, DUE), 0)

    def test_paid_before_the_level(self):
        self.assertEqual(days_to_pay(DUE, dt.date(2026, 9, 30)), 0)

    def test_unpaid(self):
        self.assertIsNone(days_to_pay(DUE, None))

    def test_overdue_days(self):
        self.assertEqual(overdue_days(DUE, dt.date(2026, 10, 31)), 30)
        self.assertEqual(overdue_days(DUE, dt.date(2026, 9, 1)), 0)
        self.assertEqual(overdue_days(None, DUE), 0)
