# This file is part of the lead trading suite. See README.rst for details.
from collections import defaultdict

from trytond.i18n import gettext
from trytond.modules.lead_billing.delivery import Refusal
from trytond.pool import Pool, PoolMeta

from .rules import admit_deliveries


class Delivery(metaclass=PoolMeta):
    __name__ = 'lead.delivery'

    @classmethod
    def delivery_refusals(cls, requests):
        """A prepaid buyer receives a lead only while its available balance
        covers the price, counting the other deliveries of the batch; the
        lead stays free for other buyers."""
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        Company = pool.get('company.company')
        Lang = pool.get('ir.lang')
        result = super().delivery_refusals(requests)
        wanted = defaultdict(list)
        for index, (request, refusals) in enumerate(zip(requests, result)):
            if not refusals:
                wanted[request.lead.company.id].append(index)
        lang = Lang.get()
        for company_id, indexes in wanted.items():
            company = Company(company_id)
            accounts = Account.lock_balances(
                company_id, {requests[i].buyer.id for i in indexes})
            if not accounts:
                continue
            balances = Account.balances(
                company, list(accounts), spending=False)
            by_buyer = defaultdict(list)
            for i in indexes:
                request = requests[i]
                if request.buyer.id not in accounts:
                    continue
                currency = request.currency or request.lead.currency.id
                if int(currency) != company.currency.id:
                    result[i].append(Refusal('currency', gettext(
                                'lead_prepaid.msg_delivery_prepaid_currency',
                                buyer=request.buyer.rec_name,
                                currency=company.currency.code)))
                    continue
                by_buyer[request.buyer.id].append(i)
            for buyer_id, buyer_indexes in by_buyer.items():
                available = balances[buyer_id].available
                admitted = admit_deliveries(available,
                    [requests[i].unit_price for i in buyer_indexes])
                for i, fits in zip(buyer_indexes, admitted):
                    if not fits:
                        request = requests[i]
                        result[i].append(Refusal('buyer', gettext(
                                    'lead_prepaid.msg_delivery_balance',
                                    buyer=request.buyer.rec_name,
                                    lead=request.lead.rec_name,
                                    price=lang.currency(
                                        request.unit_price, company.currency),
                                    available=lang.currency(
                                        available, company.currency))))
        return result

    @classmethod
    def delivered(cls, buyer_ids):
        super().delivered(buyer_ids)
        Account = Pool().get('lead.prepaid.account')
        Account.check_thresholds(Account.search([
                    ('party', 'in', list(buyer_ids)),
                    ]))
