# This file is part of the lead trading suite. See README.rst for details.
"""Overdue status of invoices and parties: an invoice is overdue while one
of its open lines has a dunning, i.e. it is past due by the delay of the
first level of its procedure."""
from decimal import Decimal

from sql import Null
from sql.aggregate import Max, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction


def open_dunnings():
    """(query source, dunning, line, level tables) of the dunnings whose
    line is not settled yet"""
    pool = Pool()
    Dunning = pool.get('account.dunning')
    Line = pool.get('account.move.line')
    Level = pool.get('account.dunning.level')
    dunning = Dunning.__table__()
    line = Line.__table__()
    level = Level.__table__()
    source = dunning.join(line, condition=dunning.line == line.id
        ).join(level, condition=dunning.level == level.id)
    return source, dunning, line, level


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    dunning_overdue = fields.Function(fields.Boolean(
            "Overdue",
            help="Past due by the delay of the dunning procedure's first "
            "level and not paid."),
        'get_dunning_status', searcher='search_dunning_overdue')
    dunning_level = fields.Function(fields.Many2One(
            'account.dunning.level', "Dunning Level",
            help="The highest dunning level its open lines reached."),
        'get_dunning_status')

    @classmethod
    def get_dunning_status(cls, invoices, names):
        pool = Pool()
        Move = pool.get('account.move')
        source, dunning, line, level = open_dunnings()
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        by_move = {i.move.id: i.id for i in invoices if i.move}
        levels = {}
        for sub_ids in grouped_slice(list(by_move), backend.MAX_QUERY_PARAMS):
            cursor.execute(*source.join(move,
                    condition=line.move == move.id).select(
                    line.move, dunning.level, level.sequence,
                    where=reduce_ids(line.move, sub_ids)
                    & (line.reconciliation == Null),
                    order_by=[level.sequence.asc, dunning.level.asc]))
            for move_id, level_id, _ in cursor:
                levels[by_move[move_id]] = level_id
        result = {}
        if 'dunning_overdue' in names:
            result['dunning_overdue'] = {
                i.id: i.id in levels for i in invoices}
        if 'dunning_level' in names:
            result['dunning_level'] = {
                i.id: levels.get(i.id) for i in invoices}
        return result

    @classmethod
    def search_dunning_overdue(cls, name, clause):
        _, operator, value = clause
        overdue = ('move.lines', 'where', [
                ('dunnings', '!=', None),
                ('reconciliation', '=', None),
                ])
        if (operator == '=') == bool(value):
            return [overdue]
        return ['NOT', overdue]


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    dunning_overdue = fields.Function(fields.Boolean(
            "Overdue",
            help="The party has invoices in dunning that are not paid."),
        'get_dunning_overdue', searcher='search_dunning_overdue')
    dunning_overdue_amount = fields.Function(Monetary(
            "Overdue Amount", currency='dunning_currency',
            digits='dunning_currency'),
        'get_dunning_overdue')
    dunning_currency = fields.Function(fields.Many2One(
            'currency.currency', "Dunning Currency"),
        'get_dunning_currency')
    dunning_deliveries_stopped = fields.Function(fields.Boolean(
            "Deliveries Stopped",
            help="A dunning level stops lead deliveries to the party until "
            "the overdue amount is paid."),
        'get_dunning_overdue')

    def get_dunning_currency(self, name):
        company_id = Transaction().context.get('company')
        if company_id is not None and company_id >= 0:
            Company = Pool().get('company.company')
            return Company(company_id).currency.id

    @classmethod
    def get_dunning_overdue(cls, parties, names):
        source, dunning, line, level = open_dunnings()
        cursor = Transaction().connection.cursor()
        company_id = Transaction().context.get('company')
        amounts, stopped = {}, {}
        for sub_ids in grouped_slice(
                [p.id for p in parties], backend.MAX_QUERY_PARAMS):
            where = (reduce_ids(line.party, sub_ids)
                & (line.reconciliation == Null))
            if company_id is not None:
                where &= dunning.company == company_id
            cursor.execute(*source.select(
                    line.party, Sum(line.debit - line.credit),
                    Max(stop_case(level, dunning)),
                    where=where, group_by=[line.party]))
            for party_id, amount, stop in cursor:
                # SQLite sums numeric columns as floats
                amounts[party_id] = round_amount(Decimal(str(amount or 0)))
                stopped[party_id] = bool(stop)
        result = {
            'dunning_overdue': {p.id: p.id in amounts for p in parties},
            'dunning_overdue_amount': {
                p.id: amounts.get(p.id, Decimal(0)) for p in parties},
            'dunning_deliveries_stopped': {
                p.id: stopped.get(p.id, False) for p in parties},
            }
        return {n: result[n] for n in names}

    @classmethod
    def search_dunning_overdue(cls, name, clause):
        source, dunning, line, level = open_dunnings()
        _, operator, value = clause
        query = source.select(line.party,
            where=(line.reconciliation == Null) & (line.party != Null))
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]


def round_amount(amount):
    "Round to the currency of the company in the context"
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Transaction().context.get('company')
    if company_id is not None and company_id >= 0:
        return Company(company_id).currency.round(amount)
    return amount.quantize(Decimal('0.01'))


def stop_case(level, dunning):
    """1 where the dunning stops deliveries: its level says so, it was sent
    and it is not blocked"""
    return Case(
        ((level.stop_deliveries == True)  # noqa: E712
            & dunning.state.in_(['waiting', 'final'])
            & (dunning.blocked != True), 1),  # noqa: E712
        else_=0)

