# This file is part of the lead trading suite. See README.rst for details.
from types import SimpleNamespace

from trytond.model import ModelSQL, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.modules.lead_billing.audit import AuditedCompanyValueMixin
from trytond.modules.lead_billing.configuration import shipped_record
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, Id

PREPAID_FIELDS = {
    'prepaid_deposit_account', 'prepaid_payment_method',
    'prepaid_payment_journal', 'prepaid_top_up_sequence',
    'prepaid_alert_template'}


def _deposit_account_domain(company):
    return [
        ('type.deposit', '=', True),
        ('party_required', '=', True),
        ('company', '=', company),
        ]


class Configuration(metaclass=PoolMeta):
    __name__ = 'lead.configuration'

    prepaid_deposit_account = fields.MultiValue(fields.Many2One(
            'account.account', "Prepaid Deposit Account",
            domain=_deposit_account_domain(
                Eval('context', {}).get('company', -1)),
            help="The deposit account that holds the prepaid balances; "
            "its default taxes are the VAT of the prepayments."))
    prepaid_payment_method = fields.MultiValue(fields.Many2One(
            'account.invoice.payment.method', "Top-up Booking",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="The journal and bank account that receive the money of "
            "top-ups when they are booked."))
    prepaid_payment_journal = fields.MultiValue(fields.Many2One(
            'account.payment.journal', "Top-up Payment Journal",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="The payment journal of the payments that top-up "
            "requests expect (manual transfer or a payment provider)."))
    prepaid_top_up_sequence = fields.MultiValue(fields.Many2One(
            'ir.sequence', "Top-up Sequence", required=True,
            domain=[
                ('company', 'in',
                    [Eval('context', {}).get('company', -1), None]),
                ('sequence_type', '=',
                    Id('lead_prepaid', 'sequence_type_top_up')),
                ],
            help="Numbers top-ups; the number is the payment reference."))
    prepaid_alert_template = fields.MultiValue(fields.Many2One(
            'ir.email.template', "Low Balance Alert",
            domain=[('model.name', '=', 'lead.prepaid.account')],
            help="The e-mail a buyer receives when its available balance "
            "falls below one of its thresholds."))

    @classmethod
    def multivalue_model(cls, field):
        if field in PREPAID_FIELDS:
            return Pool().get('lead.configuration.prepaid')
        return super().multivalue_model(field)

    @classmethod
    def default_prepaid_top_up_sequence(cls, **pattern):
        return cls.multivalue_model(
            'prepaid_top_up_sequence').default_prepaid_top_up_sequence()

    @classmethod
    def default_prepaid_alert_template(cls, **pattern):
        return cls.multivalue_model(
            'prepaid_alert_template').default_prepaid_alert_template()


class ConfigurationPrepaid(
        AuditedCompanyValueMixin, ModelSQL, CompanyValueMixin):
    "Prepaid balance settings of one company"
    __name__ = 'lead.configuration.prepaid'

    prepaid_deposit_account = fields.Many2One(
        'account.account', "Prepaid Deposit Account",
        domain=_deposit_account_domain(Eval('company', -1)))
    prepaid_payment_method = fields.Many2One(
        'account.invoice.payment.method', "Top-up Booking",
        domain=[('company', '=', Eval('company', -1))])
    prepaid_payment_journal = fields.Many2One(
        'account.payment.journal', "Top-up Payment Journal",
        domain=[('company', '=', Eval('company', -1))])
    prepaid_top_up_sequence = fields.Many2One(
        'ir.sequence', "Top-up Sequence", required=True,
        domain=[
            ('company', 'in', [Eval('company', -1), None]),
            ('sequence_type', '=',
                Id('lead_prepaid', 'sequence_type_top_up')),
            ])
    prepaid_alert_template = fields.Many2One(
        'ir.email.template', "Low Balance Alert",
        domain=[('model.name', '=', 'lead.prepaid.account')])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= PREPAID_FIELDS

    @classmethod
    def default_prepaid_top_up_sequence(cls):
        return shipped_record('lead_prepaid', 'sequence_top_up')

    @classmethod
    def default_prepaid_alert_template(cls):
        return shipped_record('lead_prepaid', 'email_template_low_balance')


def prepaid_settings(company_id):
    """The prepaid settings of the company: deposit_account,
    payment_method, payment_journal, top_up_sequence"""
    Configuration = Pool().get('lead.configuration')
    config = Configuration(1)
    return SimpleNamespace(**{
            name[len('prepaid_'):]: config.get_multivalue(
                name, company=company_id)
            for name in PREPAID_FIELDS})
