# This file is part of the lead trading suite. See README.rst for details.
from sql import Null
from sql.aggregate import Count

from trytond import backend
from trytond.model import fields
from trytond.modules.lead_billing.bulk import forget_cached
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .rules import return_rate


class Delivery(metaclass=PoolMeta):
    __name__ = 'lead.delivery'

    complaints = fields.One2Many(
        'lead.complaint', 'delivery', "Complaints", readonly=True)
    returned = fields.Function(fields.Boolean(
            "Returned",
            help="An accepted complaint took the delivery back."),
        'get_returned', searcher='search_returned')

    @classmethod
    def get_returned(cls, deliveries, name):
        Complaint = Pool().get('lead.complaint')
        complaint = Complaint.__table__()
        cursor = Transaction().connection.cursor()
        returned = dict.fromkeys((d.id for d in deliveries), False)
        for sub_ids in grouped_slice(list(returned), backend.MAX_QUERY_PARAMS):
            cursor.execute(*complaint.select(complaint.delivery,
                    where=reduce_ids(complaint.delivery, sub_ids)
                    & (complaint.state == 'accepted')))
            for delivery_id, in cursor:
                returned[delivery_id] = True
        return returned

    @classmethod
    def search_returned(cls, name, clause):
        _, operator, value = clause
        accepted = ('complaints', 'where', [('state', '=', 'accepted')])
        if (operator == '=') == bool(value):
            return [accepted]
        return ['NOT', accepted]


class Lead(metaclass=PoolMeta):
    __name__ = 'lead.lead'

    return_count = fields.Function(fields.Integer(
            "Returns",
            help="The deliveries of the lead whose complaint was accepted."),
        'get_returns')
    return_rate = fields.Function(fields.Numeric(
            "Return Rate", digits=(1, 4),
            help="Returns per delivery of the lead."),
        'get_returns')
    supplier_not_payable = fields.Boolean(
        "Not Payable to Supplier", readonly=True,
        states={'invisible': ~Eval('supplier_not_payable')},
        help="Every buyer of the lead returned it before the supplier was "
        "paid: no self-billing statement pays it.")

    @classmethod
    def default_supplier_not_payable(cls):
        return False

    @classmethod
    def get_returns(cls, leads, names):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Complaint = pool.get('lead.complaint')
        delivery = Delivery.__table__()
        complaint = Complaint.__table__()
        cursor = Transaction().connection.cursor()
        returns = dict.fromkeys((lead.id for lead in leads), 0)
        for sub_ids in grouped_slice(list(returns), backend.MAX_QUERY_PARAMS):
            cursor.execute(*delivery.join(complaint,
                    condition=(complaint.delivery == delivery.id)
                    & (complaint.state == 'accepted')
                    ).select(delivery.lead, Count(complaint.id),
                    where=reduce_ids(delivery.lead, sub_ids),
                    group_by=[delivery.lead]))
            returns.update(cursor)
        result = {}
        if 'return_count' in names:
            result['return_count'] = returns
        if 'return_rate' in names:
            result['return_rate'] = {
                lead.id: return_rate(returns[lead.id], lead.delivery_count)
                for lead in leads}
        return result

    @classmethod
    def copy(cls, leads, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('supplier_not_payable')
        return super().copy(leads, default=default)

    @classmethod
    def claim(cls, leads):
        """Take the row locks of the leads by writing them unchanged, so
        that two transactions deciding on returns of one lead cannot both
        compute its supplier shares from the same state"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(
                [lead.id for lead in leads], backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.supplier_not_payable],
                    [table.supplier_not_payable],
                    where=reduce_ids(table.id, sub_ids)))

    @classmethod
    def mark_not_payable(cls, leads):
        "Keep the leads off every statement, unless one pays them already"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [lead.id for lead in leads]
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.supplier_not_payable], [True],
                    where=reduce_ids(table.id, sub_ids)
                    & (table.statement_line == Null)))
        forget_cached(cls)
