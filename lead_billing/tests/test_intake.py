# This file is part of the lead trading suite. See README.rst for details.
import datetime as dt
import json
import threading
import unittest
from decimal import Decimal

from trytond import backend
from trytond.modules.lead_billing.intake import (
    Lookups, RowError, parse_price, parse_row, parse_timestamp)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, RouteTestCase, activate_module, with_transaction)
from trytond.tools import timezone
from trytond.transaction import Transaction

from .tools import lead_trading, rpc_session, run_committed, with_lead_trading

NOW = dt.datetime(2026, 3, 10, 12, 0)


def lookups(**values):
    result = dict(
        suppliers={'S1': 1}, buyers={'B1': 2, 'B2': 3},
        categories={'SOLAR': 4}, countries={'DE': 5},
        currencies={'EUR': 6, 'CHF': 7}, company_currency=6,
        tzinfo=timezone.get_tzinfo('Europe/Berlin'), now=NOW,
        future_tolerance=10, price_digits=2)
    result.update(values)
    return Lookups(**result)


def row(**values):
    result = {
        'supplier': 'S1', 'reference': 'R1', 'category': 'SOLAR',
        'received_at': '2026-03-10T09:00:00+01:00', 'name': 'Erika',
        'email': 'erika@example.com', 'phone': '030 1234567',
        'postal_code': '10115', 'city': 'Berlin', 'country': 'DE',
        }
    result.update(values)
    return result


class IntakeParseTestCase(unittest.TestCase):
    "Structural checks of intake rows"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    def assertRefused(self, row, field):
        with self.assertRaises(RowError) as cm:
            parse_row(row, lookups())
        self.assertEqual(cm.exception.field, field)
        self.assertTrue(cm.exception.message)
        return cm.exception

    @with_transaction()
    def test_good_row(self):
        lead, deliveries = parse_row(row(
                purchase_price='12.50',
                deliveries=[{'buyer': 'B1'}, {'buyer': 'B2',
                        'delivered_at': '2026-03-10T10:00:00Z',
                        'unit_price': 30}]),
            lookups())
        self.assertEqual(lead['supplier'], 1)
        self.assertEqual(lead['category'], 4)
        self.assertEqual(lead['country'], 5)
        lower, _ = parse_row(row(country='de'), lookups())
        self.assertEqual(lower['country'], 5)
        self.assertEqual(lead['purchase_price'], Decimal('12.50'))
        self.assertEqual(lead['received_at'], dt.datetime(2026, 3, 10, 8))
        self.assertEqual(deliveries[0], {
                'buyer': 2, 'delivered_at': NOW, 'unit_price': None,
                'currency': None})
        self.assertEqual(
            deliveries[1]['delivered_at'], dt.datetime(2026, 3, 10, 10))
        self.assertEqual(deliveries[1]['unit_price'], Decimal(30))

    @with_transaction()
    def test_naive_time_in_company_timezone(self):
        later = lookups(now=dt.datetime(2026, 12, 31))
        summer = parse_timestamp({'t': '2026-07-01T12:00:00'}, 't', later)
        winter = parse_timestamp({'t': '2026-01-01T12:00:00'}, 't', later)
        self.assertEqual(summer, dt.datetime(2026, 7, 1, 10))
        self.assertEqual(winter, dt.datetime(2026, 1, 1, 11))

    @with_transaction()
    def test_structural_refusals(self):
        cases = [
            (row(supplier='NOPE'), 'supplier'),
            (row(supplier=None), 'supplier'),
            (row(category='NOPE'), 'category'),
            (row(reference=''), 'reference'),
            (row(reference='  '), 'reference'),
            (row(reference=12), 'reference'),
            (row(reference='x' * 101), 'reference'),
            (row(country='XX'), 'country'),
            (row(currency='USD'), 'currency'),
            (row(name='a\x00b'), 'name'),
            (row(name=['list']), 'name'),
            (row(received_at='yesterday'), 'received_at'),
            (row(received_at=1700000000), 'received_at'),
            (row(received_at='1999-12-31T23:00:00Z'), 'received_at'),
            (row(received_at='2026-03-10T12:11:00Z'), 'received_at'),
            (row(purchase_price='-1'), 'purchase_price'),
            (row(purchase_price='abc'), 'purchase_price'),
            (row(purchase_price='NaN'), 'purchase_price'),
            (row(purchase_price='Infinity'), 'purchase_price'),
            (row(purchase_price='1.001'), 'purchase_price'),
            (row(purchase_price='1e9'), 'purchase_price'),
            (row(purchase_price=True), 'purchase_price'),
            (row(purchase_price={'a': 1}), 'purchase_price'),
            (row(colour='red'), 'colour'),
            (row(deliveries='B1'), 'deliveries'),
            (row(deliveries=['B1']), 'deliveries[0]'),
            (row(deliveries=[{'buyer': 'B9'}]), 'deliveries[0].buyer'),
            (row(deliveries=[{'buyer': 'B1', 'unit_price': '-0.01'}]),
                'deliveries[0].unit_price'),
            (row(deliveries=[{'buyer': 'B1'}, {'buyer': 'B2', 'x': 1}]),
                'deliveries[1].x'),
            ('not an object', 'row'),
            (None, 'row'),
            ]
        for value, field in cases:
            with self.subTest(row=value, field=field):
                self.assertRefused(value, field)

    @with_transaction()
    def test_prices_accepted(self):
        for value, expected in [(0, Decimal(0)), ('0.00', Decimal(0)),
                (Decimal('12.5'), Decimal('12.5')), ('99999.99', None),
                (' 7 ', Decimal(7))]:
            with self.subTest(value=value):
                self.assertEqual(
                    parse_price({'p': value}, 'p', 2),
                    expected if expected is not None else Decimal(value))

    @with_transaction()
    def test_future_tolerance(self):
        at = (NOW + dt.timedelta(minutes=10)).isoformat() + '+00:00'
        self.assertEqual(
            parse_timestamp({'t': at}, 't', lookups()),
            NOW + dt.timedelta(minutes=10))


def ingest(rows):
    return Pool().get('lead.intake').ingest(rows)


class IntakeServiceTestCase(unittest.TestCase):
    "The intake through the RPC model method"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    @with_lead_trading
    def test_rows_answered_one_by_one(self, f):
        pool = Pool()
        Intake = pool.get('lead.intake')
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        received = '2026-03-02T10:00:00+01:00'
        results = Intake.ingest([
                row(reference='OK', received_at=received,
                    deliveries=[{'buyer': 'B1',
                            'delivered_at': '2026-03-02T11:00:00+01:00'},
                        {'buyer': 'INT',
                            'delivered_at': '2026-03-02T11:00:00+01:00'}]),
                row(reference='BAD', received_at=received, phone='123',
                    email='b@example.com',
                    deliveries=[{'buyer': 'B1',
                            'delivered_at': '2026-03-02T11:00:00+01:00'}]),
                row(reference='OK', received_at=received),
                row(reference='GONE', received_at=received,
                    email='g@example.com', phone='030 7777777',
                    deliveries=[{'buyer': 'NOBODY'}]),
                row(reference='NEG', received_at=received,
                    purchase_price=-5),
                ])
        self.assertEqual(
            [r['status'] for r in results],
            ['created', 'review', 'duplicate', 'refused', 'refused'])
        ok, bad, duplicate, gone, negative = results

        lead = Lead(ok['lead'])
        self.assertEqual(lead.quality_state, 'valid')
        self.assertEqual(lead.received_at, dt.datetime(2026, 3, 2, 9))
        self.assertEqual(
            [d['status'] for d in ok['deliveries']], ['created', 'created'])
        deliveries = Delivery.browse(
            [d['delivery'] for d in ok['deliveries']])
        self.assertEqual(
            [(d.buyer, d.supplier, d.billable, d.unit_price)
                for d in deliveries],
            [(f.buyer, lead.supplier, True, Decimal('30.00')),
                (f.internal, lead.supplier, False, Decimal('30.00'))])
        self.assertEqual(lead.delivery_count, 2)

        self.assertEqual(
            bad['reasons'], [{'code': 'phone',
                    'message': "Invalid phone number"}])
        self.assertEqual(bad['deliveries'][0]['status'], 'refused')
        self.assertEqual(
            bad['deliveries'][0]['errors'][0]['field'], 'deliveries[0].lead')

        self.assertEqual(duplicate['lead'], ok['lead'])
        self.assertEqual(gone['errors'][0]['field'], 'deliveries[0].buyer')
        self.assertEqual(negative['errors'][0]['field'], 'purchase_price')
        self.assertFalse(Lead.search([
                    ('reference', 'in', ['GONE', 'NEG'])]))
        self.assertEqual(Lead.search([], count=True), 2)
        self.assertEqual(Delivery.search([], count=True), 2)

    @with_lead_trading
    def test_duplicate_row_adds_deliveries(self, f):
        "A re-sent lead keeps its record and gets its new deliveries"
        pool = Pool()
        Intake = pool.get('lead.intake')
        Lead = pool.get('lead.lead')
        first, = Intake.ingest([row(reference='X',
                    received_at='2026-03-02T10:00:00Z',
                    deliveries=[{'buyer': 'B1',
                            'delivered_at': '2026-03-02T11:00:00Z'}])])
        again, = Intake.ingest([row(reference='X',
                    received_at='2026-03-02T10:00:00Z',
                    deliveries=[{'buyer': 'B1',
                            'delivered_at': '2026-03-02T11:00:00Z'},
                        {'buyer': 'B2',
                            'delivered_at': '2026-03-03T11:00:00Z'}])])
        self.assertEqual(again['status'], 'duplicate')
        self.assertEqual(again['lead'], first['lead'])
        self.assertEqual(
            [d['status'] for d in again['deliveries']],
            ['refused', 'created'])
        self.assertEqual(Lead(first['lead']).delivery_count, 2)

    @with_lead_trading
    def test_content_duplicate_within_batch_linked(self, f):
        "A lead repeating an earlier one of the batch points to it"
        Lead = Pool().get('lead.lead')
        first, second = ingest([
                row(reference='P1', email='same@example.com',
                    received_at='2026-03-02T10:00:00Z'),
                row(reference='P2', email='same@example.com',
                    phone='030 9999999',
                    received_at='2026-03-02T11:00:00Z')])
        self.assertEqual(second['status'], 'review')
        self.assertEqual(second['reasons'][0]['code'], 'duplicate')
        self.assertEqual(Lead(second['lead']).duplicate_of.id, first['lead'])

    @with_lead_trading
    def test_duplicate_within_batch(self, f):
        Intake = Pool().get('lead.intake')
        a, b = Intake.ingest([
                row(reference='Y', received_at='2026-03-02T10:00:00Z'),
                row(reference='Y', received_at='2026-03-02T10:00:00Z')])
        self.assertEqual((a['status'], b['status']), ('created', 'duplicate'))
        self.assertEqual(a['lead'], b['lead'])

    @with_lead_trading
    def test_currency_must_match_price(self, f):
        pool = Pool()
        Currency = pool.get('currency.currency')
        Intake = pool.get('lead.intake')
        Currency.create([{'name': 'Swiss Franc', 'code': 'CHF',
                    'symbol': 'CHF'}])
        euro, franc = Intake.ingest([
                row(reference='EUR', currency='EUR',
                    received_at='2026-03-02T10:00:00Z'),
                row(reference='CHF', currency='CHF',
                    received_at='2026-03-02T10:00:00Z',
                    email='c@example.com', phone='030 5555555')])
        self.assertEqual(euro['status'], 'created')
        self.assertEqual(franc['status'], 'refused')
        self.assertEqual(franc['errors'][0]['field'], 'currency')

    @with_lead_trading
    def test_batch_limit(self, f):
        pool = Pool()
        Configuration = pool.get('lead.configuration')
        Intake = pool.get('lead.intake')
        Configuration.write([Configuration(1)], {'intake_batch_limit': 2})
        with self.assertRaises(Exception) as cm:
            Intake.ingest([row(reference=str(i)) for i in range(3)])
        self.assertIn('more than the limit of 2', str(cm.exception))

    @with_lead_trading
    def test_not_a_batch(self, f):
        Intake = Pool().get('lead.intake')
        with self.assertRaises(Exception) as cm:
            Intake.ingest({'supplier': 'S1'})
        self.assertIn('must be a list', str(cm.exception))


class IntakeRouteTestCase(RouteTestCase):
    "The intake through its HTTP endpoint"
    module = 'lead_billing'
    limit = 50
    password = 'Intake-Test-2026!'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        with lead_trading() as fixture:
            company = fixture.company
        group = Group(ModelData.get_id('lead_billing', 'group_lead_trading'))
        platform, outsider = User.create([{
                    'name': "Lead platform", 'login': 'platform',
                    'password': cls.password,
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    'groups': [('add', [group.id])],
                    }, {
                    'name': "Outsider", 'login': 'outsider',
                    'password': cls.password,
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        keys = Application.create([
                {'user': platform.id, 'application': 'lead_intake'},
                {'user': platform.id, 'application': 'rest'},
                {'user': outsider.id, 'application': 'lead_intake'},
                {'user': platform.id, 'application': 'lead_intake',
                    'state': 'cancelled'},
                ])
        cls.key, cls.rest_key, cls.outsider_key, cls.cancelled_key = [
            k.key for k in keys]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def set_limit():
            Configuration = Pool().get('lead.configuration')
            Configuration.write([Configuration(1)], {
                    'intake_batch_limit': cls.limit})
        run_committed(DB_NAME, set_limit)

    def post(self, body, key=None, raw=False):
        headers = {'Authorization': f'bearer {key or self.key}'}
        if key == '':
            headers = {}
        data = body if raw else json.dumps(body)
        return self.client().post(
            f'/{self.db_name}/lead_billing/intake', data=data,
            headers=headers, content_type='application/json')

    def test_missing_or_wrong_key(self):
        for key in ['', 'wrong', None]:
            with self.subTest(key=key):
                headers = {} if key in ('', None) else {
                    'Authorization': f'bearer {key}'}
                response = self.client().post(
                    f'/{self.db_name}/lead_billing/intake',
                    data='[]', headers=headers)
                self.assertEqual(response.status_code, 401)

    def test_key_of_other_application_or_cancelled(self):
        for key in [self.rest_key, self.cancelled_key]:
            with self.subTest(key=key):
                response = self.post([], key=key)
                self.assertEqual(response.status_code, 401)

    def test_user_without_rights_stores_nothing(self):
        response = self.post([row(reference='OUT')], key=self.outsider_key)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.count_leads('OUT'))

    def count_leads(self, reference):
        with Transaction().start(self.db_name, 0, readonly=True):
            Lead = Pool().get('lead.lead')
            return Lead.search([('reference', '=', reference)], count=True)

    def test_batch_answers_per_row(self):
        received = '2026-03-02T10:00:00+01:00'
        response = self.post({'leads': [
                    row(reference='H1', received_at=received,
                        deliveries=[{'buyer': 'B1',
                                'delivered_at': '2026-03-02T11:00+01:00'}]),
                    row(reference='H2', received_at=received,
                        email='nope', phone='030 6666666'),
                    row(reference='H3', supplier='NOPE'),
                    ]})
        self.assertEqual(response.status_code, 200)
        answer = response.json
        self.assertEqual(
            [r['status'] for r in answer['results']],
            ['created', 'review', 'refused'])
        self.assertEqual(
            answer['summary'], {'created': 1, 'review': 1, 'refused': 1})
        self.assertEqual(answer['results'][0]['deliveries'][0]['status'],
            'created')
        self.assertEqual(answer['results'][2]['errors'], [{
                    'field': 'supplier',
                    'message': 'No lead supplier has the code "NOPE".'}])
        self.assertEqual(self.count_leads('H1'), 1)
        self.assertEqual(self.count_leads('H3'), 0)

        again = self.post([row(reference='H1', received_at=received)])
        self.assertEqual(again.json['results'][0]['status'], 'duplicate')

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (runs in its pass)")
    def test_same_batch_twice_at_once(self):
        "Two platforms sending the same batch at once store it once"
        rows = [row(reference=f'C{i}', email=f'c{i}@example.com',
                phone=f'030 {4000000 + i}',
                received_at='2026-03-02T10:00:00Z',
                deliveries=[{'buyer': 'B1',
                        'delivered_at': '2026-03-02T11:00:00Z'}])
            for i in range(40)]
        barrier = threading.Barrier(2)
        responses = []

        def send():
            barrier.wait()
            responses.append(self.post(rows))
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual([r.status_code for r in responses], [200, 200])
        statuses = sorted(
            result['status'] for r in responses
            for result in r.json['results'])
        self.assertEqual(statuses, ['created'] * 40 + ['duplicate'] * 40)
        created = [d['status'] for r in responses
            for result in r.json['results']
            for d in result['deliveries']]
        self.assertEqual(created.count('created'), 40)
        with Transaction().start(self.db_name, 0, readonly=True):
            pool = Pool()
            Lead = pool.get('lead.lead')
            Delivery = pool.get('lead.delivery')
            self.assertEqual(Lead.search(
                    [('reference', 'like', 'C%')], count=True), 40)
            self.assertEqual(Delivery.search(
                    [('lead.reference', 'like', 'C%')], count=True), 40)

    def rpc(self, login, method, params):
        "Call a Tryton RPC method over JSON-RPC as login"
        call = rpc_session(self.client(), self.db_name, login, self.password)
        return call(method, params)

    def test_rpc_ingest(self):
        "The intake answers over Tryton's JSON-RPC as over its endpoint"
        answer = self.rpc('platform', 'model.lead.intake.ingest', [
                [row(reference='RPC1', email='rpc@example.com',
                        phone='030 5550001',
                        received_at='2026-03-02T10:00:00Z')], {}])
        self.assertIn('result', answer, answer)
        result, = answer['result']
        self.assertEqual(result['status'], 'created')
        self.assertEqual(self.count_leads('RPC1'), 1)

    def test_rpc_ingest_without_rights(self):
        answer = self.rpc('outsider', 'model.lead.intake.ingest', [
                [row(reference='RPC2')], {}])
        self.assertNotIn('result', answer)
        self.assertEqual(answer['error'][0], 'UserError')
        self.assertEqual(self.count_leads('RPC2'), 0)

    def test_malformed_json(self):
        response = self.post('[{"supplier": "S1",', raw=True)
        self.assertEqual(response.status_code, 400)
        self.assertIn('not valid JSON', response.json['error'])

    def test_not_a_list(self):
        response = self.post({'supplier': 'S1'})
        self.assertEqual(response.status_code, 400)
        self.assertIn('must be a list', response.json['error'])

    def test_batch_over_limit(self):
        response = self.post(
            [row(reference=f'L{i}') for i in range(self.limit + 1)])
        self.assertEqual(response.status_code, 413)
        self.assertIn(f'limit of {self.limit}', response.json['error'])
        self.assertEqual(self.count_leads('L0'), 0)


del RouteTestCase
