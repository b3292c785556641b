# This file is part of the lead trading suite. See README.rst for details.
"""With complaints: a revenue line earns referral commission only once the
complaint window of its last delivery has passed, so that a lead returned
in time never creates commission that would have to be taken back."""
from sql.aggregate import Max

from trytond import backend
from trytond.modules.lead_billing.lead import company_timezone, local_date
from trytond.modules.lead_complaints.rules import (
    complaint_deadline, window_days)
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids, sqlite_apply_types
from trytond.transaction import Transaction


class Commission(metaclass=PoolMeta):
    __name__ = 'commission'

    @classmethod
    def referral_window_ends(cls, line_ids):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        Category = pool.get('lead.category')
        Party = pool.get('party.party')
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        ends = super().referral_window_ends(line_ids)
        tzinfo = company_timezone()
        latest = []
        for sub_ids in grouped_slice(line_ids, backend.MAX_QUERY_PARAMS):
            query = delivery.join(lead, condition=delivery.lead == lead.id
                ).select(
                    delivery.invoice_line,
                    Max(delivery.delivered_at).as_('delivered_at'),
                    lead.category, delivery.buyer,
                    where=reduce_ids(delivery.invoice_line, sub_ids),
                    group_by=[
                        delivery.invoice_line, lead.category, delivery.buyer])
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'TIMESTAMP'])
            cursor.execute(*query)
            latest.extend(cursor)
        categories = {c.id: c for c in Category.browse(
                list({category for _, _, category, _ in latest}))}
        buyers = {p.id: p for p in Party.browse(
                list({buyer for _, _, _, buyer in latest}))}
        for line_id, delivered_at, category_id, buyer_id in latest:
            end = complaint_deadline(
                local_date(delivered_at, tzinfo),
                window_days(
                    categories[category_id].complaint_window_days,
                    buyers[buyer_id].lead_complaint_window_days))
            if line_id not in ends or ends[line_id] < end:
                ends[line_id] = end
        return ends
