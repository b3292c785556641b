# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .rules import months_back

GRANULARITY = [
    ('day', "Day"),
    ('week', "Week"),
    ('month', "Month"),
    ]
# A year of months up to today, as the dashboard shows
DEFAULT_MONTHS = 12


class ReportingContext(ModelView):
    "The company, dates and periods that every lead trading report reads"
    __name__ = 'lead.reporting.context'
    __string__ = "Lead Trading Reporting Context"

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ],
        help="The first day: of the documents for revenue, purchase cost "
        "and payments, of delivery or reception for the lead volume.")
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ],
        help="The last day, included.")
    granularity = fields.Selection(
        GRANULARITY, "Granularity", required=True, sort=False,
        help="The length of the periods of the reports by period.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_date(cls):
        Date = Pool().get('ir.date')
        return Transaction().context.get('from_date') or months_back(
            Date.today(), DEFAULT_MONTHS)

    @classmethod
    def default_to_date(cls):
        Date = Pool().get('ir.date')
        return Transaction().context.get('to_date') or Date.today()

    @classmethod
    def default_granularity(cls):
        return Transaction().context.get('granularity') or 'month'

    @classmethod
    def get_context(cls):
        """Return the reporting context of the transaction completed with the
        defaults, as the server may be called without the client's; with
        the currency of the company and its digits"""
        Company = Pool().get('company.company')
        context = cls.default_get(
            ['company', 'from_date', 'to_date', 'granularity'],
            with_rec_name=False)
        company_id = context.get('company')
        if company_id is not None and company_id >= 0:
            currency = Company(company_id).currency
            context['currency'], context['digits'] = (
                currency.id, currency.digits)
        else:
            # no company, no rows
            context['company'], context['currency'], context['digits'] = (
                -1, None, 2)
        return context
