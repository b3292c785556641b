# This file is part of the lead trading suite. See README.rst for details.
"""The demo (`make demo` = setup/demo.py): check what is in the small demo
database that tests/conftest.py builds once for the session in a temporary
directory, that a second run reuses it, that a failed build keeps it and
that the server serves it.

The test runs the scripts with the interpreter running pytest, which must be
the one of the virtual environment (`make test` does so). It does not need
the web client (npm)."""
import base64
import datetime as dt
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from decimal import Decimal

import pytest

from demo_support import (
    DEMO, LEADS, REPO, demo_marks, free_port, load_demo_module, run_demo)

pytestmark = demo_marks


@pytest.fixture
def db(demo):
    conn = sqlite3.connect(f"file:{demo['database']}?mode=ro", uri=True)
    yield conn
    conn.close()


def one(conn, query, *params):
    rows = conn.execute(query, params).fetchall()
    assert len(rows) == 1, (query, rows)
    return rows[0]


def test_build_leaves_only_the_database(demo):
    db_dir = demo['dir'] / 'db'
    assert sorted(p.name for p in db_dir.iterdir()) == [
        'demo.sqlite', 'demo.stamp']
    stamp = json.loads((db_dir / 'demo.stamp').read_text())
    assert stamp['leads'] == LEADS
    assert 'lead_billing' in stamp['modules']
    assert (demo['dir'] / 'trytond.conf').exists()
    assert (demo['dir'] / 'build.log').stat().st_size > 0
    print(f"demo built in {demo['build_seconds']:.0f} s")


def test_company(db):
    name, timezone, currency = one(db, """
        SELECT p.name, c.timezone, cur.code
        FROM company_company c
        JOIN party_party p ON p.id = c.party
        JOIN currency_currency cur ON cur.id = c.currency""")
    assert name == "Leadhandel Demo GmbH"
    assert timezone == 'Europe/Berlin'
    assert currency == 'EUR'
    country, = one(db, """
        SELECT co.code FROM party_address a
        JOIN company_company c ON c.party = a.party
        JOIN country_country co ON co.id = a.country""")
    assert country == 'DE'
    identifiers = dict(db.execute("""
        SELECT i.type, i.code FROM party_identifier i
        JOIN company_company c ON c.party = i.party"""))
    assert re.fullmatch(r'DE\d{9}', identifiers['eu_vat'])
    assert 'de_stnr' in identifiers
    login, company, language = one(db, """
        SELECT u.login, u.company, l.code FROM res_user u
        JOIN ir_lang l ON l.id = u.language
        WHERE u.login = 'admin'""")
    assert company is not None
    assert language == 'de'
    open_setup_steps, = one(db, """
        SELECT COUNT(*) FROM ir_module_config_wizard_item
        WHERE state != 'done'""")
    assert open_setup_steps == 0


def test_parties(db):
    suppliers, = one(db,
        "SELECT COUNT(*) FROM party_party WHERE lead_supplier")
    buyers, = one(db, "SELECT COUNT(*) FROM party_party WHERE lead_buyer")
    assert (suppliers, buyers) == (10, 30)
    internal = db.execute(
        "SELECT code, lead_buyer FROM party_party WHERE lead_internal"
        ).fetchall()
    assert internal == [('K030', 1)]
    self_billing, = one(db, """
        SELECT COUNT(*) FROM party_party
        WHERE lead_supplier AND self_billing_agreement_date IS NOT NULL
        AND self_billing_agreement_reference IS NOT NULL""")
    assert self_billing == 8
    codes = [c for c, in db.execute(
            "SELECT code FROM party_party WHERE lead_supplier "
            "ORDER BY code")]
    assert codes == [f'L{i:03d}' for i in range(1, 11)]


def test_leads(db):
    states = dict(db.execute(
            "SELECT quality_state, COUNT(*) FROM lead_lead "
            "GROUP BY quality_state"))
    assert sum(states.values()) == LEADS
    assert states.get('review', 0) > 0
    assert states.get('valid', 0) > LEADS * 0.8
    first, last = one(db,
        "SELECT MIN(received_at), MAX(received_at) FROM lead_lead")
    first, last = map(dt.datetime.fromisoformat, (first, last))
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert last <= now
    assert now - first > dt.timedelta(days=60)
    categories = {c for c, in db.execute("SELECT code FROM lead_category")}
    assert {'PV', 'WP', 'BAUFI', 'PKV', 'IMMO', 'KFZ'} <= categories
    without_price, = one(db, """
        SELECT COUNT(*) FROM lead_lead WHERE purchase_price IS NULL""")
    assert without_price == 0


def test_deliveries(db):
    total, = one(db, "SELECT COUNT(*) FROM lead_delivery")
    assert total > LEADS / 2
    # deliveries returned by an accepted complaint are not billable either
    rows = db.execute("""
        SELECT p.lead_internal, d.billable, COUNT(*)
        FROM lead_delivery d JOIN party_party p ON p.id = d.buyer
        WHERE NOT EXISTS (SELECT 1 FROM lead_complaint c
            WHERE c.delivery = d.id AND c.state = 'accepted')
        GROUP BY 1, 2""").fetchall()
    counts = {(bool(internal), bool(billable)): count
        for internal, billable, count in rows}
    assert counts.get((True, True), 0) == 0, "internal delivery billable"
    assert counts.get((False, False), 0) == 0
    assert counts.get((True, False), 0) > 0, "no internal delivery"
    assert counts.get((False, True), 0) > 0
    not_valid, = one(db, """
        SELECT COUNT(*) FROM lead_delivery d
        JOIN lead_lead l ON l.id = d.lead
        WHERE l.quality_state != 'valid'
        OR d.delivered_at < l.received_at OR d.unit_price IS NULL""")
    assert not_valid == 0


def test_accounting(db):
    today = dt.date.today().isoformat()
    fiscalyear, = one(db, """
        SELECT id FROM account_fiscalyear
        WHERE start_date <= ? AND end_date >= ?""", today, today)
    periods, = one(db,
        "SELECT COUNT(*) FROM account_period WHERE fiscalyear = ?",
        fiscalyear)
    assert periods == 12
    sequences = one(db, """
        SELECT out_invoice_sequence, out_credit_note_sequence,
            in_invoice_sequence, in_credit_note_sequence
        FROM account_fiscalyear_invoice_sequence WHERE fiscalyear = ?""",
        fiscalyear)
    assert None not in sequences and len(set(sequences)) == 4
    taxes = {name: Decimal(rate) for name, rate in db.execute(
            "SELECT name, CAST(rate AS TEXT) FROM account_tax")}
    assert taxes['USt 19 %'] == Decimal('0.19')
    assert taxes['VSt 19 %'] == Decimal('0.19')
    customer_tax, = one(db, """
        SELECT t.name FROM "product_category-customer-account_tax" r
        JOIN account_tax t ON t.id = r.tax
        JOIN product_category c ON c.id = r.category
        WHERE c.name = 'Leads'""")
    assert customer_tax == 'USt 19 %'
    term, = one(db, """
        SELECT t.name FROM account_configuration_default_payment_term c
        JOIN account_invoice_payment_term t
            ON t.id = c.default_customer_payment_term""")
    assert term == "14 Tage netto"


def test_complaints(db):
    states = dict(db.execute(
            "SELECT state, COUNT(*) FROM lead_complaint GROUP BY state"))
    assert set(states) == {
        'draft', 'submitted', 'accepted', 'rejected', 'cancelled'}, states
    corrections, total = one(db, """
        SELECT COUNT(*), SUM(CAST(total_amount_cache AS NUMERIC))
        FROM account_invoice
        WHERE lead_correction AND state = 'posted'""")
    assert corrections > 0
    assert total < 0
    returned_unbilled, = one(db, """
        SELECT COUNT(*) FROM lead_delivery d
        JOIN lead_complaint c ON c.delivery = d.id
        WHERE c.state = 'accepted' AND NOT d.billable""")
    assert returned_unbilled > 0


def test_dunning(db):
    levels = dict(db.execute("""
        SELECT l.name, COUNT(*) FROM account_dunning_log g
        JOIN account_dunning_level l ON l.id = g.level GROUP BY 1"""))
    assert set(levels) == {'Payment reminder', 'Formal notice'}, levels
    paid, = one(db, """
        SELECT COUNT(*) FROM account_dunning d
        JOIN account_move_line l ON l.id = d.line
        WHERE l.reconciliation IS NOT NULL""")
    assert paid > 0
    emails, = one(db,
        "SELECT COUNT(*) FROM ir_email WHERE dunning_level IS NOT NULL")
    assert emails == sum(levels.values())


def amount(value):
    "A numeric column read AS TEXT (the SQLite backend stores blobs)"
    return Decimal(value or 0)


def prepaid_accounts(db):
    """{buyer code: (account id, available, {threshold: crossed})} of the
    active prepaid accounts, the balance computed as the module does: the
    buyer's credit on the deposit account less its deliveries not billed
    yet (no invoice line or a draft one)"""
    deposit_account, = one(db, """
        SELECT prepaid_deposit_account FROM lead_configuration_prepaid
        WHERE prepaid_deposit_account IS NOT NULL""")
    result = {}
    for account_id, party_id, code in db.execute("""
            SELECT a.id, a.party, p.code FROM lead_prepaid_account a
            JOIN party_party p ON p.id = a.party
            WHERE a.active""").fetchall():
        deposit = sum((amount(credit) - amount(debit)
                for credit, debit in db.execute("""
                    SELECT CAST(credit AS TEXT), CAST(debit AS TEXT)
                    FROM account_move_line
                    WHERE account = ? AND party = ?""",
                    (deposit_account, party_id))), Decimal(0))
        unbilled = sum((amount(price) for price, in db.execute("""
                    SELECT CAST(d.unit_price AS TEXT) FROM lead_delivery d
                    LEFT JOIN account_invoice_line l ON l.id = d.invoice_line
                    LEFT JOIN account_invoice i ON i.id = l.invoice
                    WHERE d.buyer = ? AND d.state = 'delivered'
                    AND d.billable
                    AND (d.invoice_line IS NULL
                        OR i.state IN ('draft', 'validated'))""",
                    (party_id,))), Decimal(0))
        thresholds = {amount(value): bool(crossed)
            for value, crossed in db.execute("""
                SELECT CAST(amount AS TEXT), crossed
                FROM lead_prepaid_threshold WHERE account = ?""",
                (account_id,))}
        result[code] = (account_id, deposit - unbilled, thresholds)
    return result


def test_prepaid_buyers(demo, db):
    """Two prepaid buyers: one with a comfortable balance, one whose
    balance ran out so that its last leads were refused"""
    accounts = prepaid_accounts(db)
    assert len(accounts) == 2, accounts
    comfortable = [code for code, (_, available, thresholds)
        in accounts.items()
        if thresholds and available > max(thresholds)
        and not any(thresholds.values())]
    dry = [code for code, (_, available, thresholds) in accounts.items()
        if any(crossed and available < threshold
            for threshold, crossed in thresholds.items())]
    assert len(comfortable) == 1 and len(dry) == 1, accounts
    dry, = dry
    account_id, available, _ = accounts[dry]
    price, = one(db, """
        SELECT MAX(CAST(d.unit_price AS NUMERIC)) FROM lead_delivery d
        JOIN party_party p ON p.id = d.buyer WHERE p.code = ?""", dry)
    assert 0 <= available < 2 * amount(str(price)), (available, price)
    alerts, = one(db, "SELECT COUNT(*) FROM ir_email WHERE resource = ?",
        f'lead.prepaid.account,{account_id}')
    assert alerts > 0
    # the build's summary counts the deliveries its balance refused
    refused = re.search(rf'prepaid {dry} .*, (\d+) deliveries refused',
        demo['output'])
    assert refused and int(refused.group(1)) > 0, demo['output']

    # every booked top-up has its paid prepayment invoice, and a buyer
    # asked for a top-up that its transfer will book
    unpaid, = one(db, """
        SELECT COUNT(*) FROM lead_prepaid_top_up t
        LEFT JOIN account_invoice i ON i.id = t.invoice
        WHERE t.state = 'booked'
        AND (i.id IS NULL OR i.state != 'paid' OR t.date IS NULL)""")
    assert unpaid == 0
    booked, = one(db,
        "SELECT COUNT(*) FROM lead_prepaid_top_up WHERE state = 'booked'")
    assert booked >= 2
    requested, = one(db, """
        SELECT COUNT(*) FROM lead_prepaid_top_up t
        JOIN account_payment p ON p.id = t.payment
        WHERE t.state = 'requested' AND p.state = 'submitted'""")
    assert requested >= 1


def test_prepaid_invoices_settled_from_deposit(db):
    "The last billing run settled the prepaid buyers' invoices in full"
    run, = one(db, "SELECT MAX(id) FROM lead_billing_run")
    invoices = db.execute("""
        SELECT i.id, i.state, CAST(i.total_amount_cache AS TEXT),
            (SELECT COUNT(*) FROM account_invoice_line l
                WHERE l.invoice = i.id AND l.account = (
                    SELECT prepaid_deposit_account
                    FROM lead_configuration_prepaid
                    WHERE prepaid_deposit_account IS NOT NULL)),
            (SELECT COUNT(*) FROM account_move_line l
                WHERE l.move = i.move AND l.account = i.account
                AND l.reconciliation IS NULL
                AND (CAST(l.debit AS NUMERIC) != 0
                    OR CAST(l.credit AS NUMERIC) != 0))
        FROM account_invoice i
        JOIN lead_prepaid_account a ON a.party = i.party
        WHERE i.lead_billing_run = ? AND i.type = 'out'""",
        (run,)).fetchall()
    assert invoices
    for id_, state, total, recalls, to_pay in invoices:
        assert state in {'posted', 'paid'}, (id_, state)
        assert amount(total) == 0, (id_, total)
        assert recalls > 0, id_
        assert to_pay == 0, id_


def test_referral_programme(demo, db):
    """Referrals with a payout exported, booked and partly redeemed, and a
    payout left in draft whose preview shows the three areas"""
    referrals, = one(db, "SELECT COUNT(*) FROM referral_referral")
    assert referrals == 8
    done = db.execute("""
        SELECT p.id, p.voucher_count, CAST(p.voucher_total AS TEXT), m.state
        FROM referral_payout p JOIN account_move m ON m.id = p.move
        WHERE p.state = 'done'""").fetchall()
    assert len(done) == 1, done
    payout_id, vouchers, total, move_state = done[0]
    assert vouchers > 0 and amount(total) > 0 and move_state == 'posted'
    files = dict(db.execute("""
        SELECT format, COUNT(*) FROM referral_payout_file WHERE payout = ?
        GROUP BY format""", (payout_id,)).fetchall())
    # a spreadsheet and a CSV file per branch
    assert set(files) == {'csv', 'xlsx'} and files['csv'] == files['xlsx'], (
        files)
    paid, = one(db, """
        SELECT COUNT(*) FROM commission c
        JOIN referral_voucher v ON v.id = c.referral_voucher
        WHERE v.payout = ?""", payout_id)
    assert paid > 0
    redeemed, = one(db, "SELECT COUNT(*) FROM referral_voucher_redemption")
    assert redeemed == 1

    draft, = one(db, "SELECT id FROM referral_payout WHERE state = 'draft'")
    areas = dict(db.execute("""
        SELECT area, COUNT(*) FROM referral_payout_line WHERE payout = ?
        GROUP BY area""", (draft,)).fetchall())
    assert set(areas) == {'new', 'difference', 'overpaid'}, areas
    included, = one(db, """
        SELECT COUNT(*) FROM referral_payout_line
        WHERE payout = ? AND status = 'included'""", draft)
    assert included > 0
    summary = re.search(r'referral payout \d+ previewed: new ([\d.]+) EUR, '
        r'difference ([\d.]+) EUR, overpaid (-[\d.]+) EUR', demo['output'])
    assert summary, demo['output']


def test_second_run_reuses(demo):
    before = demo['database'].stat()
    started = time.monotonic()
    result = run_demo(
        '--build-only', '--leads', str(LEADS), '--dir', str(demo['dir']))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reusing the demo database" in result.stdout
    after = demo['database'].stat()
    assert (after.st_ino, after.st_mtime_ns) == (
        before.st_ino, before.st_mtime_ns)
    assert elapsed < 10


def patched_demo(*args, **paths):
    """The command running setup/demo.py with `args` and some of its path
    constants replaced by `paths`"""
    script = textwrap.dedent(f"""
        import importlib.util, pathlib, sys
        spec = importlib.util.spec_from_file_location('d', {str(DEMO)!r})
        demo = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(demo)
        for name, path in {({k: str(v) for k, v in paths.items()})!r}.items():
            setattr(demo, name, pathlib.Path(path))
        sys.exit(demo.main(sys.argv[1:]))
        """)
    return [sys.executable, '-c', script, *args]


def test_failed_build_keeps_database(demo, tmp_path):
    "A build failing in the demo data leaves the previous database alone"
    failing = tmp_path / 'failing_demo_data.py'
    failing.write_text("raise SystemExit('demo data exploded')\n")
    before = demo['database'].stat()
    stamp = (demo['dir'] / 'db' / 'demo.stamp').read_text()
    result = subprocess.run(patched_demo(
            '--build-only', '--rebuild', '--leads', str(LEADS),
            '--dir', str(demo['dir']), DEMO_DATA=failing),
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "demo data failed" in result.stdout
    assert "demo data exploded" in result.stdout
    assert "previous demo database is untouched" in result.stdout
    after = demo['database'].stat()
    assert (after.st_ino, after.st_mtime_ns) == (
        before.st_ino, before.st_mtime_ns)
    assert (demo['dir'] / 'db' / 'demo.stamp').read_text() == stamp
    assert not list((demo['dir'] / 'db').glob('demo_build*'))


def rpc(port, method, params, session=None, database='demo'):
    request = urllib.request.Request(
        f'http://127.0.0.1:{port}/{database}/rpc/',
        data=json.dumps(
            {'id': 1, 'method': method, 'params': params}).encode(),
        headers={'Content-Type': 'application/json'})
    if session:
        request.add_header('Authorization', 'Session ' + base64.b64encode(
                session.encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert 'error' not in answer, answer
    return answer['result']


def test_serve(demo, tmp_path):
    """The server starts on the database, prints how to log in and serves
    JSON-RPC, also without the web client"""
    port = free_port()
    env = {**os.environ, 'DEMO_PORT': str(port)}
    proc = subprocess.Popen(patched_demo(
            '--leads', str(LEADS), '--dir', str(demo['dir']),
            WEB_ROOT=tmp_path / 'no-www'),
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    output = []
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            output.append(line)
            if 'Stop the server with Ctrl+C' in line:
                break
            assert time.monotonic() < deadline, ''.join(output)
        text = ''.join(output)
        assert f'http://127.0.0.1:{port}/' in text, text
        assert re.search(r'Login:\s+admin', text), text
        assert re.search(r'Password:\s+admin', text), text
        assert 'Reusing the demo database' in text
        assert 'make webclient' in text

        user_id, token, _ = rpc(
            port, 'common.db.login', ['admin', {'password': 'admin'}])
        session = f'admin:{user_id}:{token}'
        context = rpc(
            port, 'model.res.user.get_preferences', [True, {}], session)
        assert context['company']
        assert rpc(port, 'model.lead.lead.search_count', [[], context],
            session) == LEADS

        # the dashboard shows the charts of the last twelve months
        view = 'model.ir.ui.view'
        board, = rpc(port, f'{view}.search',
            [[('name', '=', 'dashboard_board')], 0, None, None, context],
            session)
        arch = rpc(port, f'{view}.view_get', [board, None, context],
            session)['arch']
        charts = re.findall(r'name="lead_reporting\.(act_dashboard_\w+)"',
            arch)
        assert len(charts) == 7, arch
        periods = rpc(port, 'model.lead.reporting.period.search_read',
            [[], 0, None, None, ['revenue', 'deliveries'],
                {**context, 'granularity': 'month'}], session)
        assert len(periods) == 12, periods
        assert sum(p['deliveries'] for p in periods) > 0, periods
        assert sum(Decimal(p['revenue']['decimal'])
            for p in periods) > 0, periods
        for model in ['lead.reporting.category', 'lead.reporting.buyer',
                'lead.reporting.payment.period']:
            assert rpc(port, f'model.{model}.search_count', [[], context],
                session) > 0, model

        # the referral payout left in draft is previewed and exported
        payout = 'model.referral.payout'
        draft, = rpc(port, f'{payout}.search',
            [[('state', '=', 'draft')], 0, None, None, context], session)
        rpc(port, f'{payout}.preview', [[draft], context], session)
        rpc(port, f'{payout}.export', [[draft], context], session)
        exported, = rpc(port, f'{payout}.read',
            [[draft], ['state', 'voucher_count', 'files'], context], session)
        assert exported['state'] == 'exported', exported
        assert exported['voucher_count'] > 0, exported
        assert len(exported['files']) >= 2, exported
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert not (demo['dir'] / 'trytond.pid').exists()


def test_busy_port_takes_the_next_one(capsys):
    demo = load_demo_module()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        busy = sock.getsockname()[1]
        port = demo.choose_port(busy)
    assert port > busy
    assert f"Port {busy} is in use, using port {port}" in (
        capsys.readouterr().out)


def test_stamp_follows_sources(tmp_path, monkeypatch):
    "The build hash covers module sources and demo data, not the tests"
    demo = load_demo_module()
    module = tmp_path / 'lead_extra'
    (module / 'tests').mkdir(parents=True)
    (module / '__pycache__').mkdir()
    (module / 'tryton.cfg').write_text('[tryton]\n')
    (module / 'extra.py').write_text('x = 1\n')
    (module / 'tests' / 'test_extra.py').write_text('')
    (module / '__pycache__' / 'extra.cpython-311.pyc').write_bytes(b'1')
    (tmp_path / 'not_a_module').mkdir()
    data = tmp_path / 'demo_data.py'
    data.write_text('')
    monkeypatch.setattr(demo, 'REPO', tmp_path)
    monkeypatch.setattr(demo, 'DEMO_DATA', data)
    assert demo.suite_modules() == ['lead_extra']

    base = demo.build_hash(['lead_extra'], 10)
    inputs = demo.build_inputs(['lead_extra'], 10)
    (module / 'tests' / 'test_extra.py').write_text('changed')
    (module / '__pycache__' / 'extra.cpython-311.pyc').write_bytes(b'2')
    assert demo.build_hash(['lead_extra'], 10) == base
    assert demo.build_hash(['lead_extra'], 11) != base
    (module / 'extra.py').write_text('x = 2\n')
    changed = demo.build_hash(['lead_extra'], 10)
    assert changed != base
    assert demo.changed_inputs(
        inputs, demo.build_inputs(['lead_extra'], 10)) == [
        'lead_extra/extra.py']
    data.write_text('# more demo data\n')
    assert demo.build_hash(['lead_extra'], 10) != changed
