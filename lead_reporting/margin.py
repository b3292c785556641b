# This file is part of the lead trading suite. See README.rst for details.
"""Revenue, purchase cost and margin by buyer, supplier and lead category
over the documents of a date range.

- By buyer: the revenue of its invoices and credits; the purchase cost of
  the leads billed to it, each lead's price split over its deliveries (a
  lead sold twice costs each buyer half).
- By supplier: the purchase cost of its self-billing statements; the
  revenue of its leads billed in the range.
- By category: the revenue and the purchase cost of the documents' lines
  of the category (a credit has the category of the line it credits).

Each report is one query grouped in the database."""
from sql import Cast, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce, NullIf

from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval

from .facts import billed_lines, billed_suppliers, document_lines
from .report import ReportMixin, amount, monetary, rate, ratio


class MarginMixin(ReportMixin):
    __slots__ = ()

    leads = fields.Integer(
        "Leads", help="The deliveries billed in the date range.")
    revenue = monetary(
        "Revenue", help="Posted invoice lines less credits, net.")
    cost = monetary("Purchase Cost")
    margin = monetary("Margin", help="Revenue less purchase cost.")
    margin_rate = ratio("Margin Rate", help="Margin per revenue.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('revenue', 'DESC'))

    @classmethod
    def _margin_columns(cls, context, leads, revenue, cost):
        revenue = Coalesce(revenue, 0)
        cost = Coalesce(cost, 0)
        return [
            *cls._company_columns(context),
            Cast(Coalesce(leads, 0), 'INTEGER').as_('leads'),
            amount(revenue, 'revenue', context),
            amount(cost, 'cost', context),
            amount(revenue - cost, 'margin', context),
            rate(revenue - cost, revenue, 'margin_rate'),
            ]


class MarginBuyer(MarginMixin):
    "Revenue and margin by buyer"
    __name__ = 'lead.reporting.buyer'
    __string__ = "Revenue and Margin by Buyer"

    buyer = fields.Many2One(
        'party.party', "Buyer",
        context={'company': Eval('company', -1)}, depends={'company'})
    revenue_per_lead = monetary(
        "Revenue per Lead", help="Revenue per delivery billed.")

    @classmethod
    def _query(cls, context):
        lines = document_lines(context, 'out', categorized=False)
        revenue = lines.select(
            lines.party.as_('buyer'), Sum(lines.amount).as_('amount'),
            group_by=[lines.party])
        billed = billed_lines(context)
        deliveries = billed.select(
            billed.buyer.as_('buyer'), Sum(billed.leads).as_('leads'),
            Sum(billed.cost).as_('cost'),
            group_by=[billed.buyer])
        from_ = revenue.join(deliveries, 'LEFT',
            condition=deliveries.buyer == revenue.buyer)
        cost = Coalesce(deliveries.cost, 0)
        returned = cls._returned_costs(context)
        if returned is not None:
            from_ = from_.join(returned, 'LEFT',
                condition=returned.buyer == revenue.buyer)
            cost -= Coalesce(returned.cost, 0)
        return from_.select(
            revenue.buyer.as_('id'),
            revenue.buyer.as_('buyer'),
            *cls._margin_columns(
                context, deliveries.leads, revenue.amount, cost),
            amount(revenue.amount / NullIf(deliveries.leads, 0),
                'revenue_per_lead', context))

    @classmethod
    def _returned_costs(cls, context):
        """The query of the purchase cost that the suppliers give back for
        leads of the date range that buyers returned, as buyer and cost;
        None when nothing can be returned"""
        return None


class MarginSupplier(MarginMixin):
    "Purchase cost and margin by supplier"
    __name__ = 'lead.reporting.supplier'
    __string__ = "Purchase Cost and Margin by Supplier"

    supplier = fields.Many2One(
        'party.party', "Supplier",
        context={'company': Eval('company', -1)}, depends={'company'})
    leads_bought = fields.Integer(
        "Leads Bought", help="The leads paid by the statements.")
    purchase_price = monetary(
        "Average Purchase Price",
        help="Purchase cost per lead paid by the statements.")

    @classmethod
    def _query(cls, context):
        Lead = Pool().get('lead.lead')
        lead = Lead.__table__()
        lines = document_lines(context, 'in', categorized=False)
        paid = lines.join(lead, 'LEFT', condition=lead.statement_line
            == lines.line)
        cost = paid.select(
            lines.party.as_('supplier'),
            Count(lead.id).as_('leads'),
            group_by=[lines.party])
        amounts = lines.select(
            lines.party.as_('supplier'), Sum(lines.amount).as_('amount'),
            group_by=[lines.party])
        revenue = billed_suppliers(context)
        from_ = amounts.join(cost, condition=cost.supplier == amounts.supplier
            ).join(revenue, 'FULL',
            condition=revenue.supplier == amounts.supplier)
        supplier = Coalesce(amounts.supplier, revenue.supplier)
        sold = Coalesce(revenue.amount, 0)
        returned = cls._returned_revenue(context)
        if returned is not None:
            from_ = from_.join(returned, 'LEFT',
                condition=returned.supplier == supplier)
            sold += Coalesce(returned.amount, 0)
        return from_.select(
            supplier.as_('id'),
            supplier.as_('supplier'),
            *cls._margin_columns(
                context, revenue.leads, sold, amounts.amount),
            Coalesce(cost.leads, 0).as_('leads_bought'),
            amount(amounts.amount / NullIf(cost.leads, 0), 'purchase_price',
                context))

    @classmethod
    def _returned_revenue(cls, context):
        """The query of the revenue that the credits of the date range take
        back from the leads of each supplier, as supplier and (negative)
        amount; None when no credit names the leads it takes back"""
        return None


class MarginCategory(MarginMixin):
    "Revenue, purchase cost and margin by lead category"
    __name__ = 'lead.reporting.category'
    __string__ = "Margin by Category"

    category = fields.Many2One('lead.category', "Category")

    @classmethod
    def _query(cls, context):
        sold = document_lines(context, 'out')
        revenue = sold.select(
            sold.category.as_('category'), Sum(sold.amount).as_('amount'),
            where=sold.category != Null, group_by=[sold.category])
        bought = document_lines(context, 'in')
        cost = bought.select(
            bought.category.as_('category'),
            Sum(bought.amount).as_('amount'),
            where=bought.category != Null, group_by=[bought.category])
        billing = document_lines(context, 'out')
        billed = billed_lines(context)
        deliveries = billing.join(billed,
            condition=billed.line == billing.line).select(
                billing.category.as_('category'),
                Sum(billed.leads).as_('leads'),
                group_by=[billing.category])
        from_ = revenue.join(cost, 'FULL',
            condition=cost.category == revenue.category
            ).join(deliveries, 'LEFT',
            condition=deliveries.category == Coalesce(
                revenue.category, cost.category))
        category = Coalesce(revenue.category, cost.category)
        return from_.select(
            category.as_('id'),
            category.as_('category'),
            *cls._margin_columns(
                context, deliveries.leads, revenue.amount, cost.amount))
