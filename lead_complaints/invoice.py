# This file is part of the lead trading suite. See README.rst for details.
"""Invoice corrections for accepted complaints, and the returns netted on
self-billing statements, in the documents and their annex"""
from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.lead_billing.annex import AnnexRow
from trytond.modules.lead_billing.bulk import forget_cached
from trytond.modules.lead_billing.lead import company_timezone, local_date
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    lead_correction = fields.Boolean(
        "Invoice Correction", readonly=True,
        states={'invisible': ~Eval('lead_correction')},
        help="Credits the buyer for leads returned by accepted "
        "complaints (Rechnungskorrektur).")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lead_correction')
        return super().copy(invoices, default=default)

    def get_lead_document_title(self):
        if self.lead_correction:
            return gettext('lead_complaints.msg_document_title_correction')
        return super().get_lead_document_title()

    def get_lead_document_intro(self):
        if self.lead_correction:
            return gettext('lead_complaints.msg_document_intro_correction',
                description=self.description or '')
        return super().get_lead_document_intro()

    def get_lead_annex_rows(self):
        if not self.lead_correction:
            yield from super().get_lead_annex_rows()
        if self.lead_correction or self.lead_self_billing:
            yield from returned_rows(self)

    def _lead_email_text(self):
        if not self.lead_correction:
            return super()._lead_email_text()
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        values = {
            'number': self.number,
            'company': self.company.rec_name,
            'party': self.party.rec_name,
            'description': self.description or '',
            'total': lang.currency(self.total_amount, self.currency),
            }
        return (
            gettext('lead_complaints.msg_email_correction_subject', **values),
            gettext('lead_complaints.msg_email_correction_body', **values))


def returned_rows(invoice):
    """Yield a negative AnnexRow for each returned lead that `invoice`
    credits (an invoice correction) or nets (a self-billing statement)"""
    pool = Pool()
    Complaint = pool.get('lead.complaint')
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    Category = pool.get('lead.category')
    InvoiceLine = pool.get('account.invoice.line')
    complaint = Complaint.__table__()
    delivery = Delivery.__table__()
    lead = Lead.__table__()
    category = Category.__table__()
    line = InvoiceLine.__table__()
    cursor = Transaction().connection.cursor()
    tzinfo = company_timezone()
    if invoice.lead_correction:
        link, amount = complaint.credit_line, delivery.unit_price
    else:
        link, amount = complaint.supplier_line, complaint.supplier_amount
    cursor.execute(*complaint.join(delivery,
            condition=complaint.delivery == delivery.id
            ).join(lead, condition=delivery.lead == lead.id
            ).join(category, condition=lead.category == category.id
            ).join(line, condition=link == line.id
            ).select(
            lead.reference, delivery.delivered_at, category.name, amount,
            where=line.invoice == invoice.id,
            order_by=[delivery.delivered_at, complaint.id]))
    for reference, at, category_name, price in cursor:
        yield AnnexRow(
            reference, local_date(at, tzinfo), category_name, -price)


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    lead_credited_complaints = fields.One2Many(
        'lead.complaint', 'credit_line', "Credited Complaints",
        readonly=True,
        states={'invisible': ~Eval('lead_credited_complaints')})
    lead_netted_complaints = fields.One2Many(
        'lead.complaint', 'supplier_line', "Netted Returns", readonly=True,
        states={'invisible': ~Eval('lead_netted_complaints')})

    @classmethod
    def release_leads(cls, line_ids):
        "Returns netted on deleted draft statements wait for the next one"
        Complaint = Pool().get('lead.complaint')
        complaint = Complaint.__table__()
        cursor = Transaction().connection.cursor()
        super().release_leads(line_ids)
        for sub_ids in grouped_slice(line_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*complaint.update(
                    [complaint.supplier_line], [None],
                    where=reduce_ids(complaint.supplier_line, sub_ids)))
        forget_cached(Complaint)
