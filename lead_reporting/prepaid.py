# This file is part of the lead trading suite. See README.rst for details.
"""Prepaid balances by period: the top-ups booked, what the prepaid buyers
consumed (the price of the leads delivered to them) and the deposit they
hold at the end of the period, as the ledger has it."""
from sql import Values
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import fields
from trytond.modules.lead_billing.expressions import bisect
from trytond.modules.lead_prepaid.configuration import prepaid_settings
from trytond.pool import Pool

from .report import (
    ReportMixin, amount, monetary, period_rows, real_periods)

AMOUNTS = ['top_ups', 'consumption', 'balance']


class PrepaidPeriod(ReportMixin):
    "Prepaid balances by period"
    __name__ = 'lead.reporting.prepaid'
    __string__ = "Prepaid Balances by Period"

    period_start = fields.Date("Period")
    top_ups = monetary(
        "Top-ups", help="The net top-ups booked, by booking date.")
    consumption = monetary(
        "Consumption",
        help="The price of the leads delivered to prepaid buyers.")
    balance = monetary(
        "Deposit at the End",
        help="What the prepaid buyers hold on deposit at the end of the "
        "period: top-ups less what invoices used, net.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('period_start', 'ASC'))

    @classmethod
    def _query(cls, context):
        rows = period_rows(context)
        periods = Values(rows)
        days = [(r[0], r[2]) for r in rows]
        instants = [(r[0], r[4]) for r in rows]
        top_ups = cls._top_ups(context, days, rows[-1][3])
        consumed = cls._consumption(context, instants, rows[-1][5])
        deposit = cls._deposit(context, periods)
        from_ = periods.join(top_ups, 'LEFT',
            condition=top_ups.key == periods.column1
            ).join(consumed, 'LEFT',
            condition=consumed.key == periods.column1
            ).join(deposit, 'LEFT',
            condition=deposit.key == periods.column1)
        return from_.select(
            periods.column1.as_('id'),
            periods.column2.as_('period_start'),
            *cls._company_columns(context),
            amount(Coalesce(top_ups.amount, 0), 'top_ups', context),
            amount(Coalesce(consumed.amount, 0), 'consumption', context),
            amount(Coalesce(deposit.amount, 0), 'balance', context),
            where=real_periods(periods))

    @classmethod
    def _top_ups(cls, context, days, last_day):
        TopUp = Pool().get('lead.prepaid.top_up')
        top_up = TopUp.__table__()
        rows = top_up.select(
            bisect(top_up.date, days).as_('key'),
            top_up.amount.as_('amount'),
            where=(top_up.company == context['company'])
            & (top_up.state == 'booked')
            & (top_up.date >= days[0][1])
            & (top_up.date <= last_day))
        return rows.select(
            rows.key, Sum(rows.amount).as_('amount'), group_by=[rows.key])

    @classmethod
    def _consumption(cls, context, instants, stop):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Account = pool.get('lead.prepaid.account')
        delivery = Delivery.__table__()
        account = Account.__table__()
        rows = delivery.join(account,
            condition=(account.party == delivery.buyer)
            & (account.company == delivery.company)
            ).select(
                bisect(delivery.delivered_at, instants).as_('key'),
                delivery.unit_price.as_('amount'),
                where=(delivery.company == context['company'])
                & (delivery.state == 'delivered')
                & (delivery.delivered_at >= instants[0][1])
                & (delivery.delivered_at < stop))
        return rows.select(
            rows.key, Sum(rows.amount).as_('amount'), group_by=[rows.key])

    @classmethod
    def _deposit(cls, context, periods):
        "The deposit of the prepaid buyers up to the last day of each period"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('lead.prepaid.account')
        line = MoveLine.__table__()
        move = Move.__table__()
        account = Account.__table__()
        deposit_account = prepaid_settings(context['company']).deposit_account
        from_ = periods.join(line, 'CROSS'
            ).join(move, condition=line.move == move.id
            ).join(account, condition=(account.party == line.party)
                & (account.company == move.company))
        return from_.select(
            periods.column1.as_('key'),
            Sum(line.credit - line.debit).as_('amount'),
            where=(move.company == context['company'])
            & (move.state == 'posted')
            & (line.account == (deposit_account.id if deposit_account
                    else None))
            & (move.date <= periods.column4),
            group_by=[periods.column1])
