# This file is part of the lead trading suite. See README.rst for details.
"""The arithmetic of the lead trading reports, free of the database: the
periods of a date range, ratios that survive empty periods, the share of a
lead's purchase price that one of its deliveries bears and the recipients
of the management report.

Amounts are `Decimal` in the company currency."""
import calendar
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from trytond.modules.lead_billing.period import period_of

GRANULARITIES = ('day', 'week', 'month')
# The billing intervals of lead_billing.period that cut weeks and months
_INTERVALS = {'week': 'weekly', 'month': 'monthly'}
_ONE_DAY = dt.timedelta(days=1)
RATE_EXPONENT = Decimal('0.0001')
_EMAIL = re.compile(r'^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$')


class ReportPeriod(NamedTuple):
    """A period of a report: `start` names it as on the calendar, `first`
    and `last` are the days of it inside the date range"""
    start: dt.date
    first: dt.date
    last: dt.date


def report_periods(granularity, from_date, to_date):
    """The periods of `granularity` ('day', 'week' — Monday to Sunday —
    or 'month') that cover the date range, in order; the first and the last
    may be cut by the range. An empty range (from after to) has none."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"Unknown granularity: {granularity!r}")
    periods = []
    day = from_date
    while day <= to_date:
        if granularity == 'day':
            start = end = day
        else:
            interval = _INTERVALS[granularity]
            start, end = period_of(interval, day)
        periods.append(ReportPeriod(start, day, min(end, to_date)))
        day = end + _ONE_DAY
    return periods


def months_back(today, months):
    """The first day of the month `months` - 1 months before the month of
    `today`, so that the range up to `today` holds `months` calendar
    months"""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def previous_month(today):
    "The first and the last day of the month before the one of `today`"
    last = today.replace(day=1) - _ONE_DAY
    return last.replace(day=1), last


def month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def ratio(numerator, denominator, exponent=RATE_EXPONENT):
    """`numerator` / `denominator` rounded to `exponent`; None when there
    is nothing to divide by, so that an empty period shows no rate rather
    than a rate of zero"""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        exponent, rounding=ROUND_HALF_UP)


def delivery_cost(purchase_price, deliveries):
    """The part of a lead's purchase price that one of its `deliveries`
    bears: the supplier is paid once per lead, whatever number of buyers
    it is sold to"""
    if purchase_price is None or not deliveries:
        return Decimal(0)
    return Decimal(purchase_price) / deliveries


def parse_recipients(text):
    """The e-mail addresses of `text`, separated by commas, semicolons or
    line breaks; raise ValueError naming the first one that is not an
    address"""
    addresses = []
    for part in re.split(r'[,;\n]', text or ''):
        address = part.strip()
        if not address:
            continue
        if not _EMAIL.match(address):
            raise ValueError(address)
        addresses.append(address)
    return addresses
