# This file is part of the lead trading suite. See README.rst for details.
"""Bad input at the intake: every row ends as a valid record or a per-row
error of message.xml, never as a server error nor as a partial row.

The property tests drive the pure parsing functions with hypothesis under
fixed settings (derandomized, bounded, no example database) so that a run
is repeatable and takes seconds; the fuzz run posts a few hundred seeded
random payloads to the HTTP endpoint and checks the database after each."""
import datetime as dt
import json
import os
import random
import re
import unittest
from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree
from sql import Table

from trytond.modules.lead_billing import validation
from trytond.modules.lead_billing.intake import (
    EARLIEST, MAX_PRICE, MAX_REFERENCE, MAX_TEXT, TEXT_FIELDS, RowError,
    parse_price, parse_row, parse_timestamp)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, RouteTestCase, activate_module, with_transaction)
from trytond.transaction import Transaction

from . import test_intake
from .test_intake import NOW, lookups, row
from .tools import run_committed

# Repeatable and fast: the same examples on every run, none replayed from
# a local example database, no deadline on a shared test machine
FIXED = settings(
    max_examples=150, derandomize=True, database=None, deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
        HealthCheck.filter_too_much])


def message_patterns():
    """The regular expressions matching the texts of the module's messages
    with any value in their placeholders, by message id"""
    path = os.path.join(os.path.dirname(__file__), '..', 'message.xml')
    patterns = {}
    for record in etree.parse(path).iter('record'):
        text = record.find('field[@name="text"]').text
        parts = re.split(r'%\(\w+\)s', text)
        patterns[record.get('id')] = re.compile(
            '.*'.join(re.escape(p) for p in parts) + r'\Z', re.DOTALL)
    return patterns


PATTERNS = message_patterns()
INTAKE_PATTERNS = {
    id_: p for id_, p in PATTERNS.items() if id_.startswith('msg_intake_')}


def message_id(message, patterns=INTAKE_PATTERNS):
    "The id of the message whose text `message` is, or None"
    for id_, pattern in patterns.items():
        if pattern.match(message):
            return id_


# Any character, with lone surrogates (JSON may escape them: "\ud800"),
# control characters and characters outside the BMP
any_char = st.characters(exclude_categories=())
any_text = st.text(any_char, max_size=20) | st.text(
    any_char, min_size=MAX_REFERENCE - 2, max_size=MAX_TEXT + 3)
# which a uniform draw of characters seldom meets
any_text |= st.tuples(any_text, st.sampled_from(
        ['\ud800', '\udfff', '\x00', '\n', '\x7f', '\u202e', '\ufeff',
            'S1', 'B1'])).map(''.join)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.decimals() | any_text,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(any_text, children, max_size=3),
    max_leaves=6)


offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m)))
zones = st.none() | offsets
# from year 1 to 9999 with and without offset, the first and last days
# (which an offset moves out of range), and around now, where the future
# tolerance lies
datetimes = (st.datetimes(timezones=zones)
    | st.datetimes(max_value=dt.datetime(1, 1, 2), timezones=zones)
    | st.datetimes(min_value=dt.datetime(9999, 12, 31), timezones=zones)
    | st.datetimes(
        NOW - dt.timedelta(days=3), NOW + dt.timedelta(hours=3),
        timezones=zones))
timestamps = (datetimes.map(dt.datetime.isoformat)
    | datetimes.map(lambda d: d.isoformat(sep=' ', timespec='minutes'))
    | st.dates().map(dt.date.isoformat) | junk)
decimals = st.decimals(allow_nan=False, allow_infinity=False)
prices = (decimals | decimals.map(str) | st.integers()
    | st.decimals(0, MAX_PRICE, places=2) | st.floats()
    | st.sampled_from(['NaN', '-Infinity', '1e999999', '-0', ' 7 ', ''])
    | junk)
good_text = st.text(st.characters(codec='utf-8', exclude_categories=['C']),
    min_size=1, max_size=30)


def codes(*valid):
    "Known codes (with blanks around, in lower case) or anything else"
    return (st.sampled_from(valid)
        | st.sampled_from(valid).map(lambda c: f' {c.lower()} ')
        | any_text | junk)


@st.composite
def spoiled(draw, good, bad):
    """A dictionary of the `good` values (strategies by key) with some of
    them missing or replaced by `bad` ones, or anything else"""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk | st.dictionaries(any_text, junk, max_size=3))
    values = {k: draw(v) for k, v in good.items()}
    for key in draw(st.sets(st.sampled_from(sorted(bad)), max_size=3)):
        value = draw(st.none() | bad[key])
        if value is None and draw(st.booleans()):
            values.pop(key, None)
        else:
            values[key] = value
    return values


deliveries = spoiled({
        'buyer': st.sampled_from(['B1', 'B2']),
        'delivered_at': st.datetimes(NOW - dt.timedelta(days=3), NOW).map(
            dt.datetime.isoformat),
        }, {
        'buyer': codes('B1', 'B2'),
        'delivered_at': timestamps,
        'unit_price': prices,
        'currency': codes('EUR', 'CHF'),
        'unknown': junk,
        })
rows = spoiled({
        'supplier': st.just('S1'),
        'reference': good_text,
        'category': st.just('SOLAR'),
        'name': good_text,
        'email': good_text,
        'deliveries': st.lists(deliveries, max_size=3),
        }, {
        'supplier': codes('S1'),
        'reference': any_text | junk,
        'received_at': timestamps,
        'category': codes('SOLAR'),
        'country': codes('DE'),
        'purchase_price': prices,
        'currency': codes('EUR', 'CHF'),
        'deliveries': st.lists(deliveries, max_size=3) | junk,
        'unknown': junk,
        **{f: any_text | junk for f in TEXT_FIELDS},
        })


def is_clean_text(value, max_length=MAX_TEXT):
    "Whether a parsed text can be stored as it is"
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return (0 < len(value) <= max_length and value == value.strip()
        and not any(ord(c) < 32 for c in value))


class IntakePropertyTestCase(unittest.TestCase):
    "Properties of the intake parsing over generated rows"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    def assertRowError(self, error):
        self.assertIsInstance(error.field, str)
        self.assertIsNotNone(message_id(error.message), error.message)
        # only an unknown field may have an empty name
        self.assertTrue(error.field
            or message_id(error.message) == 'msg_intake_unknown_field')

    def assertValidPrice(self, price, digits):
        self.assertIsInstance(price, Decimal)
        self.assertTrue(0 <= price < MAX_PRICE)
        self.assertEqual(price, round(price, digits))

    def assertValidTime(self, timestamp, lookups):
        self.assertIsNone(timestamp.tzinfo)
        self.assertTrue(EARLIEST <= timestamp <= lookups.now
            + dt.timedelta(minutes=lookups.future_tolerance))

    @with_transaction()
    @FIXED
    @given(rows)
    def test_row_parsed_or_refused(self, row):
        "Every row gives valid values or a RowError, nothing else"
        batch = lookups()
        try:
            lead, parsed = parse_row(row, batch)
        except RowError as e:
            self.assertRowError(e)
            event('refused ' + message_id(e.message))
            return
        event('parsed')
        self.assertEqual(lead['supplier'], 1)
        self.assertEqual(lead['category'], 4)
        self.assertIn(lead['country'], {None, 5})
        self.assertIn(lead['currency'], {None, 6, 7})
        self.assertTrue(is_clean_text(lead['reference'], MAX_REFERENCE))
        for field in TEXT_FIELDS:
            if lead[field] is not None:
                self.assertTrue(is_clean_text(lead[field]), field)
        self.assertValidTime(lead['received_at'], batch)
        if lead['purchase_price'] is not None:
            self.assertValidPrice(lead['purchase_price'], 2)
        self.assertLessEqual(len(parsed), len(row.get('deliveries') or []))
        for delivery in parsed:
            self.assertIn(delivery['buyer'], {2, 3})
            self.assertIn(delivery['currency'], {None, 6, 7})
            self.assertValidTime(delivery['delivered_at'], batch)
            if delivery['unit_price'] is not None:
                self.assertValidPrice(delivery['unit_price'], 4)

    @with_transaction()
    @FIXED
    @given(st.sampled_from(['reference', *TEXT_FIELDS]), any_text | junk)
    def test_text_stored_as_sent_or_refused(self, field, value):
        "A text is taken without its blanks or refused with the reason"
        try:
            lead, _ = parse_row(row(**{field: value}), lookups())
        except RowError as e:
            self.assertRowError(e)
            self.assertEqual(e.field, field)
            refused = message_id(e.message)
            event(refused)
            if not isinstance(value, str):
                self.assertEqual(refused, 'msg_intake_not_text')
            elif not value.strip():
                self.assertEqual(refused, 'msg_intake_missing')
            else:
                self.assertIn(refused, {'msg_intake_too_long',
                        'msg_intake_control_character',
                        'msg_intake_surrogate'})
                self.assertFalse(is_clean_text(value.strip(),
                        MAX_REFERENCE if field == 'reference' else MAX_TEXT))
            return
        if value is None or (isinstance(value, str) and not value.strip()):
            self.assertIsNone(lead[field])
        else:
            self.assertEqual(lead[field], value.strip())
            self.assertTrue(is_clean_text(lead[field]))

    @with_transaction()
    @FIXED
    @given(datetimes)
    def test_timestamp_in_range_or_refused(self, value):
        "A time is taken exactly when it lies from 2000 to now + tolerance"
        batch = lookups()
        aware = value if value.tzinfo else value.replace(tzinfo=batch.tzinfo)
        try:
            expected = aware.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            expected = None
        try:
            result = parse_timestamp(
                {'t': value.isoformat()}, 't', batch)
        except RowError as e:
            self.assertRowError(e)
            refused = message_id(e.message)
            if expected is None:
                self.assertIn(
                    refused, {'msg_intake_too_old', 'msg_intake_future'})
            elif expected < EARLIEST:
                self.assertEqual(refused, 'msg_intake_too_old')
            else:
                self.assertEqual(refused, 'msg_intake_future')
                self.assertGreater(expected, NOW + dt.timedelta(minutes=10))
            return
        self.assertEqual(result, expected)
        self.assertValidTime(result, batch)

    @with_transaction()
    @FIXED
    @given(prices, st.sampled_from([0, 2, 4]))
    def test_price_amount_or_refused(self, value, digits):
        "A price is an amount from 0 to below the maximum or refused"
        try:
            price = parse_price({'p': value}, 'p', digits)
        except RowError as e:
            self.assertRowError(e)
            refused = message_id(e.message)
            if isinstance(value, (int, Decimal)) and not isinstance(
                    value, bool) and Decimal(value).is_finite():
                self.assertEqual(refused, 'msg_intake_negative'
                    if value < 0 else 'msg_intake_price_too_high'
                    if value >= MAX_PRICE else 'msg_intake_price_digits')
            return
        if value is None:
            self.assertIsNone(price)
        else:
            self.assertValidPrice(price, digits)
            self.assertEqual(price, Decimal(str(value).strip()))

    @FIXED
    @given(any_text | st.none(), st.sampled_from(['DE', 'AT', 'XX', '']))
    def test_quality_rules_total(self, value, region):
        "The quality rules answer any stored text without raising"
        phone = validation.normalize_phone(value, region or 'DE')
        self.assertTrue(phone is None or re.fullmatch(r'\+\d+', phone))
        self.assertIsInstance(validation.is_valid_email(value), bool)
        self.assertIn(validation.is_valid_postal_code(value, region),
            {True, False, None})
        key = validation.normalize_email(value)
        self.assertTrue(key is None or key == key.strip().lower())


class IntakeFuzzTestCase(RouteTestCase):
    "A seeded fuzz run of the HTTP intake"
    module = 'lead_billing'
    limit = 40
    password = test_intake.IntakeRouteTestCase.password
    seed = 20261204
    payloads = 300

    @classmethod
    def setUpDatabase(cls):
        test_intake.IntakeRouteTestCase.setUpDatabase.__func__(cls)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def set_limit():
            Configuration = Pool().get('lead.configuration')
            Configuration.write([Configuration(1)], {
                    'intake_batch_limit': cls.limit})
        run_committed(DB_NAME, set_limit)

    def post(self, body):
        return self.client().post(
            f'/{self.db_name}/lead_billing/intake', data=body,
            headers={'Authorization': f'bearer {self.key}'},
            content_type='application/json')

    def stored_since(self, last):
        "The ids of leads and deliveries above the `last` ids"
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            cursor = t.connection.cursor()
            stored = []
            for name, above in zip(['lead_lead', 'lead_delivery'], last):
                table = Table(name)
                cursor.execute(*table.select(
                        table.id, where=table.id > above))
                stored.append({id_ for id_, in cursor})
            return stored

    def test_fuzz(self):
        "No payload makes a server error or stores part of a refused row"
        generator = Payloads(random.Random(self.seed), self.limit)
        last = (0, 0)
        statuses, answers = Counter(), Counter()
        for n in range(self.payloads):
            kind, body = generator.payload(n)
            try:
                status, last = self.check_payload(body, last, answers)
            except AssertionError as e:
                raise AssertionError(
                    f"payload {n} ({kind}): {body[:300]!r}") from e
            statuses[kind, status] += 1
        # every kind of answer was met
        self.assertEqual({s for _, s in statuses}, {200, 400, 413})
        self.assertEqual(
            set(answers), {'created', 'review', 'duplicate', 'refused'})

    def check_payload(self, body, last, answers):
        """Post the body and check the answer against what was stored
        since the `last` ids; return the status and the new last ids"""
        response = self.post(body)
        status = response.status_code
        self.assertIn(status, {200, 400, 413}, response.data[:500])
        # Tryton answers an exception of a route with a JSON list body by
        # an HTML "400 Bad Request: Unable to get RPC method"
        self.assertEqual(
            response.content_type, 'application/json', response.data[:500])
        leads, deliveries = set(), set()
        if status == 200:
            leads, deliveries = self.check_answer(
                body, response.json, answers)
        else:
            error = response.json['error']
            self.assertIsNotNone(message_id(error, PATTERNS), error)
        stored_leads, stored_deliveries = self.stored_since(last)
        self.assertEqual(stored_leads, leads)
        self.assertEqual(stored_deliveries, deliveries)
        return status, (max(stored_leads, default=last[0]),
            max(stored_deliveries, default=last[1]))

    def check_answer(self, body, answer, answers):
        """Check that each row has a lead or an error of message.xml;
        return the ids of the leads and deliveries the answer says it
        stored"""
        sent = json.loads(body, parse_float=Decimal)
        if isinstance(sent, dict):
            sent = sent['leads']
        results = answer['results']
        self.assertEqual([r['row'] for r in results], list(range(len(sent))))
        leads, deliveries = set(), set()
        for result in results:
            status = result['status']
            answers[status] += 1
            if status == 'refused':
                self.assertNotIn('lead', result)
                self.assertNotIn('deliveries', result)
                self.assertTrue(result['errors'])
                for error in result['errors']:
                    self.assertTrue(error['field'])
                    self.assertIsNotNone(
                        message_id(error['message'], PATTERNS), error)
                continue
            self.assertIsInstance(result['lead'], int)
            if status in {'created', 'review'}:
                leads.add(result['lead'])
            for delivery in result.get('deliveries', []):
                if delivery['status'] == 'created':
                    deliveries.add(delivery['delivery'])
                else:
                    self.assertEqual(delivery['status'], 'refused')
                    for error in delivery['errors']:
                        self.assertIsNotNone(
                            message_id(error['message'], PATTERNS), error)
        self.assertEqual(len(leads), sum(
                r['status'] in {'created', 'review'} for r in results))
        return leads, deliveries


class Payloads:
    """Random request bodies of the kinds a platform may get wrong, from a
    seeded generator"""

    def __init__(self, random, limit):
        self.random = random
        self.limit = limit
        self.kinds = [getattr(self, name) for name in sorted(dir(self))
            if name.startswith('kind_')]

    def payload(self, n):
        "Return the kind and the body of the n-th payload"
        kind = self.kinds[n % len(self.kinds)]
        body = kind(n)
        if isinstance(body, str):
            body = body.encode('utf-8', 'surrogatepass')
        elif not isinstance(body, bytes):
            body = json.dumps(body, default=str).encode()
        return kind.__name__[5:], body

    def choice(self, *values):
        return self.random.choice(values)

    def time(self, minutes_ago=None):
        if minutes_ago is None:
            minutes_ago = self.random.randint(60, 60 * 24 * 30)
        at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(
            minutes=minutes_ago)
        return at.isoformat(timespec='seconds')

    def good_row(self, n, i):
        "A row that is valid, unless a rule of the category sends it away"
        received_minutes = self.random.randint(120, 60 * 24 * 30)
        return {
            'supplier': 'S1',
            'reference': f'F{n}-{i}',
            'received_at': self.time(received_minutes),
            'category': self.choice('SOLAR', 'HEAT'),
            'name': self.choice('Erika Mustermann', 'Jürgen Groß',
                'Zoë 🌞 Ødegård', 'محمد'),
            'email': f'f{n}.{i}@example.com',
            'phone': f'030 {self.random.randint(2000000, 9999999)}',
            'postal_code': '10115', 'city': 'Berlin', 'country': 'DE',
            'deliveries': [{
                    'buyer': buyer,
                    'delivered_at': self.time(received_minutes - 30),
                    } for buyer in self.random.sample(
                    ['B1', 'B2', 'INT'], self.random.randint(0, 3))],
            }

    def mixed_rows(self, n, count, spoil):
        "`count` rows, some of them spoiled by `spoil(row)`"
        rows = []
        for i in range(count):
            row = self.good_row(n, i)
            if self.random.random() < 0.6:
                spoil(row)
            rows.append(row)
        return self.choice(rows, {'leads': rows})

    def kind_malformed_json(self, n):
        good = json.dumps([self.good_row(n, 0)])
        return self.choice(
            good[:self.random.randint(0, len(good) - 1)],
            good + self.choice(',', ']', '}', 'x'),
            good.replace('"', "'"), good.replace(':', '=', 1),
            '', ' ', 'null,', '[,]', '{"leads": [}', 'NaN]', '\x00',
            '[1, 2', '{"leads"}', '[' + '"\\x41"' + ']', '[1e999999]',
            '[' + '9' * 5000 + ']')

    def kind_non_utf8(self, n):
        good = json.dumps([self.good_row(n, 0)], ensure_ascii=False)
        return self.choice(
            good.encode('latin-1', 'replace')
            + 'ü'.encode('latin-1'),
            good.replace('Berlin', 'Düsseldorf').encode('cp1252', 'replace'),
            b'[{"reference": "\xff\xfe\xfd"}]',
            b'\xef\xbb\xbf' + good.encode(),
            good.encode('utf-16'), good.encode('utf-32'),
            bytes(self.random.randrange(256) for _ in range(64)),
            b'[{"name": "\xed\xa0\x80", "supplier": "S1"}]')

    def kind_deep_nesting(self, n):
        depth = self.random.choice([50, 500, 5000, 100000])
        row = self.good_row(n, 0)
        nested = '[' * depth + ']' * depth
        return self.choice(
            '[' * depth, '{"leads":' * depth,
            nested,
            json.dumps([row])[:-2] + ', "name": ' + nested + '}]',
            json.dumps([row])[:-2] + ', "deliveries": ' + nested + '}]',
            '[' + '{"a":' * depth + '1' + '}' * depth + ']')

    def kind_wrong_types(self, n):
        values = [None, True, 0, -1, 1.5, 'x', '', [], {}, [1], {'a': 1},
            [[[]]]]

        def spoil(row):
            field = self.choice(*row, 'deliveries', 'purchase_price')
            row[field] = self.choice(*values)
            deliveries = row.get('deliveries')
            if isinstance(deliveries, list) and deliveries and isinstance(
                    deliveries[0], dict):
                field = self.choice(
                    'buyer', 'delivered_at', 'unit_price', 'currency')
                deliveries[0][field] = self.choice(*values)
        top = self.choice(None, True, 12, 'leads', {'leads': None},
            {'leads': {}}, {'leads': [], 'more': 1}, {'supplier': 'S1'},
            [None, 1, 'row', [], True])
        if self.random.random() < 0.25:
            return top
        return self.mixed_rows(n, self.random.randint(1, 8), spoil)

    def kind_huge_batch(self, n):
        size = self.choice(self.limit, self.limit + 1, self.limit * 25)
        if size > self.limit and self.random.random() < 0.5:
            return [{'x': i} for i in range(size)]
        rows = [self.good_row(n, i) for i in range(size)]
        if self.random.random() < 0.3:
            # many deliveries in one row: one per distinct buyer code
            rows[0]['deliveries'] = [{'buyer': f'X{i}'} for i in range(3000)]
        return rows

    def kind_unicode(self, n):
        texts = ['\u0000', '\ud800', '\udfff', 'a\nb', '\t', '\u202e',
            'e\u0301', 'Ｓ１', 'ß' * 300, '🌞' * 256, '\ufeff', '\u2028',
            'x' * 101, 'İ', 'ǅ', '\x7f', '\x85', '\U0010ffff']

        def spoil(row):
            field = self.choice('reference', 'name', 'email', 'phone',
                'postal_code', 'city', 'country', 'supplier', 'category',
                'currency')
            row[field] = self.choice(*texts) + self.choice('', 'R', ' ')
            if row['deliveries'] and self.random.random() < 0.3:
                row['deliveries'][0]['buyer'] = self.choice(*texts)
        rows = self.mixed_rows(n, self.random.randint(1, 6), spoil)
        # lone surrogates reach the server escaped, as JSON allows
        return json.dumps(rows)

    def kind_prices(self, n):
        prices = [-1, -0.01, '-0', 0, '0.00', 0.001, '12.345', 99999.99,
            100000, '1e5', 1e308, '1e999999', 'NaN', 'Infinity', '12,50',
            '١٢', ' 7 ', '', True, [], {'amount': 1}, '0x10',
            10 ** 100, '12.5€']

        def spoil(row):
            if row['deliveries'] and self.random.random() < 0.5:
                row['deliveries'][0]['unit_price'] = self.choice(*prices)
            else:
                row['purchase_price'] = self.choice(*prices)
        return self.mixed_rows(n, self.random.randint(1, 6), spoil)

    def kind_unknown_references(self, n):
        def spoil(row):
            field = self.choice(
                'supplier', 'category', 'country', 'currency', 'buyer',
                'field')
            unknown = self.choice('NOPE', 'B1', 'S1', 'INT', 'usd', 'CHF')
            if field == 'buyer':
                row['deliveries'] = [{'buyer': unknown}]
            elif field == 'field':
                row[unknown] = 1
            else:
                row[field] = unknown
        rows = self.mixed_rows(n, self.random.randint(1, 6), spoil)
        if self.random.random() < 0.3:
            # the same reference again: a duplicate
            batch = rows if isinstance(rows, list) else rows['leads']
            batch.append(dict(batch[0]))
        return rows

    def kind_timestamps(self, n):
        times = ['0001-01-01T00:00:00', '0001-01-01T00:30:00+01:00',
            '1970-01-01T00:00:00Z', '1999-12-31T23:59:59+00:00',
            '2000-01-01T00:00:00+01:00', '9999-12-31T23:59:59',
            '9999-12-31T23:59:59-05:00', '2026-02-30T10:00:00',
            '2026-03-29T02:30:00', 'yesterday', '', '1700000000',
            self.time(-5), self.time(-60 * 24 * 365), self.time(0),
            dt.datetime.now().isoformat(), '2026-13-01', '24:00']

        def spoil(row):
            at = self.choice(*times)
            if row['deliveries'] and self.random.random() < 0.5:
                row['deliveries'][0]['delivered_at'] = at
            else:
                row['received_at'] = at
        return self.mixed_rows(n, self.random.randint(1, 6), spoil)


del RouteTestCase
