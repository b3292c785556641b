# This file is part of the lead trading suite. See README.rst for details.
from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.modules.lead_billing.delivery import Refusal
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .invoice import open_dunnings


class Delivery(metaclass=PoolMeta):
    __name__ = 'lead.delivery'

    @classmethod
    def delivery_refusals(cls, requests):
        """No delivery to a buyer while a sent dunning at a level that stops
        deliveries is open; paying the line ends the dunning and so the
        stop"""
        result = super().delivery_refusals(requests)
        stopped = cls.stopped_buyers({r.buyer.id for r in requests})
        for request, refusals in zip(requests, result):
            stop = stopped.get(request.buyer.id)
            if stop:
                refusals.append(Refusal('buyer', gettext(
                            'dunning_levels.msg_delivery_stopped',
                            buyer=request.buyer.rec_name,
                            level=stop)))
        return result

    @classmethod
    def stopped_buyers(cls, buyer_ids):
        "{buyer id: name of the level} of the buyers deliveries stop for"
        Level = Pool().get('account.dunning.level')
        source, dunning, line, level = open_dunnings()
        cursor = Transaction().connection.cursor()
        stopped = {}
        for sub_ids in grouped_slice(
                list(buyer_ids), backend.MAX_QUERY_PARAMS):
            cursor.execute(*source.select(line.party, dunning.level,
                    where=reduce_ids(line.party, sub_ids)
                    & (line.reconciliation == Null)
                    & (level.stop_deliveries == True)  # noqa: E712
                    & dunning.state.in_(['waiting', 'final'])
                    & (dunning.blocked != True)))  # noqa: E712
            for party_id, level_id in cursor:
                stopped.setdefault(party_id, level_id)
        levels = {lv.id: lv.rec_name for lv in Level.browse(
                list(set(stopped.values())))}
        return {p: levels[lv] for p, lv in stopped.items()}
