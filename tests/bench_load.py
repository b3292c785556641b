#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Load test on PostgreSQL: several processes deliver leads through the
HTTP intake (served on loopback), file and accept complaints, top up a
prepaid buyer and run the billing job, all at once for a bounded time;
then a final billing run and a check of the invariants. Prints the load
held (operations/s) and the retries; exits non-zero when an invariant
breaks. Not a test: run it by hand or in a scheduled job.

    .venv/bin/python tests/bench_load.py [--seconds 60] [--intake 2]
        [--billing 2] [--complaints 1] [--batch 50]

Invariants checked after the final run:
  * every billable delivery is on exactly one buyer invoice line, and each
    line bills as many leads as are linked to it (buyers and suppliers);
  * every accepted complaint on a billed delivery is credited once;
  * no prepaid account has a negative available balance;
  * every posted move balances;
  * the numbers of posted documents are gap-free per sequence.

It uses LEAD_TEST_POSTGRESQL (default postgresql://postgres@127.0.0.1:5432/)
and is left out, saying why, when PostgreSQL is unreachable.
"""
import argparse
import datetime as dt
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = 'bench_load'
DEFAULT_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'
RETRIES = 20
# Deliveries fall in completed weekly periods, inside the complaint window
DELIVERED_DAYS_AGO = (10, 40)
PREPAID_START = Decimal('3000.00')
PREPAID_TOP_UP = Decimal('600.00')


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


# --- run inside the worker processes --------------------------------------

def open_pool():
    from trytond.pool import Pool
    Pool.start()
    Pool(DB_NAME).init()


class GaveUp(RuntimeError):
    "Every attempt of a transaction failed on conflicts"


def committed(func, stats, company, attempts=RETRIES):
    """Run `func` in a committed transaction in the company's context,
    again after a serialization failure, a lock timeout or a billing
    conflict (another run billed the same leads first), as Tryton's
    dispatcher and the next cron call would; count the retries in
    `stats`"""
    from trytond import backend
    from trytond.modules.lead_billing.exceptions import BillingConflict
    from trytond.transaction import Transaction, TransactionError

    extras = {}
    for attempt in range(attempts):
        try:
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    with transaction.set_context(company=company):
                        result = func()
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    stats['retries'] += 1
                    continue
                transaction.commit()
                return result
        except (backend.DatabaseOperationalError, BillingConflict):
            stats['retries'] += 1
            time.sleep(random.uniform(0.01, 0.1 * (attempt + 1)))
    raise GaveUp(f"gave up after {attempts} attempts")


def role_server(args):
    os.environ['TRYTOND_DATABASE_NAMES'] = DB_NAME
    from werkzeug.serving import run_simple

    from trytond.application import app
    logging.getLogger('werkzeug').setLevel(logging.WARNING)
    run_simple('127.0.0.1', args.port, app, threaded=True)


def role_intake(args, stats):
    """Post batches of new leads, each sold to one to three buyers"""
    rnd = random.Random(args.worker)
    url = f'http://127.0.0.1:{args.port}/{DB_NAME}/lead_billing/intake'
    serial = 0
    while time.time() < args.deadline:
        rows = []
        for _ in range(args.batch):
            serial += 1
            delivered = (dt.datetime.now(dt.timezone.utc)
                - dt.timedelta(days=rnd.uniform(*DELIVERED_DAYS_AGO)))
            rows.append({
                    'supplier': 'S1',
                    'reference': f'LOAD-{args.worker}-{serial:07d}',
                    'category': rnd.choice(['SOLAR', 'HEAT']),
                    'received_at': (delivered
                        - dt.timedelta(minutes=5)).isoformat(),
                    'name': 'Lasttest Kunde',
                    'email': f'load{args.worker}.{serial}@example.de',
                    'phone': f'030 {2000000 + 1000000 * args.worker + serial}',
                    'postal_code': '10115', 'city': 'Berlin',
                    'country': 'DE',
                    'deliveries': [{
                            'buyer': buyer,
                            'delivered_at': delivered.isoformat(),
                            } for buyer in rnd.sample(
                            ['B1', 'B2', 'INT'], rnd.choice([1, 2, 3]))],
                    })
        request = urllib.request.Request(url, data=json.dumps(rows).encode(),
            headers={'Authorization': f'bearer {args.key}',
                'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as e:
            stats['errors'].append(f'intake HTTP {e.code}: '
                f'{e.read()[:300]!r}')
            continue
        stats['operations'] += 1
        for result in answer['results']:
            for delivery in result.get('deliveries', []):
                stats['deliveries ' + delivery['status']] += 1
                for error in delivery.get('errors', []):
                    reason = re.sub(r'"[^"]*"|[A-Z]{3}[\d.,]+', '…',
                        error['message'])
                    stats[f'refused: {reason}'] += 1


def role_billing(args, stats):
    """Run the scheduled billing job again and again; a run that finds
    the document sequence taken by a run posting at the same time (Tryton
    locks it without waiting) is left to the next call, as the cron
    does"""
    from trytond.pool import Pool

    def bill():
        Pool().get('lead.billing.run').run_due()
    while time.time() < args.deadline:
        try:
            committed(bill, stats, args.company, attempts=3)
        except GaveUp:
            stats['runs left to the next call'] += 1
        else:
            stats['operations'] += 1
        time.sleep(0.5)


def role_complaints(args, stats):
    """File and accept complaints on random deliveries of the postpaid
    buyer that have none yet, billed or not"""
    from sql import Null
    from sql.functions import Random

    from trytond.modules.lead_complaints.tests.tools import complain
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def pick():
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Complaint = pool.get('lead.complaint')
        Party = pool.get('party.party')
        delivery = Delivery.__table__()
        complaint = Complaint.__table__()
        buyer, = Party.search([('code', '=', 'B1')])
        cursor = Transaction().connection.cursor()
        cursor.execute(*delivery.join(complaint, 'LEFT',
                condition=complaint.delivery == delivery.id).select(
                delivery.id,
                where=(delivery.buyer == buyer.id)
                & (delivery.state == 'delivered')
                & (complaint.id == Null),
                order_by=Random(), limit=1))
        return [i for i, in cursor]

    def file_and_accept(delivery_id):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Complaint = pool.get('lead.complaint')
        complaint = complain(Delivery(delivery_id))
        Complaint.accept([complaint])

    while time.time() < args.deadline:
        picked = committed(pick, stats, args.company)
        if not picked:
            time.sleep(0.5)
            continue
        committed(lambda: file_and_accept(picked[0]), stats,
            args.company)
        stats['operations'] += 1


def role_top_up(args, stats):
    """Top up the prepaid buyer now and then, as its payments arrive"""
    from trytond.modules.lead_prepaid.tests.tools import top_up
    from trytond.pool import Pool

    def book():
        Account = Pool().get('lead.prepaid.account')
        account, = Account.search([('party.code', '=', 'B2')])
        top_up(account, PREPAID_TOP_UP)
    while time.time() < args.deadline:
        time.sleep(2)
        committed(book, stats, args.company)
        stats['operations'] += 1


def setup_database(args):
    """Build the database with the company, accounting, weekly billing,
    a prepaid buyer and the platform's intake key; print the key"""
    from trytond.modules.lead_billing.tests.test_billing import (
        set_final_check)
    from trytond.modules.lead_billing.tests.tools import (
        lead_trading, run_committed)
    from trytond.modules.lead_complaints.tests.tools import weekly_parties
    from trytond.modules.lead_prepaid.tests.tools import (
        make_prepaid, setup_prepaid, top_up)
    from trytond.pool import Pool
    from trytond.tests.test_tryton import activate_module, drop_db

    drop_db()
    activate_module(['lead_prepaid', 'lead_complaints'])

    def setup():
        pool = Pool()
        User = pool.get('res.user')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        with lead_trading() as fixture:
            setup_prepaid(fixture)
            weekly_parties(fixture)
            set_final_check(False)
            top_up(make_prepaid(fixture.buyer2), PREPAID_START)
        user, = User.create([{
                    'name': 'Platform', 'login': 'platform',
                    'companies': [('add', [fixture.company.id])],
                    'company': fixture.company.id,
                    'groups': [('add', [ModelData.get_id(
                                    'lead_billing', 'group_lead_trading')])],
                    }])
        application, = Application.create([{
                    'user': user.id, 'application': 'lead_intake'}])
        return {'key': application.key, 'company': fixture.company.id}
    print(json.dumps(run_committed(DB_NAME, setup)))


def check_invariants(args):
    """Bill what is left, then check the invariants; print the findings
    as JSON: the figures and the list of broken invariants"""
    from sql.aggregate import Count, Sum

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    stats = {'retries': 0}
    committed(lambda: Pool().get('lead.billing.run').run_due(), stats,
        args.company)

    broken = []
    figures = {}
    with Transaction().start(DB_NAME, 0, readonly=True) as transaction, \
            transaction.set_context(company=args.company):
        pool = Pool()
        cursor = transaction.connection.cursor()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        Line = pool.get('account.invoice.line')
        Invoice = pool.get('account.invoice')
        Complaint = pool.get('lead.complaint')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Account = pool.get('lead.prepaid.account')
        Run = pool.get('lead.billing.run')
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        line = Line.__table__()
        invoice = Invoice.__table__()
        complaint = Complaint.__table__()
        move = Move.__table__()
        move_line = MoveLine.__table__()

        cut_off = dt.datetime.now() - dt.timedelta(days=DELIVERED_DAYS_AGO[0])
        cursor.execute(*delivery.select(delivery.id,
                where=Run.unbilled_deliveries(delivery, args.company)
                & (delivery.delivered_at < cut_off)))
        if unbilled := [i for i, in cursor]:
            broken.append(f'{len(unbilled)} billable deliveries unbilled, '
                f'e.g. {unbilled[:5]}')

        for table, link, side in [
                (delivery, delivery.invoice_line, 'buyer'),
                (lead, lead.statement_line, 'supplier')]:
            cursor.execute(*table.join(line,
                    condition=link == line.id).select(
                    line.id, line.quantity, Count(table.id),
                    group_by=[line.id, line.quantity]))
            lines = list(cursor)
            figures[f'{side} lines'] = len(lines)
            figures[f'{side} leads billed'] = sum(c for _, _, c in lines)
            if wrong := [i for i, q, c in lines if q != c]:
                broken.append(f'{side} lines whose quantity differs from '
                    f'their leads: {wrong[:5]}')

        cursor.execute(*complaint.join(delivery,
                condition=complaint.delivery == delivery.id).select(
                complaint.id, complaint.credit_line,
                where=(complaint.state == 'accepted')
                & (delivery.invoice_line != None)))  # noqa: E711
        accepted = list(cursor)
        figures['complaints credited'] = sum(1 for _, c in accepted if c)
        if uncredited := [i for i, c in accepted if not c]:
            broken.append(f'accepted complaints on billed deliveries not '
                f'credited: {uncredited[:5]}')
        cursor.execute(*complaint.select(complaint.credit_line,
                Count(complaint.id),
                where=complaint.credit_line != None,  # noqa: E711
                group_by=[complaint.credit_line]))
        credits = dict(cursor)
        if credits:
            for record in Line.browse(list(credits)):
                if abs(record.quantity) != credits[record.id]:
                    broken.append(f'credit line {record.id} credits '
                        f'{record.quantity} for {credits[record.id]} '
                        f'complaints')

        for account in Account.search([]):
            figures[f'prepaid {account.party.code} available'] = str(
                account.available)
            if account.available < 0:
                broken.append(f'prepaid account of {account.party.code} '
                    f'overdrawn: {account.available}')

        cursor.execute(*move.join(move_line,
                condition=move_line.move == move.id).select(
                move.id, where=move.state == 'posted', group_by=[move.id],
                having=Sum(move_line.debit) != Sum(move_line.credit)))
        if unbalanced := [i for i, in cursor]:
            broken.append(f'unbalanced posted moves: {unbalanced[:5]}')
        cursor.execute(*move.select(Count(move.id),
                where=move.state == 'posted'))
        figures['posted moves'], = cursor.fetchone()

        cursor.execute(*invoice.select(invoice.type, invoice.number,
                where=invoice.number != None))  # noqa: E711
        sequences = defaultdict(list)
        for type_, number in cursor:
            prefix, digits = re.fullmatch(r'(.*?)(\d+)', number).groups()
            sequences[(type_, prefix)].append(int(digits))
        for (type_, prefix), numbers in sorted(sequences.items()):
            figures[f'documents {type_} {prefix}'] = len(numbers)
            numbers.sort()
            expected = list(range(numbers[0], numbers[0] + len(numbers)))
            if numbers != expected:
                missing = sorted(set(expected) - set(numbers))
                broken.append(f'gaps in {type_} numbers {prefix}: '
                    f'{missing[:5]} (or repeats)')
    print(json.dumps({'figures': figures, 'broken': broken,
                'final retries': stats['retries']}))


def worker(args):
    if args.role == 'setup':
        return setup_database(args)
    if args.role == 'server':
        return role_server(args)
    open_pool()
    if args.role == 'check':
        return check_invariants(args)
    # the load starts when every worker has loaded its pool: the parent
    # answers the ready line with the common deadline
    print('ready', flush=True)
    args.deadline = float(sys.stdin.readline())
    stats = defaultdict(int, errors=[])
    began = time.perf_counter()
    {'intake': role_intake, 'billing': role_billing,
        'complaints': role_complaints, 'top_up': role_top_up,
        }[args.role](args, stats)
    stats['seconds'] = time.perf_counter() - began
    print(json.dumps(stats))


def run_role(env, role, *extra, capture=True):
    command = [sys.executable, __file__, '--role', role, *map(str, extra)]
    return subprocess.Popen(command, env=env,
        stdin=subprocess.PIPE if capture else None,
        stdout=subprocess.PIPE if capture else None, text=True)


def wait_for_server(port, url):
    """Wait until the server listens, then let it load the database's
    pool with a request that its intake refuses"""
    for _ in range(600):
        try:
            socket.create_connection(('127.0.0.1', port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    request = urllib.request.Request(url, data=b'[]', headers={
            'Authorization': 'bearer warm-up',
            'Content-Type': 'application/json'})
    try:
        urllib.request.urlopen(request, timeout=300).close()
    except urllib.error.HTTPError:
        pass


def last_json(process):
    out, _ = process.communicate()
    if process.returncode:
        sys.exit(f'a worker failed ({process.args[3]}, '
            f'exit {process.returncode})')
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=int, default=60)
    parser.add_argument('--intake', type=int, default=2)
    parser.add_argument('--billing', type=int, default=2)
    parser.add_argument('--complaints', type=int, default=1)
    parser.add_argument('--batch', type=int, default=50)
    for name in ['--role', '--key']:
        parser.add_argument(name, help=argparse.SUPPRESS)
    for name in ['--port', '--worker', '--company']:
        parser.add_argument(name, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        return worker(args)

    uri = os.environ.get('LEAD_TEST_POSTGRESQL', DEFAULT_POSTGRESQL)
    sys.path.insert(0, str(ROOT / 'setup'))
    from run_tests import postgresql_problem
    if problem := postgresql_problem(uri):
        print(f'PostgreSQL unreachable, load test left out: {problem}')
        return 0
    env = os.environ.copy()
    env.update(TRYTOND_DATABASE_URI=uri, DB_NAME=DB_NAME, TRYTOND_TZ='UTC')
    env.pop('DB_CACHE', None)

    print('building the database ...', flush=True)
    built = last_json(run_role(env, 'setup'))
    port = free_port()
    server = run_role(env, 'server', '--port', port, capture=False)
    try:
        wait_for_server(port,
            f'http://127.0.0.1:{port}/{DB_NAME}/lead_billing/intake')
        common = ['--port', port, '--key', built['key'],
            '--batch', args.batch, '--company', built['company']]
        workers = [('intake', i) for i in range(args.intake)]
        workers += [('billing', i) for i in range(args.billing)]
        workers += [('complaints', i) for i in range(args.complaints)]
        workers += [('top_up', 0)]
        print(f'load for {args.seconds} s: ' + ', '.join(
                f'{r} #{i}' for r, i in workers), flush=True)
        processes = [(role, run_role(env, role, '--worker', i, *common))
            for role, i in workers]
        for _, process in processes:
            if process.stdout.readline().strip() != 'ready':
                sys.exit(f'a worker failed to start ({process.args[3]})')
        deadline = time.time() + args.seconds
        for _, process in processes:
            process.stdin.write(f'{deadline}\n')
            process.stdin.flush()
        results = [(role, last_json(p)) for role, p in processes]
    finally:
        server.terminate()
        server.wait()

    print(f'\n--- load held on PostgreSQL, {args.seconds} s ---')
    retries = 0
    errors = []
    per_role = defaultdict(lambda: defaultdict(float))
    for role, stats in results:
        retries += stats.pop('retries', 0)
        errors += stats.pop('errors')
        for name, value in stats.items():
            per_role[role][name] += value
    for role, stats in per_role.items():
        ops = stats.pop('operations', 0)
        seconds = stats.pop('seconds') / sum(1 for r, _ in results
            if r == role)
        details = ', '.join(f'{n}: {v:.0f}' for n, v in sorted(stats.items()))
        print(f'{role:10} {ops:6.0f} operations, {ops / seconds:7.1f}/s'
            + (f' ({details})' if details else ''))
    leads = sum(per_role['intake'].get(f'deliveries {s}', 0)
        for s in ['created'])
    print(f'deliveries created: {leads / args.seconds:,.0f}/s; '
        f'retries after conflicts: {retries}')
    for error in errors:
        print(f'error: {error}')

    check = last_json(run_role(env, 'check', '--company', built['company']))
    print('\n--- after the final billing run ---')
    for name, value in check['figures'].items():
        print(f'{name}: {value}')
    print(f"retries of the final run: {check['final retries']}")
    for problem in check['broken']:
        print(f'INVARIANT BROKEN: {problem}')
    if check['broken'] or errors:
        return 1
    print('all invariants hold')
    return 0


if __name__ == '__main__':
    sys.exit(main())
