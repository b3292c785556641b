# This file is part of the lead trading suite. See README.rst for details.
"""The facts the reports add up, as SQL queries grouped in the database:

- revenue: the lines on revenue accounts of the posted customer invoices
  of a date range (invoice date), in the company currency, with their
  buyer and lead category; the same lines split per billed delivery, with
  its supplier and its part of the lead's purchase price;
- purchase cost: the lines of the posted self-billing statements of a date
  range, with their supplier and lead category.

What the ledger holds is what the reports show: a line counts on the date
of its document, credit notes and invoice corrections subtract, deposit
lines of prepaid buyers are no revenue."""
from sql import Cast, Literal, Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Coalesce, NullIf
from sql.functions import Round
from sql.operators import Concat

from trytond.pool import Pool
from trytond.transaction import Transaction

POSTED = ['posted', 'paid']


def reference(model, table):
    "The value a Reference field holds for the records of `table`"
    return Concat(f'{model},', Cast(table.id, 'VARCHAR'))


def documents(context, kind):
    """The posted documents of the date range: customer invoices and credit
    notes (`kind` 'out') or self-billing statements ('in'), in the company
    currency; return the invoice table and its condition"""
    Invoice = Pool().get('account.invoice')
    invoice = Invoice.__table__()
    where = ((invoice.company == context['company'])
        & (invoice.type == kind)
        & invoice.state.in_(POSTED)
        & (invoice.currency == context['currency'])
        & (invoice.invoice_date >= context['from_date'])
        & (invoice.invoice_date <= context['to_date']))
    if kind == 'in':
        where &= invoice.lead_self_billing == Literal(True)
    return invoice, where


def document_lines(context, kind, categorized=True):
    """The lines of the documents of `documents` on revenue (customer) or
    expense (statement) accounts with their lead category: the line's own
    origin or, for a credit, the one of the line it credits.

    Return the query with the columns line, invoice, party, invoice_date,
    category (unless not `categorized`: its joins on the origins mislead
    the planner of a query that does not need it) and amount."""
    pool = Pool()
    Line = pool.get('account.invoice.line')
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    Category = pool.get('lead.category')
    invoice, where = documents(context, kind)
    line = Line.__table__()
    account = Account.__table__()
    account_type = AccountType.__table__()
    category = Category.__table__()
    credited = Line.__table__()
    credited_category = Category.__table__()
    kind_column = (account_type.revenue if kind == 'out'
        else account_type.expense)
    from_ = invoice.join(line, condition=line.invoice == invoice.id
        ).join(account, condition=line.account == account.id
        ).join(account_type, condition=account.type == account_type.id)
    columns = []
    if categorized:
        from_ = from_.join(category, 'LEFT',
            condition=line.origin == reference('lead.category', category)
            ).join(credited, 'LEFT',
                condition=line.origin == reference(
                    'account.invoice.line', credited)
            ).join(credited_category, 'LEFT',
                condition=credited.origin == reference(
                    'lead.category', credited_category))
        columns.append(
            Coalesce(category.id, credited_category.id).as_('category'))
    return from_.select(
        line.id.as_('line'),
        invoice.id.as_('invoice'),
        invoice.party.as_('party'),
        invoice.invoice_date.as_('invoice_date'),
        *columns,
        Round(Cast(line.quantity, 'NUMERIC') * line.unit_price,
            context['digits']).as_('amount'),
        where=where & (line.type == 'line')
        & (kind_column == Literal(True)))


def delivery_cost(delivery, lead):
    """The delivery's part of its lead's purchase price: the price split
    over the lead's deliveries"""
    return (Cast(Coalesce(lead.purchase_price, 0), 'NUMERIC')
        / NullIf(lead.delivery_count, 0))


def billed_deliveries(context):
    """The deliveries billed by the revenue lines of the date range, one row
    each: the delivery and its buyer."""
    Delivery = Pool().get('lead.delivery')
    lines = document_lines(context, 'out', categorized=False)
    delivery = Delivery.__table__()
    return lines.join(delivery,
        condition=delivery.invoice_line == lines.line).select(
            delivery.id.as_('delivery'),
            lines.party.as_('buyer'))


def billed_lines(context):
    """The deliveries billed by the revenue lines of the date range added up
    per line: the line, its buyer, leads (the number of deliveries) and
    cost (their parts of the leads' purchase prices).

    The deliveries are added up before they meet the lines, on the range
    of line ids that the date range holds: the planner cannot foresee how
    many of the lines are on revenue accounts of posted documents of the
    range, and would pair a million deliveries with their leads one by
    one if it joined them after the lines."""
    pool = Pool()
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    lines = document_lines(context, 'out', categorized=False)
    delivery = Delivery.__table__()
    lead = Lead.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*lines.select(Min(lines.line), Max(lines.line)))
    first, last = cursor.fetchone()
    billed = delivery.join(lead, condition=delivery.lead == lead.id).select(
        delivery.invoice_line.as_('line'),
        Count(delivery.id).as_('leads'),
        Sum(delivery_cost(delivery, lead)).as_('cost'),
        where=(delivery.invoice_line >= first)
        & (delivery.invoice_line <= last)
        if first is not None else Literal(False),
        group_by=[delivery.invoice_line])
    return billed.join(lines, condition=lines.line == billed.line).select(
        billed.line.as_('line'),
        lines.party.as_('buyer'),
        billed.leads.as_('leads'),
        billed.cost.as_('cost'))


def billed_suppliers(context):
    """The deliveries billed by the revenue lines of the date range added up
    per supplier: supplier, leads (the number of deliveries) and amount
    (their prices)"""
    Delivery = Pool().get('lead.delivery')
    lines = document_lines(context, 'out', categorized=False)
    delivery = Delivery.__table__()
    return lines.join(delivery,
        condition=delivery.invoice_line == lines.line).select(
            delivery.supplier.as_('supplier'),
            Count(delivery.id).as_('leads'),
            Sum(delivery.unit_price).as_('amount'),
            group_by=[delivery.supplier])


def unbilled_lines(context):
    """The revenue lines of the date range that bill no delivery: manual
    lines, credit notes, invoice corrections"""
    Delivery = Pool().get('lead.delivery')
    delivery = Delivery.__table__()
    lines = document_lines(context, 'out')
    return lines.select(
        *(getattr(lines, name).as_(name) for name in [
                'line', 'invoice', 'party', 'invoice_date', 'category',
                'amount']),
        where=~lines.line.in_(delivery.select(
                delivery.invoice_line,
                where=delivery.invoice_line != Null)))
