# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import PoolMeta


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        application = ('lead_intake', "Lead Intake")
        if application not in cls.application.selection:
            cls.application.selection.append(application)
