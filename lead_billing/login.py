# This file is part of the lead trading suite. See README.rst for details.
"""A login of its own for a buyer or supplier: a Tryton user bound to the
party, in the external groups of its roles. Record rules on "lead_parties"
then show the user only the records of that party."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import LoginError


def login_from_name(name):
    """A login suggested for a party name: lower case letters, digits and
    dashes, e.g. "Solar Nord GmbH & Co." gives "solar-nord-gmbh-co" """
    words = ''.join(c.lower() if c.isalnum() else ' ' for c in name or '')
    return '-'.join(words.split())


class CreateLoginStart(ModelView):
    "Create Login"
    __name__ = 'lead.party.create_login.start'

    party = fields.Many2One(
        'party.party', "Party", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    company = fields.Many2One('company.company', "Company", readonly=True)
    login = fields.Char("Login", required=True, strip=True)
    name = fields.Char("Name", required=True)
    email = fields.Char(
        "Email", required=True,
        help="Where the user receives the password to log in with.")
    password = fields.Char(
        "Password", strip=False,
        help="Leave empty to send a temporary password to the email "
        "address.")
    buyer = fields.Boolean(
        "Buyer", readonly=True,
        help="The user sees the party's deliveries, invoices, complaints, "
        "prepaid balance and reminders.")
    supplier = fields.Boolean(
        "Supplier", readonly=True,
        help="The user sees the party's leads and self-billing statements.")


class CreateLogin(Wizard):
    "Create a login for a buyer or a supplier"
    __name__ = 'lead.party.create_login'

    start = StateView(
        'lead.party.create_login.start',
        'lead_billing.create_login_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_', 'tryton-ok', default=True),
            ])
    create_ = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Company = pool.get('company.company')
        party = self.record
        if not (party.lead_buyer or party.lead_supplier):
            raise LoginError(gettext(
                    'lead_billing.msg_login_party_role',
                    party=party.rec_name))
        company_id = Transaction().context.get('company')
        if company_id is None:
            raise LoginError(gettext('lead_billing.msg_login_company'))
        return {
            'party': party.id,
            'company': Company(company_id).id,
            'login': login_from_name(party.name),
            'name': party.rec_name,
            'email': party.lead_document_email or party.email,
            'buyer': bool(party.lead_buyer),
            'supplier': bool(party.lead_supplier),
            }

    def transition_create_(self):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        start = self.start
        if User.search([('login', '=', start.login)], limit=1):
            raise LoginError(gettext(
                    'lead_billing.msg_login_taken', login=start.login))
        groups = []
        if start.buyer:
            groups.append(ModelData.get_id(
                    'lead_billing', 'group_lead_buyer_external'))
        if start.supplier:
            groups.append(ModelData.get_id(
                    'lead_billing', 'group_lead_supplier_external'))
        values = {
            'login': start.login,
            'name': start.name,
            'email': start.email,
            'lead_party': start.party.id,
            'groups': [('add', groups)],
            'companies': [('add', [start.company.id])],
            'company': start.company.id,
            }
        # the user reads the suite in the party's language, else in that
        # of the one who creates the login
        language = start.party.lang or User(Transaction().user).language
        if language:
            values['language'] = language.id
        if start.password:
            values['password'] = start.password
        # Creating users is for the administrator: the wizard's group
        # grants it to lead trading administrators for this one purpose
        with Transaction().set_user(0):
            user, = User.create([values])
            if not start.password:
                User.reset_password([user])
        return 'end'

