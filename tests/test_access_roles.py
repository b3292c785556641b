# This file is part of the lead trading suite. See README.rst for details.
"""Who may read and change what, proven through the RPC layer: two buyers
and two suppliers logged in with the logins the party wizard creates, and
a back-office accountant. Each role calls the models over JSON-RPC as the
web client does; the tables below say what it must reach and what it must
be refused, and every row is checked for each user of the role."""
import datetime as dt
from decimal import Decimal

from trytond.modules.lead_billing.tests.tools import (
    create, create_party, lead_trading, login_wizard, rpc_session,
    run_billing, run_committed)
from trytond.modules.lead_complaints.tests.tools import (
    ago, complain, deliver, weekly_parties)
from trytond.modules.lead_prepaid.tests.tools import (
    make_prepaid, setup_prepaid, top_up)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

PASSWORD = 'Access-Roles-2026!'
# the users of each role: login and the code of their party
ROLES = {
    'buyer': {'buyer-a': 'B1', 'buyer-b': 'B2'},
    'supplier': {'supplier-a': 'S1', 'supplier-b': 'S2'},
    'accountant': {'accountant': None},
    }
# placeholders of the tables below, for each user: its party, the
# company's; the prepaid account of its party (the first buyer's for the
# accountant); the delivery to its party that it files a complaint about,
# one of another buyer; the complaint reason
PARTY, COMPANY = 'PARTY', 'COMPANY'
ACCOUNT = 'ACCOUNT'
NEW_DELIVERY, OTHER_DELIVERY = 'NEW_DELIVERY', 'OTHER_DELIVERY'
REASON = 'REASON'
ALL = []
REFUSED = None


def own(path):
    "The records bound to the user's party through `path`"
    return [(path, '=', PARTY)]


# role, model: the records a search returns, as a domain searched by the
# administrator (ALL: every record), or REFUSED; a user reading the records
# outside its own is refused each of them
READ = [
    ('buyer', 'lead.delivery', own('buyer')),
    ('buyer', 'lead.lead', own('deliveries.buyer')),
    ('buyer', 'account.invoice', own('party')),
    ('buyer', 'account.invoice.line', own('invoice.party')),
    ('buyer', 'lead.complaint', own('buyer')),
    ('buyer', 'lead.prepaid.account', own('party')),
    ('buyer', 'lead.prepaid.top_up', own('account.party')),
    ('buyer', 'party.party', [('id', 'in', [PARTY, COMPANY])]),
    ('buyer', 'lead.price', REFUSED),
    ('buyer', 'lead.configuration', REFUSED),
    ('buyer', 'lead.audit.change', REFUSED),
    ('buyer', 'lead.billing.run', REFUSED),
    ('supplier', 'lead.lead', own('supplier')),
    ('supplier', 'account.invoice', own('party')),
    ('supplier', 'account.invoice.line', own('invoice.party')),
    ('supplier', 'party.party', [('id', 'in', [PARTY, COMPANY])]),
    ('supplier', 'lead.delivery', REFUSED),
    ('supplier', 'lead.complaint', REFUSED),
    ('supplier', 'lead.prepaid.account', REFUSED),
    ('supplier', 'lead.price', REFUSED),
    ('supplier', 'lead.configuration', REFUSED),
    ('supplier', 'lead.audit.change', REFUSED),
    ('accountant', 'lead.delivery', ALL),
    ('accountant', 'lead.lead', ALL),
    ('accountant', 'account.invoice', ALL),
    ('accountant', 'lead.complaint', ALL),
    ('accountant', 'lead.prepaid.account', ALL),
    ('accountant', 'lead.prepaid.top_up', ALL),
    ('accountant', 'lead.price', ALL),
    ('accountant', 'lead.billing.run', ALL),
    ('accountant', 'lead.configuration', ALL),
    ('accountant', 'lead.audit.change', ALL),
    ]

# role, model, field: whether the role reads the field of its records
FIELDS = [
    ('buyer', 'lead.delivery', 'unit_price', True),
    ('buyer', 'lead.delivery', 'supplier', False),
    ('buyer', 'lead.lead', 'purchase_price', False),
    ('buyer', 'lead.lead', 'supplier', False),
    ('buyer', 'lead.complaint', 'supplier_amount', False),
    ('buyer', 'lead.prepaid.account', 'available', True),
    ('supplier', 'lead.lead', 'purchase_price', True),
    ('supplier', 'lead.lead', 'deliveries', False),
    ('accountant', 'lead.lead', 'purchase_price', True),
    ('accountant', 'lead.complaint', 'supplier_amount', True),
    ]

# role, model, operation, the record (a domain searched by the
# administrator, its first record) or the values to create: whether the
# role may; `values` are written or created
CHANGE = [
    ('buyer', 'lead.delivery', 'write', own('buyer'), {'billable': False},
        False),
    ('buyer', 'lead.delivery', 'delete', own('buyer'), None, False),
    ('buyer', 'account.invoice', 'write', own('party'),
        {'description': "paid"}, False),
    ('buyer', 'lead.prepaid.account', 'write', own('party'),
        {'active': False}, False),
    ('buyer', 'lead.prepaid.threshold', 'create', None,
        {'account': ACCOUNT, 'amount': Decimal(1)}, False),
    ('buyer', 'lead.price', 'write', [], {'end_date': None}, False),
    ('buyer', 'lead.configuration', 'write', [], {'future_tolerance': 1},
        False),
    ('buyer', 'lead.complaint', 'create', None,
        {'delivery': NEW_DELIVERY, 'reason': REASON}, True),
    ('buyer', 'lead.complaint', 'create', None,
        {'delivery': OTHER_DELIVERY, 'reason': REASON}, False),
    ('supplier', 'lead.lead', 'write', own('supplier'), {'name': "X"},
        False),
    ('supplier', 'account.invoice', 'write', own('party'),
        {'description': "paid"}, False),
    ('supplier', 'lead.complaint', 'create', None,
        {'delivery': OTHER_DELIVERY, 'reason': REASON}, False),
    ('accountant', 'lead.lead', 'write', [('reference', '=', 'B1-NEW')],
        {'name': "Max Mustermann"}, True),
    ('accountant', 'lead.prepaid.top_up', 'create', None,
        {'account': ACCOUNT, 'amount': Decimal(100)}, True),
    ('accountant', 'lead.prepaid.threshold', 'create', None,
        {'account': ACCOUNT, 'amount': Decimal(50)}, True),
    ('accountant', 'lead.delivery', 'delete', [], None, False),
    ('accountant', 'lead.price', 'write', [], {'end_date': None}, False),
    ('accountant', 'lead.configuration', 'write', [],
        {'future_tolerance': 1}, False),
    ]


def amount(value):
    "A Decimal of what JSON-RPC answers for a Numeric field"
    return Decimal(value['decimal'] if isinstance(value, dict) else value)


def rpc_value(value):
    "`value` as JSON-RPC sends it"
    if isinstance(value, Decimal):
        return {'__class__': 'Decimal', 'decimal': str(value)}
    return value


def create_login(party, login):
    "Create the login of `party` with the party's wizard"
    create(login_wizard(party, login=login, password=PASSWORD))


def create_accountant(company):
    "A back-office user in lead trading and accounting"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    User.create([{
                'login': 'accountant', 'name': "Buchhaltung",
                'password': PASSWORD,
                'groups': [('add', [
                            ModelData.get_id(
                                'lead_billing', 'group_lead_trading'),
                            ModelData.get_id('account', 'group_account'),
                            ])],
                'companies': [('add', [company.id])],
                'company': company.id,
                }])


class AccessRolesTestCase(RouteTestCase):
    "What each role reaches over RPC"
    module = 'lead_prepaid'
    extras = ['lead_complaints']

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sessions = {}
        # setting up the accounts locks tables: the transaction restarts
        run_committed(DB_NAME, cls.create_trade)

    @classmethod
    def create_trade(cls):
        "Billed and fresh deliveries, complaints and prepaid accounts"
        with lead_trading() as fixture:
            weekly_parties(fixture)
            setup_prepaid(fixture, [2026])
            supplier_b = create_party(
                "Andere Quelle GmbH", 'S2', lead_supplier=True,
                lead_billing_interval='weekly',
                self_billing_agreement_date=dt.date(2024, 1, 1),
                self_billing_agreement_reference='GS-2024-2')
            buyers = {'B1': fixture.buyer, 'B2': fixture.buyer2}
            suppliers = {'S1': fixture.supplier, 'S2': supplier_b}
            for code, buyer in buyers.items():
                for supplier_code, supplier in suppliers.items():
                    deliver(fixture, f'{code}-{supplier_code}', buyer,
                        delivered_at=ago(days=10), supplier=supplier.id)
            deliver(fixture, 'SHARED', *buyers.values(),
                delivered_at=ago(days=10))
            run_billing(fixture)
            for code, buyer in buyers.items():
                delivery, = deliver(fixture, f'{code}-FRESH', buyer,
                    delivered_at=ago(days=1))
                complain(delivery)
                # the delivery the buyer files a complaint about
                deliver(fixture, f'{code}-NEW', buyer,
                    delivered_at=ago(days=1))
                top_up(make_prepaid(buyer, ['20']), '500')
            for login, code in ROLES['buyer'].items():
                create_login(buyers[code], login)
            for login, code in ROLES['supplier'].items():
                create_login(suppliers[code], login)
            create_accountant(fixture.company)
            cls.company_party = fixture.company.party.id
            cls.parties = {code: party.id
                for code, party in {**buyers, **suppliers}.items()}

    def call(self, login, method, *params):
        """Call `method` over JSON-RPC as `login` with the user's context;
        return the JSON-RPC answer"""
        if login not in self.sessions:
            call = rpc_session(self.client(), self.db_name, login, PASSWORD)
            context = call(
                'model.res.user.get_preferences', [True, {}])['result']
            self.sessions[login] = call, context
        call, context = self.sessions[login]
        return call(method, [*params, context])

    def result(self, login, method, *params):
        answer = self.call(login, method, *params)
        self.assertIn('result', answer, answer)
        return answer['result']

    def assert_refused(self, login, method, *params):
        "Assert that `method` is refused for lack of rights"
        answer = self.call(login, method, *params)
        self.assertNotIn('result', answer, answer)
        self.assertIn('not allowed', answer['error'][1][0])

    def test_complaint_about_other_buyers_delivery_reveals_nothing(self):
        "Whether another buyer's delivery has a complaint stays unknown"
        reason = self.value('buyer-a', REASON)
        complained = self.admin_ids('lead.delivery', [
                ('lead.reference', '=', 'B2-FRESH'),
                ('complaints', '!=', None),
                ])
        self.assertEqual(len(complained), 1)
        answer = self.call('buyer-a', 'model.lead.complaint.create',
            [{'delivery': complained[0], 'reason': reason}])
        self.assertNotIn('result', answer, answer)
        self.assertEqual(answer['error'][1][0], "You are not allowed to "
            "file complaints about deliveries that are not your own.")

    def party(self, login):
        code = next(code for users in ROLES.values()
            for user, code in users.items() if user == login)
        return self.parties.get(code)

    def users(self, role):
        return list(ROLES[role])

    def bind(self, domain, login):
        "`domain` with the placeholders replaced for `login`"
        values = {PARTY: self.party(login), COMPANY: self.company_party}
        return [(name, operator,
                [values.get(v, v) for v in value]
                if isinstance(value, list) else values.get(value, value))
            for name, operator, value in domain]

    def admin_ids(self, model, domain=()):
        "The ids of `model` matching `domain`, searched as administrator"
        with Transaction().start(self.db_name, 0, readonly=True):
            Model = Pool().get(model)
            records = Model.search(list(domain), order=[('id', 'ASC')])
            return [r.id for r in records]

    def test_read(self):
        "Each role searches and reads exactly its records"
        for role, model, domain in READ:
            for login in self.users(role):
                with self.subTest(login=login, model=model):
                    self.check_read(login, model, domain)

    def check_read(self, login, model, domain):
        method = f'model.{model}'
        if domain is REFUSED:
            self.assert_refused(login, f'{method}.search_read',
                [], 0, None, None, ['id'])
            records = self.admin_ids(model)
            if records:
                self.assert_refused(
                    login, f'{method}.read', records[:1], ['id'])
            return
        expected = self.admin_ids(model, self.bind(domain, login))
        self.assertTrue(expected, "no records to read")
        rows = self.result(login, f'{method}.search_read',
            [], 0, None, [['id', 'ASC']], ['id'])
        self.assertEqual([r['id'] for r in rows], expected)
        others = sorted(set(self.admin_ids(model)) - set(expected))
        if domain is not ALL:
            self.assertTrue(others, "no records of others to refuse")
        for other in others:
            self.assert_refused(login, f'{method}.read', [other], ['id'])

    def test_fields(self):
        "Each role reads the fields of its records meant for it"
        for role, model, field, readable in FIELDS:
            for login in self.users(role):
                with self.subTest(login=login, model=model, field=field):
                    ids = self.result(login, f'model.{model}.search',
                        [], 0, 1, None)
                    self.assertTrue(ids)
                    method = f'model.{model}.read'
                    if readable:
                        row, = self.result(login, method, ids, [field])
                        self.assertIn(field, row)
                    else:
                        self.assert_refused(login, method, ids, [field])

    def test_prepaid_balance(self):
        "A buyer reads the balance of its own prepaid account"
        for login in self.users('buyer'):
            with self.subTest(login=login):
                row, = self.result(login,
                    'model.lead.prepaid.account.search_read',
                    [], 0, None, None, ['party', 'deposit', 'available'])
                self.assertEqual(row['party'], self.party(login))
                # the top-up of 500.00 net, nothing billed from it yet
                self.assertEqual(amount(row['deposit']), Decimal('500.00'))
                # less the unbilled deliveries of yesterday, 30.00 each
                self.assertEqual(amount(row['available']), Decimal('440.00'))

    def test_change(self):
        "Each role changes what it may and is refused the rest"
        for role, model, operation, target, values, allowed in CHANGE:
            for login in self.users(role):
                with self.subTest(login=login, model=model,
                        operation=operation, values=values):
                    self.check_change(
                        login, model, operation, target, values, allowed)

    def check_change(self, login, model, operation, target, values,
            allowed):
        """Call `operation` of `model` as `login` on its record of `target`
        or with `values` to create; assert that it was done or refused and
        nothing changed"""
        method = f'model.{model}.{operation}'
        values = {name: self.value(login, value)
            for name, value in (values or {}).items()}
        sent = {name: rpc_value(value) for name, value in values.items()}
        if operation == 'create':
            before = self.admin_ids(model)
            params = [[sent]]
        else:
            record, *_ = self.admin_ids(model, self.bind(target, login))
            stored = self.stored(model, record, values)
            params = [[record], sent] if values else [[record]]
        if not allowed:
            self.assert_refused(login, method, *params)
            if operation == 'create':
                self.assertEqual(self.admin_ids(model), before)
            else:
                self.assertIn(record, self.admin_ids(model))
                self.assertEqual(self.stored(model, record, values), stored)
            return
        result = self.result(login, method, *params)
        if operation == 'create':
            record, = result
            self.assertNotIn(record, before)
        self.assertEqual(self.stored(model, record, values), values)

    def value(self, login, value):
        "A value of the table for `login`: the records it names"
        if value == ACCOUNT:
            return self.admin_ids('lead.prepaid.account',
                [('party', '=', self.party(login) or self.parties['B1'])])[0]
        if value == REASON:
            return self.admin_ids('lead.complaint.reason',
                [('code', '=', 'UNREACHABLE')])[0]
        if value == NEW_DELIVERY:
            return self.admin_ids('lead.delivery', [
                    ('lead.reference', 'like', '%-NEW'),
                    ('buyer', '=', self.party(login)),
                    ])[0]
        if value == OTHER_DELIVERY:
            # one without complaint, so that only the rights refuse it
            return self.admin_ids('lead.delivery', [
                    ('lead.reference', 'like', '%-S1'),
                    ('buyer', '!=', self.party(login)),
                    ])[0]
        return value

    def stored(self, model, record_id, names):
        """The values of the fields `names` of the record of `model`, read
        by the administrator: the id of a record"""
        with Transaction().start(self.db_name, 0, readonly=True):
            record = Pool().get(model)(record_id)
            values = {name: getattr(record, name) for name in names}
            return {name: getattr(value, 'id', value)
                for name, value in values.items()}


del RouteTestCase
