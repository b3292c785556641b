# This file is part of the lead trading suite. See README.rst for details.
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval

from .audit import AuditedMixin
from .exceptions import LeadValidationError

BILLING_INTERVALS = [
    ('weekly', "Weekly"),
    ('semi_monthly', "Semi-monthly"),
    ('monthly', "Monthly"),
    ]


class Party(AuditedMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    lead_supplier = fields.Boolean(
        "Lead Supplier", help="The party sells us leads.")
    lead_buyer = fields.Boolean(
        "Lead Buyer", help="The party buys leads from us.")
    lead_internal = fields.Boolean(
        "Internal Account",
        states={'invisible': ~Eval('lead_buyer')},
        help="Deliveries to this buyer are recorded like any other "
        "but never billed.")
    lead_billing_interval = fields.Selection(
        BILLING_INTERVALS, "Billing Interval",
        states={
            'invisible': ~Eval('lead_buyer') & ~Eval('lead_supplier'),
            'required': Bool(Eval('lead_buyer')) | Bool(
                Eval('lead_supplier')),
            })
    lead_document_email = fields.Char(
        "Document Email",
        states={'invisible': ~Eval('lead_buyer') & ~Eval('lead_supplier')},
        help="The address that receives invoices and statements.")
    self_billing_agreement_date = fields.Date(
        "Self-billing Agreement Date",
        states={'invisible': ~Eval('lead_supplier')},
        help="The date the supplier agreed that we issue its invoices "
        "(Gutschriftverfahren, § 14 (2) UStG).")
    self_billing_agreement_reference = fields.Char(
        "Agreement Reference",
        states={
            'invisible': ~Eval('lead_supplier'),
            'required': Bool(Eval('self_billing_agreement_date')),
            })
    lead_statement_hold_days = fields.Integer(
        "Statement Hold",
        domain=['OR',
            ('lead_statement_hold_days', '=', None),
            ('lead_statement_hold_days', '>=', 0),
            ],
        states={'invisible': ~Eval('lead_supplier')},
        help="The days a closed period waits before its self-billing "
        "statement is issued, so that leads returned within their "
        "complaint window never reach the supplier's statement.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {
            'lead_supplier', 'lead_buyer', 'lead_internal',
            'lead_billing_interval', 'self_billing_agreement_date',
            'self_billing_agreement_reference', 'lead_statement_hold_days'}

    @classmethod
    def default_lead_billing_interval(cls):
        return 'monthly'

    @property
    def has_self_billing_agreement(self):
        return bool(self.self_billing_agreement_date
            and self.self_billing_agreement_reference)

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="lead_trading"]/group[@id="self_billing"]',
                'states', {'invisible': ~Eval('lead_supplier')}),
            ]

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        actions = iter(args)
        now_internal = []
        for parties, values in zip(actions, actions):
            if values.get('lead_internal'):
                now_internal.extend(parties)
        super().write(*args)
        if now_internal:
            Delivery.stop_billing(now_internal)

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        cls.check_lead_internal(parties, field_names)

    @classmethod
    def check_lead_internal(cls, parties, field_names=None):
        if field_names and not (
                field_names & {'lead_internal', 'lead_buyer'}):
            return
        for party in parties:
            if party.lead_internal and not party.lead_buyer:
                raise LeadValidationError(gettext(
                        'lead_billing.msg_party_internal_not_buyer',
                        party=party.rec_name))
