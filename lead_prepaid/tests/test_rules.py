# This file is part of the lead trading suite. See README.rst for details.
"The prepaid arithmetic, without a database"
import unittest
from decimal import Decimal as D

from trytond.modules.lead_prepaid.rules import (
    admit_deliveries, available_balance, recall_amounts, refundable,
    runway_days, threshold_changes)


class AvailableBalanceTestCase(unittest.TestCase):

    def test_deposit_less_unbilled(self):
        self.assertEqual(available_balance(D('100.00'), D('30.00')),
            D('70.00'))

    def test_can_be_negative_when_deliveries_came_before_prepaid(self):
        self.assertEqual(available_balance(D('10.00'), D('30.00')),
            D('-20.00'))


class AdmitDeliveriesTestCase(unittest.TestCase):

    def test_exactly_enough_is_admitted(self):
        self.assertEqual(admit_deliveries(D('30.00'), [D('30.00')]), [True])

    def test_one_cent_short_is_refused(self):
        self.assertEqual(admit_deliveries(D('29.99'), [D('30.00')]), [False])

    def test_batch_spends_in_turn(self):
        self.assertEqual(
            admit_deliveries(D('70.00'), [D('30'), D('30'), D('30'), D('10')]),
            [True, True, False, True])

    def test_nothing_available(self):
        self.assertEqual(admit_deliveries(D('0'), [D('0.01')]), [False])

    def test_negative_balance_admits_nothing(self):
        self.assertEqual(admit_deliveries(D('-5'), [D('1')]), [False])


class RunwayTestCase(unittest.TestCase):

    def test_days_at_average_spend(self):
        # 140 spent in 14 days: 10 a day; 95 lasts 9 whole days
        self.assertEqual(runway_days(D('95'), D('140')), 9)

    def test_nothing_spent_has_no_end(self):
        self.assertIsNone(runway_days(D('95'), D('0')))

    def test_empty_balance_is_zero(self):
        self.assertEqual(runway_days(D('0'), D('140')), 0)
        self.assertEqual(runway_days(D('-3'), D('0')), 0)

    def test_less_than_a_day(self):
        self.assertEqual(runway_days(D('5'), D('140')), 0)


class ThresholdChangesTestCase(unittest.TestCase):

    def test_alert_once_when_falling_below(self):
        changes = threshold_changes([('a', D('50'), False)], D('49.99'))
        self.assertEqual(changes.alert, ['a'])
        self.assertEqual(changes.rearm, [])

    def test_no_second_alert_while_below(self):
        changes = threshold_changes([('a', D('50'), True)], D('10'))
        self.assertEqual(changes, ([], []))

    def test_at_the_threshold_is_not_below(self):
        changes = threshold_changes([('a', D('50'), False)], D('50'))
        self.assertEqual(changes, ([], []))

    def test_rearm_when_back_above(self):
        changes = threshold_changes([('a', D('50'), True)], D('50'))
        self.assertEqual(changes.rearm, ['a'])

    def test_several_thresholds(self):
        changes = threshold_changes([
                ('high', D('100'), True), ('mid', D('50'), False),
                ('low', D('10'), False)], D('20'))
        self.assertEqual(changes.alert, ['mid'])
        self.assertEqual(changes.rearm, [])


class RecallTestCase(unittest.TestCase):

    def test_covers_invoices_in_turn(self):
        self.assertEqual(
            recall_amounts(D('100'), [D('60'), D('60'), D('10')]),
            [D('60'), D('40'), D('0')])

    def test_nothing_on_deposit(self):
        self.assertEqual(recall_amounts(D('0'), [D('60')]), [D('0')])

    def test_negative_deposit_recalls_nothing(self):
        self.assertEqual(recall_amounts(D('-10'), [D('60')]), [D('0')])


class RefundableTestCase(unittest.TestCase):

    def test_what_unbilled_deliveries_do_not_need(self):
        self.assertEqual(refundable(D('100'), D('30')), D('70'))

    def test_never_negative(self):
        self.assertEqual(refundable(D('10'), D('30')), D('0'))
