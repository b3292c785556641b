# This file is part of the lead trading suite. See README.rst for details.
"""Complaint analysis: the return rate, leads returned per lead delivered,
by reason, buyer, supplier, category and period.

A complaint counts on the day its delivery was made, not on the day it was
submitted or decided, so that each rate relates the returns to the very
deliveries they return and a quiet month does not look bad because of the
complaints about the month before. Only deliveries to external buyers
count: internal accounts are never billed and cannot complain.

Each analysis is one query grouped in the database, never a loop over
records, so that it stays quick on a million deliveries."""
import datetime as dt
import io

import xlsxwriter
from dateutil.relativedelta import relativedelta
from sql import Cast, Column, Literal, Null, Values
from sql.aggregate import Count
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.lead_billing.annex import DATE_FORMAT, sheet_name
from trytond.modules.lead_billing.expressions import bisect
from trytond.modules.lead_billing.lead import company_timezone
from trytond.modules.lead_billing.period import (
    Period, next_period, period_of)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import Transaction

# The complaints that count: a draft is not made yet and a cancelled one
# was withdrawn by the buyer
COMPLAINT_STATES = ['submitted', 'accepted', 'rejected']
# The billing intervals of lead_billing.period that give the periods
INTERVALS = {
    'month': 'monthly',
    'week': 'weekly',
    }
MEASURES = ['delivered', 'submitted', 'accepted', 'rejected', 'rate']
RATE_FORMAT = '0.00%'
COLUMN_WIDTH, DIMENSION_COLUMN_WIDTH = 12, 32


class AnalysisContext(ModelView):
    "The company and the dates that every complaint analysis reads"
    __name__ = 'lead.complaint.analysis.context'
    __string__ = "Complaint Analysis Context"

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ],
        help="The first day of delivery, in the company's timezone.")
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ],
        help="The last day of delivery, in the company's timezone.")
    granularity = fields.Selection([
            ('month', "Month"),
            ('week', "Week"),
            ], "Granularity", required=True, sort=False,
        help="The length of the periods of the analysis by period.")

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
        """Return the analysis context of the transaction, completed with
        the defaults, as the server may be called without the client's"""
        return cls.default_get(
            ['company', 'from_date', 'to_date', 'granularity'],
            with_rec_name=False)


class RateMixin(ModelSQL, ModelView):
    """The return rate of the deliveries in the context's date range,
    grouped by the field named by `_dimension`, which is also the record's
    id: the id stays the same when the context changes."""
    _dimension = None

    company = fields.Many2One('company.company', "Company")
    delivered = fields.Integer(
        "Delivered",
        help="The leads delivered to external buyers in the date range.")
    submitted = fields.Integer(
        "Submitted",
        help="The complaints about those deliveries waiting for a decision.")
    accepted = fields.Integer(
        "Accepted",
        help="The leads returned: accepted complaints about those "
        "deliveries.")
    rejected = fields.Integer(
        "Rejected",
        help="The rejected complaints about those deliveries.")
    rate = fields.Numeric(
        "Return Rate", digits=(1, 4),
        help="The leads returned per lead delivered.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, (cls._dimension, 'ASC'))

    @classmethod
    def table_query(cls):
        Context = Pool().get('lead.complaint.analysis.context')
        context = Context.get_context()
        return cls._combine(context,
            cls._counted(context, complaints=False),
            cls._counted(context, complaints=True))

    @classmethod
    def _counted(cls, context, complaints):
        """Return the query counting per key of the dimension the deliveries
        in the date range or, with `complaints`, their complaints per state,
        each as a column named after it"""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        Complaint = pool.get('lead.complaint')
        delivery = Delivery.__table__()
        buyer = Party.__table__()
        start, stop = Period(
            context['from_date'], context['to_date']).utc_bounds(
            company_timezone())
        tables = {'delivery': delivery}
        from_ = delivery.join(buyer, condition=delivery.buyer == buyer.id)
        where = ((delivery.company == context['company'])
            & (delivery.state == 'delivered')
            & (delivery.delivered_at >= start)
            & (delivery.delivered_at < stop)
            & ((buyer.lead_internal == Null)
                | (buyer.lead_internal == Literal(False))))
        counted = delivery
        if complaints:
            counted = tables['complaint'] = Complaint.__table__()
            from_ = from_.join(counted,
                condition=counted.delivery == delivery.id)
            where &= counted.state.in_(COMPLAINT_STATES)
        from_, key = cls._key(context, from_, tables)
        columns = [counted.id.as_('id'), counted.state.as_('state')]
        if key is not None:
            columns.append(key.as_('key'))
        # The key may be an expression with parameters, which PostgreSQL
        # does not take as the same in the GROUP BY: group its column
        rows = from_.select(*columns, where=where)
        if complaints:
            counts = [
                Count(Case((rows.state == state, rows.id))).as_(state)
                for state in COMPLAINT_STATES]
        else:
            counts = [Count(rows.id).as_('delivered')]
        if key is None:
            return rows.select(*counts)
        return rows.select(rows.key, *counts, group_by=[rows.key])

    @classmethod
    def _key(cls, context, from_, tables):
        """Return `from_` with the tables the dimension needs joined and the
        column to group by, None for a single total; `tables` holds the
        delivery and, when counting complaints, the complaint"""
        raise NotImplementedError

    @classmethod
    def _combine(cls, context, delivered, complaints):
        "Return the rows of the dimension with their measures"
        from_ = delivered.join(complaints, 'LEFT',
            condition=complaints.key == delivered.key)
        return from_.select(
            delivered.key.as_('id'),
            delivered.key.as_(cls._dimension),
            *cls._measures(context, delivered.delivered, complaints))

    @classmethod
    def _measures(cls, context, delivered, complaints):
        """Return the company and measure columns of a row that has
        `delivered` deliveries and the counts of the `complaints` query,
        missing when nothing was complained about"""
        counts = {
            state: Coalesce(Column(complaints, state), 0)
            for state in COMPLAINT_STATES}
        accepted = counts['accepted']
        if backend.name == 'sqlite':
            # SQLite divides integers as integers
            accepted = Cast(accepted, 'REAL')
        else:
            accepted = Cast(accepted, 'NUMERIC')
        rate = Case(
            (delivered > 0,
                Round(accepted / delivered, cls.rate.digits[1])),
            else_=0)
        return [
            Literal(context['company']).as_('company'),
            delivered.as_('delivered'),
            *(count.as_(state) for state, count in counts.items()),
            rate.as_('rate'),
            ]


class RateReason(RateMixin):
    """Return rate by reason: every reason is measured against all the
    deliveries in the date range, so that the rates of the reasons add up
    to the overall rate"""
    __name__ = 'lead.complaint.rate.reason'
    __string__ = "Return Rate by Reason"
    _dimension = 'reason'

    reason = fields.Many2One('lead.complaint.reason', "Reason")

    @classmethod
    def _key(cls, context, from_, tables):
        complaint = tables.get('complaint')
        return from_, complaint.reason if complaint else None

    @classmethod
    def _combine(cls, context, delivered, complaints):
        "Show the active reasons even without complaints, with zero counts"
        Reason = Pool().get('lead.complaint.reason')
        reason = Reason.__table__()
        from_ = reason.join(complaints, 'LEFT',
            condition=complaints.key == reason.id
            ).join(delivered, 'CROSS')
        return from_.select(
            reason.id.as_('id'),
            reason.id.as_('reason'),
            *cls._measures(context, delivered.delivered, complaints),
            where=(reason.active == Literal(True))
            | (complaints.key != Null))


class RateBuyer(RateMixin):
    __name__ = 'lead.complaint.rate.buyer'
    __string__ = "Return Rate by Buyer"
    _dimension = 'buyer'

    buyer = fields.Many2One(
        'party.party', "Buyer",
        context={'company': Eval('company', -1)}, depends={'company'})

    @classmethod
    def _key(cls, context, from_, tables):
        return from_, tables['delivery'].buyer


class _LeadKeyMixin:
    "Group by a column of the lead of the delivery"
    __slots__ = ()

    @classmethod
    def _key(cls, context, from_, tables):
        Lead = Pool().get('lead.lead')
        lead = Lead.__table__()
        from_ = from_.join(lead,
            condition=tables['delivery'].lead == lead.id)
        return from_, Column(lead, cls._dimension)


class RateSupplier(_LeadKeyMixin, RateMixin):
    __name__ = 'lead.complaint.rate.supplier'
    __string__ = "Return Rate by Supplier"
    _dimension = 'supplier'

    supplier = fields.Many2One(
        'party.party', "Supplier",
        context={'company': Eval('company', -1)}, depends={'company'})


class RateCategory(_LeadKeyMixin, RateMixin):
    __name__ = 'lead.complaint.rate.category'
    __string__ = "Return Rate by Category"
    _dimension = 'category'

    category = fields.Many2One('lead.category', "Category")


class RatePeriod(RateMixin):
    """Return rate by month or week of delivery, in the company's timezone.
    A period cut by the date range counts only its days inside, but keeps
    its own start as the name, so that the periods read as on the
    calendar; periods without deliveries show, so that a line has no
    gaps."""
    __name__ = 'lead.complaint.rate.period'
    __string__ = "Return Rate by Period"
    _dimension = 'period_start'

    period_start = fields.Date("Period")

    @classmethod
    def _periods(cls, context):
        """Return the periods of the date range as rows of the id, the first
        and the stop instant in UTC and the first day of the period"""
        interval = INTERVALS[context['granularity']]
        from_date, to_date = context['from_date'], context['to_date']
        tzinfo = company_timezone()
        rows = []
        period = period_of(interval, from_date)
        # One period at least, as VALUES may not be empty; an empty date
        # range gives it an empty span
        while not rows or period.start <= to_date:
            start, stop = Period(
                max(period.start, from_date),
                min(period.end, to_date)).utc_bounds(tzinfo)
            rows.append(
                [period.start.toordinal(), start, stop, period.start])
            period = next_period(period, interval)
        return rows

    @classmethod
    def _key(cls, context, from_, tables):
        periods = [(id_, start) for id_, start, _, _ in cls._periods(context)]
        return from_, bisect(tables['delivery'].delivered_at, periods)

    @classmethod
    def _combine(cls, context, delivered, complaints):
        periods = Values(cls._periods(context))
        from_ = periods.join(delivered, 'LEFT',
            condition=delivered.key == periods.column1
            ).join(complaints, 'LEFT',
            condition=complaints.key == periods.column1)
        return from_.select(
            periods.column1.as_('id'),
            periods.column4.as_('period_start'),
            *cls._measures(
                context, Coalesce(delivered.delivered, 0), complaints),
            where=periods.column2 < periods.column3)


class AnalysisSpreadsheet(Report):
    "The selected rows of a complaint analysis as a spreadsheet"
    __name__ = 'lead.complaint.analysis.spreadsheet'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Model = pool.get('ir.model')
        Lang = pool.get('ir.lang')
        Context = pool.get('lead.complaint.analysis.context')
        Analysis = pool.get(data['model'])
        context = Context.get_context()
        lang = Lang.get()
        title = gettext('lead_complaints.msg_analysis_spreadsheet_title',
            analysis=Model.get_name(Analysis.__name__),
            from_date=lang.strftime(context['from_date']),
            to_date=lang.strftime(context['to_date']))
        names = [Analysis._dimension, *MEASURES]
        strings = Analysis.fields_get(names)
        content = cls.workbook(title,
            [strings[n]['string'] for n in names],
            Analysis.browse(ids))
        return 'xlsx', content, False, title

    @classmethod
    def workbook(cls, title, headers, records):
        """Return the .xlsx file of `records` under the translated
        `headers`, counts as numbers and rates as percentages, so that
        they can be computed on"""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {'in_memory': True})
        workbook.set_properties({'title': title})
        header_format = workbook.add_format({'bold': True, 'bottom': 1})
        date_format = workbook.add_format({'num_format': DATE_FORMAT})
        rate_format = workbook.add_format({'num_format': RATE_FORMAT})
        sheet = workbook.add_worksheet(sheet_name(title))
        sheet.set_column(0, 0, DIMENSION_COLUMN_WIDTH)
        sheet.set_column(1, len(headers) - 1, COLUMN_WIDTH)
        sheet.freeze_panes(1, 0)
        for column, header in enumerate(headers):
            sheet.write_string(0, column, header, header_format)
        for row, record in enumerate(records, 1):
            dimension = getattr(record, record._dimension)
            if isinstance(dimension, dt.date):
                sheet.write_datetime(row, 0, dimension, date_format)
            else:
                sheet.write_string(row, 0, dimension.rec_name)
            for column, name in enumerate(MEASURES[:-1], 1):
                sheet.write_number(row, column, getattr(record, name))
            sheet.write_number(
                row, len(MEASURES), float(record.rate), rate_format)
        sheet.autofilter(0, 0, max(len(records), 1), len(headers) - 1)
        workbook.close()
        return output.getvalue()
