# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
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

    @classmethod
    def get_lead_prepaid(cls, parties, name):
        Account = Pool().get('lead.prepaid.account')
        company_id = Transaction().context.get('company')
        prepaid = {a.party.id for a in Account.search([
                    ('party', 'in', [p.id for p in parties]),
                    ('company', '=', company_id),
                    ])}
        return {p.id: p.id in prepaid for p in parties}

    @classmethod
    def search_lead_prepaid(cls, name, clause):
        _, operator, value = clause[:3]
        company_id = Transaction().context.get('company')
        wanted = (operator == '=') == bool(value)
        domain = [('lead_prepaid_accounts', 'where', [
                    ('company', '=', company_id),
                    ])]
        return domain if wanted else [('lead_prepaid_accounts', 'not where', [
                    ('company', '=', company_id),
                    ])]
