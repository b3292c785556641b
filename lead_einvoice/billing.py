# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class BillingRun(metaclass=PoolMeta):
    __name__ = 'lead.billing.run'

    einvoice_errors = fields.Function(
        fields.Text("E-invoice Errors",
            states={'invisible': ~Eval('einvoice_errors')},
            help="The documents of the run that were not sent because "
            "their e-invoice is not valid, and why."),
        'get_einvoice_errors')

    def get_einvoice_errors(self, name):
        Invoice = Pool().get('account.invoice')
        invoices = Invoice.search([
                ('lead_billing_run', '=', self.id),
                ('einvoice_error', '!=', None),
                ], order=[('number', 'ASC'), ('id', 'ASC')])
        return '\n'.join(
            f'{i.rec_name}: {i.einvoice_error}' for i in invoices) or None
