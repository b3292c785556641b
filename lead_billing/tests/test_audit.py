# This file is part of the lead trading suite. See README.rst for details.
"""The audit trail of prices, agreements and settings, and the documents
that cannot change once posted"""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.lead_billing.audit import audit_changes, audit_text
from trytond.modules.lead_billing.tests.tools import (
    create_price, deliver_lead, setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction, check_access

OCTOBER_END = dt.date(2026, 10, 31)


def changes(record, action=None):
    "{field: (old, new)} of the logged changes of `record`"
    Change = Pool().get('lead.audit.change')
    domain = [
        ('model', '=', record.__name__), ('record_id', '=', record.id)]
    if action:
        domain.append(('action', '=', action))
    return {c.field: (c.old_value, c.new_value)
        for c in Change.search(domain, order=[('id', 'ASC')])}


def create_user(fixture, login, *groups):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login, 'name': login,
                'groups': [('add', [
                                ModelData.get_id(*g.split('.'))
                                for g in groups])],
                'companies': [('add', [fixture.company.id])],
                'company': fixture.company.id,
                }])
    return user


class AuditTextTestCase(unittest.TestCase):
    "The texts the change log keeps, without database"

    def test_texts(self):
        self.assertIsNone(audit_text(None))
        self.assertIsNone(audit_text(''))
        self.assertEqual(audit_text('weekly', {'weekly': "Weekly"}), "Weekly")
        self.assertEqual(audit_text(dt.date(2026, 3, 1)), '2026-03-01')
        self.assertEqual(audit_text(Decimal('30'), decimals=4), '30.0000')
        # the same number whatever the backend returns
        self.assertEqual(audit_text(Decimal('10.50')), '10.5')
        self.assertEqual(audit_text(Decimal('1E+2')), '100')
        self.assertEqual(audit_text(False), 'False')
        self.assertEqual(audit_text(0), '0')

    def test_changes(self):
        before = {1: ('P1', {'a': '1', 'b': 'x'}), 2: ('P2', {'a': '2'})}
        after = {1: ('P1 new', {'a': '1', 'b': 'y'}), 3: ('P3', {'a': '3'})}
        self.assertEqual(list(audit_changes(before, after)), [
                (1, 'P1 new', 'b', 'x', 'y'),
                (2, 'P2', 'a', '2', None),
                (3, 'P3', 'a', None, '3'),
                ])


class AuditTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    @with_lead_trading
    def test_price_change_logs_user_date_old_and_new(self, fixture):
        pool = Pool()
        Price = pool.get('lead.price')
        Change = pool.get('lead.audit.change')
        user = create_user(
            fixture, 'pricing', 'lead_billing.group_lead_trading_admin')
        price, = Price.search([
                ('category', '=', fixture.solar.id), ('kind', '=', 'sale'),
                ('party', '=', None)])
        start = dt.datetime.now().replace(microsecond=0)
        with Transaction().set_user(user.id), check_access():
            Price.write([price], {'unit_price': Decimal('32.5')})
        change, = Change.search([
                ('model', '=', 'lead.price'), ('record_id', '=', price.id),
                ('action', '=', 'write')])
        self.assertEqual(change.user, user)
        self.assertGreaterEqual(change.date, start)
        self.assertEqual(change.model, 'lead.price')
        self.assertEqual(change.record_name, price.rec_name)
        self.assertEqual(change.field, 'unit_price')
        self.assertEqual(change.field_string, "Unit Price")
        self.assertEqual(
            (change.old_value, change.new_value), ('30.0000', '32.5000'))

    @with_lead_trading
    def test_price_create_and_delete_logged(self, fixture):
        Price = Pool().get('lead.price')
        price = create_price(fixture.heat, 'sale', '27.00',
            party=fixture.buyer, start_date=dt.date(2026, 1, 1))
        self.assertEqual(changes(price, 'create'), {
                'category': (None, fixture.heat.rec_name),
                'currency': (None, fixture.currency.rec_name),
                'kind': (None, "Buyer Price"),
                'party': (None, fixture.buyer.rec_name),
                'start_date': (None, '2026-01-01'),
                'unit_price': (None, '27.0000'),
                })
        name = price.rec_name
        Price.delete([price])
        deleted = changes(price, 'delete')
        self.assertEqual(deleted['party'], (fixture.buyer.rec_name, None))
        self.assertEqual(deleted['unit_price'], ('27.0000', None))
        self.assertNotIn('end_date', deleted)
        Change = Pool().get('lead.audit.change')
        # the log keeps the name of the deleted record
        logged = {(c.record, c.record_name) for c in Change.search([
                    ('model', '=', 'lead.price'),
                    ('record_id', '=', price.id)])}
        self.assertEqual(logged, {(None, name)})

    @with_lead_trading
    def test_party_agreements_in_one_write(self, fixture):
        "Several (records, values) pairs of one write, each logged"
        Party = Pool().get('party.party')
        Party.write(
            [fixture.buyer], {
                'lead_billing_interval': 'weekly', 'name': "Solar Nord AG"},
            [fixture.supplier], {
                'lead_statement_hold_days': 0,
                'self_billing_agreement_reference': 'GS-2026-7'})
        self.assertEqual(changes(fixture.buyer, 'write'), {
                'lead_billing_interval': ("Monthly", "Weekly")})
        self.assertEqual(changes(fixture.supplier, 'write'), {
                'lead_statement_hold_days': (None, '0'),
                'self_billing_agreement_reference': ('GS-2024-1', 'GS-2026-7'),
                })
        # a write of nothing audited logs nothing
        Party.write([fixture.buyer2], {'name': "Wärme Süd GmbH & Co. KG"})
        self.assertEqual(changes(fixture.buyer2, 'write'), {})

    @with_lead_trading
    def test_configuration_changes(self, fixture):
        pool = Pool()
        Configuration = pool.get('lead.configuration')
        Billing = pool.get('lead.configuration.billing')
        Change = pool.get('lead.audit.change')
        config = Configuration(1)
        config.billing_final_check = False
        config.phone_region = 'AT'
        config.save()
        # the company value is created when the setting first leaves its
        # default: logged as the change of that setting only
        billing, = Billing.search([('company', '=', fixture.company.id)])
        self.assertEqual(changes(billing), {
                'billing_final_check': ('True', 'False')})
        change, = Change.search([('record', '=', str(billing))])
        self.assertEqual(change.action, 'write')
        self.assertEqual(change.record_name, fixture.company.rec_name)
        self.assertEqual(change.field_string, "Final Check")
        # logged once, by the singleton's own record
        self.assertEqual([(c.field, c.old_value, c.new_value)
                for c in Change.search([
                        ('model', '=', 'lead.configuration')])],
            [('phone_region', 'DE', 'AT')])

        config = Configuration(1)
        config.billing_final_check = True
        config.save()
        self.assertEqual(Change.search([
                    ('record', '=', str(billing)),
                    ('field', '=', 'billing_final_check'),
                    ], order=[('id', 'ASC')])[-1].new_value, 'True')

    @with_lead_trading
    def test_nobody_changes_the_log(self, fixture):
        pool = Pool()
        Price = pool.get('lead.price')
        Change = pool.get('lead.audit.change')
        price = create_price(fixture.heat, 'purchase', '9.00',
            party=fixture.supplier, start_date=dt.date(2026, 1, 1))
        admin = create_user(
            fixture, 'lead_admin', 'lead_billing.group_lead_trading_admin')
        clerk = create_user(
            fixture, 'clerk', 'lead_billing.group_lead_trading')
        with Transaction().set_user(admin.id), check_access():
            change, *_ = Change.search([('record', '=', str(price))])
            name = price.rec_name
            # the log of a deleted record stays readable
            Price.delete([price])
            row, = Change.read([change.id], [
                    'record', 'record.rec_name', 'record_name', 'record_id'])
            self.assertEqual(
                (row['record'], row['record_name'], row['record_id']),
                (None, name, price.id))
            for operation in [
                    lambda: Change.create([{
                                'date': dt.datetime.now(), 'model': 'x',
                                'field': 'y', 'action': 'write'}]),
                    lambda: Change.write([change], {'new_value': '1.00'}),
                    lambda: Change.delete([change]),
                    ]:
                with self.assertRaises(AccessError) as context:
                    operation()
                self.assertIs(type(context.exception), AccessError)
        with Transaction().set_user(clerk.id), check_access():
            with self.assertRaises(AccessError):
                Change.search([])

    @with_lead_trading
    def test_posted_documents_cannot_change(self, fixture):
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        setup_accounting(fixture, [2026])
        deliver_lead(fixture, 'P1', fixture.buyer,
            delivered_at=dt.datetime(2026, 10, 15, 8))
        run, = Run.create([{
                    'company': fixture.company.id, 'cut_off': OCTOBER_END}])
        Run.compute([run])
        Run.post([run])
        run = Run(run.id)
        self.assertEqual(run.state, 'posted')
        invoice, = [i for i in run.invoices if i.type == 'out']
        statement, = [i for i in run.invoices if i.type == 'in']
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.untaxed_amount, Decimal('30.00'))
        line, = invoice.lines
        move = invoice.move
        self.assertEqual(move.state, 'posted')

        def refused(operation, error=AccessError):
            with self.assertRaises(error) as context:
                operation()
            self.assertIs(type(context.exception), error)

        for document in [invoice, statement]:
            refused(lambda: Invoice.write([document], {
                        'invoice_date': dt.date(2026, 11, 2)}))
            refused(lambda: Invoice.delete([document]))
        refused(lambda: InvoiceLine.write(
                [line], {'unit_price': Decimal('1.00')}))
        refused(lambda: InvoiceLine.delete([line]))
        refused(lambda: Move.write([move], {'date': dt.date(2026, 11, 2)}))
        refused(lambda: Move.delete([move]))
        refused(lambda: MoveLine.write(
                [move.lines[0]], {'debit': move.lines[0].debit + 1}))

        refused(lambda: Run.delete([run]))
        # the button is not offered on a posted run
        admin = create_user(
            fixture, 'biller', 'lead_billing.group_lead_trading_admin',
            'account.group_account')
        with Transaction().set_user(admin.id), check_access():
            refused(lambda: Run.compute([Run(run.id)]), AccessButtonError)
        # and the workflow leaves a posted run alone
        Run.compute([run])
        run = Run(run.id)
        self.assertEqual(run.state, 'posted')
        self.assertEqual(sorted(i.id for i in run.invoices),
            sorted([invoice.id, statement.id]))
        self.assertEqual(Invoice(invoice.id).untaxed_amount, Decimal('30.00'))
        self.assertEqual(Invoice(invoice.id).state, 'posted')
