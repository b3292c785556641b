# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

DEFAULT_BATCH_LIMIT = 5000


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'lead.configuration'

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

    @classmethod
    def default_intake_batch_limit(cls):
        return DEFAULT_BATCH_LIMIT

    @classmethod
    def default_phone_region(cls):
        return 'DE'

    @classmethod
    def default_future_tolerance(cls):
        return 10
