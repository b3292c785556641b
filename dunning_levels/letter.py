# This file is part of the lead trading suite. See README.rst for details.
"""The formal dunning letter (Mahnung) as PDF: one letter per party with its
overdue items, the dunning fees and the total due, in the party's language.
The HTML template is turned into a PDF by WeasyPrint, as Tryton's reports do
for template_extension 'html' and extension 'pdf' (like lead_billing's
document)."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.transaction import Transaction

from .rules import overdue_days

# The days the letter gives to pay, as its text says
PAYMENT_DAYS = 7


def address_lines(address):
    "The non-empty lines of an address, without the name of the party"
    if not address:
        return []
    return [line.strip() for line in address.full_address.splitlines()
        if line.strip()]


def bank_account(party):
    """(IBAN, BIC) of the first bank account of the party, None without
    one or without the bank module"""
    for account in getattr(party, 'bank_accounts', None) or []:
        for number in account.numbers:
            if number.type == 'iban':
                bank = account.bank
                return number.number, (bank.bic or '') if bank else ''


def letterhead(company):
    "The company as the letter presents it"
    party = company.party
    bank = bank_account(party)
    return SimpleNamespace(
        name=party.full_name,
        address_lines=address_lines(party.address_get(type='invoice')),
        tax_id=party.tax_identifier.code if party.tax_identifier else '',
        iban=bank[0] if bank else '',
        bic=bank[1] if bank else '')


def item_of(dunning, today):
    "The row of the letter for a dunning"
    invoice = dunning.invoice
    line = dunning.line
    return SimpleNamespace(
        number=(invoice.number or invoice.rec_name) if invoice
        else line.rec_name,
        date=invoice.invoice_date if invoice else line.date,
        due_date=dunning.maturity_date,
        days_overdue=overdue_days(dunning.maturity_date, today),
        # what the customer owes in the currency of the invoice
        amount=dunning.amount_second_currency,
        currency=dunning.second_currency)


def highest_level(dunnings):
    "The level furthest in its procedure among the dunnings"
    return max((d.level for d in dunnings),
        key=lambda level: (
            level.procedure.levels.index(level), level.sequence or 0))


class DunningLetter(CompanyReport):
    "Formal dunning letter: the overdue items of a party, fees and total"
    __name__ = 'dunning_levels.letter'

    @classmethod
    def dunnings_to_print(cls, dunnings):
        """The dunnings that belong in a letter: not blocked and not paid;
        a blocked dunning (e.g. an invoice under complaint) is not dunned
        further."""
        return [d for d in dunnings
            if d.party and not d.blocked and not d.line.reconciliation]

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        Dunning = pool.get('account.dunning')
        context = super().get_context(records, header, data)
        company = header.get('company')
        with Transaction().set_context(
                company=company.id if company else None):
            today = Date.today()
            dunnings = cls.dunnings_to_print(
                Dunning.browse([r.id for r in records]))
            by_party = defaultdict(list)
            for dunning in dunnings:
                by_party[dunning.party].append(dunning)
            letters = [
                cls.get_letter(party, party_dunnings, today)
                for party, party_dunnings in sorted(by_party.items(),
                    key=lambda i: (i[0].rec_name, i[0].id))]
        context['today'] = today
        context['pay_by'] = today + dt.timedelta(days=PAYMENT_DAYS)
        context['letterhead'] = letterhead(company) if company else None
        context['letters'] = letters
        return context

    @classmethod
    def get_letter(cls, party, dunnings, today):
        "The letter to the party about the dunnings"
        Dunning = Pool().get('account.dunning')
        lang = party.lang
        # The translatable names in the language of the party
        with Transaction().set_context(
                language=lang.code if lang else None):
            dunnings = Dunning.browse(dunnings)
            level = highest_level(dunnings)
            items = sorted((item_of(d, today) for d in dunnings),
                key=lambda i: (i.due_date or dt.date.min, i.number))
            fees = [SimpleNamespace(
                    name=(fee.level.fee.name if fee.level.fee
                        else fee.level.name) or '',
                    amount=fee.amount, currency=fee.currency)
                for d in dunnings for fee in d.fees
                if fee.amount]
        totals = defaultdict(Decimal)
        for row in items + fees:
            totals[row.currency] += row.amount
        return SimpleNamespace(
            party=party,
            lang=lang,
            name=party.full_name,
            code=party.code or '',
            address_lines=address_lines(party.address_get(type='invoice')),
            tax_id=party.tax_identifier.code if party.tax_identifier else '',
            level=level,
            title=level.name or '',
            items=items,
            fees=fees,
            totals=sorted(totals.items(), key=lambda t: t[0].code))
