# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.transaction import Transaction


class Branch(DeactivableMixin, ModelSQL, ModelView):
    "Branch that sends referral vouchers on its own letterhead"
    __name__ = 'referral.branch'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True)
    sender = fields.Text(
        "Sender", required=True,
        help="The letterhead of the branch's vouchers: name and address, "
        "one line each.")
    contact = fields.Char(
        "Contact", help="Telephone, e-mail or web address printed under "
        "the letterhead.")
    signature = fields.Char(
        "Signature", help="Who signs the branch's voucher letters.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.company, t.code),
                'referral_commission.msg_branch_code_unique'),
            ]
        cls._order = [('code', 'ASC'), ('id', 'ASC')]

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return f'{self.code} {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('code',) + tuple(clause[1:]),
            ('name',) + tuple(clause[1:]),
            ]

    @property
    def sender_lines(self):
        return [line for line in (self.sender or '').splitlines()
            if line.strip()]
