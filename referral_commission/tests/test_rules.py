# This file is part of the lead trading suite. See README.rst for details.
"The rules of referral payouts, without a database"
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.modules.referral_commission.rules import (
    AREAS, OpenLine, Referral, Settings, amount_in_words, area_of,
    commission_share, default_period, plan_payout, recipient_status)

SETTINGS = Settings(voucher_rate=D('5'), cash_rate=D('2'), minimum=D('5'))


def referral(id_, referrer=1, branch=None, kind='standard', state='open',
        paid_before=False):
    return Referral(id_, referrer, branch, kind, state, paid_before)


def statuses(plan):
    return {(r.referral, r.area): (r.voucher, r.status) for r in plan.rows}


class DefaultPeriodTestCase(unittest.TestCase):

    def test_programme_start_to_end_of_previous_month(self):
        self.assertEqual(
            default_period(dt.date(2026, 3, 1), dt.date(2026, 12, 3)),
            (dt.date(2026, 3, 1), dt.date(2026, 11, 30)))

    def test_january_ends_in_december(self):
        self.assertEqual(
            default_period(dt.date(2025, 6, 1), dt.date(2026, 1, 15)),
            (dt.date(2025, 6, 1), dt.date(2025, 12, 31)))

    def test_without_programme_start_the_year_of_the_end(self):
        self.assertEqual(default_period(None, dt.date(2026, 3, 31)),
            (dt.date(2026, 1, 1), dt.date(2026, 2, 28)))

    def test_programme_starting_this_month(self):
        start, end = default_period(dt.date(2026, 12, 1), dt.date(2026, 12, 3))
        self.assertEqual(start, end)


class CommissionShareTestCase(unittest.TestCase):

    def test_percent_of_revenue_to_four_decimals(self):
        self.assertEqual(commission_share(D('60.00'), D('5')), D('3.0000'))
        self.assertEqual(commission_share(D('33.33'), D('7.5')), D('2.4998'))

    def test_credit_is_negative(self):
        self.assertEqual(commission_share(D('-100.00'), D('5')), D('-5.0000'))

    def test_rounds_half_up(self):
        self.assertEqual(commission_share(D('0.01'), D('0.5')), D('0.0001'))


class AreaTestCase(unittest.TestCase):

    def test_first_commission_is_new(self):
        self.assertEqual(area_of(OpenLine(1, 1, D(10), True), referral(1)),
            'new')

    def test_commission_after_a_payout_is_a_difference(self):
        self.assertEqual(area_of(OpenLine(1, 1, D(10), True),
                referral(1, paid_before=True)), 'difference')

    def test_credit_of_paid_revenue_is_overpaid(self):
        self.assertEqual(area_of(
                OpenLine(1, 1, D(-10), True, paid_rates=(D(5), D(2))),
                referral(1, paid_before=True)), 'overpaid')


class PlanPayoutTestCase(unittest.TestCase):

    def test_three_plus_three_reach_five(self):
        referrals = {1: referral(1), 2: referral(2)}
        first = plan_payout(
            [OpenLine(10, 1, D('60.00'), True)], referrals, SETTINGS)
        self.assertEqual(statuses(first), {
                (1, 'new'): (D('3.0000'), 'below_minimum')})
        self.assertEqual(first.included, [])
        second = plan_payout([
                OpenLine(10, 1, D('60.00'), True),
                OpenLine(11, 2, D('60.00'), True),
                ], referrals, SETTINGS)
        recipient, = second.included
        self.assertEqual((recipient.voucher, recipient.cash),
            (D('6.00'), D('2.40')))
        self.assertEqual({s.line for s in recipient.shares}, {10, 11})

    def test_lines_not_due_are_left_alone(self):
        plan = plan_payout([OpenLine(10, 1, D('500'), False)],
            {1: referral(1)}, SETTINGS)
        self.assertEqual((plan.rows, plan.recipients), ([], []))

    def test_overpaid_netted_at_the_rate_it_was_paid(self):
        referrals = {1: referral(1, paid_before=True)}
        lines = [
            OpenLine(10, 1, D('300.00'), True),
            OpenLine(11, 1, D('-100.00'), True, paid_rates=(D(10), D(4))),
            ]
        recipient, = plan_payout(lines, referrals, SETTINGS).included
        self.assertEqual(recipient.area_total('difference'), D('15.0000'))
        self.assertEqual(recipient.area_total('overpaid'), D('-10.0000'))
        self.assertEqual((recipient.voucher, recipient.cash),
            (D('5.00'), D('2.00')))

    def test_overpaid_out_of_scope_waits(self):
        referrals = {1: referral(1, paid_before=True)}
        lines = [
            OpenLine(10, 1, D('300.00'), True),
            OpenLine(11, 1, D('-100.00'), True, paid_rates=(D(5), D(2))),
            ]
        settings = Settings(D('5'), D('2'), D('5'),
            scope=frozenset({'new', 'difference'}))
        plan = plan_payout(lines, referrals, settings)
        self.assertEqual(statuses(plan), {
                (1, 'difference'): (D('15.0000'), 'included'),
                (1, 'overpaid'): (D('-5.0000'), 'out_of_scope')})
        recipient, = plan.included
        self.assertEqual([s.line for s in recipient.shares], [10])

    def test_netting_below_zero_pays_nothing(self):
        referrals = {1: referral(1, paid_before=True)}
        lines = [
            OpenLine(10, 1, D('100.00'), True),
            OpenLine(11, 1, D('-300.00'), True, paid_rates=(D(5), D(0))),
            ]
        plan = plan_payout(lines, referrals, Settings(D(5), D(0), D(0)))
        self.assertEqual(plan.included, [])
        self.assertEqual({s for _, s in statuses(plan).values()},
            {'not_positive'})

    def test_blocked_and_unapproved_referrals(self):
        referrals = {
            1: referral(1, state='blocked'),
            2: referral(2, state='open'),
            3: referral(3, state='approved'),
            }
        lines = [OpenLine(i, i, D('200'), True) for i in referrals]
        settings = Settings(D(5), D(0), D(5), approved_only=True)
        self.assertEqual(
            {k[0]: s for k, (_, s) in statuses(
                    plan_payout(lines, referrals, settings)).items()},
            {1: 'blocked', 2: 'not_approved', 3: 'included'})
        self.assertEqual(
            {k[0]: s for k, (_, s) in statuses(
                    plan_payout(lines, referrals, SETTINGS)).items()},
            {1: 'blocked', 2: 'included', 3: 'included'})

    def test_one_voucher_per_referral_for_standard_recipients(self):
        referrals = {
            1: referral(1, referrer=7),
            2: referral(2, referrer=7),
            3: referral(3, referrer=8, kind='collector'),
            4: referral(4, referrer=8, kind='collector'),
            }
        lines = [OpenLine(i, i, D('200'), True) for i in referrals]
        settings = Settings(D(5), D(0), D(0), per_referral=True)
        plan = plan_payout(lines, referrals, settings)
        self.assertEqual(
            [(r.referrer, r.referral, r.voucher) for r in plan.recipients],
            [(7, 1, D('10.00')), (7, 2, D('10.00')), (8, None, D('20.00'))])
        plan = plan_payout(lines, referrals, Settings(D(5), D(0), D(0)))
        self.assertEqual(
            [(r.referrer, r.referral, r.voucher) for r in plan.recipients],
            [(7, None, D('20.00')), (8, None, D('20.00'))])

    def test_one_voucher_per_branch(self):
        referrals = {1: referral(1, branch=1), 2: referral(2, branch=2)}
        lines = [OpenLine(i, i, D('200'), True) for i in referrals]
        plan = plan_payout(lines, referrals, SETTINGS)
        self.assertEqual([r.branch for r in plan.included], [1, 2])

    def test_rows_in_the_order_of_the_areas(self):
        referrals = {1: referral(1, paid_before=True), 2: referral(2)}
        lines = [
            OpenLine(10, 1, D('-10'), True, paid_rates=(D(5), D(0))),
            OpenLine(11, 1, D('500'), True),
            OpenLine(12, 2, D('500'), True),
            ]
        self.assertEqual(
            [r.area for r in plan_payout(lines, referrals, SETTINGS).rows],
            ['new', 'difference', 'overpaid'])
        self.assertEqual(AREAS, ('new', 'difference', 'overpaid'))


class RecipientStatusTestCase(unittest.TestCase):

    def test_minimum_reached_exactly(self):
        self.assertEqual(recipient_status(D('5.00'), D('5.00')), 'included')

    def test_one_cent_below(self):
        self.assertEqual(recipient_status(D('4.99'), D('5.00')),
            'below_minimum')

    def test_zero_minimum_still_needs_something(self):
        self.assertEqual(recipient_status(D('0.00'), D('0')), 'not_positive')


class AmountInWordsTestCase(unittest.TestCase):

    def test_german(self):
        for amount, words in [
                ('30.50', "dreißig Euro und fünfzig Cent"),
                ('6', "sechs Euro"),
                ('1.00', "ein Euro"),
                ('21.01', "einundzwanzig Euro und ein Cent"),
                ('1234.56', "eintausendzweihundertvierunddreißig Euro und "
                    "sechsundfünfzig Cent"),
                ]:
            with self.subTest(amount=amount):
                self.assertEqual(amount_in_words(D(amount), 'EUR', 'de'),
                    words)

    def test_english_and_regional_codes(self):
        self.assertEqual(amount_in_words(D('12.42'), 'EUR', 'en_US'),
            "twelve euro, forty-two cents")
        self.assertEqual(amount_in_words(D('100'), 'EUR', 'de_AT'),
            "einhundert Euro")

    def test_unknown_language_in_english(self):
        self.assertEqual(amount_in_words(D('6'), 'EUR', 'xx'), "six euro")

    def test_rounded_to_cents(self):
        self.assertEqual(amount_in_words(D('5.0049'), 'EUR', 'de'),
            "fünf Euro")
