# This file is part of the lead trading suite. See README.rst for details.
from sql.aggregate import Count

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .rules import RATE_EXPONENT, return_rate


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    lead_complaint_window_days = fields.Integer(
        "Complaint Window",
        domain=['OR',
            ('lead_complaint_window_days', '=', None),
            ('lead_complaint_window_days', '>=', 0),
            ],
        states={'invisible': ~Eval('lead_buyer')},
        help="In days after the day of delivery; replaces the window of "
        "the categories for this buyer. Empty: the category's window.")
    lead_return_cap = fields.Numeric(
        "Return Cap", digits=(1, 4),
        domain=['OR',
            ('lead_return_cap', '=', None),
            [('lead_return_cap', '>=', 0), ('lead_return_cap', '<=', 1)],
            ],
        states={'invisible': ~Eval('lead_buyer')},
        help="The share of a billing period's leads the buyer may return; "
        "complaints past it are flagged and never accepted automatically. "
        "Empty: no cap.")
    lead_buyer_return_rate = fields.Function(fields.Numeric(
            "Return Rate as Buyer", digits=(1, 4),
            states={'invisible': ~Eval('lead_buyer')},
            help="Accepted complaints per lead delivered to the buyer."),
        'get_lead_return_rate')
    lead_supplier_return_rate = fields.Function(fields.Numeric(
            "Return Rate as Supplier", digits=(1, 4),
            states={'invisible': ~Eval('lead_supplier')},
            help="Accepted complaints per delivery of the supplier's "
            "leads."),
        'get_lead_return_rate')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {
            'lead_complaint_window_days', 'lead_return_cap'}

    @classmethod
    def get_lead_return_rate(cls, parties, names):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        Complaint = pool.get('lead.complaint')
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        complaint = Complaint.__table__()
        cursor = Transaction().connection.cursor()
        columns = {
            'lead_buyer_return_rate': delivery.buyer,
            'lead_supplier_return_rate': lead.supplier,
            }
        result = {}
        for name in names:
            party_column = columns[name]
            counts = {p.id: [0, 0] for p in parties}
            for sub_ids in grouped_slice(
                    list(counts), backend.MAX_QUERY_PARAMS):
                query = delivery.join(lead,
                    condition=delivery.lead == lead.id
                    ).join(complaint, 'LEFT',
                    condition=(complaint.delivery == delivery.id)
                    & (complaint.state == 'accepted')
                    ).select(party_column, Count(delivery.id),
                    Count(complaint.id),
                    where=reduce_ids(party_column, sub_ids)
                    & (delivery.state == 'delivered'),
                    group_by=[party_column])
                cursor.execute(*query)
                for party_id, delivered, returned in cursor:
                    counts[party_id] = [delivered, returned]
            result[name] = {
                party_id: return_rate(returned, delivered).quantize(
                    RATE_EXPONENT)
                for party_id, (delivered, returned) in counts.items()}
        return result
