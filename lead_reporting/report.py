# This file is part of the lead trading suite. See README.rst for details.
"""What every lead trading report shares: the context it reads, the
company and currency columns, amounts exact on both backends and the
periods of a date range as SQL."""
import datetime as dt

from sql import Cast, Literal
from sql.conditionals import Case
from sql.functions import Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.modules.lead_billing.lead import company_timezone
from trytond.modules.lead_billing.period import Period
from trytond.pool import Pool
from trytond.transaction import Transaction

from .rules import RATE_EXPONENT, report_periods

RATE_DIGITS = (1, 4)


class ReportMixin(ModelSQL, ModelView):
    """A report computed by one query from the reporting context: the
    subclass returns its rows from `_query`.

    Amounts and rates are rounded in the query: SQLite sums numerics as
    floats, which read back as the exact decimals once rounded."""
    __slots__ = ()

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")

    @classmethod
    def table_query(cls):
        Context = Pool().get('lead.reporting.context')
        if backend.name == 'postgresql':
            # The planner overrates these queries, whose groups it cannot
            # foresee, and compiling them took a third of their time on a
            # million deliveries; the setting ends with the transaction.
            Transaction().connection.cursor().execute('SET LOCAL jit = off')
        return cls._query(Context.get_context())

    @classmethod
    def _query(cls, context):
        raise NotImplementedError

    @classmethod
    def _company_columns(cls, context):
        return [
            Literal(context['company']).as_('company'),
            Literal(context['currency']).as_('currency'),
            ]


def amount(expression, name, context):
    "The column `name` of an amount rounded to the company currency"
    return Round(expression, context['digits']).as_(name)


def rate(numerator, denominator, name):
    """The column `name` of `numerator` / `denominator`, empty when the
    denominator is zero"""
    if backend.name == 'sqlite':
        numerator = Cast(numerator, 'REAL')
    else:
        numerator = Cast(numerator, 'NUMERIC')
    return Case(
        (denominator != 0, Round(numerator / denominator,
                -RATE_EXPONENT.as_tuple().exponent)),
        else_=None).as_(name)


def monetary(string, help=''):
    return Monetary(string, currency='currency', digits='currency',
        help=help)


def ratio(string, help=''):
    return fields.Numeric(string, digits=RATE_DIGITS, help=help)


def period_rows(context):
    """The periods of the context, as rows of the ordinal of the period's
    first calendar day (the row id), that day, the first and last day
    inside the date range and the UTC bounds of those days"""
    tzinfo = company_timezone()
    rows = []
    for period in report_periods(
            context['granularity'], context['from_date'],
            context['to_date']):
        start, stop = Period(period.first, period.last).utc_bounds(tzinfo)
        rows.append([period.start.toordinal(), period.start, period.first,
                period.last, start, stop])
    if not rows:
        # VALUES may not be empty: a period that ends before it starts
        # matches nothing and is left out by `real_periods`
        day = context['from_date']
        start, _ = Period(day, day).utc_bounds(tzinfo)
        rows.append([day.toordinal(), day, day, day - dt.timedelta(days=1),
                start, start])
    return rows


def real_periods(periods):
    """The condition that keeps the rows of the VALUES of `period_rows`
    that have days"""
    return periods.column3 <= periods.column4
