# This file is part of the lead trading suite. See README.rst for details.
"""The monthly management report: the key figures of a month next to the
month before, the best buyers, the charts of the year as pictures, as a
PDF sent by the scheduled job to the configured recipients, once a month.
"""
from email.message import EmailMessage
from types import SimpleNamespace

from genshi.input import XML

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.sendmail import send_message_transactional
from trytond.tools import slugify
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction

from .charts import chart
from .configuration import recipients
from .rules import month_end, months_back, previous_month, ratio

# How many buyers the report names
TOP_BUYERS = 5
CHART_MONTHS = 12
# The figures of the lead trade by period that the report compares
FIGURES = ['revenue', 'cost', 'margin', 'leads_received', 'deliveries',
    'internal_deliveries', 'sell_through', 'sale_price', 'purchase_price']


class Management(ModelSQL, ModelView):
    "Monthly management report of the lead trade"
    __name__ = 'lead.reporting.management'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    month = fields.Date(
        "Month", required=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="The first day of the month reported.")
    email = fields.Many2One(
        'ir.email', "E-mail", readonly=True, ondelete='SET NULL',
        help="The e-mail that sent the report to its recipients.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('month_unique', Unique(t, t.company, t.month),
                'lead_reporting.msg_management_month_unique'),
            ]
        cls._order = [('month', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_month(cls):
        Date = Pool().get('ir.date')
        return previous_month(Date.today())[0]

    def get_rec_name(self, name):
        Lang = Pool().get('ir.lang')
        return gettext('lead_reporting.msg_management_title',
            month=Lang.get().strftime(self.month, '%B %Y'),
            company=self.company.rec_name)

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if values.get('month'):
                values['month'] = values['month'].replace(day=1)
        return super().create(vlist)

    @classmethod
    def send_due(cls):
        """The scheduled job: send the report of the month gone to the
        recipients of each company that has some, once"""
        pool = Pool()
        Company = pool.get('company.company')
        Date = pool.get('ir.date')
        company_id = Transaction().context.get('company')
        companies = ([Company(company_id)] if company_id is not None
            else Company.search([]))
        for company in companies:
            if not recipients(company.id):
                continue
            with Transaction().set_context(company=company.id):
                month = previous_month(Date.today())[0]
                reports = cls.search([
                        ('company', '=', company.id),
                        ('month', '=', month),
                        ])
                if not reports:
                    reports = cls.create([{
                                'company': company.id, 'month': month}])
                # Written first: a second job meeting the report waits and
                # then finds it sent
                cls.write(reports, {})
                cls.send([r for r in cls.browse(reports) if not r.email])

    @classmethod
    def send(cls, reports):
        """E-mail each report as PDF to the recipients of its company; the
        message leaves when the transaction commits and is kept as an
        `ir.email` of the report"""
        pool = Pool()
        Email = pool.get('ir.email')
        Document = pool.get('lead.reporting.management.document',
            type='report')
        for report in reports:
            to = recipients(report.company.id)
            if not to:
                continue
            with Transaction().set_context(company=report.company.id):
                ext, content, _, title = Document.execute([report.id], {})
            msg = EmailMessage()
            body = gettext('lead_reporting.msg_management_email_body',
                report=report.rec_name)
            msg.set_content(body)
            msg.add_attachment(bytes(content), maintype='application',
                subtype='pdf', filename=f'{slugify(title)}.{ext}')
            from_ = config.get('email', 'from')
            set_from_header(msg, from_, report.company.party.email or from_)
            msg['To'] = ', '.join(to)
            msg['Subject'] = report.rec_name
            send_message_transactional(msg, strict=True)
            email = Email.from_message(msg, body=body, resource=report)
            email.save()
            cls.write([report], {'email': email.id})


def read_report(model, company_id, from_date, to_date, granularity='month',
        order=None):
    """The rows of the reporting model `model` for the company and the date
    range"""
    Model = Pool().get(model)
    with Transaction().set_context(company=company_id, from_date=from_date,
            to_date=to_date, granularity=granularity):
        return Model.browse(Model.search([], order=order))


def change(now, before):
    "The change of a figure from `before` to `now`, as a ratio"
    if now is None or before is None:
        return None
    return ratio(now - before, abs(before))


class ManagementDocument(Report):
    "Monthly management report"
    __name__ = 'lead.reporting.management.document'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['figures'] = {r.id: cls.figures(r) for r in records}
        context['figure_text'] = cls.figure_text
        return context

    @classmethod
    def figure_text(cls, value, kind, currency, lang=None):
        "The text of a figure of `kind` 'amount', 'count', 'rate' or 'change'"
        if value is None:
            return '–'
        if kind == 'amount':
            return cls.format_currency(value, lang, currency)
        if kind == 'count':
            return cls.format_number(value, lang, digits=0)
        text = cls.format_number(value * 100, lang, digits=1) + ' %'
        if kind == 'change' and value > 0:
            text = '+' + text
        return text

    @classmethod
    def figures(cls, report):
        """The figures of the report: this month's and the month before's
        lead trade, the payments as of now, the best buyers and the charts
        of the year"""
        pool = Pool()
        Date = pool.get('ir.date')
        Period = pool.get('lead.reporting.period')
        Category = pool.get('lead.reporting.category')
        company_id = report.company.id
        month = report.month
        end = month_end(month)
        before = previous_month(month)[0]
        with Transaction().set_context(company=company_id):
            today = Date.today()
        months = read_report('lead.reporting.period', company_id,
            months_back(month, CHART_MONTHS), end)
        this, last = months[-1], months[-2]
        payments = read_report('lead.reporting.payment.period', company_id,
            months_back(month, CHART_MONTHS), end)
        weeks = read_report('lead.reporting.period', company_id,
            before, end, granularity='week')
        categories = read_report('lead.reporting.category', company_id,
            month, end)
        strings = {name: field['string'] for name, field in
            Period.fields_get().items()}
        category_strings = {name: field['string'] for name, field in
            Category.fields_get(['revenue', 'margin']).items()}
        rows = []
        for name in FIGURES:
            now, previous = getattr(this, name), getattr(last, name)
            rows.append(SimpleNamespace(
                    label=strings[name], now=now, before=previous,
                    change=change(now, previous),
                    kind=('count' if isinstance(now, int) else
                        'rate' if name == 'sell_through' else 'amount')))
        return SimpleNamespace(
            month=month, before=before, today=today,
            currency=report.company.currency,
            rows=rows,
            margin_rate=ratio(this.margin, this.revenue),
            open=sum((p.open for p in payments), 0),
            overdue=sum((p.overdue for p in payments), 0),
            buyers=read_report('lead.reporting.buyer', company_id, month,
                end, order=[('revenue', 'DESC')])[:TOP_BUYERS],
            charts=[picture(svg) for svg in [
                    chart(gettext('lead_reporting.msg_chart_revenue'),
                        [m.period_start.strftime('%m/%y') for m in months],
                        [(strings[n], [getattr(m, n) for m in months])
                            for n in ['revenue', 'cost', 'margin']]),
                    chart(gettext('lead_reporting.msg_chart_deliveries'),
                        [w.period_start.strftime('%d.%m.') for w in weeks],
                        [(strings[n], [getattr(w, n) for w in weeks])
                            for n in ['leads_received', 'deliveries']],
                        kind='line'),
                    chart(gettext('lead_reporting.msg_chart_categories'),
                        [c.category.rec_name for c in categories],
                        [(category_strings[n],
                                [getattr(c, n) for c in categories])
                            for n in ['revenue', 'margin']]),
                    ]])


def picture(svg):
    """The SVG as markup events for the template: WeasyPrint draws SVG
    inside HTML, and refuses pictures from data addresses"""
    return XML(svg)
