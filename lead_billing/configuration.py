# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool
from trytond.pyson import Eval, Id

from .audit import AuditedCompanyValueMixin, AuditedMixin

DEFAULT_BATCH_LIMIT = 5000
BILLING_FIELDS = {'billing_final_check', 'self_billing_sequence'}


class Configuration(
        ModelSingleton, AuditedMixin, ModelSQL, ModelView,
        CompanyMultiValueMixin):
    __name__ = 'lead.configuration'
    _audit_defaults_in_force = True

    intake_batch_limit = fields.Integer(
        "Intake Batch Limit", required=True,
        domain=[('intake_batch_limit', '>', 0)],
        help="The largest number of leads one intake call may carry.")
    phone_region = fields.Char(
        "Phone Region", required=True, size=2,
        help="The country whose rules apply to phone numbers given without "
        "an international prefix (ISO 3166 code).")
    future_tolerance = fields.Integer(
        "Future Tolerance", required=True,
        domain=[('future_tolerance', '>=', 0)],
        help="The minutes a lead's reception time may lie ahead of the "
        "server clock (clock skew of the platform) before it is refused.")
    personal_data_retention = fields.Integer(
        "Personal Data Retention",
        domain=['OR',
            ('personal_data_retention', '=', None),
            ('personal_data_retention', '>', 0),
            ],
        help="The months the contact data of a lead is kept after its "
        "reception; then a scheduled job erases it, whether or not the "
        "lead is billed or complained about. Leave empty to keep it.\n"
        "Duplicates of erased leads are no longer found.")
    billing_final_check = fields.MultiValue(fields.Boolean(
            "Final Check",
            help="Billing runs stop at the preview until a person posts "
            "them; without it, runs post their documents at once."))
    self_billing_sequence = fields.MultiValue(fields.Many2One(
            'ir.sequence.strict', "Self-billing Sequence", required=True,
            domain=[
                ('company', 'in',
                    [Eval('context', {}).get('company', -1), None]),
                ('sequence_type', '=',
                    Id('lead_billing', 'sequence_type_self_billing')),
                ],
            help="Numbers the self-billing statements (Gutschriften) "
            "without gaps, apart from the supplier invoices."))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the MultiValue fields are logged by the company values that hold
        # them
        cls._audit_fields |= {
            'intake_batch_limit', 'phone_region', 'future_tolerance',
            'personal_data_retention'}

    @classmethod
    def multivalue_model(cls, field):
        if field in BILLING_FIELDS:
            return Pool().get('lead.configuration.billing')
        return super().multivalue_model(field)

    @classmethod
    def default_intake_batch_limit(cls):
        return DEFAULT_BATCH_LIMIT

    @classmethod
    def default_phone_region(cls):
        return 'DE'

    @classmethod
    def default_future_tolerance(cls):
        return 10

    @classmethod
    def default_billing_final_check(cls, **pattern):
        return cls.multivalue_model(
            'billing_final_check').default_billing_final_check()

    @classmethod
    def default_self_billing_sequence(cls, **pattern):
        return cls.multivalue_model(
            'self_billing_sequence').default_self_billing_sequence()


class ConfigurationBilling(
        AuditedCompanyValueMixin, ModelSQL, CompanyValueMixin):
    "Lead billing settings of one company"
    __name__ = 'lead.configuration.billing'

    billing_final_check = fields.Boolean("Final Check")
    self_billing_sequence = fields.Many2One(
        'ir.sequence.strict', "Self-billing Sequence", required=True,
        domain=[
            ('company', 'in', [Eval('company', -1), None]),
            ('sequence_type', '=',
                Id('lead_billing', 'sequence_type_self_billing')),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= BILLING_FIELDS

    @classmethod
    def default_billing_final_check(cls):
        return True

    @classmethod
    def default_self_billing_sequence(cls):
        return shipped_record('lead_billing', 'sequence_self_billing')


def shipped_record(module, xml_id):
    "The id of a record `module` ships, None while it is being installed"
    ModelData = Pool().get('ir.model.data')
    try:
        return ModelData.get_id(module, xml_id)
    except KeyError:
        return None
