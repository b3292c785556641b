# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('lead.billing.run|run_due', "Run Due Lead Billing"))
        cls.method.selection.append(
            ('ir.email|deliver_due', "Send Pending E-mails"))
        cls.method.selection.append(
            ('lead.lead|erase_expired_personal_data',
                "Erase Expired Personal Data of Leads"))
