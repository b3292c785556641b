# This file is part of the lead trading suite. See README.rst for details.
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from .configuration import prepaid_settings


class Complaint(metaclass=PoolMeta):
    __name__ = 'lead.complaint'

    def _invoice_correction(self, today):
        """The credit for a delivery that the deposit paid goes back to the
        deposit: the correction gives the price back to the balance with
        the taxes it was billed with, so it totals zero and the buyer's
        available balance rises by the price."""
        pool = Pool()
        Line = pool.get('account.invoice.line')
        invoice = super()._invoice_correction(today)
        billed = self.delivery.invoice_line
        account = prepaid_settings(invoice.company.id).deposit_account
        if account and any(line.account == account
                for line in billed.invoice.lines if line.type == 'line'):
            give_back = Line(
                invoice=invoice, type='line', company=invoice.company,
                currency=invoice.currency, account=account, quantity=1,
                unit_price=billed.unit_price, taxes=list(billed.taxes),
                description=gettext('lead_prepaid.msg_return_description'))
            invoice.lines = list(invoice.lines) + [give_back]
        return invoice
