# This file is part of the lead trading suite. See README.rst for details.
"""Billing runs against committed data: e-mail after commit, failure in the
middle of a run and a run killed in the middle, concurrent runs"""
import datetime as dt
import email
import email.policy
import socket
import threading
import unittest
from unittest import mock

from aiosmtpd.controller import Controller
from sql.aggregate import Count, Sum

import trytond.config as config
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_billing import deliver, new_run, set_final_check
from .tools import (
    interrupted, kill_midway, lead_trading, run_committed, setup_accounting,
    with_lock_timeout)

OCTOBER = dt.date(2026, 10, 31)
RETRIES = 5
KILL_NEEDS_POSTGRESQL = (
    "a killed process needs a database it shares with the test: "
    "PostgreSQL (runs in its pass); the SQLite test database is in memory")


def compute_run(run_id):
    "Compute and post the committed draft run, as its button does"
    Run = Pool().get('lead.billing.run')
    Run.compute([Run(run_id)])


def unbalanced_moves():
    "The posted moves whose debit differs from their credit"
    pool = Pool()
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    move = Move.__table__()
    line = MoveLine.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.join(move, condition=line.move == move.id).select(
            line.move, where=move.state == 'posted', group_by=[line.move],
            having=Sum(line.debit) != Sum(line.credit)))
    return [m for m, in cursor]


def miscounted_lines():
    """The lead lines of billing run documents whose quantity differs from
    the deliveries (buyer invoices) or leads (statements) they bill:
    a lead billed twice or a line of nothing shows here"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    invoice = Invoice.__table__()
    line = Line.__table__()
    delivery = Delivery.__table__()
    lead = Lead.__table__()
    cursor = Transaction().connection.cursor()
    billed = {}
    for table, column in [
            (delivery, delivery.invoice_line), (lead, lead.statement_line)]:
        cursor.execute(*table.select(column, Count(table.id),
                where=column != None,  # noqa: E711
                group_by=[column]))
        billed.update(cursor)
    cursor.execute(*line.join(invoice, condition=line.invoice == invoice.id)
        .select(line.id, line.quantity,
            where=(invoice.lead_billing_run != None)  # noqa: E711
            & line.origin.like('lead.category,%')
            # lines that give back (returned leads on a statement) bill
            # no row of their own
            & (line.quantity > 0)))
    return [(line_id, quantity, billed.get(line_id, 0))
        for line_id, quantity in cursor
        if quantity != billed.get(line_id, 0)]


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

    @classmethod
    def company_id(cls):
        with Transaction().start(DB_NAME, 0, readonly=True):
            return cls.fixture().company.id

    def assertConsistent(self):
        """Every lead line bills its deliveries or leads once, every posted
        move balances"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            self.assertEqual(miscounted_lines(), [])
            self.assertEqual(unbalanced_moves(), [])

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

    def draft_run(self):
        "A committed draft run up to October; return its id"
        return run_committed(DB_NAME, self.in_company(
                lambda fixture: new_run(fixture).id))

    def assertRunLeftNothing(self, run_id, prefix):
        "The run is a draft that billed nothing, its leads are all open"
        self.assertEqual(set(self.billed(prefix).values()), {None})
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Run = pool.get('lead.billing.run')
            Lead = pool.get('lead.lead')
            run = Run(run_id)
            self.assertEqual(run.state, 'draft')
            self.assertEqual(run.invoices, ())
            self.assertEqual(run.parties, ())
            self.assertEqual(Lead.search([
                        ('reference', 'like', prefix + '%'),
                        ('statement_line', '!=', None),
                        ]), [])
        self.assertConsistent()

    def assertRunBilledOnce(self, run_id, prefix, count):
        """The posted run billed the `count` deliveries of `prefix` (to
        buyer2, at 30.00) and paid their leads, each once"""
        lines = self.billed(prefix)
        self.assertEqual(len(lines), count)
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Run = pool.get('lead.billing.run')
            Line = pool.get('account.invoice.line')
            Lead = pool.get('lead.lead')
            run = Run(run_id)
            self.assertEqual(run.state, 'posted')
            self.assertEqual(
                {line.invoice.lead_billing_run for line in Line.browse(
                        list(lines.values()))}, {run})
            buyer_invoice, = [i for i in run.invoices if i.type == 'out']
            self.assertEqual(buyer_invoice.untaxed_amount, 30 * count)
            self.assertEqual(buyer_invoice.state, 'posted')
            leads = Lead.search([('reference', 'like', prefix + '%')])
            self.assertEqual(
                {lead.statement_line.invoice.lead_billing_run
                    for lead in leads}, {run})
            self.assertEqual(run.delivery_count, count)
        self.assertConsistent()

    def test_failure_after_buyer_documents_rerun_bills_once(self):
        "A run failing at its statements leaves a draft computed again"
        self.deliveries('HALF', 3, buyer='buyer2')
        self.final_check(False)
        run_id = self.draft_run()
        compute = self.in_company(lambda fixture: compute_run(run_id))
        # the buyer invoices are made and their deliveries marked
        with interrupted('lead.billing.run', '_create_documents', 1):
            with self.assertRaisesRegex(RuntimeError, "injected"):
                run_committed(DB_NAME, compute)
        self.assertRunLeftNothing(run_id, 'HALF')

        run_committed(DB_NAME, compute)
        self.assertRunBilledOnce(run_id, 'HALF', 3)

    @unittest.skipUnless(backend.name == 'postgresql', KILL_NEEDS_POSTGRESQL)
    def test_killed_run_leaves_nothing_rerun_bills_once(self):
        "A run whose process dies is computed again, as if never started"
        self.deliveries('KILL', 3, buyer='buyer2')
        self.final_check(False)
        run_id = self.draft_run()
        kill_midway(compute_run, [run_id],
            ('lead.billing.run', '_create_documents', 1), self.company_id())
        self.assertRunLeftNothing(run_id, 'KILL')

        run_committed(DB_NAME, with_lock_timeout(
                self.in_company(lambda fixture: compute_run(run_id))))
        self.assertRunBilledOnce(run_id, 'KILL', 3)

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
