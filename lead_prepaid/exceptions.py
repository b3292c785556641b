# This file is part of the lead trading suite. See README.rst for details.
from trytond.exceptions import UserError


class PrepaidError(UserError):
    pass


class TopUpError(PrepaidError):
    pass
