# This file is part of the lead trading suite. See README.rst for details.
"Dunning waits while a buyer's complaint about the invoice is open"
from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.dunning'

    @classmethod
    def block_reasons(cls, dunnings):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        InvoiceLine = pool.get('account.invoice.line')
        complaint = Complaint.__table__()
        delivery = Delivery.__table__()
        invoice_line = InvoiceLine.__table__()
        cursor = Transaction().connection.cursor()
        reasons = super().block_reasons(dunnings)
        by_invoice = {}
        for dunning in dunnings:
            if dunning.invoice:
                by_invoice.setdefault(dunning.invoice.id, []).append(dunning)
        open_on = {}
        for sub_ids in grouped_slice(
                list(by_invoice), backend.MAX_QUERY_PARAMS):
            cursor.execute(*complaint.join(delivery,
                    condition=complaint.delivery == delivery.id
                    ).join(invoice_line,
                    condition=delivery.invoice_line == invoice_line.id
                    ).select(invoice_line.invoice, complaint.id,
                    where=reduce_ids(invoice_line.invoice, sub_ids)
                    & complaint.state.in_(['draft', 'submitted'])
                    & (delivery.invoice_line != Null)))
            for invoice_id, complaint_id in cursor:
                open_on.setdefault(invoice_id, complaint_id)
        for invoice_id, complaint_id in open_on.items():
            reason = gettext('dunning_levels.msg_blocked_complaint',
                complaint=Complaint(complaint_id).rec_name)
            for dunning in by_invoice[invoice_id]:
                reasons[dunning.id] = reason
        return reasons
