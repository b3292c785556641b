# This file is part of the lead trading suite. See README.rst for details.
"""Buyer invoices settled from the prepaid deposit, the prepayment invoices
of top-ups and the credit notes of refunds"""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .configuration import prepaid_settings
from .exceptions import PrepaidError
from .rules import recall_amounts

PREPAYMENT_KINDS = [
    (None, ""),
    ('top_up', "Prepayment"),
    ('refund', "Refund of Prepayment"),
    ]


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    lead_prepayment = fields.Selection(
        PREPAYMENT_KINDS, "Prepaid Balance", readonly=True,
        states={'invisible': ~Eval('lead_prepayment')},
        help="The invoice of a top-up (advance payment with VAT) or the "
        "credit note that pays a remaining balance back.")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lead_prepayment')
        return super().copy(invoices, default=default)

    @classmethod
    def post(cls, invoices):
        """An advance payment invoice is posted when its top-up's money is
        booked, never by hand: posting raises the buyer's balance."""
        if not Transaction().context.get('lead_prepaid_booking'):
            for invoice in invoices:
                if (invoice.lead_prepayment == 'top_up'
                        and invoice.state in {'draft', 'validated'}):
                    raise PrepaidError(gettext(
                            'lead_prepaid.msg_prepayment_post',
                            invoice=invoice.rec_name))
        super().post(invoices)

    def get_lead_document_title(self):
        if self.lead_prepayment == 'top_up' and self.state == 'draft':
            return gettext('lead_prepaid.msg_document_title_request')
        if self.lead_prepayment == 'top_up':
            return gettext('lead_prepaid.msg_document_title_prepayment')
        if self.lead_prepayment == 'refund':
            return gettext('lead_prepaid.msg_document_title_refund')
        return super().get_lead_document_title()

    def get_lead_document_intro(self):
        if self.lead_prepayment == 'top_up' and self.state == 'draft':
            TopUp = Pool().get('lead.prepaid.top_up')
            top_ups = TopUp.search([('invoice', '=', self.id)], limit=1)
            return gettext('lead_prepaid.msg_document_intro_request',
                number=top_ups[0].number if top_ups else '')
        if self.lead_prepayment == 'top_up':
            return gettext('lead_prepaid.msg_document_intro_prepayment')
        if self.lead_prepayment == 'refund':
            return gettext('lead_prepaid.msg_document_intro_refund')
        return super().get_lead_document_intro()

    @property
    def lead_document_has_annex(self):
        return not self.lead_prepayment and super().lead_document_has_annex

    def _lead_email_text(self):
        if not self.lead_prepayment:
            return super()._lead_email_text()
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        values = {
            'number': self.number,
            'company': self.company.rec_name,
            'party': self.party.rec_name,
            'total': lang.currency(abs(self.total_amount), self.currency),
            'title': self.get_lead_document_title(),
            }
        return (
            gettext('lead_prepaid.msg_email_prepayment_subject', **values),
            gettext('lead_prepaid.msg_email_prepayment_body', **values))

    @classmethod
    def _post(cls, invoices):
        """An invoice the deposit settles in full is paid at once, not when
        the queue gets to it; its zero receivable line is reconciled here
        where Tryton missed it: on SQLite a zero stored as 0.00 escapes the
        query Tryton uses when it posts the move."""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        super()._post(invoices)
        deposit_accounts = {company: prepaid_settings(company.id)
            .deposit_account for company in {i.company for i in invoices}}
        settled, zero_lines = [], []
        for invoice in invoices:
            account = deposit_accounts[invoice.company]
            if not account or all(line.account != account
                    for line in invoice.lines if line.type == 'line'):
                continue
            lines = invoice.lines_to_pay
            if lines and all(not line.debit and not line.credit
                    for line in lines):
                unreconciled = [line for line in lines
                    if not line.reconciliation]
                if unreconciled:
                    zero_lines.append(unreconciled)
                settled.append(invoice)
        if zero_lines:
            MoveLine.reconcile(*zero_lines)
        if settled:
            cls.process(settled)

    @classmethod
    def settle_from_deposit(cls, invoices):
        """Recall the buyers' deposits on their draft invoices, each up to
        its net amount and in the order of the service periods, less what
        other draft invoices recall already; the recall lines carry the
        taxes of the lines they settle, so a covered invoice totals zero."""
        pool = Pool()
        Line = pool.get('account.invoice.line')
        Account = pool.get('lead.prepaid.account')
        by_company = defaultdict(lambda: defaultdict(list))
        for invoice in invoices:
            if invoice.type == 'out' and invoice.state == 'draft':
                by_company[invoice.company][invoice.party.id].append(invoice)
        to_create, changed = [], []
        for company, by_party in by_company.items():
            account = prepaid_settings(company.id).deposit_account
            if not account:
                continue
            deposits = Account.deposits(company, list(by_party))
            by_party = {p: i for p, i in by_party.items() if deposits[p] > 0}
            pending = cls.pending_recalls(
                account, list(by_party),
                [i.id for p in by_party.values() for i in p])
            for party_id, party_invoices in by_party.items():
                deposit = deposits[party_id] - pending[party_id]
                if deposit <= 0:
                    continue
                party_invoices.sort(key=lambda i: (
                        i.lead_period_start or i.invoice_date, i.id))
                taxed = [taxed_amounts(i, account) for i in party_invoices]
                takes = recall_amounts(
                    deposit, [sum(t.values()) for t in taxed])
                for invoice, amounts, take in zip(
                        party_invoices, taxed, takes):
                    if not take:
                        continue
                    tax_keys = sorted(amounts)
                    for tax_key, recall in zip(tax_keys, recall_amounts(
                                take, [amounts[k] for k in tax_keys])):
                        if recall:
                            to_create.append(recall_line_values(
                                    invoice, account, -recall, tax_key))
                    changed.append(invoice)
        if to_create:
            Line.create(to_create)
            cls.update_taxes(changed)

    @classmethod
    def pending_recalls(cls, account, party_ids, exclude_ids):
        """{party id: deposit recalled by draft invoices not posted yet},
        leaving out the invoices `exclude_ids`"""
        pool = Pool()
        Line = pool.get('account.invoice.line')
        line = Line.__table__()
        invoice = cls.__table__()
        cursor = Transaction().connection.cursor()
        pending = defaultdict(Decimal)
        exclude = set(exclude_ids)
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id).select(
                    invoice.party, invoice.id,
                    Sum(line.quantity * line.unit_price),
                    where=(line.account == account.id)
                    & invoice.state.in_(['draft', 'validated'])
                    & (invoice.lead_prepayment == Null)
                    & (invoice.type == 'out')
                    & reduce_ids(invoice.party, list(sub_ids))
                    & (line.unit_price != Null),
                    group_by=[invoice.party, invoice.id]))
            for party_id, invoice_id, amount in cursor:
                if invoice_id not in exclude:
                    pending[party_id] -= Decimal(str(amount))
        return pending


def taxed_amounts(invoice, deposit_account):
    """{tax ids: net amount} of the invoice's lines that the deposit may
    settle (all but recalls of the deposit)"""
    amounts = defaultdict(Decimal)
    for line in invoice.lines:
        if line.type != 'line' or line.account == deposit_account:
            continue
        amounts[tuple(sorted(t.id for t in line.taxes))] += line.amount
    return {k: v for k, v in amounts.items() if v > 0}


def recall_line_values(invoice, account, amount, tax_ids):
    """Values of an invoice line that moves `amount` (negative: taken from
    the deposit, positive: given back) with the taxes `tax_ids`"""
    return {
        'invoice': invoice.id,
        'type': 'line',
        'company': invoice.company.id,
        'currency': invoice.currency.id,
        'account': account.id,
        'quantity': 1,
        'unit_price': amount,
        'description': gettext(
            'lead_prepaid.msg_recall_description' if amount < 0
            else 'lead_prepaid.msg_return_description'),
        'taxes': [('add', list(tax_ids))],
        }
