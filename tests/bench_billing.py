#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Benchmark of the billing run: one month of deliveries billed to buyers
and paid to suppliers by `lead.billing.run`, next to plain Tryton invoices
with one line per delivery measured in the same run. Prints deliveries/s
and peak memory; not a test.

    .venv/bin/python tests/bench_billing.py [--deliveries 1000000]
        [--buyers 2000] [--suppliers 300] [--categories 20]
        [--baseline-deliveries 2000] [--backend postgresql|sqlite]
        [--skip-baseline] [--skip-quarter] [--profile FILE]

Each data set gets a fresh database and is billed in a fresh process:
first a quarter of the deliveries, then all of them, so that the peak
memory of both can be compared. Compute and post are timed as two button
calls, each with the restarts Tryton makes to take the locks it lacked;
the documents' rendering and e-mails are queued to ir.queue and not part
of the measure. The PostgreSQL run uses LEAD_TEST_POSTGRESQL (default
postgresql://postgres@127.0.0.1:5432/); SQLite is meant for a small smoke
run.
"""
import argparse
import datetime as dt
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'
SEED = 20261031
CUT_OFF = dt.date(2026, 10, 31)
MONTH_START = '2026-10-01 00:00:00'
# Leads arrive from 1 October 00:00 UTC until 31 October 20:00 UTC, so
# that a delivery up to 90 minutes later still falls in October in Berlin
# (UTC+1 after the clocks go back on 25 October).
RECEPTION_SECONDS = (30 * 24 + 20) * 3600
# About 43 % of the leads are sold twice: 1,000,000 deliveries come from
# some 700,000 leads.
DELIVERIES_PER_LEAD = 1.43
BUYER_OWN_PRICE_SHARE = 0.2
SUPPLIER_OWN_PRICE_SHARE = 0.3
# A prime modulus for the row hashes below, small enough that the products
# stay within 64-bit integers on both backends
HASH_MODULUS = 2147483647


def run_size(backend, uri, args, deliveries, with_baseline, profile):
    """Bill `deliveries` on a fresh database: one process creates the data,
    a fresh one bills it, so that its peak memory is the run's. Both run
    under -O: ModelStorage's assertions cost O(n²) on large saves. Return
    the figures of the billing process."""
    env = os.environ.copy()
    env['TRYTOND_DATABASE_URI'] = uri
    env['DB_NAME'] = 'bench_billing'
    if backend == 'sqlite':
        env['TRYTOND_DATABASE__PATH'] = tempfile.mkdtemp()
    env.pop('DB_CACHE', None)
    with tempfile.NamedTemporaryFile(suffix='.json') as result:
        command = [sys.executable, '-O', __file__,
            '--result', result.name,
            '--deliveries', str(deliveries),
            '--buyers', str(args.buyers),
            '--suppliers', str(args.suppliers),
            '--categories', str(args.categories),
            '--baseline-deliveries', str(args.baseline_deliveries)]
        if not with_baseline:
            command.append('--skip-baseline')
        if profile:
            command += ['--profile', profile]
        for step in ['setup', 'bill']:
            if subprocess.call(command + ['--worker', step], env=env):
                return None
        return json.loads(Path(result.name).read_text())


def subscriptions(index, categories, rnd):
    """The 1 to 3 categories of the index-th buyer or supplier: traders
    specialise. The first one goes round, so that every category has
    parties."""
    first = categories[index % len(categories)]
    others = [c for c in categories if c != first]
    return [first] + rnd.sample(others, min(len(others), rnd.randint(0, 2)))


def create_masters(args):
    """Create through the ORM the company, its accounting, categories,
    parties and prices; return the ids the data generation needs."""
    from trytond.modules.lead_billing.tests.tools import (
        create_lead_category, create_party, create_price, lead_trading,
        setup_accounting)
    from trytond.pool import Pool

    Configuration = Pool().get('lead.configuration')
    rnd = random.Random(SEED)
    with lead_trading() as fixture:
        setup_accounting(fixture, [CUT_OFF.year])
        configuration = Configuration(1)
        configuration.billing_final_check = True
        configuration.save()

        categories = [create_lead_category(f'CAT{i:02d}', fixture.product)
            for i in range(args.categories)]
        sale_price, purchase_price = {}, {}
        for i, category in enumerate(categories):
            sale_price[category] = Decimal(20 + 5 * (i % 7))
            purchase_price[category] = sale_price[category] * Decimal('0.4')
            create_price(category, 'sale', sale_price[category])
            create_price(category, 'purchase', purchase_price[category])

        demand = []
        for i in range(args.buyers):
            buyer = create_party(
                f'Käufer {i:05d} GmbH', f'B{i:05d}', lead_buyer=True,
                lead_billing_interval='monthly',
                lead_document_email=f'rechnung{i}@example.com')
            for category in subscriptions(i, categories, rnd):
                price = sale_price[category]
                if rnd.random() < BUYER_OWN_PRICE_SHARE:
                    # Volume discounts of the larger buyers
                    price -= rnd.randint(1, 5)
                    create_price(category, 'sale', price, party=buyer)
                demand.append((category.id, buyer.id, price))

        offers = []
        for i in range(args.suppliers):
            supplier = create_party(
                f'Leadquelle {i:04d} AG', f'S{i:04d}', lead_supplier=True,
                lead_billing_interval='monthly',
                lead_document_email=f'gutschrift{i}@example.com',
                self_billing_agreement_date=dt.date(2024, 1, 1),
                self_billing_agreement_reference=f'GS-2024-{i}')
            for category in subscriptions(i, categories, rnd):
                price = purchase_price[category]
                if rnd.random() < SUPPLIER_OWN_PRICE_SHARE:
                    price += rnd.choice([-2, -1, 1, 2, 3])
                    create_price(category, 'purchase', price, party=supplier)
                offers.append((supplier.id, category.id, price))
        return {
            'company': fixture.company.id,
            'currency': fixture.currency.id,
            'country': fixture.germany.id,
            'demand': [[c, b, str(p)] for c, b, p in demand],
            'offers': [[s, c, str(p)] for s, c, p in offers],
            }


class SqlDialect:
    "The few expressions that differ between PostgreSQL and SQLite"

    def __init__(self, backend_name):
        self.postgresql = backend_name == 'postgresql'

    def series(self, count):
        "Rows n = 1..count"
        if self.postgresql:
            return f'SELECT n FROM generate_series(1, {count:d}) AS n'
        return ('WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL '
            f'SELECT n + 1 FROM series WHERE n < {count:d}) '
            'SELECT n FROM series')

    def plus_seconds(self, timestamp, seconds):
        if self.postgresql:
            return f"{timestamp} + ({seconds}) * INTERVAL '1 second'"
        return f"datetime({timestamp}, '+' || ({seconds}) || ' seconds')"

    def timestamp(self, text):
        if self.postgresql:
            return f"TIMESTAMP '{text}'"
        return f"'{text}'"

    @property
    def empty_issues(self):
        return "CAST('[]' AS JSONB)" if self.postgresql else "'[]'"


def mix(expression, salt):
    """A cheap integer hash of `expression` (a row number) in SQL, the same
    on both backends, so that the data set is reproducible"""
    return (f'((CAST({expression} AS BIGINT) * 48271 + {salt:d})'
        f' % {HASH_MODULUS} * 16807 % {HASH_MODULUS})')


def generate_deliveries(masters, deliveries, dialect):
    """Insert the month's leads and deliveries with two INSERT … SELECT
    statements: through the ORM they would take hours. Return the number
    of leads."""
    from sql import Table

    from trytond.tools import grouped_slice
    from trytond.transaction import Transaction

    cursor = Transaction().connection.cursor()
    leads = max(1, round(deliveries / DELIVERIES_PER_LEAD))
    # The first `twice` leads (by number, not by time: their other
    # attributes are hashed) go to a second buyer.
    twice = deliveries - leads

    cursor.execute('CREATE TABLE bench_offer (idx INTEGER PRIMARY KEY, '
        'supplier INTEGER, category INTEGER, purchase_price NUMERIC)')
    cursor.execute('CREATE TABLE bench_demand (category INTEGER, '
        'slot INTEGER, buyer INTEGER, unit_price NUMERIC, '
        'PRIMARY KEY (category, slot))')
    cursor.execute('CREATE TABLE bench_demand_size ('
        'category INTEGER PRIMARY KEY, size INTEGER)')
    # The prices go in as parameters: Tryton's SQLite backend stores
    # Decimals as text, which the run compares its prices with.
    offer_rows = [[idx, supplier, category, Decimal(price)]
        for idx, (supplier, category, price) in enumerate(masters['offers'])]
    slots = defaultdict(list)
    for category, buyer, price in masters['demand']:
        slots[category].append((buyer, Decimal(price)))
    demand_rows, size_rows = [], []
    for category, buyers in slots.items():
        if len(buyers) < 2:
            sys.exit(f'category {category} has {len(buyers)} buyer: '
                'give at least two buyers per category')
        size_rows.append([category, len(buyers)])
        demand_rows.extend([category, slot, buyer, price]
            for slot, (buyer, price) in enumerate(buyers))
    for name, rows in [('bench_offer', offer_rows),
            ('bench_demand', demand_rows),
            ('bench_demand_size', size_rows)]:
        table = Table(name)
        for chunk in grouped_slice(rows, 1000):
            cursor.execute(*table.insert(values=list(chunk)))

    # Only integers are formatted into the statements
    company, currency = masters['company'], masters['currency']
    received_at = dialect.plus_seconds(dialect.timestamp(MONTH_START),
        f'{mix("s.n", 1)} % {RECEPTION_SECONDS:d}')
    cursor.execute(
        'INSERT INTO lead_lead (create_uid, create_date, company, '
        'supplier, reference, received_at, category, currency, '
        'purchase_price, quality_state, quality_issues, name, email, '
        'phone, postal_code, city, country, delivery_count) '
        f'SELECT 0, CURRENT_TIMESTAMP, {company:d}, o.supplier, '
        f"'BENCH-' || s.n, {received_at}, o.category, {currency:d}, "
        f"o.purchase_price, 'valid', {dialect.empty_issues}, "
        "'Kunde ' || s.n, 'kunde' || s.n || '@example.de', "
        "'+49 30 ' || (1000000 + s.n), "
        f"'1' || (1000 + s.n % 9000), 'Berlin', {masters['country']:d}, "
        f'CASE WHEN s.n <= {twice:d} THEN 2 ELSE 1 END '
        f'FROM ({dialect.series(leads)}) AS s '
        'JOIN bench_offer AS o '
        f"ON o.idx = {mix('s.n', 2)} % {len(masters['offers']):d}")

    first_slot = f"{mix('l.n', 3)} % z.size"
    other_slot = (f"({first_slot} + 1 + {mix('l.n', 4)} % (z.size - 1))"
        ' % z.size')
    delivered_at = dialect.plus_seconds('l.received_at',
        f"60 * (1 + {mix('l.n', 5)} % 90)")
    cursor.execute(
        'INSERT INTO lead_delivery (create_uid, create_date, company, '
        'lead, supplier, buyer, delivered_at, unit_price, currency, '
        'billable, state) '
        f'SELECT 0, CURRENT_TIMESTAMP, {company:d}, l.id, l.supplier, '
        'd.buyer, '
        f"{delivered_at}, d.unit_price, {currency:d}, TRUE, 'delivered' "
        'FROM (SELECT id, supplier, category, received_at, '
        'CAST(SUBSTR(reference, 7) AS INTEGER) AS n FROM lead_lead '
        f"WHERE company = {company:d} AND reference LIKE 'BENCH-%') AS l "
        'JOIN bench_demand_size AS z ON z.category = l.category '
        'CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) AS c '
        'JOIN bench_demand AS d ON d.category = l.category '
        f'AND d.slot = CASE WHEN c.k = 1 THEN {first_slot} '
        f'ELSE {other_slot} END '
        f'WHERE c.k = 1 OR l.n <= {twice:d}')
    return leads


def analyze(dialect):
    from trytond.transaction import Transaction

    cursor = Transaction().connection.cursor()
    if dialect.postgresql:
        for table in ['lead_lead', 'lead_delivery']:
            cursor.execute(f'ANALYZE {table}')
    else:
        cursor.execute('ANALYZE')


def peak_memory_mib():
    "The peak resident memory of this process so far (Linux: KiB)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_progress(done, total, note):
    line = f'  compute {done}/{total}: {note}'
    print('\r' + line[:79].ljust(79), end='', file=sys.stderr, flush=True)


class ServerCall:
    """Run a function in a transaction of its own, as the server runs a
    button: a transaction that needs record locks it did not take (the
    strict sequences of the document numbers) starts again with them.
    Keeps the seconds of each attempt and the locks asked for."""

    def __init__(self, database_name, context, commit=True):
        self.database_name = database_name
        self.context = context
        self.commit = commit
        self.attempts = []
        self.extras = {}

    def __call__(self, func):
        from trytond.transaction import Transaction, TransactionError

        while True:
            began = time.perf_counter()
            with Transaction().start(self.database_name, 0,
                    context=self.context, **self.extras) as transaction:
                try:
                    result = func()
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(self.extras)
                    self.attempts.append(time.perf_counter() - began)
                    continue
                if self.commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                self.attempts.append(time.perf_counter() - began)
                return result

    @property
    def seconds(self):
        return sum(self.attempts)

    @property
    def restart_seconds(self):
        return sum(self.attempts[:-1])

    def describe(self):
        text = f'{self.seconds:.1f} s'
        if len(self.attempts) > 1:
            locks = ', '.join([f'{len(ids)} records of {table}'
                    for table, ids in self.extras.get(
                        '_lock_records', {}).items()]
                + [f'table {table}'
                    for table in self.extras.get('_lock_tables', [])])
            each = ' + '.join(f'{a:.1f}' for a in self.attempts)
            text += (f' in {len(self.attempts)} attempts ({each} s), '
                f'{self.restart_seconds:.1f} s of them restarts to lock '
                f'{locks}')
        return text


def bill(database_name, company_id, profile):
    """Create a billing run, then compute and post it as two button calls
    (each committed); return the run id and both calls."""
    from trytond.pool import Pool

    def create():
        Run = Pool().get('lead.billing.run')
        run, = Run.create([{'company': company_id, 'cut_off': CUT_OFF}])
        return run.id

    def compute():
        Run = Pool().get('lead.billing.run')
        Run.compute([Run(run_id)], progress=report_progress)
        print(file=sys.stderr)

    def post():
        Run = Pool().get('lead.billing.run')
        Run.post([Run(run_id)])

    context = {'company': company_id}
    run_id = ServerCall(database_name, context)(create)
    calls = {
        'compute': ServerCall(database_name, context),
        'post': ServerCall(database_name, context),
        }
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    calls['compute'](compute)
    calls['post'](post)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return run_id, calls


def count_results(run_id):
    "What the run made and marked, and the tasks it left in the queue"
    from sql.aggregate import Count, Sum

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    Queue = pool.get('ir.queue')
    invoice, line = Invoice.__table__(), Line.__table__()
    delivery, lead, queue = (
        Delivery.__table__(), Lead.__table__(), Queue.__table__())
    cursor = Transaction().connection.cursor()

    counts = {}
    cursor.execute(*invoice.join(line,
            condition=line.invoice == invoice.id).select(
            invoice.type, invoice.state, Count(invoice.id, distinct=True),
            Count(line.id), Sum(line.quantity),
            where=invoice.lead_billing_run == run_id,
            group_by=[invoice.type, invoice.state]))
    for type_, state, documents, lines, quantity in cursor:
        counts[f'{type_}_{state}'] = {
            'documents': documents, 'lines': lines,
            'quantity': int(quantity)}
    cursor.execute(*delivery.select(Count(delivery.id),
            where=delivery.invoice_line != None))  # noqa: E711
    counts['deliveries_billed'], = cursor.fetchone()
    cursor.execute(*lead.select(Count(lead.id),
            where=lead.statement_line != None))  # noqa: E711
    counts['leads_paid'], = cursor.fetchone()
    queued = defaultdict(lambda: [0, 0])
    cursor.execute(*queue.select(queue.data,
            where=queue.finished_at == None))  # noqa: E711
    for data, in cursor:
        if isinstance(data, str):
            data = json.loads(data)
        task = queued[f"{data['model']}.{data['method']}"]
        task[0] += 1
        task[1] += len(data.get('instances') or [])
    counts['queued'] = dict(queued)
    return counts


def baseline_slice(count):
    """The first `count` deliveries by buyer and time: the deliveries of
    the first few buyers, as a whole month of theirs."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    Delivery = pool.get('lead.delivery')
    Lead = pool.get('lead.lead')
    delivery, lead = Delivery.__table__(), Lead.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*delivery.join(lead,
            condition=delivery.lead == lead.id).select(
            delivery.buyer, lead.category, delivery.unit_price,
            lead.reference,
            order_by=[delivery.buyer, delivery.delivered_at, delivery.id],
            limit=count))
    slice_of = defaultdict(list)
    for buyer, category, unit_price, reference in cursor:
        slice_of[buyer].append(
            (category, Decimal(str(unit_price)), reference))
    return slice_of


def baseline(database_name, company_id, count):
    """Bill `count` deliveries the plain Tryton way: per buyer one customer
    invoice with one line per delivery, created and posted through the ORM,
    as one button call that is rolled back. The deliveries are not marked
    as billed, which spares the baseline work that the run does. Return
    the call and the number of invoices."""
    from trytond.modules.lead_billing.billing import line_template
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database_name, 0, readonly=True):
        slice_of = baseline_slice(count)

    def create_and_post():
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Category = pool.get('lead.category')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Date = pool.get('ir.date')
        company = Company(company_id)
        today = Date.today()
        vlist = []
        for buyer, rows in slice_of.items():
            invoice = Invoice(company=company, type='out',
                party=Party(buyer), currency=company.currency,
                invoice_date=today)
            invoice.on_change_type()
            invoice.on_change_party()
            templates = {}
            lines = []
            for category_id, unit_price, reference in rows:
                product = Category(category_id).product
                if product not in templates:
                    templates[product] = line_template(invoice, product)
                lines.append({
                        **templates[product],
                        'quantity': 1,
                        'unit_price': unit_price,
                        'description': f'Lead {reference}',
                        })
            vlist.append({
                    'company': company.id,
                    'type': 'out',
                    'party': buyer,
                    'journal': invoice.journal.id,
                    'invoice_address': invoice.invoice_address.id,
                    'account': invoice.account.id,
                    'payment_term': (invoice.payment_term.id
                        if invoice.payment_term else None),
                    'currency': company.currency.id,
                    'invoice_date': today,
                    'lines': [('create', lines)],
                    })
        invoices = Invoice.create(vlist)
        Invoice.post(invoices)
        return len(invoices)

    call = ServerCall(database_name,
        {'company': company_id, '_skip_warnings': True}, commit=False)
    invoices = call(create_and_post)
    return call, invoices


def setup_worker(args):
    "Create the database with its masters and the month's deliveries"
    # Imported here: the backend is chosen by the environment of this process
    from trytond import backend
    from trytond.modules.lead_billing.tests.tools import run_committed
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    logging.disable(logging.CRITICAL)
    dialect = SqlDialect(backend.name)
    drop_db()
    activate_module('lead_billing')

    began = time.perf_counter()
    masters = run_committed(DB_NAME, lambda: create_masters(args))
    masters_seconds = time.perf_counter() - began
    began = time.perf_counter()
    with Transaction().start(DB_NAME, 0) as transaction:
        leads = generate_deliveries(masters, args.deliveries, dialect)
        transaction.commit()
    with Transaction().start(DB_NAME, 0) as transaction:
        analyze(dialect)
        transaction.commit()
    generate_seconds = time.perf_counter() - began
    print(f'\n--- {backend.name}, {args.deliveries:,} deliveries ---')
    print(f'data: masters through the ORM in {masters_seconds:.0f} s, '
        f'{leads:,} leads and {args.deliveries:,} deliveries by SQL in '
        f'{generate_seconds:.0f} s')
    Path(args.result).write_text(json.dumps({
                'company': masters['company'], 'leads': leads}))


def bill_worker(args):
    """Bill the data of `setup_worker` in a process that did nothing else
    before, so that its peak memory is the run's"""
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, drop_db
    from trytond.transaction import Transaction

    logging.disable(logging.CRITICAL)
    setup = json.loads(Path(args.result).read_text())
    company_id, leads = setup['company'], setup['leads']
    Pool(DB_NAME).init()
    with Transaction().start(DB_NAME, 0, readonly=True):
        pass
    memory_before = peak_memory_mib()
    run_id, calls = bill(DB_NAME, company_id, args.profile)
    memory_after = peak_memory_mib()
    with Transaction().start(DB_NAME, 0, readonly=True):
        counts = count_results(run_id)

    out = counts.get('out_posted', {})
    in_ = counts.get('in_posted', {})
    seconds = calls['compute'].seconds + calls['post'].seconds
    restart_seconds = (calls['compute'].restart_seconds
        + calls['post'].restart_seconds)
    rate = args.deliveries / seconds
    rate_without_restarts = args.deliveries / (seconds - restart_seconds)
    problems = []
    if out.get('quantity') != args.deliveries:
        problems.append(f"buyer lines bill {out.get('quantity')} leads")
    if in_.get('quantity') != leads:
        problems.append(f"statement lines pay {in_.get('quantity')} leads")
    if counts['deliveries_billed'] != args.deliveries:
        problems.append(f"{counts['deliveries_billed']} deliveries marked")
    if counts['leads_paid'] != leads:
        problems.append(f"{counts['leads_paid']} leads marked")
    if set(counts) - {'out_posted', 'in_posted', 'deliveries_billed',
            'leads_paid', 'queued'}:
        problems.append(f'documents left unposted: {counts}')
    print(f"run: {out.get('documents', 0):,} buyer invoices "
        f"({out.get('lines', 0):,} lines), "
        f"{in_.get('documents', 0):,} self-billing statements "
        f"({in_.get('lines', 0):,} lines)")
    print(f"     marked {counts['deliveries_billed']:,} deliveries and "
        f"{counts['leads_paid']:,} leads; check: "
        + ('; '.join(problems) or 'quantities and marks match'))
    for step, call in calls.items():
        print(f'{step}: {call.describe()} (commit included)')
    print(f'run, compute and post: {rate:,.0f} deliveries/s'
        + (f', {rate_without_restarts:,.0f} without the restarts'
            if restart_seconds else '')
        + (' (under cProfile: slower)' if args.profile else ''))
    queued = ', '.join(f'{name} ({tasks} tasks, {records:,} records)'
        for name, (tasks, records) in sorted(counts['queued'].items()))
    print(f'queued to ir.queue, not part of the measure: '
        f'{queued or "no tasks"}')
    print(f'peak memory: {memory_before:,.0f} MiB before the run, '
        f'{memory_after:,.0f} MiB after it')

    result = {
        'deliveries': args.deliveries, 'leads': leads,
        'documents': out.get('documents', 0) + in_.get('documents', 0),
        'lines': out.get('lines', 0) + in_.get('lines', 0),
        'rate': rate, 'rate_without_restarts': rate_without_restarts,
        'memory_before': memory_before, 'memory_after': memory_after,
        'problems': problems,
        }
    if not args.skip_baseline:
        call, invoices = baseline(
            DB_NAME, company_id, args.baseline_deliveries)
        baseline_rate = args.baseline_deliveries / call.seconds
        baseline_without_restarts = args.baseline_deliveries / (
            call.seconds - call.restart_seconds)
        print(f'plain Tryton, one line per delivery '
            f'({args.baseline_deliveries:,} deliveries, {invoices} '
            f'invoices, create and post): {call.describe()}: '
            f'{baseline_rate:,.0f} deliveries/s'
            + (f', {baseline_without_restarts:,.0f} without the restarts'
                if call.restart_seconds else ''))
        print(f'run / plain Tryton: {rate / baseline_rate:.1f}x'
            + (', without the restarts: '
                f'{rate_without_restarts / baseline_without_restarts:.1f}x'
                if restart_seconds or call.restart_seconds else '')
            + ' (the run also pays the suppliers and marks what it bills)')
    Path(args.result).write_text(json.dumps(result))
    drop_db()
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--deliveries', type=int, default=1_000_000)
    parser.add_argument('--buyers', type=int, default=2000)
    parser.add_argument('--suppliers', type=int, default=300)
    parser.add_argument('--categories', type=int, default=20)
    parser.add_argument('--baseline-deliveries', type=int, default=2000)
    parser.add_argument(
        '--backend', choices=['postgresql', 'sqlite'], default='postgresql')
    parser.add_argument('--skip-baseline', action='store_true')
    parser.add_argument(
        '--skip-quarter', action='store_true',
        help="do not bill a quarter of the deliveries first")
    parser.add_argument(
        '--profile', metavar='FILE',
        help="write a cProfile of compute and post of the full data set")
    parser.add_argument(
        '--worker', choices=['setup', 'bill'], help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == 'setup':
        return setup_worker(args)
    elif args.worker == 'bill':
        return bill_worker(args)
    if args.buyers < 2 * args.categories:
        parser.error('give at least two buyers per category')

    if args.backend == 'sqlite':
        uri = 'sqlite://'
    else:
        uri = os.environ.get('LEAD_TEST_POSTGRESQL', DEFAULT_POSTGRESQL)
        sys.path.insert(0, str(ROOT / 'setup'))
        from run_tests import postgresql_problem
        if problem := postgresql_problem(uri):
            print(f'PostgreSQL unreachable: {problem}')
            return 1
    sizes = [args.deliveries]
    if not args.skip_quarter:
        sizes.insert(0, args.deliveries // 4)
    results = []
    for deliveries in sizes:
        full = deliveries == args.deliveries
        result = run_size(args.backend, uri, args, deliveries,
            with_baseline=full and not args.skip_baseline,
            profile=args.profile if full else None)
        if result is None:
            return 1
        results.append(result)

    print('\n--- peak memory of the billing process ---')
    for result in results:
        print(f"{result['deliveries']:>11,} deliveries, "
            f"{result['documents']:,} documents, "
            f"{result['lines']:,} lines: "
            f"{result['memory_before']:,.0f} MiB before the run, "
            f"{result['memory_after']:,.0f} MiB after it "
            f"({result['rate']:,.0f} deliveries/s, "
            f"{result['rate_without_restarts']:,.0f} without restarts)")
    return 1 if any(r['problems'] for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
