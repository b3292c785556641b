# This file is part of the lead trading suite. See README.rst for details.
"""The e-invoice format a party receives its lead documents in, and the
master data that format needs."""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .exceptions import EInvoiceMasterDataError

EINVOICE_FORMATS = [
    ('pdf', "PDF only"),
    ('facturx', "ZUGFeRD / Factur-X"),
    ('xrechnung', "XRechnung"),
    ]
# the formats that carry the invoice as structured data
E_FORMATS = {'facturx', 'xrechnung'}


def missing_master_data(
        format_, vat_id, address, bank_account, buyer_reference,
        electronic_address, payee=False, buyer=False):
    """Return what an e-invoice in `format_` lacks for one of its parties,
    as keys in this order: every e-invoice names the VAT id ('vat_id') and
    the complete postal address ('address': street, postal code, city,
    country) of the party; the payee adds the bank account that the
    payment means give ('bank_account'); XRechnung also asks the buyer's
    reference ('buyer_reference', the Leitweg-ID) and an electronic
    address of each party ('electronic_address')."""
    if format_ not in E_FORMATS:
        return []
    missing = []
    if not vat_id:
        missing.append('vat_id')
    if not address or not all([address.street, address.postal_code,
                address.city, address.country]):
        missing.append('address')
    if payee and not bank_account:
        missing.append('bank_account')
    if format_ == 'xrechnung':
        if buyer and not buyer_reference:
            missing.append('buyer_reference')
        if not electronic_address:
            missing.append('electronic_address')
    return missing


def describe_missing(missing):
    "The translated, comma separated names of the `missing` master data"
    return ', '.join(
        gettext(f'lead_einvoice.msg_missing_{key}') for key in missing)


def payee_bank_account(party):
    "The first bank account of `party` with an IBAN, or None"
    for account in getattr(party, 'bank_accounts', None) or []:
        if account.active and account.iban:
            return account
    return None


def electronic_address(party):
    "The e-mail address an e-invoice names for `party`"
    return getattr(party, 'lead_document_email', None) or party.email


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    einvoice_format = fields.Selection(
        EINVOICE_FORMATS, "Invoice Format", required=True,
        states={'invisible': ~Eval('lead_buyer') & ~Eval('lead_supplier')},
        help="How the party receives its lead documents: as PDF, as PDF "
        "with the embedded e-invoice (ZUGFeRD / Factur-X) or as XRechnung.")
    einvoice_format_string = einvoice_format.translated('einvoice_format')
    einvoice_buyer_reference = fields.Char(
        "Buyer Reference",
        states={'invisible': Eval('einvoice_format') != 'xrechnung'},
        help="The reference the buyer asks every invoice to carry, for "
        "public buyers the Leitweg-ID.")

    @classmethod
    def default_einvoice_format(cls):
        return 'pdf'

    @classmethod
    def validate(cls, parties):
        super().validate(parties)
        for party in parties:
            party.check_einvoice_master_data()

    def check_einvoice_master_data(self):
        "Refuse an e-invoice format without the master data it needs"
        if self.einvoice_format not in E_FORMATS:
            return
        missing = self.missing_einvoice_master_data(
            payee=bool(self.lead_supplier), buyer=bool(self.lead_buyer))
        if missing:
            raise EInvoiceMasterDataError(gettext(
                    'lead_einvoice.msg_party_einvoice_missing',
                    party=self.rec_name,
                    format=self.einvoice_format_string,
                    missing=describe_missing(missing)))

    def missing_einvoice_master_data(
            self, format_=None, payee=False, buyer=False):
        """The keys of the master data an e-invoice in `format_` (by
        default the party's) misses for this party in its role"""
        return missing_master_data(
            format_ or self.einvoice_format,
            vat_id=self.tax_identifier,
            address=self.address_get(type='invoice'),
            bank_account=payee_bank_account(self),
            buyer_reference=self.einvoice_buyer_reference,
            electronic_address=electronic_address(self),
            payee=payee, buyer=buyer)
