#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Benchmark of the lead intake: N leads with deliveries pushed through
the HTTP batch endpoint, next to plain Tryton `create` of the same records
measured in the same run. Prints leads/s; not a test.

    .venv/bin/python tests/bench_intake.py [--leads 100000] [--batch 1000]
        [--backend sqlite|postgresql|both] [--baseline-leads 5000]

The PostgreSQL run uses LEAD_TEST_POSTGRESQL (default
postgresql://postgres@127.0.0.1:5432/) and is left out when unreachable.
"""
import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'
FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta',
    'Hannes', 'Ida', 'Jonas', 'Klara', 'Lukas', 'Mia', 'Noah', 'Paula']
LAST_NAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber',
    'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter']


def generate_rows(count, start, seed=20261122):
    """Lead rows as a platform sends them: mostly valid, 3 % bad phones,
    each sold to one to three buyers."""
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        received = start + dt.timedelta(seconds=20 * i)
        phone = f'030 {2000000 + i}' if rnd.random() > 0.03 else '0301'
        deliveries = [{
                'buyer': buyer,
                'delivered_at': (received + dt.timedelta(
                        minutes=rnd.randint(1, 90))).isoformat() + 'Z',
                } for buyer in rnd.sample(['B1', 'B2', 'INT'],
                rnd.choice([1, 1, 2, 3]))]
        rows.append({
                'supplier': 'S1', 'reference': f'BENCH-{i:07d}',
                'category': rnd.choice(['SOLAR', 'HEAT']),
                'received_at': received.isoformat() + 'Z',
                'name': f'{rnd.choice(FIRST_NAMES)} '
                f'{rnd.choice(LAST_NAMES)}',
                'email': f'kunde{i}@example.de', 'phone': phone,
                'postal_code': f'{10000 + i % 89999:05d}', 'city': 'Berlin',
                'country': 'DE', 'deliveries': deliveries,
                })
    return rows


def run_backend(backend, uri, script, db_name, worker_args):
    """Run `script --worker worker_args` in a fresh process bound to one
    database backend"""
    env = os.environ.copy()
    env['TRYTOND_DATABASE_URI'] = uri
    env['DB_NAME'] = db_name
    if backend == 'sqlite':
        env['TRYTOND_DATABASE__PATH'] = tempfile.mkdtemp()
    env.pop('DB_CACHE', None)
    return subprocess.call(
        [sys.executable, script, '--worker', *worker_args], env=env)


def run_backends(choice, script, db_name, worker_args):
    """Run the worker of `script` on SQLite, PostgreSQL or both as `choice`
    says; PostgreSQL is left out with the reason when unreachable"""
    code = 0
    if choice in ('sqlite', 'both'):
        code |= run_backend(
            'sqlite', 'sqlite://', script, db_name, worker_args)
    if choice in ('postgresql', 'both'):
        uri = os.environ.get('LEAD_TEST_POSTGRESQL', DEFAULT_POSTGRESQL)
        sys.path.insert(0, str(ROOT / 'setup'))
        from run_tests import postgresql_problem
        if problem := postgresql_problem(uri):
            print(f'PostgreSQL left out: {problem}')
        else:
            code |= run_backend(
                'postgresql', uri, script, db_name, worker_args)
    return code


def worker(args):
    # Imported here: the backend is chosen by the environment of this process
    from werkzeug.test import Client

    from trytond import backend
    from trytond.modules.lead_billing.intake import parse_row
    from trytond.modules.lead_billing.tests.tools import (
        lead_trading, run_committed)
    from trytond.pool import Pool
    from trytond.protocols.wrappers import Response
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction
    from trytond.wsgi import app

    drop_db()
    activate_module('lead_billing')

    def setup():
        pool = Pool()
        User = pool.get('res.user')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        with lead_trading() as fixture:
            pass
        user, = User.create([{
                    'name': 'Platform', 'login': 'platform',
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    'groups': [('add', [ModelData.get_id(
                                    'lead_billing', 'group_lead_trading')])],
                    }])
        application, = Application.create([{
                    'user': user.id, 'application': 'lead_intake'}])
        return application.key, user.id, fixture.company.id
    key, user_id, company_id = run_committed(DB_NAME, setup)

    start = dt.datetime(2026, 1, 1)
    rows = generate_rows(args.leads, start)
    client = Client(app, Response)
    url = f'/{DB_NAME}/lead_billing/intake'
    headers = {'Authorization': f'bearer {key}'}
    statuses = {}
    deliveries = 0
    began = time.perf_counter()
    for i in range(0, len(rows), args.batch):
        response = client.post(url, data=json.dumps(rows[i:i + args.batch]),
            headers=headers, content_type='application/json')
        if response.status_code != 200:
            sys.exit(f'batch {i}: HTTP {response.status_code} '
                f'{response.get_data(as_text=True)[:500]}')
        for result in response.json['results']:
            statuses[result['status']] = statuses.get(result['status'], 0) + 1
            deliveries += sum(d['status'] == 'created'
                for d in result.get('deliveries', []))
    endpoint_seconds = time.perf_counter() - began

    # Baseline: the same kind of records through plain ORM create, on a
    # slice, in a fresh supplier reference range
    baseline_rows = generate_rows(args.baseline_leads, start,
        seed=7)[:args.baseline_leads]
    for row in baseline_rows:
        row['reference'] = 'BASE-' + row['reference']

    def baseline(batch):
        pool = Pool()
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        Intake = pool.get('lead.intake')
        with Transaction().set_context(company=company_id):
            lookups = Intake.lookups(baseline_rows)
            parsed = [parse_row(r, lookups) for r in baseline_rows]
            began = time.perf_counter()
            for i in range(0, len(parsed), batch):
                chunk = parsed[i:i + batch]
                leads = Lead.create([lead for lead, _ in chunk])
                Delivery.create([{
                            'lead': lead.id, 'buyer': d['buyer'],
                            'delivered_at': d['delivered_at'],
                            } for lead, (_, ds) in zip(leads, chunk)
                        for d in ds if lead.quality_state == 'valid'])
            seconds = time.perf_counter() - began
            Transaction().rollback()
        return seconds

    with Transaction().start(DB_NAME, user_id):
        one_by_one = args.baseline_leads / baseline(1)
    with Transaction().start(DB_NAME, user_id):
        batched = args.baseline_leads / baseline(args.batch)
    endpoint = args.leads / endpoint_seconds

    print(f'\n--- {backend.name} ---')
    print(f'endpoint: {args.leads} leads, {deliveries} deliveries in '
        f'{endpoint_seconds:.1f} s: {endpoint:,.0f} leads/s ({statuses})')
    print(f'plain create, one record per call ({args.baseline_leads} '
        f'leads): {one_by_one:,.0f} leads/s')
    print(f'plain create, {args.batch} records per call: '
        f'{batched:,.0f} leads/s')
    print(f'endpoint / plain one by one: {endpoint / one_by_one:.1f}x, '
        f'endpoint / plain batched: {endpoint / batched:.2f}x')
    drop_db()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--leads', type=int, default=100_000)
    parser.add_argument('--batch', type=int, default=1000)
    parser.add_argument('--baseline-leads', type=int, default=5000)
    parser.add_argument(
        '--backend', choices=['sqlite', 'postgresql', 'both'],
        default='both')
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    return run_backends(args.backend, __file__, 'bench_intake', [
            '--leads', str(args.leads), '--batch', str(args.batch),
            '--baseline-leads', str(args.baseline_leads)])


if __name__ == '__main__':
    sys.exit(main())
