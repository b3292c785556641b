# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import ModelView, Workflow
from trytond.pool import Pool, PoolMeta


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def create_commissions(cls, invoices):
        "Posting a referred customer's invoice earns its referrer commission"
        Referral = Pool().get('referral.referral')
        commissions = super().create_commissions(invoices)
        return commissions + Referral.commission_lines(
            [line for invoice in invoices for line in invoice.lines])

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, invoices):
        "Cancelled revenue takes its referral commission back"
        Commission = Pool().get('commission')
        posted = [i for i in invoices
            if i.move and i.state in {'posted', 'paid'}]
        super().cancel(invoices)
        if posted:
            Commission.reverse_referral(Commission.search([
                        ('referral_line.invoice', 'in',
                            [i.id for i in posted]),
                        ('referral_line_key', '!=', None),
                        ]))


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @property
    def corrected_revenue_line(self):
        """The customer invoice line whose revenue this line credits, None
        when the line is revenue itself"""
        InvoiceLine = Pool().get('account.invoice.line')
        if (isinstance(self.origin, InvoiceLine)
                and self.amount is not None and self.amount < 0):
            return self.origin
        return None
