# This file is part of the lead trading suite. See README.rst for details.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class EInvoiceMasterDataError(ValidationError):
    "A party's e-invoice format lacks master data"


class EInvoiceError(UserError):
    "An e-invoice cannot be built or is not valid"
