# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('lead.reporting.management|send_due',
                "Send Management Report"))
