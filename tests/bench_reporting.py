#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Benchmark of the lead trading reports: the data set of the billing
benchmark (a month of deliveries, billed and posted by a billing run), then
the main query of each report over twelve months: alone (against the target
of 2 s) and as the client asks for it (a search, then reads of every row
in chunks of a thousand, each running the query again). Prints the
seconds per report; not a test.

    .venv/bin/python -O tests/bench_reporting.py [--deliveries 1000000]
        [--buyers 2000] [--suppliers 300] [--categories 20]
        [--backend postgresql|sqlite] [--repeat 3]

The PostgreSQL run uses LEAD_TEST_POSTGRESQL (default
postgresql://postgres@127.0.0.1:5432/); SQLite is meant for a small smoke
run. Billing a million deliveries takes about eight minutes on two cores.
"""
import argparse
import datetime as dt
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
from bench_billing import (  # noqa: E402
    CUT_OFF, DEFAULT_POSTGRESQL, SqlDialect, analyze, bill, create_masters,
    generate_deliveries)

TARGET_SECONDS = 2
REPORTS = [
    ('lead.reporting.buyer', 'month'),
    ('lead.reporting.supplier', 'month'),
    ('lead.reporting.category', 'month'),
    ('lead.reporting.period', 'month'),
    ('lead.reporting.period', 'week'),
    ('lead.reporting.payment.period', 'month'),
    ('lead.reporting.payment.buyer', 'month'),
    ]


def vacuum(dialect):
    """Bring the planner's statistics and the visibility map up to date, as
    the autovacuum of a running server would after the billing run"""
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    if dialect.postgresql:
        import psycopg
        uri = os.environ['TRYTOND_DATABASE_URI'].rstrip('/') + '/' + DB_NAME
        with psycopg.connect(uri, autocommit=True) as connection:
            connection.execute('VACUUM ANALYZE')
    else:
        with Transaction().start(DB_NAME, 0) as transaction:
            analyze(dialect)
            transaction.commit()


def worker(args):
    # Imported here: the backend is chosen by the environment of this process
    from trytond import backend
    from trytond.modules.lead_billing.tests.tools import run_committed
    from trytond.modules.lead_reporting.rules import months_back
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    logging.disable(logging.CRITICAL)
    dialect = SqlDialect(backend.name)
    drop_db()
    activate_module('lead_reporting')
    began = time.perf_counter()
    masters = run_committed(DB_NAME, lambda: create_masters(args))
    with Transaction().start(DB_NAME, 0) as transaction:
        leads = generate_deliveries(masters, args.deliveries, dialect)
        transaction.commit()
    print(f'\n--- {backend.name}, {args.deliveries:,} deliveries of '
        f'{leads:,} leads ---')
    print(f'data generated in {time.perf_counter() - began:.0f} s')
    began = time.perf_counter()
    bill(DB_NAME, masters['company'], None)
    print(f'billed and posted in {time.perf_counter() - began:.0f} s')
    vacuum(dialect)

    # the run's documents carry the day it ran
    to_date = max(CUT_OFF, dt.date.today())
    from_date = months_back(to_date, 12)
    slowest = 0
    for model, granularity in REPORTS:
        with Transaction().start(DB_NAME, 0, readonly=True, context={
                    'company': masters['company'], 'from_date': from_date,
                    'to_date': to_date, 'granularity': granularity}):
            Model = Pool().get(model)
            fields = list(Model._fields)
            cursor = Transaction().connection.cursor()
            queries, clients = [], []
            for _ in range(args.repeat):
                began = time.perf_counter()
                cursor.execute(*Model.table_query())
                rows = cursor.fetchall()
                queries.append(time.perf_counter() - began)
                began = time.perf_counter()
                ids = list(map(int, Model.search([])))
                Model.read(ids, fields)
                clients.append(time.perf_counter() - began)
                # the next read must not come from the record cache
                Transaction().cache.clear()
        best = min(queries)
        slowest = max(slowest, best)
        print(f'{model} by {granularity}: {len(rows):,} rows, main query '
            f'{best:.2f} s (target {TARGET_SECONDS} s), search and read '
            f'{min(clients):.2f} s (best of {args.repeat})' + (
                '' if best < TARGET_SECONDS else ' — TOO SLOW'))
    if not args.keep:
        drop_db()
    return 0 if slowest < TARGET_SECONDS else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--deliveries', type=int, default=1_000_000)
    parser.add_argument('--buyers', type=int, default=2000)
    parser.add_argument('--suppliers', type=int, default=300)
    parser.add_argument('--categories', type=int, default=20)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--backend', choices=['postgresql', 'sqlite'], default='postgresql')
    parser.add_argument('--keep', action='store_true',
        help="keep the database bench_reporting for a look at the plans")
    parser.add_argument('--worker', action='store_true',
        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    env = os.environ.copy()
    if args.backend == 'sqlite':
        env['TRYTOND_DATABASE_URI'] = 'sqlite://'
        env['TRYTOND_DATABASE__PATH'] = tempfile.mkdtemp()
    else:
        uri = os.environ.get('LEAD_TEST_POSTGRESQL', DEFAULT_POSTGRESQL)
        sys.path.insert(0, str(ROOT / 'setup'))
        from run_tests import postgresql_problem
        if problem := postgresql_problem(uri):
            print(f'PostgreSQL unreachable: {problem}')
            return 1
        env['TRYTOND_DATABASE_URI'] = uri
    env['DB_NAME'] = 'bench_reporting'
    env.pop('DB_CACHE', None)
    return subprocess.call([sys.executable, '-O', __file__, '--worker',
            '--deliveries', str(args.deliveries),
            '--buyers', str(args.buyers), '--suppliers', str(args.suppliers),
            '--categories', str(args.categories),
            '--repeat', str(args.repeat),
            '--backend', args.backend, *(['--keep'] if args.keep else [])],
        env=env)


if __name__ == '__main__':
    sys.exit(main())
