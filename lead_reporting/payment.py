# This file is part of the lead trading suite. See README.rst for details.
"""How the customer invoices of a date range are paid, as of today: paid,
open (not due yet) and overdue amounts, and the days the paid ones took,
by period of the invoice date and by buyer.

An invoice's open amount is what its receivable lines still hold (Tryton's
amount to pay), overdue as far as their maturity date has passed; the rest
of its total is paid. The days to pay run from the invoice date to the
last reconciliation of a paid invoice."""
from sql import Cast, Null, Values
from sql.aggregate import Avg, Count, Max, Sum
from sql.conditionals import Case, Coalesce, Greatest
from sql.functions import Round

from trytond import backend
from trytond.model import fields
from trytond.modules.lead_billing.expressions import bisect, days_between
from trytond.pool import Pool
from trytond.pyson import Eval

from .facts import documents
from .report import ReportMixin, amount, monetary, period_rows, real_periods

DAYS_DIGITS = (16, 1)
AMOUNTS = ['invoiced', 'paid', 'open', 'overdue']


class PaymentMixin(ReportMixin):
    __slots__ = ()

    invoices = fields.Integer("Invoices")
    invoiced = monetary("Invoiced", help="The total of the invoices.")
    paid = monetary("Paid")
    open = monetary("Open", help="Not paid and not due yet.")
    overdue = monetary("Overdue", help="Not paid and due.")
    days_to_pay = fields.Numeric(
        "Days to Pay", digits=DAYS_DIGITS,
        help="The average days from the invoice date to the payment of the "
        "paid invoices.")

    @classmethod
    def _invoices(cls, context):
        """One row per invoice of the date range with its party, date,
        total, amount to pay, overdue part and payment date"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        Date = pool.get('ir.date')
        invoice, where = documents(context, 'out')
        line = MoveLine.__table__()
        reconciliation = Reconciliation.__table__()
        today = Date.today()
        open_ = line.reconciliation == Null
        balance = line.debit - line.credit
        total = invoice.total_amount_cache
        if backend.name == 'sqlite':
            # SQLite stores decimals as text, greater than any number
            total = Cast(total, 'NUMERIC')
        from_ = invoice.join(line, condition=(line.move == invoice.move)
            & (line.account == invoice.account)
            ).join(reconciliation, 'LEFT',
            condition=line.reconciliation == reconciliation.id)
        return from_.select(
            invoice.id.as_('invoice'),
            invoice.party.as_('party'),
            invoice.invoice_date.as_('invoice_date'),
            Max(total).as_('total'),
            Sum(Case((open_, balance), else_=0)).as_('to_pay'),
            Sum(Case((open_ & (line.maturity_date < today), balance),
                    else_=0)).as_('overdue'),
            Max(Case((invoice.state == 'paid', reconciliation.date))).as_(
                'paid_on'),
            where=where & (total > 0),
            group_by=[invoice.id, invoice.party, invoice.invoice_date])

    @classmethod
    def _aggregates(cls, invoices):
        days = Greatest(
            days_between(invoices.invoice_date, invoices.paid_on), 0)
        return [
            Count(invoices.invoice).as_('invoices'),
            Sum(invoices.total).as_('invoiced'),
            Sum(invoices.total - invoices.to_pay).as_('paid'),
            Sum(invoices.to_pay - invoices.overdue).as_('open'),
            Sum(invoices.overdue).as_('overdue'),
            Round(Avg(Case((invoices.paid_on != Null, days))),
                DAYS_DIGITS[1]).as_('days_to_pay'),
            ]

    @classmethod
    def _measures(cls, context, grouped):
        return [
            *cls._company_columns(context),
            Coalesce(grouped.invoices, 0).as_('invoices'),
            *(amount(Coalesce(getattr(grouped, name), 0), name, context)
                for name in AMOUNTS),
            grouped.days_to_pay.as_('days_to_pay'),
            ]


class PaymentPeriod(PaymentMixin):
    "Payment status by period of the invoice date"
    __name__ = 'lead.reporting.payment.period'
    __string__ = "Payment Status by Period"

    period_start = fields.Date("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('period_start', 'ASC'))

    @classmethod
    def _query(cls, context):
        rows = period_rows(context)
        periods = Values(rows)
        invoices = cls._invoices(context)
        keyed = invoices.select(
            bisect(invoices.invoice_date, [(r[0], r[2]) for r in rows]).as_(
                'key'),
            *(getattr(invoices, name).as_(name) for name in [
                    'invoice', 'invoice_date', 'total', 'to_pay', 'overdue',
                    'paid_on']))
        grouped = keyed.select(
            keyed.key, *cls._aggregates(keyed), group_by=[keyed.key])
        return periods.join(grouped, 'LEFT',
            condition=grouped.key == periods.column1).select(
                periods.column1.as_('id'),
                periods.column2.as_('period_start'),
                *cls._measures(context, grouped),
                where=real_periods(periods))


class PaymentBuyer(PaymentMixin):
    "Payment status by buyer"
    __name__ = 'lead.reporting.payment.buyer'
    __string__ = "Payment Status by Buyer"

    buyer = fields.Many2One(
        'party.party', "Buyer",
        context={'company': Eval('company', -1)}, depends={'company'})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('overdue', 'DESC'))

    @classmethod
    def _query(cls, context):
        invoices = cls._invoices(context)
        grouped = invoices.select(
            invoices.party.as_('key'), *cls._aggregates(invoices),
            group_by=[invoices.party])
        return grouped.select(
            grouped.key.as_('id'),
            grouped.key.as_('buyer'),
            *cls._measures(context, grouped))
