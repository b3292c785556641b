# This file is part of the lead trading suite. See README.rst for details.
import csv
import datetime as dt
import io
from decimal import Decimal

from sql import Table

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import (
    DomainValidationError, SQLConstraintError, ValidationError)
from trytond.modules.company.tests import CompanyTestMixin
from trytond.modules.lead_billing.delivery import DeliveryRequest
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .access import ModelAccessMixin
from .tools import (
    WebClientViewMixin, create_price, lead_values, with_lead_trading)


class LeadTestMixin:
    "Open the standard fixture for each test"

    def create_leads(self, fixture, *vlist):
        Lead = Pool().get('lead.lead')
        return Lead.create([lead_values(fixture, **v) for v in vlist])

    def deliver(self, lead, buyer, delivered_at=None, **values):
        Delivery = Pool().get('lead.delivery')
        delivery, = Delivery.create([{
                    'lead': lead.id, 'buyer': buyer.id,
                    'delivered_at': delivered_at or (
                        lead.received_at + dt.timedelta(hours=1)),
                    **values}])
        return delivery


class LeadBillingTestCase(
        LeadTestMixin, ModelAccessMixin, WebClientViewMixin, CompanyTestMixin,
        ModuleTestCase):
    "Test Lead Billing module"
    module = 'lead_billing'

    @with_lead_trading
    def test_valid_lead(self, f):
        "A lead passing every rule is valid with its purchase price"
        lead, = self.create_leads(f, {'reference': 'L1',
                    'phone': '030 1234567', 'email': ' Erika@Example.COM'})
        self.assertEqual(lead.quality_state, 'valid')
        self.assertEqual(lead.quality_issues, ())
        self.assertEqual(lead.phone_key, '+49301234567')
        self.assertEqual(lead.email_key, 'erika@example.com')
        self.assertEqual(lead.purchase_price, Decimal('10.00'))
        self.assertEqual(lead.currency, f.currency)

    @with_lead_trading
    def test_each_rule_sends_to_review(self, f):
        "Each failing quality rule sends the lead to review with its reason"
        cases = [
            ({'phone': '12345'}, ('phone',)),
            ({'email': 'erika@'}, ('email',)),
            ({'postal_code': '1011'}, ('postal_code',)),
            ({'phone': 'x', 'email': 'y'}, ('email', 'phone')),
            ]
        for i, (values, issues) in enumerate(cases):
            with self.subTest(values=values):
                lead, = self.create_leads(
                    f, {'reference': f'R{i}', **values})
                self.assertEqual(lead.quality_state, 'review')
                self.assertEqual(lead.quality_issues, issues)

    @with_lead_trading
    def test_rules_switchable_per_category(self, f):
        "A category without a rule does not apply it"
        f.solar.check_phone = False
        f.solar.check_email = False
        f.solar.check_postal_code = False
        f.solar.save()
        lead, heat_lead = self.create_leads(f,
            {'reference': 'S', 'phone': '1', 'email': 'x',
                'postal_code': '1'},
            {'reference': 'H', 'category': f.heat.id, 'phone': '1'})
        self.assertEqual(lead.quality_state, 'valid')
        self.assertEqual(heat_lead.quality_state, 'review')

    @with_lead_trading
    def test_postal_code_unknown_country_not_checked(self, f):
        Country = Pool().get('country.country')
        brazil, = Country.create([{'code': 'BR', 'name': 'Brazil'}])
        lead, = self.create_leads(f, {'reference': 'BR',
                    'country': brazil.id, 'postal_code': 'whatever'})
        self.assertEqual(lead.quality_state, 'valid')

    @with_lead_trading
    def test_no_supplier_price_review(self, f):
        "A lead without supplier price in force goes to review"
        lead, = self.create_leads(f, {'reference': 'OLD',
                'received_at': dt.datetime(2019, 12, 31, 12)})
        self.assertEqual(lead.quality_state, 'review')
        self.assertEqual(lead.quality_issues, ('purchase_price',))
        self.assertIsNone(lead.purchase_price)

    @with_lead_trading
    def test_supplier_price_party_specific(self, f):
        "The supplier's own price wins over the general price"
        create_price(f.solar, 'purchase', '8.50', party=f.supplier,
            start_date=dt.date(2026, 3, 1))
        before, after = self.create_leads(f,
            {'reference': 'A', 'received_at': dt.datetime(2026, 2, 28, 22)},
            {'reference': 'B', 'received_at': dt.datetime(2026, 2, 28, 23)})
        # 23:00 UTC is already 1 March in Berlin
        self.assertEqual(before.purchase_price, Decimal('10.00'))
        self.assertEqual(after.purchase_price, Decimal('8.50'))

    @with_lead_trading
    def test_duplicate_window_edges(self, f):
        "Same phone or e-mail within the window, both ends included"
        at = dt.datetime(2026, 3, 10, 12)
        first, = self.create_leads(f, {'reference': 'FIRST',
                    'received_at': at, 'phone': '030 1111111',
                    'email': 'first@example.com'})
        second = dt.timedelta(seconds=1)
        cases = [
            ('PHONE7', at + dt.timedelta(days=7),
                {'phone': '+49 30 1111111'}, True),
            ('PHONE7S', at + dt.timedelta(days=7) + second,
                {'phone': '030 1111111'}, False),
            ('EARLY7', at - dt.timedelta(days=7),
                {'email': 'FIRST@example.com'}, True),
            ('EARLY7S', at - dt.timedelta(days=7) - second,
                {'email': 'first@example.com'}, False),
            ]
        for reference, received_at, values, duplicate in cases:
            with self.subTest(reference=reference):
                lead, = self.create_leads(f, {'reference': reference,
                            'received_at': received_at, **values})
                if duplicate:
                    self.assertEqual(lead.quality_state, 'review')
                    self.assertEqual(lead.quality_issues, ('duplicate',))
                    self.assertEqual(lead.duplicate_of, first)
                else:
                    self.assertEqual(lead.quality_state, 'valid')
                    self.assertIsNone(lead.duplicate_of)
                Pool().get('lead.lead').delete([lead])

    @with_lead_trading
    def test_duplicate_window_configurable(self, f):
        f.solar.duplicate_window = 30
        f.solar.save()
        at = dt.datetime(2026, 3, 1, 12)
        _, later = self.create_leads(f,
            {'reference': 'A', 'received_at': at, 'phone': '030 1111111'},
            {'reference': 'B', 'received_at': at + dt.timedelta(days=20),
                'phone': '030 1111111'})
        self.assertEqual(later.quality_issues, ('duplicate',))

    @with_lead_trading
    def test_duplicate_other_category_or_switched_off(self, f):
        f.heat.check_duplicates = False
        f.heat.save()
        self.create_leads(f, {'reference': 'A', 'phone': '030 1111111'})
        heat, = self.create_leads(f, {'reference': 'B',
                'category': f.heat.id, 'phone': '030 1111111'})
        self.assertEqual(heat.quality_state, 'valid')

    @with_lead_trading
    def test_duplicate_inside_one_batch(self, f):
        "The second of two equal leads of one call is the duplicate"
        first, second = self.create_leads(f,
            {'reference': 'A', 'email': 'same@example.com'},
            {'reference': 'B', 'email': 'same@example.com'})
        self.assertEqual(first.quality_state, 'valid')
        self.assertEqual(second.quality_issues, ('duplicate',))
        self.assertEqual(second.duplicate_of, first)

    @with_lead_trading
    def test_review_accept_reject_recheck(self, f):
        "Staff decide on leads in review"
        Lead = Pool().get('lead.lead')
        bad, worse, fixable = self.create_leads(f,
            {'reference': 'A', 'phone': '1'},
            {'reference': 'B', 'phone': '2'},
            {'reference': 'C', 'phone': '3'})
        Lead.accept([bad])
        Lead.reject([worse])
        self.assertEqual(bad.quality_state, 'valid')
        self.assertEqual(worse.quality_state, 'rejected')

        fixable.phone = '030 7654321'
        fixable.save()
        Lead.recheck([fixable])
        self.assertEqual(fixable.quality_state, 'valid')
        self.assertEqual(fixable.quality_issues, ())
        self.assertEqual(fixable.phone_key, '+49307654321')

    @with_lead_trading
    def test_recheck_does_not_find_itself(self, f):
        Lead = Pool().get('lead.lead')
        lead, = self.create_leads(f, {'reference': 'A', 'email': 'x'})
        lead.email = 'fine@example.com'
        lead.save()
        Lead.recheck([lead])
        self.assertEqual(lead.quality_state, 'valid')
        self.assertIsNone(lead.duplicate_of)

    @with_lead_trading
    def test_reference_unique_per_supplier(self, f):
        self.create_leads(f, {'reference': 'SAME'})
        with self.assertRaises(SQLConstraintError):
            self.create_leads(f, {'reference': 'SAME'})

    @with_lead_trading
    def test_reference_may_repeat_across_suppliers(self, f):
        from .tools import create_party
        other = create_party("Zweitquelle", 'S2', lead_supplier=True)
        a, b = self.create_leads(f, {'reference': 'SAME'},
            {'reference': 'SAME', 'supplier': other.id,
                'email': 'other@example.com', 'phone': '030 2222222'})
        self.assertNotEqual(a.supplier, b.supplier)

    @with_lead_trading
    def test_delivery_price_frozen(self, f):
        "The buyer price in force at delivery is copied and kept"
        Price = Pool().get('lead.price')
        lead, = self.create_leads(f, {'reference': 'A'})
        delivery = self.deliver(lead, f.buyer)
        self.assertEqual(delivery.unit_price, Decimal('30.00'))
        self.assertTrue(delivery.billable)
        self.assertEqual(delivery.state, 'delivered')

        price, = Price.search([
                ('category', '=', f.solar.id), ('kind', '=', 'sale')])
        price.unit_price = Decimal('99')
        price.save()
        self.assertEqual(delivery.unit_price, Decimal('30.00'))

    @with_lead_trading
    def test_delivery_buyer_price(self, f):
        create_price(f.solar, 'sale', '27.50', party=f.buyer2)
        lead, = self.create_leads(f, {'reference': 'A'})
        self.assertEqual(
            self.deliver(lead, f.buyer).unit_price, Decimal('30.00'))
        self.assertEqual(
            self.deliver(lead, f.buyer2).unit_price, Decimal('27.50'))

    @with_lead_trading
    def test_internal_account_never_billable(self, f):
        Delivery = Pool().get('lead.delivery')
        lead, = self.create_leads(f, {'reference': 'A'})
        delivery = self.deliver(lead, f.internal)
        self.assertFalse(delivery.billable)
        self.assertEqual(delivery.unit_price, Decimal('30.00'))
        self.assertIn(delivery, Delivery.search([('buyer', '=', f.internal)]))
        with self.assertRaises(ValidationError):
            Delivery.write([delivery], {'billable': True})

    @with_lead_trading
    def test_buyer_becoming_internal_stops_billing(self, f):
        "Open deliveries of a buyer turned internal are no longer billable"
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        lead, = self.create_leads(f, {'reference': 'A'})
        delivery = self.deliver(lead, f.buyer)
        Party.write([f.buyer], {'lead_internal': True})
        self.assertFalse(Delivery(delivery.id).billable)
        Party.write([f.buyer], {'lead_internal': False})
        self.assertFalse(Delivery(delivery.id).billable)
        other, = self.create_leads(f, {'reference': 'B'})
        self.assertTrue(self.deliver(other, f.buyer).billable)

    @with_transaction()
    def test_internal_must_be_buyer(self):
        Party = Pool().get('party.party')
        with self.assertRaises(ValidationError):
            Party.create([{'name': "X", 'lead_internal': True}])

    @with_lead_trading
    def test_delivery_rules(self, f):
        "The rule chain names every reason a delivery is refused"
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        valid, review = self.create_leads(f,
            {'reference': 'A'}, {'reference': 'B', 'phone': '1'})
        self.deliver(valid, f.buyer)
        Party.write([f.buyer2], {'active': False})
        after = valid.received_at + dt.timedelta(hours=2)
        requests = Delivery.price_requests([
                DeliveryRequest(valid, f.buyer, after),
                DeliveryRequest(review, f.internal, after),
                DeliveryRequest(valid, f.buyer2, after),
                DeliveryRequest(valid, f.supplier, after),
                DeliveryRequest(valid, f.internal,
                    valid.received_at - dt.timedelta(minutes=1)),
                DeliveryRequest(valid, f.internal, after),
                DeliveryRequest(valid, f.internal, after),
                ])
        refusals = Delivery.delivery_refusals(requests)
        fields = [[r.field for r in refused] for refused in refusals]
        self.assertEqual(fields, [
                ['buyer'],
                ['lead'],
                ['buyer'],
                ['buyer'],
                ['delivered_at'],
                [],
                ['buyer'],  # the same request earlier in the batch won
                ])
        self.assertIn('already been delivered', refusals[0][0].message)

    @with_lead_trading
    def test_delivery_without_price_refused(self, f):
        lead, = self.create_leads(f, {'reference': 'A'})
        with self.assertRaises(UserError):
            self.deliver(lead, f.buyer,
                delivered_at=dt.datetime(2019, 6, 1))

    @with_lead_trading
    def test_one_delivery_per_lead_and_buyer_in_database(self, f):
        "The database refuses a second delivery even past the rules"
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        lead, = self.create_leads(f, {'reference': 'A'})
        delivery = self.deliver(lead, f.buyer)
        table = Table(Delivery._table)
        cursor = Transaction().connection.cursor()
        with self.assertRaises(Exception) as cm:
            cursor.execute(*table.insert(
                    [table.company, table.lead, table.buyer,
                        table.delivered_at, table.currency, table.state,
                        table.billable],
                    [[f.company.id, lead.id, f.buyer.id,
                            delivery.delivered_at, f.currency.id,
                            'delivered', True]]))
        self.assertIsInstance(
            cm.exception, backend.DatabaseIntegrityError)

    @with_lead_trading
    def test_lead_sold_to_several_buyers(self, f):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        lead, = self.create_leads(f, {'reference': 'A'})
        first = self.deliver(lead, f.buyer)
        self.deliver(lead, f.buyer2)
        internal = self.deliver(lead, f.internal)
        self.assertEqual(Lead(lead.id).delivery_count, 3)
        self.assertEqual(first.supplier, lead.supplier)

        Delivery.cancel([first])
        self.assertEqual(Lead(lead.id).delivery_count, 2)
        Delivery.delete([internal])
        self.assertEqual(Lead(lead.id).delivery_count, 1)

    @with_lead_trading
    def test_price_overlap_refused(self, f):
        with self.assertRaises(ValidationError):
            create_price(f.solar, 'sale', '31', start_date=dt.date(2026, 1, 1))
        create_price(f.solar, 'sale', '31', party=f.buyer,
            start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 1, 31))
        create_price(f.solar, 'sale', '32', party=f.buyer,
            start_date=dt.date(2026, 2, 1))

    @with_lead_trading
    def test_negative_price_refused(self, f):
        with self.assertRaises(DomainValidationError):
            create_price(f.heat, 'sale', '-1', party=f.buyer)

    @with_lead_trading
    def test_csv_import(self, f):
        "Tryton's CSV import creates assessed leads"
        Lead = Pool().get('lead.lead')
        data = io.StringIO(
            'supplier,reference,category,received_at,name,phone,email,'
            'postal_code,country\n'
            'Leadquelle AG,CSV1,Solar,2026-03-02 09:00:00,A,'
            '030 3333333,a@example.com,10115,Germany\n'
            'Leadquelle AG,CSV2,Solar,2026-03-02 09:00:00,B,'
            'bad,b@example.com,10115,Germany\n')
        rows = list(csv.reader(data))
        count = Lead.import_data(rows[0], rows[1:])
        self.assertEqual(count, 2)
        good, bad = sorted(
            Lead.search([('reference', 'like', 'CSV%')]),
            key=lambda lead: lead.reference)
        self.assertEqual(good.quality_state, 'valid')
        self.assertEqual(good.purchase_price, Decimal('10.00'))
        self.assertEqual(bad.quality_issues, ('phone',))


del ModuleTestCase
