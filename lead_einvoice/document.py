# This file is part of the lead trading suite. See README.rst for details.
"""The e-invoice documents: the lead document of a ZUGFeRD / Factur-X
party as PDF/A-3 with the CII XML embedded, and the XRechnung XML."""
import facturx
import weasyprint

from trytond.pool import Pool, PoolMeta
from trytond.report import Report
from trytond.tools import slugify
from trytond.transaction import Transaction

# the Factur-X profile of the embedded XML and its file name
FACTURX_LEVEL = 'en16931'
FACTURX_FILENAME = 'factur-x.xml'


def embed_facturx(pdf, xml, metadata, lang=None):
    """Return the PDF/A-3 `pdf` (bytes) with the CII `xml` embedded as
    Factur-X of the EN 16931 profile (the XML is validated before)"""
    return facturx.generate_from_binary(
        pdf, xml, flavor='factur-x', level=FACTURX_LEVEL, check_xsd=False,
        pdf_metadata=metadata, lang=lang)


def carries_facturx(pdf):
    "Whether the PDF `pdf` (bytes) has a Factur-X XML embedded"
    name, _ = facturx.get_xml_from_pdf(
        bytes(pdf), check_xsd=False, filenames=[FACTURX_FILENAME])
    return bool(name)


class LeadDocument(metaclass=PoolMeta):
    __name__ = 'lead.billing.document'

    @classmethod
    def _execute(cls, records, header, data, action):
        "A posted document of a Factur-X party is a Factur-X PDF"
        Invoice = Pool().get('account.invoice')
        invoice, = Invoice.browse(records)
        if (invoice.state in {'posted', 'paid'}
                and invoice.lead_einvoice_format == 'facturx'):
            with Transaction().set_context(
                    lead_einvoice_facturx=invoice.id):
                return super()._execute(records, header, data, action)
        return super()._execute(records, header, data, action)

    @classmethod
    def convert(cls, report, data, **kwargs):
        invoice_id = Transaction().context.get('lead_einvoice_facturx')
        if invoice_id is None:
            return super().convert(report, data, **kwargs)
        Invoice = Pool().get('account.invoice')
        invoice = Invoice(invoice_id)
        xml = invoice.get_einvoice_xml('facturx')
        # PDF/A-3 is the archive format that may carry the XML
        pdf = weasyprint.HTML(
            string=data,
            url_fetcher=weasyprint.URLFetcher(
                allowed_protocols={'http', 'https'}),
            ).write_pdf(pdf_variant='pdf/a-3b')
        lang = invoice.party.lang
        metadata = {
            'author': invoice.einvoice_seller.name,
            'keywords': 'Factur-X, ZUGFeRD',
            'title': invoice.number,
            'subject': invoice.get_lead_document_title(),
            }
        return 'pdf', embed_facturx(
            pdf, xml, metadata, lang=lang.code.replace('_', '-')
            if lang else None)


class XRechnung(Report):
    "The XRechnung of a posted lead document"
    __name__ = 'lead.einvoice.xrechnung'

    @classmethod
    def execute(cls, ids, data):
        Invoice = Pool().get('account.invoice')
        invoice, = Invoice.browse(ids[:1])
        title = slugify(f'xrechnung {invoice.number}')
        return 'xml', invoice.get_einvoice_xml('xrechnung'), False, title
