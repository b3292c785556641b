# This file is part of the lead trading suite. See README.rst for details.
"""Billing periods of the lead trading company.

A party is billed per period of its interval:

- ``weekly``: an ISO week, Monday to Sunday;
- ``semi_monthly``: the 1st to the 15th and the 16th to the last day of a
  month;
- ``monthly``: a calendar month.

A delivery belongs to the period that contains its calendar date in the
company's timezone. Timestamps are naive UTC datetimes, as stored in the
database, and periods are plain dates, so that a period reads the same as
on the invoice.

The functions are pure and need no database, so that they can be tested on
their own and reused by the invoicing and the reports.
"""
import calendar
import datetime as dt
from typing import NamedTuple

INTERVALS = ('weekly', 'semi_monthly', 'monthly')

_ONE_DAY = dt.timedelta(days=1)
_SEMI_MONTHLY_FIRST_HALF_END = 15


class Period(NamedTuple):
    "A billing period from `start` to `end`, both days included"
    start: dt.date
    end: dt.date

    @property
    def days(self):
        "The number of days of the period"
        return (self.end - self.start).days + 1

    def utc_bounds(self, tzinfo):
        """Return the half-open range [start, stop) of the period as naive
        UTC datetimes: local midnight at the start day and local midnight
        of the day after the end day in `tzinfo`.

        The offset is looked up for each bound, so a period containing a
        daylight saving time change is one hour shorter or longer."""
        return (
            _local_midnight_in_utc(self.start, tzinfo),
            _local_midnight_in_utc(self.end + _ONE_DAY, tzinfo))


def _local_midnight_in_utc(day, tzinfo):
    # In zones that change the clock at midnight, local midnight may not
    # exist; with fold=0 the offset before the change applies, which gives
    # the instant of the change, that is the first instant of the day.
    # Where midnight occurs twice, fold=0 is the first of both.
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tzinfo)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def period_of(interval, day):
    """Return the period of `interval` that contains the date `day`.

    Raises ValueError for an interval not in INTERVALS."""
    if isinstance(day, dt.datetime):
        # A datetime is a date for Python, but its date part is the UTC day,
        # not the company's: the caller must go through local_day.
        raise TypeError(
            "period_of expects a date, not a datetime; "
            "use period_of_timestamp")
    if interval == 'weekly':
        start = day - dt.timedelta(days=day.weekday())
        return Period(start, start + dt.timedelta(days=6))
    elif interval == 'semi_monthly':
        if day.day <= _SEMI_MONTHLY_FIRST_HALF_END:
            return Period(
                day.replace(day=1),
                day.replace(day=_SEMI_MONTHLY_FIRST_HALF_END))
        return Period(
            day.replace(day=_SEMI_MONTHLY_FIRST_HALF_END + 1),
            _last_day_of_month(day))
    elif interval == 'monthly':
        return Period(day.replace(day=1), _last_day_of_month(day))
    raise ValueError(f"Unknown billing interval: {interval!r}")


def _last_day_of_month(day):
    _, days_in_month = calendar.monthrange(day.year, day.month)
    return day.replace(day=days_in_month)


def next_period(period, interval):
    "Return the period of `interval` that follows `period` right after"
    return period_of(interval, period.end + _ONE_DAY)


def local_day(timestamp, tzinfo):
    "Return the calendar date in `tzinfo` of the naive UTC `timestamp`"
    if timestamp.tzinfo is not None:
        # Reading an aware datetime as UTC would shift it silently.
        raise ValueError("The timestamp must be a naive UTC datetime")
    return (timestamp.replace(tzinfo=dt.timezone.utc)
        .astimezone(tzinfo).date())


def period_of_timestamp(interval, timestamp, tzinfo):
    """Return the period of `interval` of a delivery at the naive UTC
    `timestamp`: the one containing its calendar date in `tzinfo`."""
    return period_of(interval, local_day(timestamp, tzinfo))


def last_closed_period(interval, cut_off):
    """Return the latest period of `interval` that ends on or before the
    date `cut_off`.

    The period containing `cut_off` is closed only when `cut_off` is its
    last day; otherwise the one before is the last closed."""
    period = period_of(interval, cut_off)
    if period.end <= cut_off:
        return period
    return period_of(interval, period.start - _ONE_DAY)


def closed_periods(interval, first_day, cut_off):
    """Return in order the periods of `interval` from the one containing
    `first_day` up to the last one closed at `cut_off`.

    Returns an empty list when `first_day` lies after the end of the last
    closed period, as nothing can be billed yet."""
    last = last_closed_period(interval, cut_off)
    periods = []
    if first_day > last.end:
        return periods
    period = period_of(interval, first_day)
    while period.start <= last.start:
        periods.append(period)
        period = next_period(period, interval)
    return periods
