# This file is part of the lead trading suite. See README.rst for details.
"""Dunning statistics on a database: every measure by level and period and
by customer on a small data set counted by hand, the date range, the ids
and the spreadsheet export."""
import datetime as dt
import io
import unittest
import zipfile
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.modules.dunning_levels.rules import days_to_pay
from trytond.modules.lead_billing.billing import line_template
from trytond.modules.lead_billing.tests.tools import (
    setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

INVOICE_DATE = dt.date(2026, 1, 15)
MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
RANGE = {'from_date': MARCH, 'to_date': dt.date(2026, 4, 30)}
MEASURES = [
    'dunned', 'amount', 'paid', 'paid_amount', 'open', 'open_amount',
    'days_to_pay']
ZERO = (0, 0, 0, 0, 0, 0, None)


def date(month, day):
    return dt.date(2026, month, day)


def post_invoice(fixture, party, unit_price):
    """Post a customer invoice of `fixture`'s product at `unit_price` (20 %
    tax on top), dated and due on INVOICE_DATE; return its receivable
    line"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    invoice = Invoice(type='out', party=party, company=fixture.company,
        currency=fixture.company.currency, invoice_date=INVOICE_DATE)
    invoice.on_change_type()
    invoice.on_change_party()
    invoice.payment_term = None
    invoice.payment_term_date = INVOICE_DATE
    invoice.save()
    Line.create([{
                **line_template(invoice, fixture.product),
                'invoice': invoice.id,
                'quantity': 1,
                'unit_price': Decimal(unit_price),
                'description': "Leads",
                }])
    Invoice.update_taxes([invoice])
    # due in the past on purpose
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post([invoice])
    line, = Invoice(invoice.id).lines_to_pay
    return line


def pay(line, day):
    """Settle the receivable `line` with a cash payment of `day`: the date
    of the reconciliation"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    company = line.move.company
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([
            ('company', '=', company.id),
            ('code', '=', '1.1.1'),  # Cash and Cash Equivalents
            ])
    amount = line.debit - line.credit
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(company, date=day).id,
                'date': day,
                'lines': [('create', [{
                                'account': line.account.id,
                                'party': line.party.id,
                                'debit': Decimal(0),
                                'credit': amount,
                                }, {
                                'account': cash.id,
                                'debit': amount,
                                'credit': Decimal(0),
                                }])],
                }])
    Move.post([move])
    payment, = [p for p in move.lines if p.account == line.account]
    MoveLine.reconcile([line, payment], date=day)
    return MoveLine(line.id).reconciliation


def dun(fixture, line, procedure, levels):
    """Log that `line` reached each (level, day) of `levels`, with one
    dunning at the last level as the job leaves it"""
    pool = Pool()
    Dunning = pool.get('account.dunning')
    Log = pool.get('account.dunning.log')
    last, last_day = levels[-1]
    dunning, = Dunning.create([{
                'company': fixture.company.id,
                'line': line.id,
                'procedure': procedure.id,
                'level': last.id,
                }])
    Dunning.write([dunning], {'state': 'waiting', 'date': last_day})
    Log.create([{
                'company': fixture.company.id,
                'dunning': dunning.id,
                'line': line.id,
                'party': line.party.id,
                'procedure': procedure.id,
                'level': level.id,
                'date': day,
                'amount': line.debit - line.credit,
                'currency': fixture.company.currency.id,
                } for level, day in levels])


def measures(model, key, **context):
    """Return {key(row): (dunned, amount, paid, paid amount, open, open
    amount, days to pay)} of the rows of the statistic `model` in
    `context`"""
    Statistics = Pool().get(model)
    with Transaction().set_context(context):
        return {
            key(r): tuple(getattr(r, n) for n in MEASURES)
            for r in Statistics.search([])}


def by_level(**context):
    return measures('account.dunning.statistics.level',
        lambda r: (r.period_start, r.level.name), **context)


def by_party(**context):
    return measures('account.dunning.statistics.party',
        lambda r: (r.party, r.level.name), **context)


class StatisticsTestCase(unittest.TestCase):
    "Test the dunning statistics"

    @classmethod
    def setUpClass(cls):
        activate_module(['dunning_levels', 'lead_complaints'])

    def create_data(self, fixture):
        """Items dunned in March and April 2026 and just outside, paid or
        not, with the measures the tests expect. The notice is created
        before the reminder, so that the order of the levels is their
        sequence and not their id."""
        pool = Pool()
        Procedure = pool.get('account.dunning.procedure')
        Level = pool.get('account.dunning.level')
        setup_accounting(fixture, years=[2026])
        procedure, = Procedure.create([{'name': "Statistics"}])
        notice, reminder, final = Level.create([{
                    'procedure': procedure.id, 'name': name,
                    'sequence': sequence,
                    'overdue': dt.timedelta(days=days),
                    } for name, sequence, days in [
                    ("Notice", 20, 14), ("Reminder", 10, 1),
                    ("Final", 30, 28)]])
        buyer, buyer2 = fixture.buyer, fixture.buyer2
        # Receivable amounts: 120, 240, 60, 360 and 480
        a = post_invoice(fixture, buyer, '100.00')
        b = post_invoice(fixture, buyer, '200.00')
        c = post_invoice(fixture, buyer2, '50.00')
        d = post_invoice(fixture, buyer2, '300.00')
        e = post_invoice(fixture, buyer, '400.00')
        self.assertEqual(
            [x.debit for x in [a, b, c, d, e]],
            [Decimal(x) for x in ['120', '240', '60', '360', '480']])

        dun(fixture, a, procedure, [
                (reminder, date(3, 2)), (notice, date(3, 20))])
        # paid before the reminder was processed: zero days
        dun(fixture, b, procedure, [(reminder, date(3, 10))])
        # the final level after the range
        dun(fixture, c, procedure, [
                (reminder, date(3, 31)), (final, date(5, 1))])
        dun(fixture, d, procedure, [(reminder, date(4, 1))])
        # the reminder before the range
        dun(fixture, e, procedure, [
                (reminder, date(2, 27)), (notice, date(4, 14))])

        for line, day in [(a, date(3, 25)), (b, date(3, 8)),
                (d, date(4, 11))]:
            self.assertEqual(pay(line, day).date, day)
        self.assertEqual(
            [days_to_pay(level_day, paid_day) for level_day, paid_day in [
                    (date(3, 2), date(3, 25)), (date(3, 20), date(3, 25)),
                    (date(3, 10), date(3, 8)), (date(4, 1), date(4, 11))]],
            [23, 5, 0, 10])
        return procedure, reminder, notice, final

    @with_lead_trading
    def test_by_month(self, fixture):
        self.create_data(fixture)
        self.assertEqual(by_level(granularity='month', **RANGE), {
                (MARCH, "Reminder"): (
                    3, 420, 2, 360, 1, 60, Decimal('11.5')),
                (MARCH, "Notice"): (1, 120, 1, 120, 0, 0, Decimal('5.0')),
                (APRIL, "Reminder"): (
                    1, 360, 1, 360, 0, 0, Decimal('10.0')),
                (APRIL, "Notice"): (1, 480, 0, 0, 1, 480, None),
                })

    @with_lead_trading
    def test_by_week(self, fixture):
        """Weeks cut by the range count their days inside; every level
        reached in the range shows in every week"""
        Statistics = Pool().get('account.dunning.statistics.level')
        _, reminder, notice, _ = self.create_data(fixture)
        context = {
            'from_date': MARCH, 'to_date': date(3, 20),
            'granularity': 'week',
            }
        weeks = [date(2, 23), date(3, 2), date(3, 9), date(3, 16)]
        expected = {
            (week, level): ZERO
            for week in weeks for level in ["Reminder", "Notice"]}
        expected.update({
                (date(3, 2), "Reminder"): (
                    1, 120, 1, 120, 0, 0, Decimal('23.0')),
                (date(3, 9), "Reminder"): (
                    1, 240, 1, 240, 0, 0, Decimal('0.0')),
                (date(3, 16), "Notice"): (
                    1, 120, 1, 120, 0, 0, Decimal('5.0')),
                })
        self.assertEqual(by_level(**context), expected)
        with Transaction().set_context(context):
            rows = Statistics.search([])
            self.assertEqual(
                [(r.period_start, r.level) for r in rows],
                [(w, level) for w in weeks for level in [reminder, notice]])
            self.assertEqual(
                {r.company for r in rows}, {fixture.company})
            self.assertEqual(
                {r.currency for r in rows}, {fixture.company.currency})

    @with_lead_trading
    def test_by_party(self, fixture):
        "The highest level by sequence, of the range only"
        self.create_data(fixture)
        self.assertEqual(by_party(**RANGE), {
                (fixture.buyer, "Notice"): (
                    4, 960, 3, 480, 1, 480, Decimal('9.3')),
                (fixture.buyer2, "Reminder"): (
                    2, 420, 1, 360, 1, 60, Decimal('10.0')),
                })
        self.assertEqual(
            by_party(from_date=MARCH, to_date=date(5, 31)), {
                (fixture.buyer, "Notice"): (
                    4, 960, 3, 480, 1, 480, Decimal('9.3')),
                (fixture.buyer2, "Final"): (
                    3, 480, 1, 360, 2, 120, Decimal('10.0')),
                })
        self.assertEqual(by_party(from_date=APRIL, to_date=date(4, 30)), {
                (fixture.buyer, "Notice"): (1, 480, 0, 0, 1, 480, None),
                (fixture.buyer2, "Reminder"): (
                    1, 360, 1, 360, 0, 0, Decimal('10.0')),
                })

    @with_lead_trading
    def test_party_last_date(self, fixture):
        Statistics = Pool().get('account.dunning.statistics.party')
        self.create_data(fixture)
        with Transaction().set_context(RANGE):
            self.assertEqual(
                {(r.party, r.last_date) for r in Statistics.search([])},
                {(fixture.buyer, date(4, 14)),
                    (fixture.buyer2, date(4, 1))})

    @with_lead_trading
    def test_date_range(self, fixture):
        "Only the levels reached in the range count"
        self.create_data(fixture)
        self.assertEqual(
            by_level(from_date=date(2, 1), to_date=date(2, 28)), {
                (date(2, 1), "Reminder"): (
                    1, 480, 0, 0, 1, 480, None),
                })
        self.assertEqual(
            by_level(from_date=date(4, 2), to_date=date(4, 14)), {
                (APRIL, "Notice"): (1, 480, 0, 0, 1, 480, None),
                })
        self.assertEqual(
            by_level(from_date=date(5, 1), to_date=date(5, 1)), {
                (date(5, 1), "Final"): (1, 60, 0, 0, 1, 60, None),
                })

    @with_lead_trading
    def test_empty_range(self, fixture):
        self.create_data(fixture)
        for context in [
                {'from_date': APRIL, 'to_date': MARCH},
                {'from_date': date(6, 1), 'to_date': date(6, 30)},
                ]:
            self.assertEqual(by_level(**context), {})
            self.assertEqual(by_party(**context), {})

    @with_lead_trading
    def test_ids(self, fixture):
        "A row keeps its id whatever the range, the customer's id per party"
        pool = Pool()
        Level = pool.get('account.dunning.statistics.level')
        Party = pool.get('account.dunning.statistics.party')
        self.create_data(fixture)
        ids = {}
        for context in [RANGE, {'from_date': APRIL, 'to_date': APRIL}]:
            with Transaction().set_context(context):
                for row in Level.search([]):
                    self.assertEqual(
                        row.id, row.level.id * 1_000_000
                        + row.period_start.toordinal())
                    ids.setdefault(
                        (row.period_start, row.level), set()).add(row.id)
                self.assertEqual(
                    [r.id for r in Party.search([])],
                    [r.party.id for r in Party.search([])])
        self.assertEqual({len(i) for i in ids.values()}, {1})
        with Transaction().set_context(RANGE):
            row, = Level.search([('open_amount', '>', 100)])
            self.assertEqual(
                (row.period_start, row.level.name), (APRIL, "Notice"))
            self.assertEqual(Level.search([('id', '=', row.id)]), [row])

    @with_lead_trading
    def test_default_context(self, fixture):
        "A year of months up to today"
        pool = Pool()
        Context = pool.get('account.dunning.statistics.context')
        Date = pool.get('ir.date')
        today = Date.today()
        self.assertEqual(Context.get_context(), {
                'company': fixture.company.id,
                'from_date': today.replace(day=1) - relativedelta(months=11),
                'to_date': today,
                'granularity': 'month',
                })

    @with_lead_trading
    def test_spreadsheet(self, fixture):
        pool = Pool()
        Level = pool.get('account.dunning.statistics.level')
        Spreadsheet = pool.get(
            'account.dunning.statistics.spreadsheet', type='report')
        self.create_data(fixture)
        with Transaction().set_context(granularity='month', **RANGE):
            ids = [r.id for r in Level.search([])]
            format_, content, direct_print, title = Spreadsheet.execute(
                ids, {'model': Level.__name__})
        self.assertEqual(format_, 'xlsx')
        self.assertFalse(direct_print)
        self.assertEqual(title,
            "Dunning Statistics by Level, 03/01/2026 to 04/30/2026")
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            strings = workbook.read('xl/sharedStrings.xml').decode()
            sheet = workbook.read('xl/worksheets/sheet1.xml').decode()
        for text in ["Period", "Level", "Dunned", "Days to Pay",
                "Reminder (Statistics)", "Notice (Statistics)"]:
            self.assertIn(f'>{text}<', strings)
        # The first row: the reminders of March
        serial = (MARCH - dt.date(1899, 12, 30)).days
        self.assertRegex(sheet, rf'<c r="A2" s="\d+"><v>{serial}</v></c>')
        self.assertIn('<c r="C2"><v>3</v></c>', sheet)
        self.assertRegex(sheet, r'<c r="D2" s="\d+"><v>420</v></c>')
        self.assertRegex(sheet, r'<c r="I2" s="\d+"><v>11\.5</v></c>')
        # No days to pay of the open notices of April: an empty cell
        self.assertNotRegex(sheet, r'<c r="I5"[^>]*><v>')

    @with_lead_trading
    def test_spreadsheet_by_party(self, fixture):
        pool = Pool()
        Party = pool.get('account.dunning.statistics.party')
        Spreadsheet = pool.get(
            'account.dunning.statistics.spreadsheet', type='report')
        self.create_data(fixture)
        with Transaction().set_context(RANGE):
            ids = [r.id for r in Party.search([])]
            _, content, _, title = Spreadsheet.execute(
                ids, {'model': Party.__name__})
        self.assertEqual(title,
            "Dunning Statistics by Customer, 03/01/2026 to 04/30/2026")
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            strings = workbook.read('xl/sharedStrings.xml').decode()
        for text in ["Customer", "Highest Level", "Solar Nord GmbH",
                "Wärme Süd KG", "Notice (Statistics)",
                "Reminder (Statistics)"]:
            self.assertIn(f'>{text}<', strings)
