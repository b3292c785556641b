# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pyson import Eval

DEFAULT_DUPLICATE_WINDOW = 7


class Category(DeactivableMixin, ModelSQL, ModelView):
    "Lead category (Leadsparte): what kind of lead is traded"
    __name__ = 'lead.category'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char(
        "Code", required=True, strip=True,
        help="The code lead platforms use to name the category.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        help="The service product that carries taxes and accounts "
        "on invoices and self-billing statements.")
    check_phone = fields.Boolean(
        "Check Phone",
        help="Send leads with an invalid phone number to review.")
    check_email = fields.Boolean(
        "Check Email",
        help="Send leads with an invalid email address to review.")
    check_postal_code = fields.Boolean(
        "Check Postal Code",
        help="Send leads whose postal code does not fit the country "
        "to review.")
    check_duplicates = fields.Boolean(
        "Check Duplicates",
        help="Send leads to review when another lead of the category "
        "has the same phone number or email within the duplicate window.")
    duplicate_window = fields.Integer(
        "Duplicate Window", required=True,
        domain=[('duplicate_window', '>=', 0)],
        states={'invisible': ~Eval('check_duplicates')},
        help="In days, before and after the lead's reception.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'lead_billing.msg_category_code_unique'),
            ]
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_check_phone(cls):
        return True

    @classmethod
    def default_check_email(cls):
        return True

    @classmethod
    def default_check_postal_code(cls):
        return True

    @classmethod
    def default_check_duplicates(cls):
        return True

    @classmethod
    def default_duplicate_window(cls):
        return DEFAULT_DUPLICATE_WINDOW

    def get_rec_name(self, name):
        return f'[{self.code}] {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('code', operator, value),
            ('name', operator, value),
            ]
