# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for tests of the lead trading modules: a German company
with lead categories, suppliers, buyers and prices. To be called inside a
transaction (see `trytond.tests.test_tryton.with_transaction`)."""
import base64
import datetime as dt
import inspect
import json
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager
from decimal import Decimal
from functools import wraps
from types import SimpleNamespace
from unittest import mock

from lxml import etree

from trytond import backend
from trytond.cache import Cache
from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.currency.tests import add_currency_rate, create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db, with_transaction
from trytond.transaction import Transaction, TransactionError

PRICE_START = dt.date(2020, 1, 1)
COMPANY_NAME = 'Leadhandel GmbH'
# the parties of the fixture by their name in it and their code
MASTER_PARTIES = {
    'supplier': 'S1', 'buyer': 'B1', 'buyer2': 'B2', 'internal': 'INT'}


# The tables whose lock tests asked for: Tryton takes a lock by starting
# the transaction again with it, which would build a test's fixture once
# more for every lock met on the way; a test starts with the locks tests
# needed before, those of the tables its database has; most tests meet
# the configurations and the journal periods.
_KNOWN_LOCKS = [
    'account_configuration', 'lead_configuration', 'account_journal_period']


def _known_locks():
    "The locks asked for before, of tables of the test database"
    tables = {Model._table for _, Model in Pool(DB_NAME).iterobject()
        if getattr(Model, '_table', None)}
    return [t for t in _KNOWN_LOCKS if t in tables]


def with_lead_trading(func):
    """Run the test method in a transaction with the fixture of
    `lead_trading` as argument, rolled back afterwards as `with_transaction`
    does. The fixture is committed in the test database by the first test
    that needs it and looked up by the next ones: it costs a second or two
    to build, on every test."""
    @wraps(func)
    def wrapper(self):
        locks = _known_locks()
        drop_after_class(type(self))
        commit_lead_trading()
        while True:
            with Transaction().start(
                    DB_NAME, 1, _lock_tables=list(locks)) as transaction:
                try:
                    with committed_lead_trading() as fixture:
                        return func(self, fixture)
                except TransactionError as e:
                    extras = {}
                    e.fix(extras)
                    # no other transaction runs: a record lock may as well
                    # be one of its table
                    for table in [*extras.get('_lock_tables', []),
                            *extras.get('_lock_records', {})]:
                        if table not in locks:
                            locks.append(table)
                        if table not in _KNOWN_LOCKS:
                            _KNOWN_LOCKS.append(table)
                    continue
                finally:
                    transaction.rollback()
                    transaction.tasks.clear()
                    Cache.drop(DB_NAME)
    return wrapper


def run_committed(database_name, func, user=0):
    """Run `func` in its own transaction and commit it, starting again with
    the table locks that Tryton asks for (as the server does)."""
    extras = {}
    while True:
        with Transaction().start(database_name, user, **extras) as transaction:
            try:
                result = func()
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            transaction.commit()
            return result


def create_country(code='DE', name='Germany'):
    Country = Pool().get('country.country')
    countries = Country.search([('code', '=', code)])
    if countries:
        return countries[0]
    country, = Country.create([{'code': code, 'name': name}])
    return country


def create_lead_category(code, product, **values):
    Category = Pool().get('lead.category')
    category, = Category.create([{
                'code': code, 'name': code.title(), 'product': product.id,
                **values}])
    return category


def create_service_product(name='Lead'):
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', 'Unit')])
    template, = Template.create([{
                'name': name, 'type': 'service',
                'default_uom': unit.id,
                'products': [('create', [{}])],
                }])
    return template.products[0]


def create_party(name, code, **values):
    Party = Pool().get('party.party')
    party, = Party.create([{
                'name': name, 'code': code,
                'addresses': [('create', [{
                                'street': 'Hauptstraße 1',
                                'postal_code': '10115', 'city': 'Berlin',
                                }])],
                **values}])
    return party


def create_price(category, kind, unit_price, party=None,
        start_date=PRICE_START, end_date=None, currency=None):
    Price = Pool().get('lead.price')
    price, = Price.create([{
                'category': category.id, 'kind': kind,
                'party': party.id if party else None,
                'start_date': start_date, 'end_date': end_date,
                'unit_price': Decimal(unit_price),
                'currency': (currency or category_currency()).id,
                }])
    return price


def category_currency():
    Company = Pool().get('company.company')
    return Company(Transaction().context['company']).currency


@contextmanager
def lead_trading():
    """Create the company and the master data used by most tests and yield
    them inside the company's context."""
    pool = Pool()
    Company = pool.get('company.company')
    eur = create_currency('EUR')
    add_currency_rate(eur, 1)
    company = create_company(name=COMPANY_NAME, currency=eur)
    company.timezone = 'Europe/Berlin'
    company.save()
    company = Company(company.id)
    with set_company(company):
        yield create_master_data(company, eur)


# The test classes that drop the database when they end
_DROPPING_CLASSES = set()


def drop_after_class(cls):
    """Drop the test database after the tests of `cls`: what they committed
    must not reach the next test class, nor the database cache that
    Tryton fills from the database a class starts with"""
    if cls not in _DROPPING_CLASSES:
        _DROPPING_CLASSES.add(cls)
        cls.addClassCleanup(drop_db)


def commit_lead_trading():
    "Commit the fixture of `lead_trading` unless the test database has it"
    def build():
        Company = Pool().get('company.company')
        if not Company.search([('party.name', '=', COMPANY_NAME)]):
            with lead_trading():
                pass
    run_committed(DB_NAME, build, user=1)


@contextmanager
def committed_lead_trading():
    """Yield the fixture of `lead_trading` committed by
    `commit_lead_trading`, inside the company's context"""
    pool = Pool()
    Company = pool.get('company.company')
    Country = pool.get('country.country')
    Category = pool.get('lead.category')
    Party = pool.get('party.party')
    company, = Company.search([('party.name', '=', COMPANY_NAME)])
    company = Company(company.id)
    with set_company(company):
        parties = {p.code: p for p in Party.search([
                    ('code', 'in', list(MASTER_PARTIES.values())),
                    ])}
        categories = {c.code: c for c in Category.search([
                    ('code', 'in', ['SOLAR', 'HEAT']),
                    ])}
        germany, = Country.search([('code', '=', 'DE')])
        yield SimpleNamespace(
            company=company, currency=company.currency, germany=germany,
            product=categories['SOLAR'].product,
            solar=categories['SOLAR'], heat=categories['HEAT'],
            **{name: parties[code] for name, code in MASTER_PARTIES.items()})


def create_master_data(company, eur):
    germany = create_country()
    product = create_service_product()
    solar = create_lead_category('SOLAR', product)
    heat = create_lead_category('HEAT', product)
    supplier = create_party(
        "Leadquelle AG", 'S1', lead_supplier=True,
        self_billing_agreement_date=dt.date(2024, 1, 1),
        self_billing_agreement_reference='GS-2024-1')
    buyer = create_party("Solar Nord GmbH", 'B1', lead_buyer=True)
    buyer2 = create_party("Wärme Süd KG", 'B2', lead_buyer=True)
    internal = create_party(
        "Eigenvertrieb", 'INT', lead_buyer=True, lead_internal=True)
    for category in [solar, heat]:
        create_price(category, 'purchase', '10.00')
        create_price(category, 'sale', '30.00')
    return SimpleNamespace(
        company=company, currency=eur, germany=germany, product=product,
        solar=solar, heat=heat, supplier=supplier, buyer=buyer,
        buyer2=buyer2, internal=internal)


def lead_values(fixture, reference, **values):
    "Values of a valid lead of `fixture` for `Lead.create`"
    result = {
        'supplier': fixture.supplier.id,
        'reference': reference,
        'category': fixture.solar.id,
        'received_at': dt.datetime(2026, 3, 2, 9, 0),
        'name': 'Erika Mustermann',
        'email': f'{reference.lower()}@example.com',
        'phone': f'030 {1000000 + zlib.crc32(reference.encode()) % 8999999}',
        'postal_code': '10115',
        'city': 'Berlin',
        'country': fixture.germany.id,
        }
    result.update(values)
    return result


def setup_accounting(fixture, years=()):
    """Give the fixture's company a chart of accounts with a 20 % tax, the
    fiscal years of `years` and of today with invoice sequences, and put
    the lead product on an accounting category; return the tax."""
    pool = Pool()
    Account = pool.get('account.account')
    Tax = pool.get('account.tax')
    FiscalYear = pool.get('account.fiscalyear')
    ProductCategory = pool.get('product.category')
    Date = pool.get('ir.date')
    company = fixture.company
    create_chart(company, tax=True)
    for year in sorted({*years, Date.today().year}):
        fiscalyear = set_invoice_sequences(get_fiscalyear(
                company, today=dt.date(year, 1, 1)))
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])
    revenue, = Account.search([
            ('type.revenue', '=', True), ('closed', '!=', True),
            ('company', '=', company.id)],
        limit=1)
    expense, = Account.search([
            ('type.expense', '=', True), ('closed', '!=', True),
            ('company', '=', company.id)],
        limit=1)
    tax, = Tax.search([('company', '=', company.id)])
    category, = ProductCategory.create([{
                'name': 'Leads', 'accounting': True,
                'account_revenue': revenue.id,
                'account_expense': expense.id,
                'customer_taxes': [('add', [tax.id])],
                'supplier_taxes': [('add', [tax.id])],
                }])
    template = fixture.product.template
    template.account_category = category
    template.save()
    return tax


def ago(days=0, hours=0):
    "A naive UTC time `days` and `hours` before now"
    return dt.datetime.now() - dt.timedelta(days=days, hours=hours)


def run_billing(fixture, post=True):
    "Compute (and post) a billing run up to yesterday"
    pool = Pool()
    Run = pool.get('lead.billing.run')
    Date = pool.get('ir.date')
    run, = Run.create([{
                'company': fixture.company.id,
                'cut_off': Date.today() - dt.timedelta(days=1),
                }])
    Run._compute([run])
    if post:
        Run.post([run])
    return Run(run.id)


def deliver_lead(fixture, reference, *buyers, delivered_at=None, **values):
    """Create a valid lead of `fixture` and deliver it to each buyer;
    return the deliveries"""
    pool = Pool()
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    delivered_at = delivered_at or ago(hours=2)
    values.setdefault('received_at', delivered_at - dt.timedelta(minutes=5))
    lead, = Lead.create([lead_values(fixture, reference, **values)])
    return Delivery.create([{
                'lead': lead.id, 'buyer': buyer.id,
                'delivered_at': delivered_at,
                } for buyer in buyers])


def login_wizard(party, **values):
    """The login wizard of `party` with its proposal, changed by `values`;
    return the wizard"""
    CreateLogin = Pool().get('lead.party.create_login', type='wizard')
    session_id, _, _ = CreateLogin.create()
    wizard = CreateLogin(session_id)
    with Transaction().set_context(active_model='party.party',
            active_id=party.id, active_ids=[party.id]):
        for name, value in {**wizard.default_start(None), **values}.items():
            setattr(wizard.start, name, value)
    return wizard


def create(wizard):
    party = wizard.start.party
    with Transaction().set_context(active_model='party.party',
            active_id=party.id, active_ids=[party.id]):
        return wizard.transition_create_()


def rpc_session(client, database, login, password):
    """Log `login` in over Tryton's JSON-RPC with the test `client` of a
    RouteTestCase; return call(method, params), which answers the decoded
    JSON-RPC response of `method` called in that session"""
    url = f'/{database}/rpc/'

    def post(method, params, headers=None):
        response = client.post(url, headers=headers or {},
            data=json.dumps({'id': 1, 'method': method, 'params': params}),
            content_type='application/json')
        return response.json
    user_id, session, _ = post('common.db.login',
        [login, {'password': password}, 'en'])['result']
    token = base64.b64encode(
        f'{login}:{user_id}:{session}'.encode()).decode()

    def call(method, params):
        return post(method, params,
            headers={'Authorization': f'Session {token}'})
    return call


class WebClientViewMixin:
    """Checks of the module's views that the server accepts but the web
    client cannot show"""

    # sao draws a date and a time column for a datetime; a column with
    # the field's own type has no widget and stops the view from loading
    TREE_WIDGETS = {
        'datetime': {'date', 'time'},
        'timestamp': {'date', 'time'},
        }

    @with_transaction()
    def test_tree_view_widgets(self):
        "Every tree view column has a widget the web client can draw"
        pool = Pool()
        View = pool.get('ir.ui.view')
        views = View.search([('module', '=', self.module)])
        roots = set()
        for view in views:
            while view.inherit:
                view = view.inherit
            roots.add(view)
        for view in sorted(roots, key=lambda v: v.id):
            if view.real_type != 'tree':
                continue
            Model = pool.get(view.model)
            result = Model.fields_view_get(view_id=view.id)
            arch = etree.fromstring(result['arch'])
            for element in arch.iter('field'):
                name = element.get('name')
                type_ = result['fields'][name]['type']
                allowed = self.TREE_WIDGETS.get(type_)
                if allowed is None:
                    continue
                with self.subTest(view=view.name or view.id, field=name):
                    self.assertIn(element.get('widget'), allowed)


def injected_failure():
    raise RuntimeError("injected failure")


@contextmanager
def interrupted(model, method, calls, interrupt=injected_failure):
    """Let the first `calls` calls of `method` of the pool's `model` run,
    then call `interrupt()` before each further one: by default it raises,
    to fail an operation after part of its work."""
    Model = Pool(DB_NAME).get(model)
    original = getattr(Model, method)
    count = 0

    def wrapper(*args, **kwargs):
        nonlocal count
        count += 1
        if count > calls:
            interrupt()
        return original(*args, **kwargs)
    if isinstance(inspect.getattr_static(Model, method), classmethod):
        # bound to Model already: drop the class the classmethod adds
        replacement = classmethod(lambda cls, *a, **k: wrapper(*a, **k))
    else:
        replacement = wrapper
    with mock.patch.object(Model, method, replacement):
        yield


def kill_midway(operation, args, pause, company, timeout=60):
    """Run `operation(*args)` in the company's context in a committed
    transaction of a child Python process on the test database (see
    crash_child.py), pause it at `pause` (model, method, calls as for
    `interrupted`) and kill the process there with SIGKILL. Return once
    PostgreSQL has ended the child's session, so its locks are free."""
    spec = json.dumps({
            'operation': f'{operation.__module__}:{operation.__qualname__}',
            'args': list(args), 'pause': list(pause), 'company': company,
            })
    with tempfile.TemporaryFile('w+') as errors:
        child = subprocess.Popen(
            [sys.executable, '-m',
                'trytond.modules.lead_billing.tests.crash_child', spec],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            text=True)
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(child.stdout, selectors.EVENT_READ)
                line = (child.stdout.readline()
                    if selector.select(timeout) else '')
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdin.close()
            child.stdout.close()
        if not line:
            errors.seek(0)
            raise AssertionError(
                f"the child never reached {pause}:\n{errors.read()}")
    wait_session_ended(json.loads(line)['backend'], timeout)


def wait_session_ended(pid, timeout):
    "Wait until the PostgreSQL session of backend `pid` is gone"
    deadline = time.monotonic() + timeout
    while True:
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(
                'SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s',
                (pid,))
            count, = cursor.fetchone()
        if not count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"session {pid} still there")
        time.sleep(0.05)


def with_lock_timeout(func, seconds=10):
    """`func` failing on a lock it waits for longer than `seconds`, such
    as one a killed process would have left, instead of hanging"""
    @wraps(func)
    def wrapper(*args, **kwargs):
        if backend.name == 'postgresql':
            Transaction().connection.cursor().execute(
                f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")
        return func(*args, **kwargs)
    return wrapper
