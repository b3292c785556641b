# This file is part of the lead trading suite. See README.rst for details.
"""With complaints, a returned lead leaves the margin on both sides: the
invoice correction takes the revenue back from the lead's supplier, and
the supplier gives back its share of the purchase price to the buyer's
cost."""
from sql import Null
from sql.aggregate import Sum

from trytond.pool import Pool, PoolMeta

from .facts import billed_deliveries, document_lines


class MarginBuyer(metaclass=PoolMeta):
    __name__ = 'lead.reporting.buyer'

    @classmethod
    def _returned_costs(cls, context):
        Complaint = Pool().get('lead.complaint')
        complaint = Complaint.__table__()
        billed = billed_deliveries(context)
        return billed.join(complaint,
            condition=complaint.delivery == billed.delivery).select(
                billed.buyer.as_('buyer'),
                Sum(complaint.supplier_amount).as_('cost'),
                where=(complaint.state == 'accepted')
                & (complaint.supplier_amount != Null),
                group_by=[billed.buyer])


class MarginSupplier(metaclass=PoolMeta):
    __name__ = 'lead.reporting.supplier'

    @classmethod
    def _returned_revenue(cls, context):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        complaint = Complaint.__table__()
        delivery = Delivery.__table__()
        lines = document_lines(context, 'out', categorized=False)
        return lines.join(complaint,
            condition=complaint.credit_line == lines.line
            ).join(delivery, condition=complaint.delivery == delivery.id
            ).select(
                delivery.supplier.as_('supplier'),
                Sum(lines.amount).as_('amount'),
                group_by=[delivery.supplier])
