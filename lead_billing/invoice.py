# This file is part of the lead trading suite. See README.rst for details.
"""Invoices made by billing runs: buyer invoices and supplier self-billing
statements, the leads behind their lines, their own numbering, and the
e-mail that sends them once they are posted."""
import logging
from email.message import EmailMessage

from sql.aggregate import Count

import trytond.config as config
from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids, slugify
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction

from .bulk import forget_cached

logger = logging.getLogger(__name__)


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    lead_document = fields.Boolean(
        "Lead Document", readonly=True,
        help="Printed as the lead document with the annex of its leads "
        "and e-mailed to the party once posted.")
    lead_billing_run = fields.Many2One(
        'lead.billing.run', "Billing Run", readonly=True,
        ondelete='RESTRICT')
    lead_period_start = fields.Date(
        "Service Period Start", readonly=True,
        states={'invisible': ~Eval('lead_document')})
    lead_period_end = fields.Date(
        "Service Period End", readonly=True,
        states={'invisible': ~Eval('lead_document')})
    lead_self_billing = fields.Boolean(
        "Self-billing Statement", readonly=True,
        states={'invisible': Eval('type') != 'in'},
        help="We issue this supplier invoice on the supplier's behalf "
        "(Gutschrift, § 14 (2) UStG).")
    lead_agreement_reference = fields.Char(
        "Agreement Reference", readonly=True,
        states={'invisible': ~Eval('lead_self_billing')})
    lead_document_email = fields.Many2One(
        'ir.email', "Document E-mail", readonly=True, ondelete='SET NULL',
        states={'invisible': ~Eval('lead_document')},
        help="The e-mail that sent the posted document to the party.")
    lead_count = fields.Function(
        fields.Integer("Leads",
            states={'invisible': ~Eval('lead_document')}),
        'get_lead_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Recording the e-mail that sent a posted document changes nothing
        # of the document itself
        cls._check_modify_exclude.add('lead_document_email')

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        for name in ['lead_document', 'lead_billing_run', 'lead_period_start',
                'lead_period_end', 'lead_self_billing',
                'lead_agreement_reference', 'lead_document_email']:
            default.setdefault(name)
        return super().copy(invoices, default=default)

    def get_lead_count(self, name):
        return sum(line.lead_count or 0 for line in self.line_lines)

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="lead_billing"]', 'states', {
                    'invisible': ~Eval('lead_document'),
                    }),
            ]

    def _number_sequence(self, pattern=None):
        if self.lead_self_billing:
            Configuration = Pool().get('lead.configuration')
            sequence = Configuration(1).get_multivalue(
                'self_billing_sequence', company=self.company.id)
            return sequence, self.accounting_date or self.invoice_date
        return super()._number_sequence(pattern=pattern)

    @property
    def invoice_report_versioned(self):
        return super().invoice_report_versioned or (
            self.lead_self_billing and self.state in {'posted', 'paid'})

    @classmethod
    def delete(cls, invoices):
        Line = Pool().get('account.invoice.line')
        line_ids = [line.id for i in invoices for line in i.lines]
        super().delete(invoices)
        Line.release_leads(line_ids)

    @classmethod
    def print_invoice(cls, invoices):
        "Store the lead document as the report of lead documents"
        Document = Pool().get('lead.billing.document', type='report')
        others = [i for i in invoices if not i.lead_document]
        super().print_invoice(others)
        for invoice in invoices:
            if invoice.lead_document and not invoice.invoice_report_cache:
                Document.execute([invoice.id], {})

    @classmethod
    def send_lead_documents(cls, invoices):
        """E-mail each posted lead document with its PDF and the annex of
        its leads, once: the message is put in the outbox as the `ir.email`
        of the invoice and leaves when the transaction commits, or later
        when the mail server does not take it now."""
        Email = Pool().get('ir.email')
        invoices = cls.browse(invoices)
        sent = []
        for invoice in invoices:
            if (not invoice.lead_document
                    or invoice.lead_document_email
                    or invoice.state not in {'posted', 'paid'}):
                continue
            party = invoice.party
            to = party.lead_document_email or party.email
            if not to:
                logger.warning(
                    "no e-mail address for %s, %s not sent",
                    party.rec_name, invoice.rec_name)
                continue
            language = party.lang.code if party.lang else None
            with Transaction().set_context(language=language):
                files = []
                document_name = slugify(
                    f'{invoice.get_lead_document_title()} {invoice.number}')
                for Report, name in invoice.get_lead_email_reports(
                        document_name):
                    ext, content, _, title = Report.execute([invoice.id], {})
                    files.append(
                        (f'{name or slugify(title)}.{ext}', content))
                subject, body = invoice._lead_email_text()
            msg = EmailMessage()
            msg.set_content(body)
            for name, content in files:
                maintype, subtype = {
                    'pdf': ('application', 'pdf'),
                    'xml': ('application', 'xml'),
                    'xlsx': ('application', 'vnd.openxmlformats-'
                        'officedocument.spreadsheetml.sheet'),
                    }[name.rsplit('.', 1)[1]]
                if isinstance(content, str):
                    content = content.encode()
                msg.add_attachment(bytes(content), maintype=maintype,
                    subtype=subtype, filename=name)
            from_ = config.get('email', 'from')
            set_from_header(msg, from_, invoice.company.party.email or from_)
            msg['To'] = to
            msg['Subject'] = subject
            email = Email.put_in_outbox(msg, body=body, resource=invoice)
            invoice.lead_document_email = email
            sent.append(invoice)
        Email.save([i.lead_document_email for i in sent])
        cls.save(sent)

    def get_lead_email_reports(self, document_name):
        """The reports the e-mail of the document attaches: [(Report, file
        name without extension, or None for the report's title)]"""
        pool = Pool()
        Document = pool.get('lead.billing.document', type='report')
        Annex = pool.get('lead.billing.annex', type='report')
        reports = [(Document, document_name)]
        if self.lead_document_has_annex:
            reports.append((Annex, None))
        return reports

    def get_lead_document_title(self):
        "The title the lead document of the invoice carries"
        if self.lead_self_billing:
            return gettext('lead_billing.msg_document_title_statement')
        if self.type == 'out' and self.total_amount < 0:
            return gettext('lead_billing.msg_document_title_credit_note')
        return gettext('lead_billing.msg_document_title_invoice')

    @property
    def lead_document_has_annex(self):
        "Whether the e-mail of the document carries the annex spreadsheet"
        return True

    def get_lead_document_intro(self):
        """The sentence that opens the lead document, when it is not the
        one of an invoice or a statement"""
        return None

    def get_lead_annex_rows(self):
        """Yield an AnnexRow for each lead the invoice bills or pays; the
        rows add up to the untaxed amount"""
        from .document import annex_rows
        yield from annex_rows(self)

    def _lead_email_text(self):
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        values = {
            'number': self.number,
            'company': self.company.rec_name,
            'party': self.party.rec_name,
            'start': lang.strftime(self.lead_period_start),
            'end': lang.strftime(self.lead_period_end),
            'total': lang.currency(self.total_amount, self.currency),
            }
        if self.lead_self_billing:
            return (
                gettext('lead_billing.msg_email_statement_subject', **values),
                gettext('lead_billing.msg_email_statement_body', **values))
        return (
            gettext('lead_billing.msg_email_invoice_subject', **values),
            gettext('lead_billing.msg_email_invoice_body', **values))


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    lead_deliveries = fields.One2Many(
        'lead.delivery', 'invoice_line', "Deliveries", readonly=True,
        states={'invisible': ~Eval('lead_deliveries')})
    lead_leads = fields.One2Many(
        'lead.lead', 'statement_line', "Leads", readonly=True,
        states={'invisible': ~Eval('lead_leads')})
    lead_count = fields.Function(
        fields.Integer("Leads"), 'get_lead_count')

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['lead.category']

    @classmethod
    def get_lead_count(cls, lines, name):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        cursor = Transaction().connection.cursor()
        counts = {line.id: 0 for line in lines}
        for Model, column in [
                (Delivery, 'invoice_line'), (Lead, 'statement_line')]:
            table = Model.__table__()
            link = getattr(table, column)
            for sub_ids in grouped_slice(
                    list(counts), backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.select(link, Count(table.id),
                        where=reduce_ids(link, sub_ids),
                        group_by=[link]))
                for line_id, count in cursor:
                    counts[line_id] += count
        return counts

    @classmethod
    def delete(cls, lines):
        line_ids = [line.id for line in lines]
        super().delete(lines)
        cls.release_leads(line_ids)

    @classmethod
    def release_leads(cls, line_ids):
        """Free the deliveries and leads of deleted draft lines, so that
        the next run bills them (posted lines are never deleted)."""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        cursor = Transaction().connection.cursor()
        for Model, column in [
                (Delivery, 'invoice_line'), (Lead, 'statement_line')]:
            table = Model.__table__()
            link = getattr(table, column)
            for sub_ids in grouped_slice(line_ids, backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.update(
                        [link], [None], where=reduce_ids(link, sub_ids)))
            forget_cached(Model)


class InvoiceReport(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def _execute(cls, records, header, data, action):
        "Lead documents print as such, whichever report asks"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Document = pool.get('lead.billing.document', type='report')
        invoice, = Invoice.browse(records)
        if invoice.lead_document:
            ext, content, _, _ = Document.execute([invoice.id], data)
            return ext, content
        return super()._execute(records, header, data, action)
