# This file is part of the lead trading suite. See README.rst for details.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ComplaintValidationError(ValidationError):
    pass


class ComplaintRefused(UserError):
    "A complaint that may not be submitted or decided as asked"
