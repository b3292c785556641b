# This file is part of the lead trading suite. See README.rst for details.
"""The documents of billing runs: the invoice or self-billing statement as
PDF (HTML rendered by WeasyPrint) with the annex of its leads, and the same
annex as a spreadsheet."""
from decimal import Decimal
from types import SimpleNamespace

from trytond.i18n import gettext
from trytond.rpc import RPC
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access

from .annex import AnnexRow, annex_workbook
from .lead import company_timezone, local_date


def annex_rows(invoice):
    """Yield an AnnexRow for each lead that `invoice` bills, oldest first,
    straight from the cursor."""
    pool = Pool()
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    Category = pool.get('lead.category')
    InvoiceLine = pool.get('account.invoice.line')
    delivery = Delivery.__table__()
    lead = Lead.__table__()
    category = Category.__table__()
    line = InvoiceLine.__table__()
    cursor = Transaction().connection.cursor()
    tzinfo = company_timezone()
    if invoice.type == 'out':
        query = delivery.join(lead, condition=delivery.lead == lead.id
            ).join(category, condition=lead.category == category.id
            ).join(line, condition=delivery.invoice_line == line.id
            ).select(
                lead.reference, delivery.delivered_at, category.name,
                delivery.unit_price,
                where=line.invoice == invoice.id,
                order_by=[delivery.delivered_at, delivery.id])
    else:
        query = lead.join(category, condition=lead.category == category.id
            ).join(line, condition=lead.statement_line == line.id
            ).select(
                lead.reference, lead.received_at, category.name,
                lead.purchase_price,
                where=line.invoice == invoice.id,
                order_by=[lead.received_at, lead.id])
    cursor.execute(*query)
    for reference, at, category_name, price in cursor:
        yield AnnexRow(
            reference, local_date(at, tzinfo), category_name, price)


def parties_of(invoice):
    """Issuer and recipient of the document: for a self-billing statement
    the supplier issues it, even though we write it."""
    company_party = invoice.company.party
    company_address = company_party.address_get(type='invoice')
    ours = SimpleNamespace(
        name=company_party.full_name,
        address=company_address.full_address if company_address else '',
        tax_id=invoice.tax_identifier.code if invoice.tax_identifier else '')
    theirs = SimpleNamespace(
        name=invoice.party.full_name,
        address=(invoice.invoice_address.full_address
            if invoice.invoice_address else ''),
        tax_id=(invoice.party_tax_identifier.code
            if invoice.party_tax_identifier else ''))
    if invoice.type == 'in':
        return theirs, ours
    return ours, theirs


class LeadDocument(Report):
    "Invoice or self-billing statement of a billing run, with its annex"
    __name__ = 'lead.billing.document'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the first print of a posted document stores it
        cls.__rpc__['execute'] = RPC(False)

    @classmethod
    def _execute(cls, records, header, data, action):
        """Render once: a posted document is kept as it was sent, as
        Tryton keeps its own invoice reports."""
        Invoice = Pool().get('account.invoice')
        invoice, = Invoice.browse(records)
        if invoice.invoice_report_cache:
            return invoice.invoice_report_format, invoice.invoice_report_cache
        format_, content = super()._execute(records, header, data, action)
        if invoice.invoice_report_versioned:
            invoice.invoice_report_format = format_
            invoice.invoice_report_cache = Invoice.invoice_report_cache.cast(
                content)
            # kept for whoever prints it first, a buyer or a supplier too
            with without_check_access():
                invoice.save()
        return format_, content

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        documents = {}
        with Transaction().set_context(
                company=records[0].company.id if records else None):
            for invoice in records:
                party_lang = invoice.party.lang
                with Transaction().set_context(
                        language=party_lang.code if party_lang else None):
                    title = invoice.get_lead_document_title()
                    intro = invoice.get_lead_document_intro()
                issuer, recipient = parties_of(invoice)
                annex = list(invoice.get_lead_annex_rows())
                documents[invoice.id] = SimpleNamespace(
                    issuer_name=issuer.name,
                    issuer_address=issuer.address,
                    issuer_tax_id=issuer.tax_id,
                    recipient_name=recipient.name,
                    recipient_address=recipient.address,
                    recipient_tax_id=recipient.tax_id,
                    title=title,
                    intro=intro,
                    annex=annex,
                    annex_count=len(annex),
                    annex_total=sum(
                        (r.unit_price for r in annex),
                        Decimal(0)))
        context['documents'] = documents
        return context


class LeadAnnex(Report):
    "The leads of a billing run document as a spreadsheet"
    __name__ = 'lead.billing.annex'

    @classmethod
    def execute(cls, ids, data):
        Invoice = Pool().get('account.invoice')
        invoice, = Invoice.browse(ids[:1])
        title = gettext('lead_billing.msg_annex_title',
            document=invoice.number or invoice.rec_name)
        headers = [
            gettext('lead_billing.msg_annex_reference'),
            gettext('lead_billing.msg_annex_date'),
            gettext('lead_billing.msg_annex_category'),
            gettext('lead_billing.msg_annex_unit_price'),
            ]
        currency_format = '#,##0.00 "%s"' % invoice.currency.symbol
        with Transaction().set_context(company=invoice.company.id):
            content = annex_workbook(
                title, headers, invoice.get_lead_annex_rows(), currency_format,
                total_label=gettext('lead_billing.msg_annex_total'))
        return 'xlsx', content, False, title
