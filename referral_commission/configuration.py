# This file is part of the lead trading suite. See README.rst for details.
from decimal import Decimal
from types import SimpleNamespace

from trytond.model import ModelSQL, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.modules.lead_billing.audit import AuditedCompanyValueMixin
from trytond.modules.lead_billing.configuration import shipped_record
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, Id

REFERRAL_FIELDS = {
    'referral_programme_start', 'referral_voucher_rate',
    'referral_cash_rate', 'referral_minimum', 'referral_product',
    'referral_voucher_method', 'referral_voucher_sequence'}
RATE_DIGITS = (5, 2)


def _rate_domain(name):
    return [(name, '>=', 0), (name, '<=', 100)]


class Configuration(metaclass=PoolMeta):
    __name__ = 'lead.configuration'

    referral_programme_start = fields.MultiValue(fields.Date(
            "Programme Start",
            help="Revenue from this day on earns referral commission; "
            "payouts start here unless told otherwise."))
    referral_voucher_rate = fields.MultiValue(fields.Numeric(
            "Voucher Rate", digits=RATE_DIGITS,
            domain=[('referral_voucher_rate', '>', 0),
                ('referral_voucher_rate', '<=', 100)],
            help="In percent of the referred customer's revenue: the "
            "voucher a referrer receives (rate 1 of a payout)."))
    referral_cash_rate = fields.MultiValue(fields.Numeric(
            "Cash Rate", digits=RATE_DIGITS,
            domain=_rate_domain('referral_cash_rate'),
            help="In percent of the revenue: what a referrer may take in "
            "cash instead of the voucher (rate 2); 0: no cash payout."))
    referral_minimum = fields.MultiValue(fields.Numeric(
            "Minimum Voucher", digits=(16, 2),
            domain=[('referral_minimum', '>=', 0)],
            help="A voucher below this amount is not issued; its "
            "commission waits for the next payout."))
    referral_product = fields.MultiValue(fields.Many2One(
            'product.product', "Commission Product",
            domain=[('type', '=', 'service')],
            context={'company': Eval('context', {}).get('company', -1)},
            help="The product of the referral commissions; its expense "
            "account books the vouchers."))
    referral_voucher_method = fields.MultiValue(fields.Many2One(
            'account.invoice.payment.method', "Voucher Booking",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="Its journal books vouchers and cash payouts; its debit "
            "account is the liability of the vouchers, through which a "
            "voucher pays the referrer's invoices."))
    referral_voucher_sequence = fields.MultiValue(fields.Many2One(
            'ir.sequence', "Voucher Sequence", required=True,
            domain=[
                ('company', 'in',
                    [Eval('context', {}).get('company', -1), None]),
                ('sequence_type', '=',
                    Id('referral_commission', 'sequence_type_voucher')),
                ]))

    @classmethod
    def multivalue_model(cls, field):
        if field in REFERRAL_FIELDS:
            return Pool().get('lead.configuration.referral')
        return super().multivalue_model(field)

    @classmethod
    def default_referral_voucher_rate(cls, **pattern):
        return cls.multivalue_model(
            'referral_voucher_rate').default_referral_voucher_rate()

    @classmethod
    def default_referral_cash_rate(cls, **pattern):
        return cls.multivalue_model(
            'referral_cash_rate').default_referral_cash_rate()

    @classmethod
    def default_referral_minimum(cls, **pattern):
        return cls.multivalue_model(
            'referral_minimum').default_referral_minimum()

    @classmethod
    def default_referral_voucher_sequence(cls, **pattern):
        return cls.multivalue_model(
            'referral_voucher_sequence').default_referral_voucher_sequence()


class ConfigurationReferral(
        AuditedCompanyValueMixin, ModelSQL, CompanyValueMixin):
    "Referral programme settings of one company"
    __name__ = 'lead.configuration.referral'

    referral_programme_start = fields.Date("Programme Start")
    referral_voucher_rate = fields.Numeric(
        "Voucher Rate", digits=RATE_DIGITS,
        domain=['OR',
            ('referral_voucher_rate', '=', None),
            [('referral_voucher_rate', '>', 0),
                ('referral_voucher_rate', '<=', 100)],
            ])
    referral_cash_rate = fields.Numeric(
        "Cash Rate", digits=RATE_DIGITS,
        domain=['OR',
            ('referral_cash_rate', '=', None),
            _rate_domain('referral_cash_rate'),
            ])
    referral_minimum = fields.Numeric(
        "Minimum Voucher", digits=(16, 2),
        domain=['OR',
            ('referral_minimum', '=', None),
            ('referral_minimum', '>=', 0),
            ])
    referral_product = fields.Many2One(
        'product.product', "Commission Product",
        domain=[('type', '=', 'service')],
        context={'company': Eval('company', -1)}, depends={'company'})
    referral_voucher_method = fields.Many2One(
        'account.invoice.payment.method', "Voucher Booking",
        domain=[('company', '=', Eval('company', -1))])
    referral_voucher_sequence = fields.Many2One(
        'ir.sequence', "Voucher Sequence", required=True,
        domain=[
            ('company', 'in', [Eval('company', -1), None]),
            ('sequence_type', '=',
                Id('referral_commission', 'sequence_type_voucher')),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= REFERRAL_FIELDS

    @classmethod
    def default_referral_voucher_rate(cls):
        return Decimal('5.00')

    @classmethod
    def default_referral_cash_rate(cls):
        return Decimal('0.00')

    @classmethod
    def default_referral_minimum(cls):
        return Decimal('5.00')

    @classmethod
    def default_referral_voucher_sequence(cls):
        return shipped_record('referral_commission', 'sequence_voucher')


def referral_settings(company_id):
    """The referral settings of the company: programme_start,
    voucher_rate, cash_rate, minimum, product, voucher_method,
    voucher_sequence"""
    Configuration = Pool().get('lead.configuration')
    config = Configuration(1)
    return SimpleNamespace(**{
            name[len('referral_'):]: config.get_multivalue(
                name, company=company_id)
            for name in REFERRAL_FIELDS})
