# This file is part of the lead trading suite. See README.rst for details.
from trytond.exceptions import UserError


class ReferralError(UserError):
    pass


class PayoutError(UserError):
    pass


class VoucherError(UserError):
    pass
