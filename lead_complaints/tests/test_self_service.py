# This file is part of the lead trading suite. See README.rst for details.
"""Buyers and suppliers logged in as themselves, through the layers a
client reaches: JSON-RPC (what the web client calls) and the REST API. Each
sees its own records and nothing of the other parties, whatever it asks."""
import base64
import datetime as dt
from decimal import Decimal

from trytond.modules.lead_billing.tests.tools import (
    create, create_party, lead_trading, login_wizard, rpc_session,
    run_billing, run_committed, setup_accounting)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import ago, deliver, reason, weekly_parties

PASSWORD = 'Self-Service-2026!'


def amount(value):
    "A Decimal of what JSON-RPC answers for a Numeric field"
    return Decimal(value['decimal'] if isinstance(value, dict) else value)


def create_login(party, login, password=PASSWORD):
    "Create the login of `party` with the party's wizard; return the user"
    User = Pool().get('res.user')
    create(login_wizard(party, login=login, password=password))
    user, = User.search([('login', '=', login)])
    return user


class SelfServiceTestCase(RouteTestCase):
    "What external users reach over RPC and REST"
    module = 'lead_complaints'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # setting up the accounts locks tables: the transaction restarts
        run_committed(DB_NAME, cls.create_trade)

    @classmethod
    def create_trade(cls):
        pool = Pool()
        Application = pool.get('res.user.application')
        Category = pool.get('lead.category')
        with lead_trading() as fixture:
            weekly_parties(fixture)
            setup_accounting(fixture, [2026])
            other_supplier = create_party(
                "Andere Quelle GmbH", 'S2', lead_supplier=True,
                lead_billing_interval='weekly',
                self_billing_agreement_date=dt.date(2024, 1, 1),
                self_billing_agreement_reference='GS-2024-2')
            deliver(fixture, 'SHARED', fixture.buyer, fixture.buyer2,
                delivered_at=ago(days=10))
            deliver(fixture, 'OTHERS', fixture.buyer2,
                delivered_at=ago(days=10))
            deliver(fixture, 'FOREIGN', fixture.buyer,
                delivered_at=ago(days=10), supplier=other_supplier.id)
            run_billing(fixture)
            # a fresh delivery open to complaints and an old one past
            # the window, both unbilled
            deliver(fixture, 'FRESH', fixture.buyer,
                delivered_at=ago(days=1), category=fixture.heat.id)
            deliver(fixture, 'FRESH2', fixture.buyer,
                delivered_at=ago(days=1), category=fixture.heat.id)
            deliver(fixture, 'STALE', fixture.buyer,
                delivered_at=ago(days=90))
            Category.write([fixture.heat], {
                    'complaint_reasons_disabled': [
                        ('add', [reason('DUPLICATE').id])]})
            buyer_user = create_login(fixture.buyer, 'solar-nord')
            create_login(fixture.supplier, 'leadquelle')
            key, = Application.create([{
                        'user': buyer_user.id, 'application': 'rest'}])
            key.state = 'validated'
            key.save()
            cls.rest_key = key.key
            cls.company_party = fixture.company.party.id
            cls.parties = {p: getattr(fixture, p).id
                for p in ['buyer', 'buyer2', 'supplier']}
            cls.parties['other_supplier'] = other_supplier.id

    def rpc(self, login, method, *params, context=None):
        "Call `method` over JSON-RPC as `login`; return the answer"
        call = rpc_session(self.client(), self.db_name, login, PASSWORD)
        user_context = call(
            'model.res.user.get_preferences', [True, {}])['result']
        user_context.update(context or {})
        return call(method, [*params, user_context])

    def result(self, login, method, *params, **kwargs):
        answer = self.rpc(login, method, *params, **kwargs)
        self.assertIn('result', answer, answer)
        return answer['result']

    def refused(self, login, method, *params, **kwargs):
        "Assert that `method` is refused; return the error message"
        answer = self.rpc(login, method, *params, **kwargs)
        self.assertNotIn('result', answer, answer)
        return answer['error'][1][0]

    def records(self, model, domain=()):
        "The ids of `model` matching `domain`, read as the administrator"
        with Transaction().start(self.db_name, 0, readonly=True):
            return Pool().get(model).search(
                list(domain), order=[('id', 'ASC')])

    def ids(self, model, domain=()):
        return [r.id for r in self.records(model, domain)]

    def search_read(self, login, model, fields, domain=()):
        return self.result(login, f'model.{model}.search_read',
            list(domain), 0, None, [['id', 'ASC']], fields)

    def test_buyer_sees_own_deliveries_with_prices(self):
        rows = self.search_read('solar-nord', 'lead.delivery',
            ['lead.rec_name', 'unit_price', 'buyer', 'invoice'])
        self.assertEqual(
            sorted(r['lead.']['rec_name'] for r in rows),
            ['FOREIGN', 'FRESH', 'FRESH2', 'SHARED', 'STALE'])
        self.assertEqual({r['buyer'] for r in rows}, {self.parties['buyer']})
        self.assertEqual(
            {amount(r['unit_price']) for r in rows},
            {Decimal('30.00')})
        self.assertEqual(sum(1 for r in rows if r['invoice']), 2)

    def test_buyer_refused_other_buyers_deliveries(self):
        others = self.ids('lead.delivery',
            [('buyer', '=', self.parties['buyer2'])])
        self.assertEqual(len(others), 2)
        self.refused('solar-nord', 'model.lead.delivery.read',
            others, ['unit_price'])
        self.refused('solar-nord', 'model.lead.delivery.export_data',
            others, ['lead.reference', 'unit_price'])
        self.assertEqual(self.result('solar-nord',
                'model.lead.delivery.search_count',
                [('buyer', '=', self.parties['buyer2'])]), 0)
        # nor does searching by what the rows hold reveal them
        self.assertEqual(self.result('solar-nord',
                'model.lead.delivery.search',
                [('lead.reference', '=', 'OTHERS')], 0, None, None), [])

    def test_buyer_never_learns_supplier_or_cost(self):
        own = self.ids('lead.delivery',
            [('buyer', '=', self.parties['buyer'])])
        self.refused('solar-nord', 'model.lead.delivery.read',
            own, ['supplier'])
        leads = self.result('solar-nord', 'model.lead.lead.search',
            [], 0, None, None)
        self.assertEqual(len(leads), 5)
        # nor by searching on it
        self.assertFalse(self.rpc('solar-nord', 'model.lead.lead.search',
                [('supplier.name', 'ilike', 'Andere%')], 0, None, None).get(
                'result'))
        self.refused('solar-nord', 'model.lead.lead.read',
            leads, ['purchase_price'])
        self.refused('solar-nord', 'model.lead.lead.read', leads, ['supplier'])
        # the lead form served to a buyer has neither
        view = self.result('solar-nord', 'model.lead.lead.fields_view_get',
            None, 'form')
        for name in ['supplier', 'purchase_price', 'statement_line']:
            self.assertNotIn(name, view['fields'])
        # and the lead's deliveries are only its own
        deliveries = self.result('solar-nord', 'model.lead.lead.read',
            self.ids('lead.lead', [('reference', '=', 'SHARED')]),
            ['deliveries'])[0]['deliveries']
        self.assertEqual(len(deliveries), 1)

    def test_buyer_invoices_and_pdf(self):
        invoices = self.search_read('solar-nord', 'account.invoice',
            ['type', 'party', 'state', 'total_amount'])
        self.assertEqual(len(invoices), 1)
        invoice, = invoices
        self.assertEqual(invoice['type'], 'out')
        self.assertEqual(invoice['party'], self.parties['buyer'])
        self.assertEqual(invoice['state'], 'posted')
        # 2 leads at 30.00 + 20 % tax
        self.assertEqual(
            amount(invoice['total_amount']), Decimal('72.00'))
        report = self.result('solar-nord',
            'report.lead.billing.document.execute', [invoice['id']],
            {'model': 'account.invoice', 'id': invoice['id'],
                'ids': [invoice['id']]})
        extension, content = report[0], report[1]
        self.assertEqual(extension, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))

        others = self.ids('account.invoice',
            [('party', '!=', self.parties['buyer'])])
        self.assertTrue(others)
        self.refused('solar-nord', 'report.lead.billing.document.execute',
            others[:1], {'model': 'account.invoice', 'id': others[0],
                'ids': others[:1]})
        self.refused('solar-nord', 'model.account.invoice.read', others,
            ['total_amount'])
        lines = self.result('solar-nord', 'model.account.invoice.line.search',
            [], 0, None, None)
        self.assertEqual(sorted(lines), self.ids('account.invoice.line',
                [('invoice.party', '=', self.parties['buyer'])]))

    def test_external_users_see_only_own_and_company_party(self):
        for login, party in [('solar-nord', 'buyer'),
                ('leadquelle', 'supplier')]:
            with self.subTest(login=login):
                parties = self.result(login, 'model.party.party.search',
                    [], 0, None, None)
                self.assertEqual(sorted(parties), sorted(
                        [self.parties[party], self.company_party]))
                self.refused(login, 'model.party.party.read',
                    [self.parties['buyer2']], ['name'])
                addresses = self.result(login,
                    'model.party.address.search_read', [], 0, None, None,
                    ['party'])
                self.assertLessEqual({a['party'] for a in addresses},
                    {self.parties[party], self.company_party})

    def test_supplier_sees_own_leads_and_statements(self):
        leads = self.search_read('leadquelle', 'lead.lead',
            ['reference', 'delivery_count', 'return_count', 'purchase_price'])
        self.assertEqual(
            sorted(r['reference'] for r in leads),
            ['FRESH', 'FRESH2', 'OTHERS', 'SHARED', 'STALE'])
        counts = {r['reference']: r['delivery_count'] for r in leads}
        self.assertEqual(counts['SHARED'], 2)
        self.assertEqual(counts['OTHERS'], 1)
        self.refused('leadquelle', 'model.lead.lead.read',
            self.ids('lead.lead', [('reference', '=', 'FOREIGN')]),
            ['reference'])
        # who bought a lead at which price is not the supplier's business
        self.refused('leadquelle', 'model.lead.delivery.search',
            [], 0, None, None)
        self.refused('leadquelle', 'model.lead.lead.read',
            [leads[0]['id']], ['deliveries'])

        statements = self.search_read('leadquelle', 'account.invoice',
            ['type', 'party', 'total_amount'])
        self.assertEqual(len(statements), 1)
        statement, = statements
        self.assertEqual(statement['type'], 'in')
        self.assertEqual(statement['party'], self.parties['supplier'])
        # SHARED, OTHERS at 10.00 + 20 % tax
        self.assertEqual(
            amount(statement['total_amount']), Decimal('24.00'))
        def print_statement():
            return self.result('leadquelle',
                'report.lead.billing.document.execute', [statement['id']],
                {'model': 'account.invoice', 'id': statement['id'],
                    'ids': [statement['id']]})
        report = print_statement()
        self.assertEqual(report[0], 'pdf')
        # the first print is kept as the document sent
        self.assertEqual(print_statement()[1], report[1])

    def test_buyer_files_complaint(self):
        fresh, = self.ids('lead.delivery', [('lead.reference', '=', 'FRESH')])
        unreachable = self.ids('lead.complaint.reason',
            [('code', '=', 'UNREACHABLE')])[0]
        # as the web client does, with the form's empty fields and defaults
        complaint_id, = self.result('solar-nord',
            'model.lead.complaint.create', [{
                    'delivery': fresh, 'reason': unreachable,
                    'description': "Nobody answers",
                    'state': 'draft', 'decision_note': None}])
        # but a decision is not the buyer's to give, not even at creation
        message = self.refused('solar-nord', 'model.lead.complaint.create',
            [{'delivery': fresh, 'reason': unreachable,
                    'state': 'accepted', 'decision_note': "ok"}])
        self.assertIn('the trader records the rest', message)
        # with evidence attached
        self.result('solar-nord', 'model.ir.attachment.create', [{
                    'resource': f'lead.complaint,{complaint_id}',
                    'name': 'call-log.txt',
                    'data': {'__class__': 'bytes',
                        'base64': base64.b64encode(b'3 calls').decode()},
                    }])
        # the buyer says what happened, the trader decides
        message = self.refused('solar-nord', 'model.lead.complaint.write',
            [complaint_id], {'state': 'accepted', 'decision_note': 'ok'})
        self.assertIn('the trader records the rest', message)
        self.result('solar-nord', 'model.lead.complaint.submit',
            [complaint_id])
        self.refused('solar-nord', 'model.lead.complaint.accept',
            [complaint_id])
        rows = self.search_read('solar-nord', 'lead.complaint',
            ['state', 'delivery', 'buyer'])
        self.assertEqual([(r['id'], r['state'], r['buyer']) for r in rows],
            [(complaint_id, 'submitted', self.parties['buyer'])])
        # once submitted, it is no longer the buyer's to change
        self.refused('solar-nord', 'model.lead.complaint.write',
            [complaint_id], {'description': "changed"})
        attachments = self.ids('ir.attachment',
            [('resource', '=', f'lead.complaint,{complaint_id}')])
        self.assertEqual(len(attachments), 1)

    def test_complaint_errors_are_clear(self):
        unreachable, duplicate = [self.ids('lead.complaint.reason',
                [('code', '=', code)])[0]
            for code in ['UNREACHABLE', 'DUPLICATE']]
        stale, = self.ids('lead.delivery', [('lead.reference', '=', 'STALE')])
        fresh, = self.ids('lead.delivery',
            [('lead.reference', '=', 'FRESH2')])
        others = self.ids('lead.delivery',
            [('buyer', '=', self.parties['buyer2'])])

        complaint_id, = self.result('solar-nord',
            'model.lead.complaint.create', [{
                    'delivery': stale, 'reason': unreachable}])
        message = self.refused('solar-nord', 'model.lead.complaint.submit',
            [complaint_id])
        self.assertIn('STALE', message)
        self.assertIn('window', message.lower())

        message = self.refused('solar-nord', 'model.lead.complaint.create',
            [{'delivery': fresh, 'reason': duplicate}])
        self.assertIn('HEAT', message)

        self.refused('solar-nord', 'model.lead.complaint.create',
            [{'delivery': others[0], 'reason': unreachable}])
        self.refused('solar-nord', 'model.lead.complaint.create',
            [{'delivery': fresh, 'reason': unreachable,
                    'buyer': self.parties['buyer2']}])

    def test_rest_layer_is_bound_to_the_party(self):
        client = self.client()
        headers = {'Authorization': f'bearer {self.rest_key}'}
        url = f'/{self.db_name}/rest'
        response = client.get(f'{url}/model/lead.delivery', headers=headers)
        self.assertEqual(response.status_code, 200, response.data)
        own = self.ids('lead.delivery',
            [('buyer', '=', self.parties['buyer'])])
        self.assertEqual(sorted(r['id'] for r in response.json), own)

        other = self.ids('lead.delivery',
            [('buyer', '=', self.parties['buyer2'])])[0]
        response = client.get(
            f'{url}/model/lead.delivery/{other}', headers=headers)
        self.assertNotEqual(response.status_code, 200)

        invoice = self.ids('account.invoice',
            [('party', '=', self.parties['buyer2'])])[0]
        response = client.get(
            f'{url}/report/lead.billing.document/{invoice}', headers=headers)
        self.assertNotEqual(response.status_code, 200)
        own_invoice = self.ids('account.invoice',
            [('party', '=', self.parties['buyer'])])[0]
        response = client.get(
            f'{url}/report/lead.billing.document/{own_invoice}',
            headers=headers)
        self.assertEqual(response.status_code, 200, response.data)
        self.assertTrue(response.data.startswith(b'%PDF'))

        response = client.get(f'{url}/model/party.party', headers=headers)
        self.assertEqual(sorted(p['id'] for p in response.json),
            sorted([self.parties['buyer'], self.company_party]))


del RouteTestCase
