# This file is part of the lead trading suite. See README.rst for details.
"""Lead documents as e-invoices: the format of the party decides what the
e-mail of a posted document carries; a document whose e-invoice is not
valid is not sent and keeps the reason."""
import logging

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .document import carries_facturx
from .edocument import broken_business_rules, check_schema
from .exceptions import EInvoiceError
from .party import EINVOICE_FORMATS, describe_missing

logger = logging.getLogger(__name__)

# the template version of edocument.uncefact.invoice of each format
TEMPLATES = {
    'facturx': 'EN16931',
    'xrechnung': 'XRechnung',
    }


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    einvoice_format = fields.Selection(
        [(None, '')] + EINVOICE_FORMATS, "Invoice Format", readonly=True,
        states={'invisible': ~Eval('lead_document')},
        help="The format the posted document was sent in.")
    einvoice_error = fields.Text(
        "E-invoice Error", readonly=True,
        states={'invisible': ~Eval('einvoice_error')},
        help="Why the e-invoice of the document is not valid: it was not "
        "sent.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the format sent and the reason it was not are no part of the
        # document itself
        cls._check_modify_exclude |= {'einvoice_format', 'einvoice_error'}
        cls._buttons.update({
                'send_einvoice': {
                    'invisible': ~Eval('einvoice_error'),
                    'icon': 'tryton-email',
                    'depends': ['einvoice_error'],
                    },
                })

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('einvoice_format')
        default.setdefault('einvoice_error')
        return super().copy(invoices, default=default)

    @property
    def lead_einvoice_format(self):
        "The format of the document: the one it was sent in, else the party's"
        return self.einvoice_format or self.party.einvoice_format

    @classmethod
    @ModelView.button
    def send_einvoice(cls, invoices):
        "Send the documents again once their master data is complete"
        cls.send_lead_documents(invoices)

    @classmethod
    def send_lead_documents(cls, invoices):
        """Build and validate the e-invoice of each document to send in
        the format of its party; send only the valid ones and keep the
        reason on the others."""
        invoices = cls.browse(invoices)
        valid, changed = [], []
        for invoice in invoices:
            if (not invoice.lead_document
                    or invoice.lead_document_email
                    or invoice.state not in {'posted', 'paid'}):
                continue
            format_ = invoice.party.einvoice_format
            try:
                if format_ in TEMPLATES:
                    invoice.get_einvoice_xml(format_)
            except EInvoiceError as error:
                logger.warning("%s not sent: %s",
                    invoice.rec_name, error.message)
                invoice.einvoice_error = error.message
                changed.append(invoice)
                continue
            if (format_ == 'facturx' and invoice.invoice_report_cache
                    and not carries_facturx(invoice.invoice_report_cache)):
                # printed before the party chose Factur-X and never sent:
                # the document is rendered again, with its XML
                invoice.invoice_report_cache = None
                invoice.invoice_report_format = None
            invoice.einvoice_error = None
            invoice.einvoice_format = format_
            changed.append(invoice)
            valid.append(invoice)
        cls.save(changed)
        super().send_lead_documents(valid)

    def get_lead_email_reports(self, document_name):
        """An XRechnung is the XML itself, instead of the PDF (Factur-X
        is the PDF of the document, see LeadDocument)"""
        reports = super().get_lead_email_reports(document_name)
        if self.lead_einvoice_format == 'xrechnung':
            pool = Pool()
            Document = pool.get('lead.billing.document', type='report')
            XRechnung = pool.get('lead.einvoice.xrechnung', type='report')
            reports = [
                (XRechnung, name) if Report == Document else (Report, name)
                for Report, name in reports]
        return reports

    @property
    def einvoice_seller(self):
        "The seller of the e-invoice: the supplier on a statement"
        if self.type == 'in':
            return self.party
        return self.company.party

    @property
    def einvoice_buyer(self):
        if self.type == 'in':
            return self.company.party
        return self.party

    def einvoice_problems(self, format_):
        """Return what keeps the document from being an e-invoice in
        `format_`: master data its parties miss, lines without exactly
        one tax with UN/ECE codes"""
        problems = []
        for party, payee, buyer in [
                (self.einvoice_seller, True, False),
                (self.einvoice_buyer, False, self.type == 'out')]:
            missing = party.missing_einvoice_master_data(
                format_, payee=payee, buyer=buyer)
            if missing:
                problems.append(gettext(
                        'lead_einvoice.msg_einvoice_party_missing',
                        party=party.rec_name,
                        missing=describe_missing(missing)))
        for line in self.lines:
            if line.type != 'line':
                continue
            if len(line.taxes) != 1 or not all(
                    [line.taxes[0].unece_code,
                        line.taxes[0].unece_category_code]):
                problems.append(gettext(
                        'lead_einvoice.msg_einvoice_line_tax',
                        line=line.rec_name))
        return problems

    def get_einvoice_xml(self, format_=None):
        """The validated CII XML (bytes) of the posted document in
        `format_` (by default its own); raise EInvoiceError with the
        reason when it cannot be built or is not valid."""
        EDocument = Pool().get('edocument.uncefact.invoice')
        format_ = format_ or self.lead_einvoice_format
        problems = self.einvoice_problems(format_)
        if problems:
            raise EInvoiceError(gettext(
                    'lead_einvoice.msg_einvoice_invalid',
                    document=self.rec_name, reason='; '.join(problems)))
        # the e-document reads the invoice in the party's language
        xml = EDocument(self.id).render(TEMPLATES[format_])
        try:
            check_schema(xml)
        except ValueError as error:
            raise EInvoiceError(gettext(
                    'lead_einvoice.msg_einvoice_invalid',
                    document=self.rec_name, reason=str(error))) from error
        broken = broken_business_rules(xml)
        if broken:
            raise EInvoiceError(gettext(
                    'lead_einvoice.msg_einvoice_invalid',
                    document=self.rec_name, reason='; '.join(broken)))
        return xml
