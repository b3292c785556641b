# This file is part of the lead trading suite. See README.rst for details.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class LeadValidationError(ValidationError):
    pass


class PriceOverlapError(ValidationError):
    pass


class DeliveryRefused(UserError):
    pass


class IntakeError(UserError):
    "A whole intake batch is refused (malformed, too large)"


class BillingConflict(UserError):
    "Another transaction billed part of what a run was billing"


class LoginError(UserError):
    "A login cannot be created for a party"
