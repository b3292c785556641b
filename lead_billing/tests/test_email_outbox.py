# This file is part of the lead trading suite. See README.rst for details.
"""The e-mail outbox against committed data and a local SMTP server that is
stopped and started: documents are posted whatever the server does, their
e-mail waits in the outbox and the outbox job delivers each once; the rules
of the retries without database."""
import asyncio
import datetime as dt
import threading
import unittest
from email.message import EmailMessage

from aiosmtpd.controller import Controller

import trytond.config as config
from trytond import backend
from trytond.modules.lead_billing.outbox_rules import (
    FAILED, LONGEST_RETRY, MAX_ATTEMPTS, PENDING, delivery_outcome,
    next_attempt, permanent_refusal, retry_delay)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_billing import deliver, new_run, set_final_check
from . import test_billing_committed
from .test_billing_committed import Mailbox, free_port
from .tools import lead_trading, run_committed, setup_accounting

NOW = dt.datetime(2026, 12, 3, 23, 0)
# imported by module: a test case class in this namespace would run here too
in_company = test_billing_committed.BillingCommittedTestCase.in_company


class RetryRulesTestCase(unittest.TestCase):
    "When the outbox tries again and when it gives up, without database"

    def test_delay_doubles_from_five_minutes(self):
        self.assertEqual(
            [retry_delay(n) for n in range(1, 5)],
            [dt.timedelta(minutes=m) for m in [5, 10, 20, 40]])

    def test_delay_capped(self):
        self.assertEqual(retry_delay(8), LONGEST_RETRY)
        self.assertEqual(retry_delay(10 ** 6), LONGEST_RETRY)

    def test_no_delay_before_an_attempt(self):
        with self.assertRaises(ValueError):
            retry_delay(0)

    def test_permanent_refusal(self):
        self.assertTrue(permanent_refusal([550]))
        self.assertTrue(permanent_refusal([550, 553]))
        # one recipient may still take it later
        self.assertFalse(permanent_refusal([550, 452]))
        self.assertFalse(permanent_refusal([421]))
        # unreachable server: no reply at all
        self.assertFalse(permanent_refusal([]))

    def test_outcome(self):
        self.assertEqual(delivery_outcome(1, []), PENDING)
        self.assertEqual(delivery_outcome(1, [451]), PENDING)
        self.assertEqual(delivery_outcome(1, [550]), FAILED)
        self.assertEqual(delivery_outcome(MAX_ATTEMPTS - 1, []), PENDING)
        self.assertEqual(delivery_outcome(MAX_ATTEMPTS, []), FAILED)

    def test_next_attempt(self):
        self.assertEqual(next_attempt(NOW, 1, [451]),
            (PENDING, NOW + dt.timedelta(minutes=5)))
        self.assertEqual(next_attempt(NOW, 3, []),
            (PENDING, NOW + dt.timedelta(minutes=20)))
        self.assertEqual(next_attempt(NOW, 1, [550]), (FAILED, None))
        self.assertEqual(next_attempt(NOW, MAX_ATTEMPTS, []), (FAILED, None))


class Replies(Mailbox):
    """A mailbox that answers the next messages with the SMTP replies of
    `refuse` before it accepts again, and takes `delay` seconds for each"""

    def __init__(self):
        super().__init__()
        self.refuse = []
        self.delay = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse.pop(0)
        return await super().handle_DATA(server, session, envelope)


class MailServer:
    "A local SMTP server on a fixed port that a test stops and starts"

    def __init__(self, cleanup):
        self.mailbox = Replies()
        self.port = free_port()
        self.controller = None
        cleanup(self.stop)
        cleanup(config.set, 'email', 'uri', config.get('email', 'uri'))
        config.set('email', 'uri', f'smtp://127.0.0.1:{self.port}')

    def start(self):
        self.controller = Controller(
            self.mailbox, hostname='127.0.0.1', port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def message_ids(self):
        return sorted(m['Message-ID'] for _, m in self.mailbox.messages)


def outbox(domain=None):
    "{id: (state, attempts, message id)} of the e-mails of the outbox"
    with Transaction().start(DB_NAME, 0, readonly=True):
        Email = Pool().get('ir.email')
        return {e.id: (e.outbox_state, e.outbox_attempts, e.message_id)
            for e in Email.search(
                [('outbox_state', '!=', None)] + (domain or []))}


def run_outbox_job():
    "Run the outbox job as the scheduler does, committed"
    def run():
        pool = Pool()
        Cron = pool.get('ir.cron')
        ModelData = pool.get('ir.model.data')
        Cron.run_once([Cron(ModelData.get_id(
                        'lead_billing', 'cron_email_outbox'))])
    run_committed(DB_NAME, run)


def backoff_passed(ids):
    "Move the next attempt of the e-mails to the past, as time goes by"
    def move():
        Email = Pool().get('ir.email')
        table = Email.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.outbox_next_attempt],
                [dt.datetime.now() - dt.timedelta(seconds=1)],
                where=table.id.in_(list(ids))))
    run_committed(DB_NAME, move)


def put_messages(count, prefix):
    "Commit `count` e-mails in the outbox; return their ids"
    def put():
        pool = Pool()
        Email = pool.get('ir.email')
        Company = pool.get('company.company')
        company, = Company.search([])
        emails = []
        for i in range(count):
            msg = EmailMessage()
            msg.set_content(f'{prefix} {i}')
            msg['From'] = 'billing@example.com'
            msg['To'] = f'{prefix.lower()}{i}@example.com'
            msg['Subject'] = f'{prefix} {i}'
            emails.append(Email.put_in_outbox(
                    msg, body=f'{prefix} {i}', resource=company.party))
        Email.save(emails)
        return [e.id for e in emails]
    return run_committed(DB_NAME, put)


class EmailOutboxTestCase(RouteTestCase):
    module = 'lead_billing'

    @classmethod
    def setUpDatabase(cls):
        with lead_trading():
            pass

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def prepare(fixture):
            setup_accounting(fixture, [2026])
            fixture.buyer.lead_document_email = 'einkauf@solar-nord.example'
            fixture.buyer.save()
            fixture.supplier.email = 'abrechnung@leadquelle.example'
            fixture.supplier.save()
            set_final_check(False)
        run_committed(DB_NAME, in_company(prepare))

    def test_documents_posted_while_server_down_delivered_once(self):
        server = MailServer(self.addCleanup)

        def bill(fixture):
            # the queue tasks of this transaction only, not those earlier
            # transactions of the thread left for a worker
            Transaction().tasks.clear()
            for i in range(3):
                deliver(fixture, f'OUTBOX{i}', fixture.buyer,
                    dt.datetime(2026, 10, 5, 8, i))
            run = new_run(fixture)
            Pool().get('lead.billing.run').compute([run])
            return run.id, list(Transaction().tasks)
        run_id, tasks = run_committed(
            DB_NAME, in_company(bill))
        # the e-mail task of the posted documents, with the server down
        for task_id in tasks:
            run_committed(DB_NAME, lambda: Pool().get('ir.queue')(
                    task_id).run())

        with Transaction().start(DB_NAME, 0, readonly=True):
            run = Pool().get('lead.billing.run')(run_id)
            self.assertEqual(len(run.invoices), 2)
            self.assertEqual({i.state for i in run.invoices}, {'posted'})
            emails = [i.lead_document_email for i in run.invoices]
            self.assertEqual({e.outbox_state for e in emails}, {PENDING})
            self.assertEqual({e.outbox_attempts for e in emails}, {1})
            self.assertTrue(all('Connection' in e.outbox_error
                    for e in emails), [e.outbox_error for e in emails])
            self.assertTrue(all(e.outbox_next_attempt > dt.datetime.now()
                    for e in emails))
            ids = [e.id for e in emails]
            message_ids = sorted(e.message_id for e in emails)

        server.start()
        # the job respects the back-off
        run_outbox_job()
        self.assertEqual(server.mailbox.messages, [])
        backoff_passed(ids)
        run_outbox_job()
        self.assertEqual(server.message_ids(), message_ids)
        recipients = sorted(r for rcpt, _ in server.mailbox.messages
            for r in rcpt)
        self.assertEqual(recipients, [
                'abrechnung@leadquelle.example',
                'einkauf@solar-nord.example'])
        for _, message in server.mailbox.messages:
            names = sorted(part.get_filename()
                for part in message.iter_attachments())
            self.assertTrue(names[0].endswith('.pdf'), names)
            self.assertTrue(names[1].endswith('.xlsx'), names)
        self.assertEqual({v[:2] for k, v in outbox().items() if k in ids},
            {('sent', 2)})

        # neither the job nor sending the documents again send anything
        backoff_passed(ids)
        run_outbox_job()

        def send_again():
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Invoice.send_lead_documents(
                pool.get('lead.billing.run')(run_id).invoices)
        run_committed(DB_NAME, send_again)
        self.assertEqual(server.message_ids(), message_ids)

    def test_sent_after_commit_when_server_up(self):
        server = MailServer(self.addCleanup)
        server.start()
        ids = put_messages(2, 'Direct')
        self.assertEqual(len(server.mailbox.messages), 2)
        self.assertEqual(server.message_ids(),
            sorted(v[2] for k, v in outbox().items() if k in ids))
        self.assertEqual({v[:2] for k, v in outbox().items() if k in ids},
            {('sent', 1)})

    def test_not_sent_when_transaction_rolled_back(self):
        server = MailServer(self.addCleanup)
        server.start()
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Email = pool.get('ir.email')
            Company = pool.get('company.company')
            company, = Company.search([])
            msg = EmailMessage()
            msg.set_content('never')
            msg['To'] = 'nobody@example.com'
            Email.save([Email.put_in_outbox(
                        msg, body='never', resource=company.party)])
            transaction.rollback()
        self.assertEqual(server.mailbox.messages, [])

    def test_refusals_retried_failed_and_sent_again(self):
        server = MailServer(self.addCleanup)
        server.start()
        # Tryton tries a 4xx refusal again at once, five times
        server.mailbox.refuse = (['451 4.3.0 Try again later'] * 6
            + ['550 5.1.1 User unknown'])
        busy, unknown = put_messages(2, 'Refused')
        self.assertEqual(server.mailbox.messages, [])
        state = outbox()
        self.assertEqual(state[busy][:2], (PENDING, 1))
        self.assertEqual(state[unknown][:2], (FAILED, 1))
        with Transaction().start(DB_NAME, 0, readonly=True):
            Email = Pool().get('ir.email')
            self.assertIn('451', Email(busy).outbox_error)
            self.assertIn('550', Email(unknown).outbox_error)
            self.assertIsNone(Email(unknown).outbox_next_attempt)

        # a failed message is not retried by the job, only by staff
        backoff_passed([busy, unknown])
        run_outbox_job()
        self.assertEqual(server.message_ids(), [state[busy][2]])
        self.assertEqual(outbox()[unknown][:2], (FAILED, 1))

        def retry():
            Email = Pool().get('ir.email')
            Email.outbox_retry(Email.browse([busy, unknown]))
        run_committed(DB_NAME, retry)
        self.assertEqual(server.message_ids(),
            sorted([state[busy][2], state[unknown][2]]))
        self.assertEqual(outbox()[unknown][:2], ('sent', 2))
        self.assertEqual(outbox()[busy][:2], ('sent', 2))

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (runs in its pass)")
    def test_concurrent_jobs_send_once(self):
        server = MailServer(self.addCleanup)
        ids = put_messages(20, 'Twice')
        self.assertEqual(
            {v[:2] for k, v in outbox().items() if k in ids}, {(PENDING, 1)})
        server.start()
        # slow enough that both jobs work on the messages at once
        server.mailbox.delay = 0.05
        backoff_passed(ids)
        barrier = threading.Barrier(2, timeout=30)
        delivered, errors = [], []

        def job():
            try:
                def run():
                    barrier.wait()
                    delivered.append(Pool().get('ir.email').deliver(ids))
                run_committed(DB_NAME, run)
            except Exception as exception:
                errors.append(exception)
        threads = [threading.Thread(target=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(
            sorted(i for d in delivered for i in d), sorted(ids))
        # both jobs did part of the work
        self.assertTrue(all(delivered), delivered)
        self.assertEqual(server.message_ids(),
            sorted(v[2] for k, v in outbox().items() if k in ids))
        self.assertEqual(
            {v[:2] for k, v in outbox().items() if k in ids}, {('sent', 2)})
