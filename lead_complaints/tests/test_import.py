# This file is part of the lead trading suite. See README.rst for details.
"Upload of complaints by the buyer's lead references, answered per row"
import csv
import datetime as dt
import io
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.lead_billing.tests.tools import (
    create_party, lead_values, with_lead_trading)
from trytond.modules.lead_complaints.complaint_import import MAX_ROWS
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction, check_access


def ago(**delta):
    "A naive UTC time before now: complaint windows count from today"
    return dt.datetime.now() - dt.timedelta(**delta)


def deliver(fixture, reference, buyer, delivered_at=None, **values):
    "Create a valid lead of `fixture` and deliver it to `buyer`"
    pool = Pool()
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    delivered_at = delivered_at or ago(hours=2)
    values.setdefault('received_at', delivered_at - dt.timedelta(minutes=5))
    lead, = Lead.create([lead_values(fixture, reference, **values)])
    delivery, = Delivery.create([{
                'lead': lead.id, 'buyer': buyer.id,
                'delivered_at': delivered_at,
                }])
    return delivery


def import_rows(buyer, rows):
    Complaint = Pool().get('lead.complaint')
    return Complaint.import_rows(buyer.id, rows)


def run_wizard(buyer, data, filename='complaints.csv'):
    "Run the import wizard on the file `data`; return the result values"
    Import = Pool().get('lead.complaint.import', type='wizard')
    session_id, _, _ = Import.create()
    result = Import.execute(session_id, {
            'start': {
                'buyer': buyer.id, 'file': data, 'filename': filename,
                },
            }, 'import_')
    Import.delete(session_id)
    return result['view']['defaults']


class ComplaintImportTestCase(unittest.TestCase):
    "Test the upload of complaints"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_complaints')

    def assertStored(self, count):
        Complaint = Pool().get('lead.complaint')
        self.assertEqual(Complaint.search([], count=True), count)

    @with_lead_trading
    def test_valid_rows_submitted(self, fixture):
        "Rows naming the reason by code or name become submitted complaints"
        Complaint = Pool().get('lead.complaint')
        first = deliver(fixture, 'L1', fixture.buyer)
        second = deliver(fixture, 'L2', fixture.buyer)

        answers = import_rows(fixture.buyer, [
                {'reference': ' L1 ', 'reason': 'unreachable',
                    'description': "Nobody answers"},
                {'reference': 'L2', 'reason': 'not REACHABLE'},
                ])

        self.assertEqual([(a['row'], a['reference'], a['status'])
                for a in answers], [
                (0, 'L1', 'submitted'), (1, 'L2', 'submitted')])
        complaints = Complaint.browse([a['complaint'] for a in answers])
        self.assertEqual([c.delivery for c in complaints], [first, second])
        self.assertEqual(
            {c.reason.code for c in complaints}, {'UNREACHABLE'})
        self.assertEqual({c.state for c in complaints}, {'submitted'})
        self.assertEqual(complaints[0].description, "Nobody answers")
        self.assertEqual(answers[0]['message'], complaints[0].auto_check)

    @with_lead_trading
    def test_row_accepted_automatically(self, fixture):
        "A reason whose automatic rule confirms it is answered as accepted"
        Complaint = Pool().get('lead.complaint')
        # Without the phone check the invalid number passes the intake
        fixture.solar.check_phone = False
        fixture.solar.save()
        delivery = deliver(fixture, 'L1', fixture.buyer, phone='no number')

        answer, = import_rows(
            fixture.buyer, [{'reference': 'L1', 'reason': 'PHONE'}])

        self.assertEqual(answer['status'], 'accepted')
        complaint = Complaint(answer['complaint'])
        self.assertEqual(complaint.state, 'accepted')
        self.assertTrue(complaint.decided_automatically)
        self.assertEqual(answer['message'], complaint.auto_check)
        self.assertFalse(delivery.__class__(delivery.id).billable)

    @with_lead_trading
    def test_unknown_reference(self, fixture):
        "A reference the buyer never received is refused, nothing stored"
        deliver(fixture, 'L1', fixture.buyer2)

        answers = import_rows(fixture.buyer, [
                {'reference': 'L1', 'reason': 'UNREACHABLE'},
                {'reference': 'NOPE', 'reason': 'UNREACHABLE'},
                {'reference': ' ', 'reason': 'UNREACHABLE'},
                {'reason': 'UNREACHABLE', 'colour': 'red'},
                ])

        self.assertEqual([a['status'] for a in answers], ['refused'] * 4)
        self.assertEqual([a['complaint'] for a in answers], [None] * 4)
        self.assertIn('"L1"', answers[0]['message'])
        self.assertIn(fixture.buyer.rec_name, answers[0]['message'])
        self.assertIn('"NOPE"', answers[1]['message'])
        self.assertIn('reference is missing', answers[2]['message'])
        self.assertIn('"colour"', answers[3]['message'])
        self.assertStored(0)

    @with_lead_trading
    def test_ambiguous_reference(self, fixture):
        "A reference of two suppliers needs the supplier column"
        Complaint = Pool().get('lead.complaint')
        supplier2 = create_party("Zweitquelle GmbH", 'S2', lead_supplier=True)
        deliver(fixture, 'L1', fixture.buyer)
        other = deliver(fixture, 'L1', fixture.buyer, supplier=supplier2.id,
            phone='040 7654321', email='other@example.com')

        answers = import_rows(fixture.buyer, [
                {'reference': 'L1', 'reason': 'UNREACHABLE'},
                {'reference': 'L1', 'reason': 'UNREACHABLE',
                    'supplier': 'S9'},
                {'reference': 'L1', 'reason': 'UNREACHABLE',
                    'supplier': 'S2'},
                ])

        self.assertEqual([a['status'] for a in answers],
            ['refused', 'refused', 'submitted'])
        self.assertIn('(S1, S2)', answers[0]['message'])
        self.assertIn('"S9"', answers[1]['message'])
        self.assertEqual(Complaint(answers[2]['complaint']).delivery, other)
        self.assertStored(1)

    @with_lead_trading
    def test_unknown_or_switched_off_reason(self, fixture):
        "Unknown reasons and reasons switched off for the category"
        pool = Pool()
        Reason = pool.get('lead.complaint.reason')
        fake, = Reason.search([('code', '=', 'FAKE')])
        fixture.solar.complaint_reasons_disabled = [fake]
        fixture.solar.save()
        deliver(fixture, 'L1', fixture.buyer)

        answers = import_rows(fixture.buyer, [
                {'reference': 'L1', 'reason': 'WEATHER'},
                {'reference': 'L1', 'reason': 'fake'},
                {'reference': 'L1'},
                ])

        self.assertEqual([a['status'] for a in answers], ['refused'] * 3)
        self.assertIn('"WEATHER"', answers[0]['message'])
        self.assertIn('switched off', answers[1]['message'])
        self.assertIn('reason is missing', answers[2]['message'])
        self.assertStored(0)

    @with_lead_trading
    def test_internal_account(self, fixture):
        "Deliveries to an internal account are never complained about"
        deliver(fixture, 'L1', fixture.internal)

        answer, = import_rows(
            fixture.internal, [{'reference': 'L1', 'reason': 'UNREACHABLE'}])

        self.assertEqual(answer['status'], 'refused')
        self.assertIn('internal account', answer['message'])
        self.assertStored(0)

    @with_lead_trading
    def test_cancelled_delivery(self, fixture):
        "A cancelled delivery is refused with that reason, not as unknown"
        Delivery = Pool().get('lead.delivery')
        delivery = deliver(fixture, 'L1', fixture.buyer)
        Delivery.cancel([delivery])

        answer, = import_rows(
            fixture.buyer, [{'reference': 'L1', 'reason': 'UNREACHABLE'}])

        self.assertEqual(answer['status'], 'refused')
        self.assertIn('cancelled', answer['message'])

    @with_lead_trading
    def test_window_closed(self, fixture):
        "A delivery of ten days ago is past the seven day window"
        deliver(fixture, 'L1', fixture.buyer, delivered_at=ago(days=10))
        deliver(fixture, 'L2', fixture.buyer)

        answers = import_rows(fixture.buyer, [
                {'reference': 'L1', 'reason': 'UNREACHABLE'},
                {'reference': 'L2', 'reason': 'UNREACHABLE'},
                ])

        self.assertEqual([a['status'] for a in answers],
            ['refused', 'submitted'])
        self.assertIn('window', answers[0]['message'])
        self.assertStored(1)

    @with_lead_trading
    def test_duplicate_complaint(self, fixture):
        "One open complaint per delivery, from the database or the file"
        deliver(fixture, 'L1', fixture.buyer)
        deliver(fixture, 'L2', fixture.buyer)
        first, = import_rows(
            fixture.buyer, [{'reference': 'L1', 'reason': 'UNREACHABLE'}])
        self.assertEqual(first['status'], 'submitted')

        answers = import_rows(fixture.buyer, [
                {'reference': 'L1', 'reason': 'FAKE'},
                {'reference': 'L2', 'reason': 'UNREACHABLE'},
                {'reference': 'L2', 'reason': 'FAKE'},
                ])

        self.assertEqual([a['status'] for a in answers],
            ['refused', 'submitted', 'refused'])
        self.assertIn('already has an open', answers[0]['message'])
        self.assertIn('earlier row', answers[2]['message'])
        self.assertStored(2)

    @with_lead_trading
    def test_many_rows(self, fixture):
        "More rows than SQLite checks in one call are submitted in batches"
        deliveries = [deliver(fixture, f'L{i}', fixture.buyer,
                phone=f'030 {2000000 + i}')
            for i in range(120)]

        answers = import_rows(fixture.buyer, [
                {'reference': d.lead.reference, 'reason': 'FAKE'}
                for d in deliveries])

        self.assertEqual(
            {a['status'] for a in answers}, {'submitted'})
        self.assertStored(120)

    @with_lead_trading
    def test_too_many_rows(self, fixture):
        "More rows than the limit are refused as a whole"
        rows = [{'reference': f'L{i}', 'reason': 'FAKE'}
            for i in range(MAX_ROWS + 1)]
        with self.assertRaisesRegex(UserError, f'{MAX_ROWS + 1} rows'):
            import_rows(fixture.buyer, rows)

        data = ('reference,reason\n' + 'L1,FAKE\n' * (MAX_ROWS + 1)).encode()
        with self.assertRaisesRegex(UserError, f'{MAX_ROWS + 1} rows'):
            run_wizard(fixture.buyer, data)
        self.assertStored(0)

    @with_lead_trading
    def test_wizard_semicolon_german_bom(self, fixture):
        "A German spreadsheet export: BOM, semicolons, German headers"
        Complaint = Pool().get('lead.complaint')
        delivery = deliver(fixture, 'L1', fixture.buyer)
        data = ('\ufeffReferenz;Grund;Beschreibung;Lieferant\r\n'
            'L1;UNREACHABLE;"Mailbox; nobody calls back";S1\r\n'
            '\r\n'
            'L9;UNREACHABLE;;\r\n').encode('utf-8')

        result = run_wizard(fixture.buyer, data, 'reklamationen.csv')

        complaint, = Complaint.search([])
        self.assertEqual(complaint.delivery, delivery)
        self.assertEqual(complaint.description, "Mailbox; nobody calls back")
        summary = result['summary'].splitlines()
        self.assertEqual(summary[0], "Rows: 2, submitted: 1, "
            "accepted automatically: 0, refused: 1.")
        self.assertTrue(summary[1].startswith('Line 4 (L9): '))
        self.assertEqual(result['filename'], 'reklamationen-result.csv')
        lines = list(csv.reader(
                io.StringIO(result['file'].decode('utf-8-sig')),
                delimiter=';'))
        self.assertEqual(lines[0], [
                'line', 'reference', 'supplier', 'reason', 'status',
                'complaint', 'message'])
        self.assertEqual(lines[1][:6], [
                '2', 'L1', 'S1', 'UNREACHABLE', 'submitted',
                str(complaint.id)])
        self.assertEqual(lines[2][:6], [
                '4', 'L9', '', 'UNREACHABLE', 'refused', ''])

    @with_lead_trading
    def test_wizard_comma_without_bom(self, fixture):
        "A plain comma separated file in English"
        deliver(fixture, 'L1', fixture.buyer)
        data = b'Reference,Reason\nL1,"Not reachable"\n'

        result = run_wizard(fixture.buyer, data)

        self.assertTrue(result['summary'].startswith("Rows: 1, submitted: 1,"))
        self.assertStored(1)

    @with_lead_trading
    def test_wizard_refuses_unreadable_files(self, fixture):
        "Files that cannot be read are refused as a whole with the cause"
        for data, message in [
                ('Referenz;Grund\nL1;FAKE'.encode('latin-1')
                    + b';\xe4\n', 'not UTF-8'),
                (b'', 'empty'),
                (b'reference,reason,colour\n', '"colour" is unknown'),
                (b'reference,reference,reason\n', 'appears twice'),
                (b'reference,description\nL1,x\n', '"reason" is missing'),
                (b'reference,reason\nL1,FAKE,x\n', 'Line 2 has more'),
                ]:
            with self.subTest(message=message):
                with self.assertRaisesRegex(UserError, message):
                    run_wizard(fixture.buyer, data)
        self.assertStored(0)

    @with_lead_trading
    def test_access_needs_lead_trading(self, fixture):
        "Users outside Lead Trading may not import complaints"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        deliver(fixture, 'L1', fixture.buyer)
        clerk, trader = User.create([{
                    'name': name, 'login': name.lower(),
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    'groups': [('add', groups)],
                    } for name, groups in [
                    ("Clerk", []),
                    ("Trader", [ModelData.get_id(
                                'lead_billing', 'group_lead_trading')]),
                    ]])
        rows = [{'reference': 'L1', 'reason': 'FAKE'}]

        with Transaction().set_user(clerk.id), check_access():
            with self.assertRaises(AccessError):
                import_rows(fixture.buyer, rows)
        with Transaction().set_user(trader.id), check_access():
            answer, = import_rows(fixture.buyer, rows)
        self.assertEqual(answer['status'], 'submitted')

