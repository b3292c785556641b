# This file is part of the lead trading suite. See README.rst for details.
from trytond.i18n import gettext
from trytond.model import ModelSQL, fields
from trytond.model.exceptions import ValidationError
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta

from .rules import parse_recipients

RECIPIENTS_HELP = (
    "The e-mail addresses, separated by commas, that receive the monthly "
    "management report; empty: the report is not sent.")


class Configuration(metaclass=PoolMeta):
    __name__ = 'lead.configuration'

    reporting_recipients = fields.MultiValue(fields.Char(
            "Management Report Recipients", help=RECIPIENTS_HELP))

    @classmethod
    def multivalue_model(cls, field):
        if field == 'reporting_recipients':
            return Pool().get('lead.configuration.reporting')
        return super().multivalue_model(field)


class ConfigurationReporting(ModelSQL, CompanyValueMixin):
    "Lead trading reporting settings of one company"
    __name__ = 'lead.configuration.reporting'

    reporting_recipients = fields.Char(
        "Management Report Recipients", help=RECIPIENTS_HELP)

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names and 'reporting_recipients' not in field_names:
            return
        for record in records:
            try:
                parse_recipients(record.reporting_recipients)
            except ValueError as exception:
                raise ValidationError(gettext(
                        'lead_reporting.msg_recipient_invalid',
                        address=str(exception))) from exception


def recipients(company_id):
    "The addresses that receive the company's management report"
    Configuration = Pool().get('lead.configuration')
    return parse_recipients(Configuration(1).get_multivalue(
            'reporting_recipients', company=company_id))
