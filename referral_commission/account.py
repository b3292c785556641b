# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import PoolMeta


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['referral.payout', 'referral.voucher']
