#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Benchmark of referral payouts: the preview and the export of the open
commission of many referred customers (paid revenue lines, some credited
after an earlier payout), next to the plain ORM way of marking commission
lines paid, one write per line, measured in the same run. Prints the
figures; not a test.

    .venv/bin/python -O tests/bench_referral.py [--customers 2000]
        [--months 3] [--lines 5] [--backend sqlite|postgresql|both]

The PostgreSQL run uses LEAD_TEST_POSTGRESQL (default
postgresql://postgres@127.0.0.1:5432/) and is left out when unreachable.
"""
import argparse
import cProfile
import datetime as dt
import pstats
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
from bench_intake import run_backends  # noqa: E402

CUSTOMERS_PER_REFERRER = 4
BASELINE_LINES = 500


def worker(args):
    # Imported here: the backend is chosen by the environment of this process
    from trytond import backend
    from trytond.modules.lead_billing.bulk import insert_records
    from trytond.modules.lead_billing.tests.tools import (
        lead_trading, run_committed)
    from trytond.modules.referral_commission.configuration import (
        referral_settings)
    from trytond.modules.referral_commission.tests.tools import (
        PERIOD_START, TODAY, invoice, setup_referrals)
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    drop_db()
    activate_module('referral_commission')

    def setup():
        "Referrers, referred customers and one real paid invoice"
        pool = Pool()
        Referral = pool.get('referral.referral')
        Party = pool.get('party.party')
        with lead_trading() as fixture:
            setup_referrals(fixture)
            template = invoice(fixture, fixture.buyer, '100.00',
                date=PERIOD_START)
            referrers = Party.create([{
                        'name': f"Werber {i}", 'code': f'R{i}',
                        'lead_buyer': True,
                        } for i in range(
                        args.customers // CUSTOMERS_PER_REFERRER)])
            customers = Party.create([{
                        'name': f"Kunde {i}", 'code': f'C{i}',
                        'lead_buyer': True,
                        } for i in range(args.customers)])
            Referral.create([{
                        'referrer': referrers[
                            i // CUSTOMERS_PER_REFERRER].id,
                        'referred': customer.id,
                        'date': PERIOD_START,
                        } for i, customer in enumerate(customers)])
            return (fixture.company.id, template.id,
                [c.id for c in customers])
    company_id, template_id, customer_ids = run_committed(DB_NAME, setup)

    def generate():
        """Paid invoices of the customers with their commission lines, as
        posting them would leave them, written in bulk: copies of the
        template's rows"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Commission = pool.get('commission')
        Referral = pool.get('referral.referral')
        template = Invoice(template_id)
        line_template = template.lines[0]
        product = referral_settings(template.company.id).product
        referral_of = {r.referred.id: r for r in Referral.search([])}
        invoice_fields = {
            'company': template.company.id, 'type': 'out',
            'currency': template.currency.id,
            'account': template.account.id,
            'journal': template.journal.id,
            'invoice_address': template.invoice_address.id,
            'state': 'paid',
            }
        # inside the period of the payout, which ends today
        step = (TODAY - PERIOD_START).days // args.months
        days = [PERIOD_START + dt.timedelta(days=step * m)
            for m in range(args.months)]
        invoice_values = [{
                **invoice_fields, 'party': party_id, 'invoice_date': day,
                'number': f'BENCH-{party_id}-{day}',
                } for party_id in customer_ids for day in days]
        invoice_ids = insert_records(Invoice, invoice_values)
        line_values = [{
                'invoice': invoice_id, 'type': 'line',
                'company': template.company.id,
                'currency': template.currency.id,
                'account': line_template.account.id,
                'quantity': 1.0,
                'unit_price': Decimal(40 + 10 * n),
                'description': 'Leads',
                } for invoice_id in invoice_ids for n in range(args.lines)]
        line_ids = insert_records(InvoiceLine, line_values)
        party_of = {invoice_id: values['party']
            for invoice_id, values in zip(invoice_ids, invoice_values)}
        commission_values = []
        for line_id, values in zip(line_ids, line_values):
            referral = referral_of[party_of[values['invoice']]]
            commission_values.append({
                    'origin': f'account.invoice.line,{line_id}',
                    'agent': referral.agent.id,
                    'product': product.id,
                    'base_amount': values['unit_price'],
                    'amount': values['unit_price'] / 20,
                    'date': TODAY,
                    'referral': referral.id,
                    'referral_line': line_id,
                    'referral_line_key': line_id,
                    })
        insert_records(Commission, commission_values)
        return len(commission_values)
    started = time.perf_counter()
    count = run_committed(DB_NAME, generate)
    print(f'\n--- {backend.name} ---')
    print(f'{args.customers} referred customers of '
        f'{args.customers // CUSTOMERS_PER_REFERRER} referrers, '
        f'{count} paid revenue lines generated in '
        f'{time.perf_counter() - started:.1f} s')

    def in_company(func):
        def wrapper():
            with Transaction().set_context(company=company_id):
                return func()
        return wrapper

    def timed(name, func, profile=False):
        profiler = cProfile.Profile() if profile else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        result = run_committed(DB_NAME, in_company(func))
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - began
        if profiler:
            print(f'profile of {name}:')
            pstats.Stats(profiler).sort_stats('cumulative').print_stats(25)
        return result, seconds

    def new_payout():
        Payout = Pool().get('referral.payout')
        payout, = Payout.create([{
                    'company': company_id, 'period_start': PERIOD_START,
                    'period_end': TODAY}])
        return payout.id

    payout_id, _ = timed('create', new_payout)

    def preview():
        Payout = Pool().get('referral.payout')
        Payout.preview([Payout(payout_id)])
        return len(Payout(payout_id).lines)
    rows, preview_seconds = timed('preview', preview, args.profile)

    def baseline():
        """Mark commission lines paid the plain ORM way, one write per line,
        and roll back"""
        pool = Pool()
        Commission = pool.get('commission')
        Voucher = pool.get('referral.voucher')
        Payout = pool.get('referral.payout')
        payout = Payout(payout_id)
        commissions = Commission.search(
            [('referral_voucher', '=', None)], limit=BASELINE_LINES)
        voucher, = Voucher.create([{
                    'number': 'BASELINE', 'company': company_id,
                    'payout': payout_id,
                    'party': commissions[0].agent.party.id,
                    'date': TODAY, 'currency': payout.currency.id,
                    'amount': Decimal(1), 'cash_amount': Decimal(0),
                    }])
        began = time.perf_counter()
        for commission in commissions:
            Commission.write([commission], {
                    'referral_voucher': voucher.id,
                    'amount': commission.base_amount / 20,
                    'referral_cash_amount': Decimal(0),
                    'referral_area': 'new',
                    })
        seconds = time.perf_counter() - began
        Transaction().rollback()
        return len(commissions) / seconds
    baseline_rate, _ = timed('baseline', baseline)

    def export():
        Payout = Pool().get('referral.payout')
        Payout.export([Payout(payout_id)])
        payout = Payout(payout_id)
        return (payout.voucher_count, payout.commission_count,
            len(payout.files), payout.voucher_total)
    (vouchers, paid, files, total), export_seconds = timed(
        'export', export, args.profile)

    print(f'preview: {rows} rows (referral and area) in '
        f'{preview_seconds:.1f} s, {count / preview_seconds:,.0f} lines/s')
    print(f'export:  {vouchers} vouchers ({total} EUR) paying {paid} lines, '
        f'{files} files in {export_seconds:.1f} s, '
        f'{paid / export_seconds:,.0f} lines/s')
    print(f'plain ORM marking, one write per line: {baseline_rate:,.0f} '
        f'lines/s ({BASELINE_LINES} lines): the export is '
        f'{paid / export_seconds / baseline_rate:.1f}x faster, counting '
        'all its work against the marking alone')
    drop_db()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--customers', type=int, default=2000)
    parser.add_argument('--months', type=int, default=3)
    parser.add_argument('--lines', type=int, default=5)
    parser.add_argument(
        '--backend', choices=['sqlite', 'postgresql', 'both'],
        default='both')
    parser.add_argument('--profile', action='store_true',
        help="print a profile of the preview and the export")
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    extra = ['--profile'] if args.profile else []
    return run_backends(args.backend, __file__, 'bench_referral', [
            '--customers', str(args.customers), '--months', str(args.months),
            '--lines', str(args.lines), *extra])


if __name__ == '__main__':
    sys.exit(main())
