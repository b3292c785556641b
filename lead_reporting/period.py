# This file is part of the lead trading suite. See README.rst for details.
"""The lead trade by day, week or month: the volume of leads received and
delivered (by the local day of reception and delivery, internal accounts
included and counted apart), the sell-through, the average prices, and the
revenue, purchase cost and margin of the documents of the period.

Periods without anything show too, so that a chart has no gaps."""
from sql import Literal, Values
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce, NullIf

from trytond.model import fields
from trytond.modules.lead_billing.expressions import bisect
from trytond.pool import Pool

from .facts import document_lines
from .report import (
    ReportMixin, amount, monetary, period_rows, rate, ratio, real_periods)


class Period(ReportMixin):
    "Lead trade by period"
    __name__ = 'lead.reporting.period'
    __string__ = "Lead Trade by Period"

    period_start = fields.Date("Period")
    leads_received = fields.Integer(
        "Leads Received", help="The leads received from suppliers.")
    deliveries = fields.Integer(
        "Deliveries", help="The leads delivered, internal accounts "
        "included.")
    internal_deliveries = fields.Integer(
        "Internal Deliveries",
        help="The deliveries to internal accounts, never billed.")
    sell_through = ratio(
        "Sell-through", help="Deliveries per lead received.")
    sale_price = monetary(
        "Average Sale Price",
        help="The average price of the deliveries to buyers.")
    purchase_price = monetary(
        "Average Purchase Price",
        help="The average price of the leads received.")
    revenue = monetary(
        "Revenue", help="Posted invoice lines less credits, net, by "
        "document date.")
    cost = monetary(
        "Purchase Cost", help="Posted self-billing statements, net, by "
        "document date.")
    margin = monetary("Margin", help="Revenue less purchase cost.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('period_start', 'ASC'))

    @classmethod
    def _query(cls, context):
        rows = period_rows(context)
        periods = Values(rows)
        # the UTC bounds of the days for times, the days for documents
        stop = rows[-1][5]
        instants = [(row[0], row[4]) for row in rows]
        days = [(row[0], row[2]) for row in rows]
        # Each part groups by the key of the period; its LIMIT, the number
        # of periods, drops nothing but tells the planner how few rows come
        # out, where it would expect one per lead and compile the query.
        delivered = cls._deliveries(context, instants, stop)
        received = cls._leads(context, instants, stop)
        sold = cls._documents(context, 'out', days)
        bought = cls._documents(context, 'in', days)
        from_ = periods.join(delivered, 'LEFT',
            condition=delivered.key == periods.column1
            ).join(received, 'LEFT',
            condition=received.key == periods.column1
            ).join(sold, 'LEFT', condition=sold.key == periods.column1
            ).join(bought, 'LEFT', condition=bought.key == periods.column1)
        deliveries = Coalesce(delivered.deliveries, 0)
        leads = Coalesce(received.leads, 0)
        revenue = Coalesce(sold.amount, 0)
        cost = Coalesce(bought.amount, 0)
        return from_.select(
            periods.column1.as_('id'),
            periods.column2.as_('period_start'),
            *cls._company_columns(context),
            leads.as_('leads_received'),
            deliveries.as_('deliveries'),
            Coalesce(delivered.internal, 0).as_('internal_deliveries'),
            rate(deliveries, leads, 'sell_through'),
            amount(delivered.sale_amount / NullIf(delivered.sold, 0),
                'sale_price', context),
            amount(received.purchase_amount / NullIf(received.priced, 0),
                'purchase_price', context),
            amount(revenue, 'revenue', context),
            amount(cost, 'cost', context),
            amount(revenue - cost, 'margin', context),
            where=real_periods(periods))

    @classmethod
    def _deliveries(cls, context, bounds, stop):
        Delivery = Pool().get('lead.delivery')
        delivery = Delivery.__table__()
        # a delivery to an internal account is made not billable for good
        internal = delivery.billable == Literal(False)
        rows = delivery.select(
            bisect(delivery.delivered_at, bounds).as_('key'),
            delivery.id.as_('delivery'),
            delivery.unit_price.as_('price'),
            internal.as_('internal'),
            where=(delivery.company == context['company'])
            & (delivery.state == 'delivered')
            & (delivery.delivered_at >= bounds[0][1])
            & (delivery.delivered_at < stop))
        return rows.select(
            rows.key,
            Count(rows.delivery).as_('deliveries'),
            Count(Case((rows.internal, rows.delivery))).as_('internal'),
            Count(Case((~rows.internal, rows.delivery))).as_('sold'),
            Sum(Case((~rows.internal, rows.price), else_=0)).as_(
                'sale_amount'),
            group_by=[rows.key], limit=len(bounds))

    @classmethod
    def _leads(cls, context, bounds, stop):
        Lead = Pool().get('lead.lead')
        lead = Lead.__table__()
        rows = lead.select(
            bisect(lead.received_at, bounds).as_('key'),
            lead.id.as_('lead'),
            lead.purchase_price.as_('price'),
            where=(lead.company == context['company'])
            & (lead.received_at >= bounds[0][1])
            & (lead.received_at < stop))
        return rows.select(
            rows.key,
            Count(rows.lead).as_('leads'),
            Count(rows.price).as_('priced'),
            Sum(Coalesce(rows.price, 0)).as_('purchase_amount'),
            group_by=[rows.key], limit=len(bounds))

    @classmethod
    def _documents(cls, context, kind, days):
        lines = document_lines(context, kind)
        rows = lines.select(
            bisect(lines.invoice_date, days).as_('key'),
            lines.amount.as_('amount'))
        return rows.select(
            rows.key, Sum(rows.amount).as_('amount'),
            group_by=[rows.key], limit=len(days))
