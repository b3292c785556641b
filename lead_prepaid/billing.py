# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import Pool, PoolMeta


class BillingRun(metaclass=PoolMeta):
    __name__ = 'lead.billing.run'

    def _create_documents(self, type_, groups):
        """Buyer invoices are settled from the buyer's deposit as they are
        created, so the preview shows what the buyer will owe: nothing
        while the prepaid balance covers the invoice."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        lines = super()._create_documents(type_, groups)
        if type_ == 'out' and lines:
            invoices = {line.invoice for line in InvoiceLine.browse(
                    list(lines.values()))}
            Invoice.settle_from_deposit(
                Invoice.browse([i.id for i in invoices]))
        return lines
