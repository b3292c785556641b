# This file is part of the lead trading suite. See README.rst for details.
"""Prepaid buyers on a database: top-ups, the delivery check, billing from
the deposit, complaint credits, alerts, refunds and what external users
see"""
import datetime as dt
import unittest
from decimal import Decimal


from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.lead_billing.delivery import DeliveryRequest
from trytond.modules.lead_billing.exceptions import DeliveryRefused
from trytond.modules.lead_billing.tests.test_billing_committed import (
    serve_mail)
from trytond.modules.lead_billing.tests.tools import with_lead_trading
from trytond.modules.lead_prepaid.exceptions import PrepaidError, TopUpError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction, check_access

from .tools import (
    ago, balance, deliver, make_prepaid, new_lead, run_billing,
    setup_prepaid, top_up)


def process(payment):
    "Process a payment of a manual journal as the payment wizard does"
    pool = Pool()
    Payment = pool.get('account.payment')
    Group = pool.get('account.payment.group')

    def group():
        record = Group(company=payment.company, journal=payment.journal,
            kind=payment.kind)
        record.save()
        return record
    Payment.process([payment], group)


def weekly(*parties):
    Party = Pool().get('party.party')
    Party.write(list(parties), {'lead_billing_interval': 'weekly'})


class PrepaidTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(['lead_prepaid', 'lead_complaints'])
        # alerts and documents are sent strictly: give them a server
        cls.mailbox = serve_mail(cls.addClassCleanup)

    def prepare(self, fixture):
        years = [(dt.date.today() - dt.timedelta(days=20)).year]
        setup_prepaid(fixture, years)
        return fixture

    # Top-ups

    @with_lead_trading
    def test_balance_rises_when_money_is_booked(self, fixture):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        Invoice = pool.get('account.invoice')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        requested = TopUp.request(account, Decimal('100.00'))
        self.assertEqual(requested.state, 'requested')
        self.assertTrue(requested.number.startswith('VK-'))
        self.assertEqual(requested.tax_amount, Decimal('20.00'))
        self.assertEqual(requested.total_amount, Decimal('120.00'))
        self.assertEqual(requested.payment.state, 'submitted')
        self.assertEqual(requested.payment.amount, Decimal('120.00'))
        self.assertEqual(requested.payment.reference, requested.number)
        request = requested.invoice
        self.assertEqual(request.state, 'draft')
        self.assertEqual(request.total_amount, Decimal('120.00'))
        self.assertEqual(request.get_lead_document_title(),
            "Advance Payment Request")
        self.assertIn(requested.number, request.get_lead_document_intro())
        with self.assertRaises(PrepaidError) as raised:
            Invoice.post([request])
        self.assertIn('is posted when the money', str(raised.exception))
        self.assertEqual(balance(account), (0, 0, 0))

        TopUp.book([requested])
        booked = TopUp(requested.id)
        self.assertEqual(booked.state, 'booked')
        self.assertIsNone(booked.payment, "the expected payment is dropped")
        invoice = booked.invoice
        self.assertEqual(invoice, request)
        self.assertEqual(invoice.state, 'paid')
        self.assertEqual(invoice.invoice_date, booked.date)
        self.assertEqual(invoice.lead_prepayment, 'top_up')
        self.assertEqual(invoice.untaxed_amount, Decimal('100.00'))
        self.assertEqual(invoice.tax_amount, Decimal('20.00'))
        self.assertEqual(invoice.total_amount, Decimal('120.00'))
        self.assertEqual(invoice.get_lead_document_title(),
            "Advance Payment Invoice")
        self.assertEqual(balance(account),
            (Decimal('100.00'), Decimal('0.00'), Decimal('100.00')))
        self.assertEqual(fixture.buyer.deposit, Decimal('100.00'),
            "Tryton's own deposit balance agrees")

        # issued and e-mailed as a lead document, without an annex
        Document = Pool().get('lead.billing.document', type='report')
        ext, content, _, _ = Document.execute([invoice.id], {})
        self.assertEqual(ext, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))
        fixture.buyer.lead_document_email = 'einkauf@solar-nord.example'
        fixture.buyer.save()
        Invoice.send_lead_documents([invoice])
        email = Invoice(invoice.id).lead_document_email
        self.assertIn('Advance Payment Invoice', email.subject)
        self.assertIn(invoice.number, email.subject)
        self.assertIn('120.00', email.body)

    @with_lead_trading
    def test_payment_success_books_the_top_up(self, fixture):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        Payment = pool.get('account.payment')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        requested = TopUp.request(account, Decimal('50.00'))
        payment = requested.payment
        process(payment)
        self.assertEqual(TopUp(requested.id).state, 'requested')
        Payment.succeed([payment])
        booked = TopUp(requested.id)
        self.assertEqual(booked.state, 'booked')
        self.assertEqual(booked.payment, payment)
        self.assertEqual(booked.date, payment.date)
        self.assertEqual(balance(account)[0], Decimal('50.00'))
        # a payment that succeeds again books nothing more
        Payment.fail([payment])
        Payment.succeed([payment])
        self.assertEqual(TopUp.search([], count=True), 1)
        self.assertEqual(balance(account)[0], Decimal('50.00'))

    @with_lead_trading
    def test_book_refused_while_the_payment_runs(self, fixture):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        requested = TopUp.request(account, Decimal('50.00'))
        process(requested.payment)
        with self.assertRaises(TopUpError) as raised:
            TopUp.book([requested])
        self.assertIn('is being processed', str(raised.exception))

    @with_lead_trading
    def test_cancelled_request_leaves_nothing(self, fixture):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        Invoice = pool.get('account.invoice')
        Payment = pool.get('account.payment')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        requested = TopUp.request(account, Decimal('50.00'))
        TopUp.cancel([requested])
        self.assertEqual(TopUp(requested.id).state, 'cancelled')
        self.assertEqual(Invoice.search([]), [])
        self.assertEqual(Payment.search([]), [])

    @with_lead_trading
    def test_top_up_validation(self, fixture):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        Currency = pool.get('currency.currency')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        usd, = Currency.create([{
                    'name': 'US Dollar', 'code': 'USD', 'symbol': '$'}])
        for amount, currency, message in [
                (Decimal('0'), None, 'more than zero'),
                (Decimal('-10'), None, 'more than zero'),
                (Decimal('10.005'), None, 'number of digits'),
                (Decimal('10'), usd, 'not in USD'),
                ]:
            with self.subTest(amount=amount, currency=currency):
                values = {'account': account.id, 'amount': amount}
                if currency:
                    values['currency'] = currency.id
                with self.assertRaises(UserError) as raised:
                    TopUp.create([values])
                self.assertIn(message, str(raised.exception))

    @with_lead_trading
    def test_booked_top_up_cannot_be_deleted(self, fixture):
        TopUp = Pool().get('lead.prepaid.top_up')
        self.prepare(fixture)
        booked = top_up(make_prepaid(fixture.buyer), '10.00')
        with self.assertRaises(AccessError):
            TopUp.delete([booked])

    # Delivery check

    @with_lead_trading
    def test_delivery_allowed_at_exactly_enough_refused_below(self, fixture):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        top_up(account, '60.00')
        deliver(fixture, 'P1', fixture.buyer)
        deliver(fixture, 'P2', fixture.buyer)
        self.assertEqual(balance(account),
            (Decimal('60.00'), Decimal('60.00'), Decimal('0.00')))
        lead = new_lead(fixture, 'P3')
        with self.assertRaises(DeliveryRefused) as raised:
            Delivery.create([{'lead': lead.id, 'buyer': fixture.buyer.id}])
        message = str(raised.exception)
        self.assertIn('does not cover lead', message)
        self.assertIn('30.00', message)
        self.assertIn('0.00', message)
        # the lead stays free for buyers that pay afterwards
        other, = Delivery.create([
                {'lead': lead.id, 'buyer': fixture.buyer2.id}])
        self.assertEqual(other.unit_price, Decimal('30.00'))

    @with_lead_trading
    def test_batch_spends_the_balance_in_turn(self, fixture):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        top_up(account, '59.99')
        deliver(fixture, 'B1', fixture.buyer)
        leads = [new_lead(fixture, 'B2'), new_lead(fixture, 'B3')]
        refusals = Delivery.delivery_refusals(Delivery.price_requests([
                    DeliveryRequest(lead, fixture.buyer, ago(hours=1))
                    for lead in leads]))
        self.assertEqual([bool(r) for r in refusals], [True, True])
        top_up(account, '0.01')
        refusals = Delivery.delivery_refusals(Delivery.price_requests([
                    DeliveryRequest(lead, fixture.buyer, ago(hours=1))
                    for lead in leads]))
        self.assertEqual([bool(r) for r in refusals], [False, True])

    @with_lead_trading
    def test_intake_refuses_the_row_beyond_the_balance(self, fixture):
        pool = Pool()
        Intake = pool.get('lead.intake')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer, thresholds=['40.00'])
        fixture.buyer.lead_document_email = 'einkauf@solar-nord.example'
        fixture.buyer.save()
        top_up(account, '60.00')
        received = ago(hours=3).isoformat() + '+00:00'
        rows = [{
                'supplier': 'S1', 'reference': f'I{i}', 'category': 'SOLAR',
                'received_at': received, 'name': 'Erika',
                'email': f'i{i}@example.com', 'phone': f'030 123456{i}',
                'postal_code': '10115', 'city': 'Berlin', 'country': 'DE',
                'deliveries': [{'buyer': 'B1'}, {'buyer': 'B2'}],
                } for i in range(3)]
        results = Intake.ingest(rows)
        self.assertEqual([r['status'] for r in results], ['created'] * 3)
        self.assertEqual(
            [[d['status'] for d in r['deliveries']] for r in results],
            [['created', 'created'], ['created', 'created'],
                ['refused', 'created']])
        error, = results[2]['deliveries'][0]['errors']
        self.assertEqual(error['field'], 'deliveries[0].buyer')
        self.assertIn('does not cover lead', error['message'])
        self.assertEqual(balance(account)[2], Decimal('0.00'))
        alert, = Pool().get('ir.email').search(
            [('resource', '=', str(account))])
        self.assertIn('below', alert.subject)

    @with_lead_trading
    def test_postpaid_buyers_are_not_limited(self, fixture):
        self.prepare(fixture)
        make_prepaid(fixture.buyer)
        delivery = deliver(fixture, 'N1', fixture.buyer2)
        self.assertEqual(delivery.state, 'delivered')

    @with_lead_trading
    def test_closed_account_no_longer_limits(self, fixture):
        Account = Pool().get('lead.prepaid.account')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        Account.write([account], {'active': False})
        self.assertEqual(
            deliver(fixture, 'C1', fixture.buyer).state, 'delivered')

    # Billing

    @with_lead_trading
    def test_billing_run_settles_prepaid_invoice_from_deposit(self, fixture):
        self.prepare(fixture)
        weekly(fixture.buyer, fixture.buyer2, fixture.supplier)
        account = make_prepaid(fixture.buyer)
        top_up(account, '100.00')
        deliver(fixture, 'S1', fixture.buyer, ago(days=10))
        deliver(fixture, 'S2', fixture.buyer, ago(days=10))
        deliver(fixture, 'S3', fixture.buyer2, ago(days=10))
        self.assertEqual(balance(account)[2], Decimal('40.00'))

        run = run_billing(fixture, post=False)
        invoice, = [i for i in run.invoices if i.party == fixture.buyer]
        recall, = [line for line in invoice.lines
            if line.account == fixture.deposit_account]
        self.assertEqual(recall.amount, Decimal('-60.00'))
        self.assertEqual(list(recall.taxes), [fixture.tax])
        self.assertEqual(invoice.total_amount, Decimal('0.00'))
        self.assertEqual(balance(account),
            (Decimal('100.00'), Decimal('60.00'), Decimal('40.00')),
            "a draft invoice does not settle yet")

        Run = Pool().get('lead.billing.run')
        Run.post([run])
        invoice = invoice.__class__(invoice.id)
        self.assertEqual(invoice.state, 'paid')
        self.assertEqual(invoice.amount_to_pay, Decimal('0.00'))
        self.assertEqual(invoice.get_lead_document_title(), "Invoice")
        self.assertEqual(len(list(invoice.get_lead_annex_rows())), 2)
        self.assertEqual(balance(account),
            (Decimal('40.00'), Decimal('0.00'), Decimal('40.00')))
        postpaid, = [i for i in run.invoices if i.party == fixture.buyer2]
        self.assertEqual(postpaid.total_amount, Decimal('36.00'))
        self.assertEqual(postpaid.state, 'posted')

    @with_lead_trading
    def test_deposit_short_of_the_invoice_leaves_the_rest_due(self, fixture):
        Account = Pool().get('lead.prepaid.account')
        self.prepare(fixture)
        weekly(fixture.buyer, fixture.supplier)
        # delivered while the buyer still paid afterwards
        for reference in ['D1', 'D2', 'D3']:
            deliver(fixture, reference, fixture.buyer, ago(days=10))
        account = make_prepaid(fixture.buyer)
        top_up(account, '40.00')
        self.assertEqual(Account(account.id).available, Decimal('-50.00'))
        run = run_billing(fixture)
        invoice, = [i for i in run.invoices if i.type == 'out']
        self.assertEqual(invoice.untaxed_amount, Decimal('50.00'))
        self.assertEqual(invoice.amount_to_pay, Decimal('60.00'))
        self.assertEqual(balance(account)[0], Decimal('0.00'))

    @with_lead_trading
    def test_two_periods_share_the_deposit(self, fixture):
        self.prepare(fixture)
        weekly(fixture.buyer, fixture.supplier)
        account = make_prepaid(fixture.buyer)
        top_up(account, '90.00')
        deliver(fixture, 'W1', fixture.buyer, ago(days=17))
        deliver(fixture, 'W2', fixture.buyer, ago(days=17))
        deliver(fixture, 'W3', fixture.buyer, ago(days=10))
        run = run_billing(fixture)
        invoices = sorted((i for i in run.invoices if i.type == 'out'),
            key=lambda i: i.lead_period_start)
        self.assertEqual(len(invoices), 2)
        self.assertEqual([i.total_amount for i in invoices],
            [Decimal('0.00'), Decimal('0.00')])
        self.assertEqual(balance(account)[0], Decimal('0.00'))

    # Complaints

    @with_lead_trading
    def test_accepted_complaint_returns_to_the_balance(self, fixture):
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Reason = pool.get('lead.complaint.reason')
        Party = pool.get('party.party')
        self.prepare(fixture)
        weekly(fixture.buyer, fixture.supplier)
        Party.write([fixture.buyer], {'lead_complaint_window_days': 60})
        account = make_prepaid(fixture.buyer)
        top_up(account, '60.00')
        returned = deliver(fixture, 'R1', fixture.buyer, ago(days=10))
        deliver(fixture, 'R2', fixture.buyer, ago(days=10))
        run_billing(fixture)
        self.assertEqual(balance(account)[2], Decimal('0.00'))

        reason, = Reason.search([('code', '=', 'FAKE')])
        complaint, = Complaint.create([{
                    'delivery': returned.id, 'reason': reason.id,
                    'description': "Invented person"}])
        Complaint.submit([complaint])
        Complaint.accept([complaint])
        correction = Complaint(complaint.id).credit_note
        self.assertEqual(correction.state, 'paid')
        self.assertEqual(correction.total_amount, Decimal('0.00'))
        self.assertEqual(sorted(line.amount for line in correction.lines),
            [Decimal('-30.00'), Decimal('30.00')])
        self.assertEqual(balance(account),
            (Decimal('30.00'), Decimal('0.00'), Decimal('30.00')))
        # the money is there again for the next lead
        self.assertEqual(
            deliver(fixture, 'R3', fixture.buyer).state, 'delivered')

    # Alerts

    @with_lead_trading
    def test_alert_once_per_crossing(self, fixture):
        pool = Pool()
        Email = pool.get('ir.email')
        Threshold = pool.get('lead.prepaid.threshold')
        self.prepare(fixture)
        fixture.buyer.lead_document_email = 'einkauf@solar-nord.example'
        fixture.buyer.save()
        account = make_prepaid(fixture.buyer, thresholds=['50.00'])
        top_up(account, '100.00')

        def alerts():
            return Email.search([('resource', '=', str(account))])
        deliver(fixture, 'A1', fixture.buyer)
        self.assertEqual(alerts(), [])
        deliver(fixture, 'A2', fixture.buyer)
        alert, = alerts()
        self.assertIn('below', alert.subject)
        self.assertIn('40.00', alert.body)
        self.assertEqual(alert.recipients, 'einkauf@solar-nord.example')
        threshold, = Threshold.search([])
        self.assertTrue(threshold.crossed)
        deliver(fixture, 'A3', fixture.buyer)
        self.assertEqual(len(alerts()), 1, "no alert on every delivery")

        top_up(account, '100.00')
        self.assertFalse(Threshold(threshold.id).crossed, "re-armed")
        self.assertEqual(len(alerts()), 1)
        for reference in ['A4', 'A5', 'A6']:
            deliver(fixture, reference, fixture.buyer)
        self.assertEqual(len(alerts()), 2, "a new crossing alerts again")

    @with_lead_trading
    def test_runway_from_the_last_14_days(self, fixture):
        Account = Pool().get('lead.prepaid.account')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        self.assertEqual(Account(account.id).runway, 0, "nothing left")
        top_up(account, '500.00')
        self.assertIsNone(Account(account.id).runway, "nothing spent")
        for i in range(7):
            deliver(fixture, f'RW{i}', fixture.buyer, ago(days=i + 1))
        deliver(fixture, 'RW-old', fixture.buyer, ago(days=20))
        account = Account(account.id)
        # 7 × 30 = 210 in 14 days, 15 a day; 500 − 240 = 260 lasts 17 days
        self.assertEqual(account.spent, Decimal('210.00'))
        self.assertEqual(account.available, Decimal('260.00'))
        self.assertEqual(account.runway, 17)

    # Refund

    @with_lead_trading
    def test_refund_of_the_remaining_balance(self, fixture):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        Refund = pool.get('lead.prepaid.refund', type='wizard')
        self.prepare(fixture)
        account = make_prepaid(fixture.buyer)
        top_up(account, '100.00')
        deliver(fixture, 'F1', fixture.buyer)

        session_id, _, _ = Refund.create()
        refund = Refund(session_id)
        with Transaction().set_context(
                active_model='lead.prepaid.account', active_id=account.id,
                active_ids=[account.id]):
            start = refund.default_start(None)
            self.assertEqual(start['refundable'], Decimal('70.00'))
            refund.start.amount = Decimal('70.01')
            refund.start.date = start['date']
            refund.start.close = True
            with self.assertRaises(PrepaidError) as raised:
                refund.transition_refund()
            self.assertIn('at most the refundable', str(raised.exception))
            refund.start.amount = Decimal('70.00')
            self.assertEqual(refund.transition_refund(), 'open_')
        credit = refund.refund_invoice
        self.assertEqual(credit.state, 'posted')
        self.assertEqual(credit.lead_prepayment, 'refund')
        self.assertEqual(credit.untaxed_amount, Decimal('-70.00'))
        self.assertEqual(credit.total_amount, Decimal('-84.00'))
        self.assertEqual(credit.get_lead_document_title(),
            "Refund of Advance Payment")
        account = Account(account.id)
        self.assertFalse(account.active)
        self.assertEqual(
            (account.deposit, account.unbilled_amount, account.available),
            (Decimal('30.00'), Decimal('30.00'), Decimal('0.00')))

    # External users

    @with_lead_trading
    def test_buyer_sees_only_its_own_prepaid_data(self, fixture):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        TopUp = pool.get('lead.prepaid.top_up')
        Delivery = pool.get('lead.delivery')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Request = pool.get('lead.prepaid.top_up.request', type='wizard')
        self.prepare(fixture)
        own = make_prepaid(fixture.buyer, thresholds=['20.00'])
        other = make_prepaid(fixture.buyer2)
        top_up(own, '100.00')
        top_up(other, '100.00')
        mine = deliver(fixture, 'E1', fixture.buyer)
        deliver(fixture, 'E2', fixture.buyer2)
        group = ModelData.get_id('lead_billing', 'group_lead_buyer_external')
        user, = User.create([{
                    'login': 'solar-nord', 'name': "Solar Nord (extern)",
                    'lead_party': fixture.buyer.id,
                    'groups': [('add', [group])],
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    }])

        with Transaction().set_user(user.id), check_access():
            self.assertEqual(Account.search([]), [own])
            account, = Account.read([own.id], ['available', 'runway'])
            self.assertEqual(account['available'], Decimal('70.00'))
            with self.assertRaises(AccessError):
                Account.read([other.id], ['available'])
            self.assertEqual(
                [t.account for t in TopUp.search([])], [own])
            self.assertEqual(Delivery.search([]), [mine])
            with self.assertRaises(AccessError):
                Delivery.read([d.id for d in Delivery.search([])] + [
                        d.id for d in Delivery.browse([mine.id + 1])],
                    ['unit_price'])
            with self.assertRaises(AccessError):
                TopUp.create([{'account': own.id, 'amount': Decimal(5)}])
            # the screens of the self-service read without refusal
            for Model, view, ids in [
                    (Account, 'account_view_form', [own.id]),
                    (TopUp, 'top_up_view_list', [t.id for t in own.top_ups]),
                    (TopUp, 'top_up_view_form', [t.id for t in own.top_ups]),
                    (Delivery, 'delivery_view_usage_list', [mine.id]),
                    (Delivery, 'delivery_view_usage_form', [mine.id]),
                    ]:
                with self.subTest(view=view):
                    fields = Model.fields_view_get(
                        ModelData.get_id('lead_prepaid', view))['fields']
                    names = [f'{n}.rec_name' if fields[n]['type'] in {
                            'many2one', 'one2many'} and n != 'currency'
                        else n for n in fields]
                    self.assertTrue(Model.read(ids, names))
                    self.assertNotIn('invoice', fields)
                    self.assertNotIn('payment', fields)

            session_id, _, _ = Request.create()
            request = Request(session_id)
            with Transaction().set_context(
                    active_model='lead.prepaid.account', active_id=own.id,
                    active_ids=[own.id]):
                request.start.account = Account(own.id)
                request.start.amount = Decimal('200.00')
                request.start.currency = fixture.company.currency
                self.assertEqual(request.transition_request(), 'done')
                done = request.default_done(None)
        requested = TopUp(done['top_up'])
        self.assertEqual(requested.origin, 'buyer')
        self.assertEqual(requested.state, 'requested')
        self.assertEqual(requested.account, own)
        self.assertIn(requested.number, done['instructions'])
        self.assertIn('240.00', done['instructions'])


    # Audit trail

    @with_lead_trading
    def test_prepaid_settings_logged(self, fixture):
        pool = Pool()
        Settings = pool.get('lead.configuration.prepaid')
        Change = pool.get('lead.audit.change')
        self.prepare(fixture)
        settings, = Settings.search([('company', '=', fixture.company.id)])
        self.assertEqual({(c.field, c.old_value, c.new_value)
                for c in Change.search([
                        ('model', '=', 'lead.configuration.prepaid'),
                        ('record_id', '=', settings.id),
                        ])}, {
                ('prepaid_deposit_account', None,
                    settings.prepaid_deposit_account.rec_name),
                ('prepaid_payment_method', None,
                    settings.prepaid_payment_method.rec_name),
                ('prepaid_payment_journal', None,
                    settings.prepaid_payment_journal.rec_name),
                })
