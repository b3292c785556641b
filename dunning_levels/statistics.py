# This file is part of the lead trading suite. See README.rst for details.
"""Dunning statistics: how many items reached each level, for how much, how
many of them are paid by now and how many days the customers took to pay
after the level, per level and period and per customer.

Everything is counted from the log of the levels reached
(`account.dunning.log`): a log row counts in the period of the day its
level was reached, whatever the day of the invoice. An item counts as paid
when its receivable line is reconciled today, and the days to pay run from
the day the level was reached to the date of the reconciliation; a payment
booked before the level was processed counts as zero days, as in
`rules.days_to_pay`. A line reconciled by delegation (grouped or
rescheduled lines) counts as paid on the day of that reconciliation.

Each statistic is one query grouped in the database, never a loop over
records."""
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter
from dateutil.relativedelta import relativedelta
from sql import Cast, Literal, Null, NullsLast, Values
from sql.aggregate import Avg, Count, Max, Sum
from sql.conditionals import Case, Coalesce, Greatest
from sql.functions import Round

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.modules.lead_billing.annex import DATE_FORMAT, sheet_name
from trytond.modules.lead_billing.expressions import days_between
from trytond.modules.lead_billing.period import next_period, period_of
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import Transaction

# The intervals of lead_billing.period that give the periods
INTERVALS = {
    'month': 'monthly',
    'week': 'weekly',
    }
# The id of a row by level and period is the level's id times this plus
# the ordinal of the first day of the period, below it until the year 2738
PERIOD_ID_FACTOR = 1_000_000
MEASURES = [
    'dunned', 'amount', 'paid', 'paid_amount', 'open', 'open_amount',
    'days_to_pay']
AMOUNT_FORMAT = '#,##0.00'
DAYS_FORMAT = '0.0'
COLUMN_WIDTH, DIMENSION_COLUMN_WIDTH = 14, 32


class StatisticsContext(ModelView):
    "The company and the dates that the dunning statistics read"
    __name__ = 'account.dunning.statistics.context'
    __string__ = "Dunning Statistics Context"

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ],
        help="The first day a level was reached.")
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ],
        help="The last day a level was reached.")
    granularity = fields.Selection([
            ('month', "Month"),
            ('week', "Week"),
            ], "Granularity", required=True, sort=False,
        help="The length of the periods of the statistics by period.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_date(cls):
        "The start of the month a year ago, so that a year of months shows"
        Date = Pool().get('ir.date')
        context = Transaction().context
        if context.get('from_date'):
            return context['from_date']
        return Date.today().replace(day=1) - relativedelta(months=11)

    @classmethod
    def default_to_date(cls):
        Date = Pool().get('ir.date')
        context = Transaction().context
        if context.get('to_date'):
            return context['to_date']
        return Date.today()

    @classmethod
    def default_granularity(cls):
        return Transaction().context.get('granularity') or 'month'

    @classmethod
    def get_context(cls):
        """Return the statistics context of the transaction, completed with
        the defaults, as the server may be called without the client's"""
        return cls.default_get(
            ['company', 'from_date', 'to_date', 'granularity'],
            with_rec_name=False)


class StatisticsMixin(ModelSQL, ModelView):
    """The measures of the levels reached in the context's date range,
    grouped by the dimensions named in `_dimensions`"""
    _dimensions = []

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    dunned = fields.Integer(
        "Dunned",
        help="The number of times an item reached the level.")
    amount = Monetary(
        "Amount", currency='currency', digits='currency',
        help="The amount of the items when they reached the level.")
    paid = fields.Integer(
        "Paid",
        help="Of the items dunned, those paid (reconciled) by now.")
    paid_amount = Monetary(
        "Paid Amount", currency='currency', digits='currency')
    open = fields.Integer(
        "Open",
        help="Of the items dunned, those not paid (reconciled) yet.")
    open_amount = Monetary(
        "Open Amount", currency='currency', digits='currency')
    days_to_pay = fields.Numeric(
        "Days to Pay", digits=(16, 1),
        help="The average of the whole days from reaching the level to the "
        "payment, over the items paid; a payment booked before the level "
        "counts as zero days.")

    @classmethod
    def _logs(cls, context):
        """Return the log, the join of the logs with their line and its
        reconciliation, and the condition of the logs of the context's
        company and date range"""
        pool = Pool()
        Log = pool.get('account.dunning.log')
        Line = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        log = Log.__table__()
        line = Line.__table__()
        reconciliation = Reconciliation.__table__()
        from_ = log.join(line, condition=log.line == line.id
            ).join(reconciliation, 'LEFT',
            condition=line.reconciliation == reconciliation.id)
        where = ((log.company == context['company'])
            & (log.date >= context['from_date'])
            & (log.date <= context['to_date']))
        return log, from_, where, reconciliation

    @classmethod
    def _aggregates(cls, log, reconciliation):
        "Return the measures of the grouped logs, each named after it"
        paid = reconciliation.id != Null
        days = Greatest(days_between(log.date, reconciliation.date), 0)
        return [
            Count(log.id).as_('dunned'),
            Sum(log.amount).as_('amount'),
            Count(Case((paid, log.id))).as_('paid'),
            Sum(Case((paid, log.amount), else_=0)).as_('paid_amount'),
            Count(Case((~paid, log.id))).as_('open'),
            Sum(Case((~paid, log.amount), else_=0)).as_('open_amount'),
            Round(Avg(Case((paid, days))), cls.days_to_pay.digits[1]
                ).as_('days_to_pay'),
            ]

    @classmethod
    def _measures(cls, context, grouped):
        """Return the company, currency and measure columns of the rows of
        the `grouped` query, zero where it has no row"""
        Company = Pool().get('company.company')
        currency = None
        if context['company'] is not None:
            currency = Company(context['company']).currency.id
        columns = [
            Literal(context['company']).as_('company'),
            Literal(currency).as_('currency'),
            ]
        for name in MEASURES:
            column = getattr(grouped, name)
            if name != 'days_to_pay':
                column = Coalesce(column, 0)
            columns.append(column.as_(name))
        return columns


class StatisticsLevel(StatisticsMixin):
    """Dunning statistics by level and period of the day the level was
    reached. A period cut by the date range counts only its days inside but
    keeps its own start as the name; every level reached in the range shows
    in every period, so that a line has no gaps."""
    __name__ = 'account.dunning.statistics.level'
    __string__ = "Dunning Statistics by Level"
    _dimensions = ['period_start', 'level']

    level = fields.Many2One('account.dunning.level', "Level")
    period_start = fields.Date("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the levels in their order, not by name
        cls._order = [
            ('period_start', 'ASC'),
            ('level.sequence', 'ASC NULLS FIRST'),
            ('level', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def _periods(cls, context):
        """Return the periods of the date range as rows of the ordinal and
        the first day of the period and its first and last day in the
        range"""
        interval = INTERVALS[context['granularity']]
        from_date, to_date = context['from_date'], context['to_date']
        rows = []
        period = period_of(interval, from_date)
        # One period at least, as VALUES may not be empty; an empty date
        # range gives it an empty span
        while not rows or period.start <= to_date:
            rows.append([
                    period.start.toordinal(), period.start,
                    max(period.start, from_date), min(period.end, to_date)])
            period = next_period(period, interval)
        return rows

    @classmethod
    def table_query(cls):
        Context = Pool().get('account.dunning.statistics.context')
        context = Context.get_context()

        log, from_, where, reconciliation = cls._logs(context)
        periods = Values(cls._periods(context))
        from_ = from_.join(periods,
            condition=(log.date >= periods.column3)
            & (log.date <= periods.column4))
        grouped = from_.select(
            log.level.as_('level'),
            periods.column1.as_('period'),
            *cls._aggregates(log, reconciliation),
            where=where,
            group_by=[log.level, periods.column1])

        log, _, where, _ = cls._logs(context)
        levels = log.select(log.level.as_('level'),
            where=where, group_by=[log.level])

        periods = Values(cls._periods(context))
        from_ = levels.join(periods, 'CROSS').join(grouped, 'LEFT',
            condition=(grouped.level == levels.level)
            & (grouped.period == periods.column1))
        return from_.select(
            (Cast(levels.level, 'BIGINT') * PERIOD_ID_FACTOR
                + periods.column1).as_('id'),
            levels.level.as_('level'),
            periods.column2.as_('period_start'),
            *cls._measures(context, grouped),
            where=periods.column3 <= periods.column4)


class StatisticsParty(StatisticsMixin):
    """Dunning statistics by customer over the date range, with the highest
    level reached in it. The id of a row is the customer's, so that the
    customer's dunning history opens from it."""
    __name__ = 'account.dunning.statistics.party'
    __string__ = "Dunning Statistics by Customer"
    _dimensions = ['party', 'level', 'last_date']

    party = fields.Many2One(
        'party.party', "Customer",
        context={'company': Eval('company', -1)}, depends={'company'})
    level = fields.Many2One(
        'account.dunning.level', "Highest Level",
        help="The last level of its procedure that an item of the customer "
        "reached in the date range.")
    last_date = fields.Date(
        "Last Dunned",
        help="The last day an item of the customer reached a level in the "
        "date range.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('party', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Context = pool.get('account.dunning.statistics.context')
        Level = pool.get('account.dunning.level')
        context = Context.get_context()

        log, from_, where, reconciliation = cls._logs(context)
        grouped = from_.select(
            log.party.as_('party'),
            Max(log.date).as_('last_date'),
            *cls._aggregates(log, reconciliation),
            where=where,
            group_by=[log.party])

        # The highest level in the order of the levels: by sequence, the
        # levels without sequence first, then by id
        log, _, where, _ = cls._logs(context)
        level = Level.__table__()
        highest = log.join(level, condition=log.level == level.id).select(
            level.id,
            where=where & (log.party == grouped.party),
            order_by=[NullsLast(level.sequence.desc), level.id.desc],
            limit=1)

        return grouped.select(
            grouped.party.as_('id'),
            grouped.party.as_('party'),
            highest.as_('level'),
            grouped.last_date.as_('last_date'),
            *cls._measures(context, grouped))


class StatisticsSpreadsheet(Report):
    "The selected rows of a dunning statistic as a spreadsheet"
    __name__ = 'account.dunning.statistics.spreadsheet'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Model = pool.get('ir.model')
        Lang = pool.get('ir.lang')
        Context = pool.get('account.dunning.statistics.context')
        Statistics = pool.get(data['model'])
        context = Context.get_context()
        lang = Lang.get()
        title = gettext('dunning_levels.msg_statistics_spreadsheet_title',
            statistics=Model.get_name(Statistics.__name__),
            from_date=lang.strftime(context['from_date']),
            to_date=lang.strftime(context['to_date']))
        names = [*Statistics._dimensions, *MEASURES]
        strings = Statistics.fields_get(names)
        content = cls.workbook(title,
            [(n, strings[n]['string']) for n in names],
            Statistics.browse(ids))
        return 'xlsx', content, False, title

    @classmethod
    def workbook(cls, title, columns, records):
        """Return the .xlsx file of `records` with the (field name, header)
        `columns`: numbers as numbers and dates as dates, so that they can
        be computed on"""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {'in_memory': True})
        workbook.set_properties({'title': title})
        header_format = workbook.add_format({'bold': True, 'bottom': 1})
        formats = {
            dt.date: workbook.add_format({'num_format': DATE_FORMAT}),
            'amount': workbook.add_format({'num_format': AMOUNT_FORMAT}),
            'days_to_pay': workbook.add_format({'num_format': DAYS_FORMAT}),
            }
        sheet = workbook.add_worksheet(sheet_name(title))
        sheet.set_column(0, len(columns) - 1, COLUMN_WIDTH)
        for index, (name, _) in enumerate(columns):
            if name in {'level', 'party'}:
                sheet.set_column(index, index, DIMENSION_COLUMN_WIDTH)
        sheet.freeze_panes(1, 0)
        for column, (_, header) in enumerate(columns):
            sheet.write_string(0, column, header, header_format)
        for row, record in enumerate(records, 1):
            for column, (name, _) in enumerate(columns):
                value = getattr(record, name)
                if value is None:
                    sheet.write_blank(row, column, None)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(
                        row, column, value, formats[dt.date])
                elif isinstance(value, Decimal):
                    format_ = formats.get(name, formats['amount'])
                    sheet.write_number(row, column, float(value), format_)
                elif isinstance(value, int):
                    sheet.write_number(row, column, value)
                else:
                    sheet.write_string(row, column, value.rec_name)
        sheet.autofilter(0, 0, max(len(records), 1), len(columns) - 1)
        workbook.close()
        return output.getvalue()
