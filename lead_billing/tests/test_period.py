# This file is part of the lead trading suite. See README.rst for details.
"Unit tests of the billing period rules, without database"
import datetime as dt
import unittest
from zoneinfo import ZoneInfo

from trytond.modules.lead_billing.period import (
    INTERVALS, Period, closed_periods, last_closed_period, local_day,
    next_period, period_of, period_of_timestamp)

BERLIN = ZoneInfo('Europe/Berlin')
ONE_SECOND = dt.timedelta(seconds=1)


def period(start, end):
    return Period(dt.date(*start), dt.date(*end))


class PeriodOfTestCase(unittest.TestCase):

    def test_weekly_middle(self):
        # Wednesday
        self.assertEqual(
            period_of('weekly', dt.date(2026, 3, 11)),
            period((2026, 3, 9), (2026, 3, 15)))

    def test_weekly_first_and_last_day(self):
        week = period((2026, 3, 9), (2026, 3, 15))
        for day in [week.start, week.end]:
            with self.subTest(day=day):
                self.assertEqual(period_of('weekly', day), week)

    def test_weekly_across_year_boundary(self):
        week = period((2026, 12, 28), (2027, 1, 3))
        for day in [dt.date(2026, 12, 28), dt.date(2026, 12, 31),
                dt.date(2027, 1, 1), dt.date(2027, 1, 3)]:
            with self.subTest(day=day):
                self.assertEqual(period_of('weekly', day), week)

    def test_weekly_week_53(self):
        for day, year in [
                (dt.date(2026, 12, 31), 2026),
                (dt.date(2021, 1, 1), 2020),
                ]:
            with self.subTest(day=day):
                week = period_of('weekly', day)
                self.assertEqual(
                    tuple(week.start.isocalendar()), (year, 53, 1))
                self.assertEqual(
                    tuple(week.end.isocalendar()), (year, 53, 7))
                self.assertEqual(week.days, 7)

    def test_semi_monthly_middle(self):
        self.assertEqual(
            period_of('semi_monthly', dt.date(2026, 3, 7)),
            period((2026, 3, 1), (2026, 3, 15)))
        self.assertEqual(
            period_of('semi_monthly', dt.date(2026, 3, 22)),
            period((2026, 3, 16), (2026, 3, 31)))

    def test_semi_monthly_halves_meet(self):
        self.assertEqual(
            period_of('semi_monthly', dt.date(2026, 4, 15)),
            period((2026, 4, 1), (2026, 4, 15)))
        self.assertEqual(
            period_of('semi_monthly', dt.date(2026, 4, 16)),
            period((2026, 4, 16), (2026, 4, 30)))

    def test_semi_monthly_february_leap_year(self):
        second_half = period_of('semi_monthly', dt.date(2028, 2, 20))
        self.assertEqual(second_half, period((2028, 2, 16), (2028, 2, 29)))
        self.assertEqual(second_half.days, 14)

    def test_semi_monthly_february_common_year(self):
        second_half = period_of('semi_monthly', dt.date(2026, 2, 20))
        self.assertEqual(second_half, period((2026, 2, 16), (2026, 2, 28)))
        self.assertEqual(second_half.days, 13)

    def test_monthly_middle(self):
        self.assertEqual(
            period_of('monthly', dt.date(2026, 6, 14)),
            period((2026, 6, 1), (2026, 6, 30)))

    def test_monthly_month_ends(self):
        for day, expected in [
                (dt.date(2026, 1, 31), period((2026, 1, 1), (2026, 1, 31))),
                (dt.date(2026, 4, 30), period((2026, 4, 1), (2026, 4, 30))),
                (dt.date(2026, 12, 31),
                    period((2026, 12, 1), (2026, 12, 31))),
                ]:
            with self.subTest(day=day):
                self.assertEqual(period_of('monthly', day), expected)

    def test_leap_day_in_every_interval(self):
        leap_day = dt.date(2028, 2, 29)
        for interval, expected in [
                ('weekly', period((2028, 2, 28), (2028, 3, 5))),
                ('semi_monthly', period((2028, 2, 16), (2028, 2, 29))),
                ('monthly', period((2028, 2, 1), (2028, 2, 29))),
                ]:
            with self.subTest(interval=interval):
                self.assertEqual(period_of(interval, leap_day), expected)

    def test_every_day_in_its_period(self):
        day = dt.date(2027, 12, 1)
        while day < dt.date(2028, 4, 1):
            for interval in INTERVALS:
                with self.subTest(interval=interval, day=day):
                    found = period_of(interval, day)
                    self.assertLessEqual(found.start, day)
                    self.assertLessEqual(day, found.end)
            day += dt.timedelta(days=1)

    def test_unknown_interval(self):
        for interval in ['daily', 'Weekly', '', None]:
            with self.subTest(interval=interval):
                with self.assertRaises(ValueError):
                    period_of(interval, dt.date(2026, 3, 11))

    def test_unknown_interval_everywhere(self):
        day = dt.date(2026, 3, 11)
        with self.assertRaises(ValueError):
            period_of_timestamp('yearly', dt.datetime(2026, 3, 11), BERLIN)
        with self.assertRaises(ValueError):
            last_closed_period('yearly', day)
        with self.assertRaises(ValueError):
            closed_periods('yearly', day, day)
        with self.assertRaises(ValueError):
            next_period(period((2026, 3, 1), (2026, 3, 31)), 'yearly')

    def test_datetime_refused(self):
        with self.assertRaises(TypeError):
            period_of('monthly', dt.datetime(2026, 3, 31, 23, 30))

    def test_days(self):
        self.assertEqual(period_of('weekly', dt.date(2026, 3, 11)).days, 7)
        self.assertEqual(
            period_of('semi_monthly', dt.date(2026, 3, 1)).days, 15)
        self.assertEqual(period_of('monthly', dt.date(2026, 3, 1)).days, 31)


class NextPeriodTestCase(unittest.TestCase):

    def test_weekly(self):
        self.assertEqual(
            next_period(period((2026, 12, 28), (2027, 1, 3)), 'weekly'),
            period((2027, 1, 4), (2027, 1, 10)))

    def test_semi_monthly(self):
        self.assertEqual(
            next_period(period((2028, 2, 1), (2028, 2, 15)), 'semi_monthly'),
            period((2028, 2, 16), (2028, 2, 29)))
        self.assertEqual(
            next_period(
                period((2028, 2, 16), (2028, 2, 29)), 'semi_monthly'),
            period((2028, 3, 1), (2028, 3, 15)))

    def test_monthly_december_into_january(self):
        self.assertEqual(
            next_period(period((2026, 12, 1), (2026, 12, 31)), 'monthly'),
            period((2027, 1, 1), (2027, 1, 31)))


class LocalDayTestCase(unittest.TestCase):

    def test_winter_midnight_in_berlin(self):
        # Central European Time is UTC+1.
        self.assertEqual(
            local_day(dt.datetime(2026, 1, 15, 22, 59, 59), BERLIN),
            dt.date(2026, 1, 15))
        self.assertEqual(
            local_day(dt.datetime(2026, 1, 15, 23, 0, 0), BERLIN),
            dt.date(2026, 1, 16))

    def test_summer_midnight_in_berlin(self):
        # Central European Summer Time is UTC+2.
        self.assertEqual(
            local_day(dt.datetime(2026, 7, 15, 21, 59, 59), BERLIN),
            dt.date(2026, 7, 15))
        self.assertEqual(
            local_day(dt.datetime(2026, 7, 15, 22, 0, 0), BERLIN),
            dt.date(2026, 7, 16))

    def test_utc(self):
        self.assertEqual(
            local_day(dt.datetime(2026, 1, 15, 23, 59, 59), dt.timezone.utc),
            dt.date(2026, 1, 15))

    def test_aware_timestamp_refused(self):
        with self.assertRaises(ValueError):
            local_day(
                dt.datetime(2026, 1, 15, 23, 0, tzinfo=dt.timezone.utc),
                BERLIN)


class PeriodOfTimestampTestCase(unittest.TestCase):

    def test_semi_monthly_winter_midnight(self):
        self.assertEqual(
            period_of_timestamp(
                'semi_monthly', dt.datetime(2026, 1, 15, 22, 59, 59), BERLIN),
            period((2026, 1, 1), (2026, 1, 15)))
        self.assertEqual(
            period_of_timestamp(
                'semi_monthly', dt.datetime(2026, 1, 15, 23, 0), BERLIN),
            period((2026, 1, 16), (2026, 1, 31)))

    def test_weekly_summer_midnight(self):
        # 2026-07-19 is a Sunday.
        self.assertEqual(
            period_of_timestamp(
                'weekly', dt.datetime(2026, 7, 19, 21, 59, 59), BERLIN),
            period((2026, 7, 13), (2026, 7, 19)))
        self.assertEqual(
            period_of_timestamp(
                'weekly', dt.datetime(2026, 7, 19, 22, 0), BERLIN),
            period((2026, 7, 20), (2026, 7, 26)))

    def test_monthly_december_into_january(self):
        self.assertEqual(
            period_of_timestamp(
                'monthly', dt.datetime(2026, 12, 31, 22, 59, 59), BERLIN),
            period((2026, 12, 1), (2026, 12, 31)))
        # Already New Year's Day in Berlin, still 2026 in UTC.
        self.assertEqual(
            period_of_timestamp(
                'monthly', dt.datetime(2026, 12, 31, 23, 0), BERLIN),
            period((2027, 1, 1), (2027, 1, 31)))


class UtcBoundsTestCase(unittest.TestCase):

    def assertBoundsSeparatePeriods(self, interval, found):
        "Check timestamps on either side of each bound land correctly"
        start, stop = found.utc_bounds(BERLIN)
        for timestamp, expected in [
                (start - ONE_SECOND,
                    period_of(interval, found.start - dt.timedelta(days=1))),
                (start, found),
                (stop - ONE_SECOND, found),
                (stop, next_period(found, interval)),
                ]:
            with self.subTest(timestamp=timestamp):
                self.assertEqual(
                    period_of_timestamp(interval, timestamp, BERLIN),
                    expected)

    def test_winter(self):
        self.assertEqual(
            period((2026, 1, 1), (2026, 1, 31)).utc_bounds(BERLIN),
            (dt.datetime(2025, 12, 31, 23, 0),
                dt.datetime(2026, 1, 31, 23, 0)))

    def test_utc(self):
        self.assertEqual(
            period((2026, 1, 1), (2026, 1, 31)).utc_bounds(dt.timezone.utc),
            (dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)))

    def test_monthly_spring_forward(self):
        # Berlin goes from UTC+1 to UTC+2 on 2026-03-29.
        march = period_of('monthly', dt.date(2026, 3, 29))
        start, stop = march.utc_bounds(BERLIN)
        self.assertEqual(start, dt.datetime(2026, 2, 28, 23, 0))
        self.assertEqual(stop, dt.datetime(2026, 3, 31, 22, 0))
        self.assertEqual(stop - start, dt.timedelta(days=31, hours=-1))
        self.assertBoundsSeparatePeriods('monthly', march)

    def test_monthly_fall_back(self):
        # Berlin goes from UTC+2 back to UTC+1 on 2026-10-25.
        october = period_of('monthly', dt.date(2026, 10, 25))
        start, stop = october.utc_bounds(BERLIN)
        self.assertEqual(start, dt.datetime(2026, 9, 30, 22, 0))
        self.assertEqual(stop, dt.datetime(2026, 10, 31, 23, 0))
        self.assertEqual(stop - start, dt.timedelta(days=31, hours=1))
        self.assertBoundsSeparatePeriods('monthly', october)

    def test_weekly_spring_forward(self):
        week = period_of('weekly', dt.date(2026, 3, 29))
        self.assertEqual(week, period((2026, 3, 23), (2026, 3, 29)))
        self.assertEqual(
            week.utc_bounds(BERLIN),
            (dt.datetime(2026, 3, 22, 23, 0), dt.datetime(2026, 3, 29, 22, 0)))
        self.assertBoundsSeparatePeriods('weekly', week)

    def test_weekly_fall_back(self):
        week = period_of('weekly', dt.date(2026, 10, 25))
        self.assertEqual(week, period((2026, 10, 19), (2026, 10, 25)))
        self.assertEqual(
            week.utc_bounds(BERLIN),
            (dt.datetime(2026, 10, 18, 22, 0),
                dt.datetime(2026, 10, 25, 23, 0)))
        self.assertBoundsSeparatePeriods('weekly', week)

    def test_semi_monthly_dst_changes(self):
        for day in [dt.date(2026, 3, 29), dt.date(2026, 10, 25)]:
            with self.subTest(day=day):
                self.assertBoundsSeparatePeriods(
                    'semi_monthly', period_of('semi_monthly', day))

    def test_december_into_january(self):
        december = period((2026, 12, 1), (2026, 12, 31))
        self.assertEqual(
            december.utc_bounds(BERLIN),
            (dt.datetime(2026, 11, 30, 23, 0),
                dt.datetime(2026, 12, 31, 23, 0)))
        self.assertBoundsSeparatePeriods('monthly', december)

    def test_nonexistent_local_midnight(self):
        # São Paulo started daylight saving time at midnight on 2018-11-04:
        # the day began at 01:00 local time, 03:00 UTC.
        sao_paulo = ZoneInfo('America/Sao_Paulo')
        start, _ = period((2018, 11, 4), (2018, 11, 4)).utc_bounds(sao_paulo)
        self.assertEqual(start, dt.datetime(2018, 11, 4, 3, 0))
        self.assertEqual(local_day(start, sao_paulo), dt.date(2018, 11, 4))
        self.assertEqual(
            local_day(start - ONE_SECOND, sao_paulo), dt.date(2018, 11, 3))


class LastClosedPeriodTestCase(unittest.TestCase):

    def test_cut_off_on_last_day_closes_period(self):
        for interval, cut_off, expected in [
                ('weekly', dt.date(2026, 3, 15),
                    period((2026, 3, 9), (2026, 3, 15))),
                ('semi_monthly', dt.date(2026, 3, 15),
                    period((2026, 3, 1), (2026, 3, 15))),
                ('monthly', dt.date(2026, 3, 31),
                    period((2026, 3, 1), (2026, 3, 31))),
                ]:
            with self.subTest(interval=interval):
                self.assertEqual(
                    last_closed_period(interval, cut_off), expected)

    def test_cut_off_one_day_before_gives_previous(self):
        for interval, cut_off, expected in [
                ('weekly', dt.date(2026, 3, 14),
                    period((2026, 3, 2), (2026, 3, 8))),
                ('semi_monthly', dt.date(2026, 3, 14),
                    period((2026, 2, 16), (2026, 2, 28))),
                ('monthly', dt.date(2026, 3, 30),
                    period((2026, 2, 1), (2026, 2, 28))),
                ]:
            with self.subTest(interval=interval):
                self.assertEqual(
                    last_closed_period(interval, cut_off), expected)

    def test_december_before_january(self):
        self.assertEqual(
            last_closed_period('monthly', dt.date(2027, 1, 15)),
            period((2026, 12, 1), (2026, 12, 31)))
        self.assertEqual(
            last_closed_period('weekly', dt.date(2027, 1, 2)),
            period((2026, 12, 21), (2026, 12, 27)))


class ClosedPeriodsTestCase(unittest.TestCase):

    def test_first_day_after_cut_off(self):
        self.assertEqual(
            closed_periods(
                'weekly', dt.date(2026, 3, 20), dt.date(2026, 3, 15)),
            [])

    def test_first_day_in_open_period(self):
        # The period of the first day is not over at the cut-off.
        self.assertEqual(
            closed_periods(
                'monthly', dt.date(2026, 3, 2), dt.date(2026, 3, 30)),
            [])

    def test_several_weeks(self):
        self.assertEqual(
            closed_periods(
                'weekly', dt.date(2026, 12, 16), dt.date(2027, 1, 9)),
            [
                period((2026, 12, 14), (2026, 12, 20)),
                period((2026, 12, 21), (2026, 12, 27)),
                period((2026, 12, 28), (2027, 1, 3)),
                ])

    def test_single_closed_period(self):
        self.assertEqual(
            closed_periods(
                'semi_monthly', dt.date(2028, 2, 29), dt.date(2028, 2, 29)),
            [period((2028, 2, 16), (2028, 2, 29))])

    def test_months_over_year_end(self):
        self.assertEqual(
            closed_periods(
                'monthly', dt.date(2026, 11, 30), dt.date(2027, 2, 27)),
            [
                period((2026, 11, 1), (2026, 11, 30)),
                period((2026, 12, 1), (2026, 12, 31)),
                period((2027, 1, 1), (2027, 1, 31)),
                ])

    def test_periods_follow_each_other(self):
        for interval in INTERVALS:
            with self.subTest(interval=interval):
                periods = closed_periods(
                    interval, dt.date(2027, 11, 3), dt.date(2028, 4, 30))
                self.assertTrue(periods)
                for before, after in zip(periods, periods[1:]):
                    self.assertEqual(
                        after.start, before.end + dt.timedelta(days=1))
