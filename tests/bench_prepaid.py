#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Benchmark of the prepaid delivery check: the same intake batches sent
through the HTTP endpoint to two buyers whose prepaid accounts are off,
then on (balance checked, accounts written, alerts looked at), measured in
the same run. Prints leads/s and the ratio; not a test.

    .venv/bin/python tests/bench_prepaid.py [--leads 20000] [--batch 1000]
        [--backend sqlite|postgresql|both]

The PostgreSQL run uses LEAD_TEST_POSTGRESQL (default
postgresql://postgres@127.0.0.1:5432/) and is left out when unreachable.
"""
import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
from bench_intake import generate_rows, run_backends  # noqa: E402


def worker(args):
    # Imported here: the backend is chosen by the environment of this process
    from werkzeug.test import Client

    from trytond import backend
    from trytond.modules.lead_billing.tests.tools import (
        lead_trading, run_committed)
    from trytond.modules.lead_prepaid.tests.tools import (
        make_prepaid, setup_prepaid, top_up)
    from trytond.pool import Pool
    from trytond.protocols.wrappers import Response
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction
    from trytond.wsgi import app

    drop_db()
    activate_module('lead_prepaid')

    def setup():
        pool = Pool()
        User = pool.get('res.user')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        with lead_trading() as fixture:
            setup_prepaid(fixture)
        user, = User.create([{
                    'name': 'Platform', 'login': 'platform',
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    'groups': [('add', [ModelData.get_id(
                                    'lead_billing', 'group_lead_trading')])],
                    }])
        application, = Application.create([{
                    'user': user.id, 'application': 'lead_intake'}])
        return application.key, fixture.company.id
    key, company_id = run_committed(DB_NAME, setup)

    client = Client(app, Response)
    url = f'/{DB_NAME}/lead_billing/intake'
    headers = {'Authorization': f'bearer {key}'}

    def send(prefix, area):
        "Send the rows as new leads: other references, e-mails and phones"
        rows = generate_rows(args.leads, dt.datetime(2026, 1, 1))
        for row in rows:
            row['reference'] = prefix + row['reference']
            row['email'] = prefix.lower() + row['email']
            row['phone'] = row['phone'].replace('030 ', f'{area} ')
        deliveries = 0
        began = time.perf_counter()
        for i in range(0, len(rows), args.batch):
            response = client.post(url,
                data=json.dumps(rows[i:i + args.batch]),
                headers=headers, content_type='application/json')
            if response.status_code != 200:
                sys.exit(f'batch {i}: HTTP {response.status_code} '
                    f'{response.get_data(as_text=True)[:500]}')
            for result in response.json['results']:
                deliveries += sum(d['status'] == 'created'
                    for d in result.get('deliveries', []))
        return time.perf_counter() - began, deliveries

    def open_accounts():
        "Prepaid accounts for the buyers, topped up, left inactive"
        Party = Pool().get('party.party')
        Account = Pool().get('lead.prepaid.account')
        with Transaction().set_context(company=company_id):
            for code in ['B1', 'B2']:
                party, = Party.search([('code', '=', code)])
                account = make_prepaid(party, thresholds=['1000.00'])
                top_up(account, '10000000.00')
                Account.write([account], {'active': False})
        return list(Transaction().tasks)
    tasks = run_committed(DB_NAME, open_accounts)
    # the documents of the top-ups are rendered now, not in a measurement
    for task_id in tasks:
        run_committed(DB_NAME, lambda: Pool().get('ir.queue')(task_id).run())

    def activate(active):
        def write():
            Account = Pool().get('lead.prepaid.account')
            with Transaction().set_context(active_test=False):
                Account.write(Account.search([]), {'active': active})
        run_committed(DB_NAME, write)

    postpaid_seconds, postpaid_deliveries = send('POST-', '030')
    activate(True)
    prepaid_seconds, prepaid_deliveries = send('PRE-', '040')

    postpaid = args.leads / postpaid_seconds
    prepaid = args.leads / prepaid_seconds
    print(f'\n--- {backend.name} ---')
    print(f'postpaid buyers: {args.leads} leads, {postpaid_deliveries} '
        f'deliveries in {postpaid_seconds:.1f} s: {postpaid:,.0f} leads/s')
    print(f'prepaid buyers:  {args.leads} leads, {prepaid_deliveries} '
        f'deliveries in {prepaid_seconds:.1f} s: {prepaid:,.0f} leads/s')
    per_batch = ((prepaid_seconds - postpaid_seconds) * 1000
        * args.batch / args.leads)
    print(f'prepaid / postpaid: {prepaid / postpaid:.2f}x; the check costs '
        f'{per_batch:.0f} ms per batch of {args.batch} leads')
    drop_db()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--leads', type=int, default=20_000)
    parser.add_argument('--batch', type=int, default=1000)
    parser.add_argument(
        '--backend', choices=['sqlite', 'postgresql', 'both'],
        default='both')
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    return run_backends(args.backend, __file__, 'bench_prepaid', [
            '--leads', str(args.leads), '--batch', str(args.batch)])


if __name__ == '__main__':
    sys.exit(main())
