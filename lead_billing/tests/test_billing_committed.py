# This file is part of the lead trading suite. See README.rst for details.
"""Billing runs against committed data: e-mail after commit, failure in the
middle of a run, concurrent runs"""
import datetime as dt
import email
import email.policy
import socket
import threading
import unittest
from unittest import mock

from aiosmtpd.controller import Controller

import trytond.config as config
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_billing import deliver, new_run, set_final_check
from .tools import lead_trading, run_committed, setup_accounting

OCTOBER = dt.date(2026, 10, 31)
RETRIES = 5


class Mailbox:
    "aiosmtpd handler keeping every message it receives"

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(
                envelope.content, policy=email.policy.default)))
        return '250 Message accepted for delivery'


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def serve_mail(cleanup):
    """Start an SMTP server on 127.0.0.1 and send Tryton's e-mail to it
    until `cleanup` (a test's addCleanup or a class's addClassCleanup)
    stops it; return the mailbox that keeps what arrives"""
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname='127.0.0.1', port=free_port())
    controller.start()
    cleanup(controller.stop)
    cleanup(config.set, 'email', 'uri', config.get('email', 'uri'))
    config.set('email', 'uri', f'smtp://127.0.0.1:{controller.port}')
    return mailbox


def run_with_retries(func):
    """Run `func` committed, again after a serialization failure, as
    Tryton's dispatcher does"""
    for attempt in range(RETRIES):
        try:
            return run_committed(DB_NAME, func)
        except backend.DatabaseOperationalError:
            if attempt == RETRIES - 1:
                raise


class BillingCommittedTestCase(RouteTestCase):
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
        run_committed(DB_NAME, cls.in_company(prepare))

    @staticmethod
    def fixture():
        pool = Pool()
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Category = pool.get('lead.category')
        Country = pool.get('country.country')
        company, = Company.search([])
        parties = {p.code: p for p in Party.search([])}
        categories = {c.code: c for c in Category.search([])}
        country, = Country.search([('code', '=', 'DE')])
        return mock.Mock(
            company=company, supplier=parties['S1'], buyer=parties['B1'],
            buyer2=parties['B2'], internal=parties['INT'],
            solar=categories['SOLAR'], heat=categories['HEAT'],
            product=categories['SOLAR'].product, germany=country)

    @classmethod
    def in_company(cls, func):
        def wrapper():
            company_id = cls.fixture().company.id
            # records read in the company's context see its accounts
            with Transaction().set_context(company=company_id):
                return func(cls.fixture())
        return wrapper

    def run_together(self, before, after):
        """Run `before(fixture)` then `after(fixture, its result)` in two
        committed transactions at once, both taking their snapshot before
        either goes on, each started again on a serialization failure as
        Tryton does; return the errors they ended with"""
        barrier = threading.Barrier(2, timeout=30)
        errors = []

        def work(fixture):
            state = before(fixture)
            if not barrier.broken:
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
            return after(fixture, state)

        def start():
            try:
                run_with_retries(self.in_company(work))
            except Exception as exception:
                errors.append(exception)
            finally:
                barrier.abort()
        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    def deliveries(self, prefix, count, buyer='buyer'):
        def create(fixture):
            for i in range(count):
                deliver(fixture, f'{prefix}{i}', getattr(fixture, buyer),
                    dt.datetime(2026, 10, 5, 8, i))
        run_committed(DB_NAME, self.in_company(create))

    def billed(self, prefix):
        "{reference: invoice line id} of the deliveries of `prefix`"
        with Transaction().start(DB_NAME, 0, readonly=True):
            Delivery = Pool().get('lead.delivery')
            return {d.lead.reference: d.invoice_line.id if d.invoice_line
                else None for d in Delivery.search(
                    [('lead.reference', 'like', prefix + '%')])}

    def test_documents_emailed_after_commit_once(self):
        mailbox = serve_mail(self.addCleanup)
        self.deliveries('MAIL', 3)
        self.final_check(False)

        def bill(fixture):
            Run = Pool().get('lead.billing.run')
            run = new_run(fixture)
            Run.compute([run])
            self.assertEqual(mailbox.messages, [], "sent before commit")
            return run.id, list(Transaction().tasks)
        run_id, tasks = run_committed(DB_NAME, self.in_company(bill))
        for task_id in tasks * 2:
            run_committed(DB_NAME, lambda: Pool().get('ir.queue')(
                    task_id).run())

        self.assertEqual(len(mailbox.messages), 2)
        recipients = sorted(r for rcpt, _ in mailbox.messages for r in rcpt)
        self.assertEqual(recipients, [
                'abrechnung@leadquelle.example',
                'einkauf@solar-nord.example'])
        for _, message in mailbox.messages:
            names = sorted(part.get_filename()
                for part in message.iter_attachments())
            self.assertEqual(len(names), 2)
            self.assertTrue(names[0].endswith('.pdf'), names)
            self.assertTrue(names[1].endswith('.xlsx'), names)
            pdf = next(message.iter_attachments()).get_payload(decode=True)
            self.assertTrue(pdf.startswith(b'%PDF'))
        statement = [m for r, m in mailbox.messages
            if r == ['abrechnung@leadquelle.example']][0]
        self.assertIn('GS-', statement['Subject'])
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Run = pool.get('lead.billing.run')
            Email = pool.get('ir.email')
            run = Run(run_id)
            for invoice in run.invoices:
                self.assertEqual(invoice.state, 'posted')
                self.assertTrue(invoice.lead_document_email)
                self.assertEqual(Email.search(
                        [('resource', '=', str(invoice))], count=True), 1)

    def final_check(self, value):
        run_committed(DB_NAME, self.in_company(
                lambda fixture: set_final_check(value)))

    def test_failure_in_the_middle_leaves_nothing(self):
        self.deliveries('FAIL', 4, buyer='buyer2')
        self.final_check(True)

        def bill(fixture):
            Run = Pool().get('lead.billing.run')
            run = new_run(fixture)
            Run.compute([run])
            return run.id
        Run = Pool(DB_NAME).get('lead.billing.run')
        with mock.patch.object(Run, '_bill_suppliers',
                side_effect=RuntimeError("injected")):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, self.in_company(bill))
        self.assertEqual(set(self.billed('FAIL').values()), {None})
        with Transaction().start(DB_NAME, 0, readonly=True):
            Invoice = Pool().get('account.invoice')
            self.assertEqual(Invoice.search(
                    [('lines.lead_deliveries.lead.reference', 'like',
                            'FAIL%')]), [])

        run_committed(DB_NAME, self.in_company(bill))
        lines = self.billed('FAIL')
        self.assertEqual(len(lines), 4)
        self.assertEqual(len(set(lines.values())), 1)
        self.assertNotIn(None, lines.values())

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need PostgreSQL (runs in its pass)")
    def test_concurrent_runs_bill_once(self):
        self.deliveries('CONC', 40, buyer='buyer2')
        self.final_check(True)

        def compute(fixture, run):
            Pool().get('lead.billing.run').compute([run])
        errors = self.run_together(new_run, compute)
        self.assertEqual(errors, [])
        lines = self.billed('CONC')
        self.assertEqual(len(lines), 40)
        self.assertNotIn(None, lines.values())
        with Transaction().start(DB_NAME, 0, readonly=True):
            Line = Pool().get('account.invoice.line')
            billed_lines = Line.browse(list(set(lines.values())))
            self.assertEqual(
                sum(line.quantity for line in billed_lines), 40)
            self.assertEqual(
                len({line.invoice for line in billed_lines}), 1)
