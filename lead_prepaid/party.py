# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    lead_prepaid_accounts = fields.One2Many(
        'lead.prepaid.account', 'party', "Prepaid Accounts", readonly=True)
    lead_prepaid = fields.Function(fields.Boolean(
            "Prepaid",
            help="The buyer pays in advance: it receives leads while its "
            "prepaid balance covers them."),
        'get_lead_prepaid', searcher='search_lead_prepaid')
    lead_prepaid_available = fields.Function(Monetary(
            "Available Prepaid Balance", currency='lead_prepaid_currency',
            digits='lead_prepaid_currency',
            states={'invisible': ~Eval('lead_prepaid')}),
        'get_lead_prepaid')
    lead_prepaid_runway = fields.Function(fields.Integer(
            "Prepaid Runway",
            states={'invisible': ~Eval('lead_prepaid')},
            help="The days the available balance lasts at the average "
            "daily spend of the last 14 days."),
        'get_lead_prepaid')
    lead_prepaid_currency = fields.Function(
        fields.Many2One('currency.currency', "Prepaid Currency"),
        'get_lead_prepaid')

    @classmethod
    def get_lead_prepaid(cls, parties, names):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        ModelAccess = pool.get('ir.model.access')
        company_id = Transaction().context.get('company')
        accounts = {}
        # users who may not see prepaid accounts still open party forms
        if ModelAccess.check(
                'lead.prepaid.account', 'read', raise_exception=False):
            accounts = {a.party.id: a for a in Account.search([
                        ('party', 'in', [p.id for p in parties]),
                        ('company', '=', company_id),
                        ])}
        result = {name: {} for name in names}
        for party in parties:
            account = accounts.get(party.id)
            values = {
                'lead_prepaid': bool(account and account.active),
                'lead_prepaid_available': account.available if account
                else None,
                'lead_prepaid_runway': account.runway if account else None,
                'lead_prepaid_currency': account.currency.id if account
                else None,
                }
            for name in names:
                result[name][party.id] = values[name]
        return result

    @classmethod
    def search_lead_prepaid(cls, name, clause):
        _, operator, value = clause[:3]
        company_id = Transaction().context.get('company')
        prepaid = (operator == '=') == bool(value)
        return [('lead_prepaid_accounts', 'where' if prepaid else 'not where',
                [('company', '=', company_id)])]
