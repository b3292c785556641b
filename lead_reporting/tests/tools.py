# This file is part of the lead trading suite. See README.rst for details.
"""A small lead trade with figures computed by hand, for the reports.

Everything happens in March 2026 (Europe/Berlin), billed weekly:

- supplier S1 (the fixture's) sells L1 and L2 (SOLAR), supplier S2 sells
  L3 and L4 (HEAT), each at 10.00, all received on Monday 2 March;
- L1 goes to B1 and B2 (sold twice), L2 to B1 and to the internal account,
  L3 to B2, L4 to nobody; every delivery to a buyer costs 30.00;
- the run of Monday 16 March bills the week of 2 March: B1 60.00, B2
  60.00 (20 % tax on top), S1 20.00 and S2 20.00;
- B1 is credited 10.00 of its SOLAR line on 20 March; B2 pays on 26 March.

By hand: revenue B1 50.00 (2 leads), B2 60.00 (2 leads); the buyers' share
of the purchase prices B1 5 + 5 = 10.00, B2 5 + 10 = 15.00; suppliers'
purchase cost S1 20.00, S2 20.00 and revenue of their leads S1 90.00, S2
30.00; categories SOLAR revenue 80.00 and cost 20.00, HEAT 30.00 and
20.00."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from trytond.modules.lead_billing.tests.tools import (  # noqa: F401
    create_party, deliver_lead, lead_values, run_billing, setup_accounting,
    with_lead_trading)
from trytond.modules.lead_prepaid.tests.tools import (  # noqa: F401
    configure_prepaid, make_prepaid, top_up)
from trytond.pool import Pool
from trytond.transaction import Transaction

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
RECEIVED = dt.datetime(2026, 3, 2, 8, 0)
DELIVERED = dt.datetime(2026, 3, 2, 9, 0)
RUN_DAY = dt.date(2026, 3, 16)
CREDIT_DAY = dt.date(2026, 3, 20)
PAID_DAY = dt.date(2026, 3, 26)


@contextmanager
def today(day):
    "Let Tryton's today be `day`"
    Date = Pool().get('ir.date')
    with mock.patch.object(Date, 'today', lambda timezone=None: day):
        yield


def trade(fixture):
    """Build the trade of the module's docstring; return the fixture with
    s2, the invoices of b1 and b2 and the bank payment method"""
    pool = Pool()
    Party = pool.get('party.party')
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    Invoice = pool.get('account.invoice')
    setup_accounting(fixture, [2026])
    fixture.s2 = create_party(
        "Heizleads GmbH", 'S2', lead_supplier=True,
        self_billing_agreement_date=dt.date(2024, 1, 1),
        self_billing_agreement_reference='GS-2024-2')
    Party.write([fixture.supplier, fixture.s2, fixture.buyer, fixture.buyer2,
            fixture.internal], {'lead_billing_interval': 'weekly'})
    leads = Lead.create([
            lead_values(fixture, reference, category=category.id,
                supplier=supplier.id, received_at=RECEIVED)
            for reference, category, supplier in [
                ('L1', fixture.solar, fixture.supplier),
                ('L2', fixture.solar, fixture.supplier),
                ('L3', fixture.heat, fixture.s2),
                ('L4', fixture.heat, fixture.s2),
                ]])
    Delivery.create([{
                'lead': leads[lead].id, 'buyer': buyer.id,
                'delivered_at': DELIVERED,
                } for lead, buyer in [
                (0, fixture.buyer), (0, fixture.buyer2),
                (1, fixture.buyer), (1, fixture.internal),
                (2, fixture.buyer2)]])
    with today(RUN_DAY):
        run_billing(fixture)
    fixture.b1_invoice, = Invoice.search([('party', '=', fixture.buyer.id)])
    fixture.b2_invoice, = Invoice.search([('party', '=', fixture.buyer2.id)])
    fixture.credit = credit(fixture.b1_invoice, Decimal('10.00'), CREDIT_DAY)
    fixture.bank = bank_method(fixture)
    pay(fixture.b2_invoice, fixture.bank, PAID_DAY)
    return fixture


def credit(invoice, amount, date):
    "Post a credit note of `amount` of the first line of `invoice`"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    original = invoice.lines[0]
    note = Invoice(
        company=invoice.company, type='out', party=invoice.party,
        invoice_date=date)
    note.on_change_type()
    note.on_change_party()
    note.lines = [Line(
            type='line', company=invoice.company, currency=invoice.currency,
            account=original.account, product=original.product,
            unit=original.unit, quantity=-1, unit_price=amount,
            description="Goodwill", origin=original,
            taxes=list(original.taxes))]
    note.save()
    Invoice.update_taxes([note])
    Invoice.post([note])
    return Invoice(note.id)


def bank_method(fixture):
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    cash, = Account.search([
            ('company', '=', fixture.company.id), ('code', '=', '1.1.1')])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    method, = PaymentMethod.create([{
                'company': fixture.company.id, 'name': "Bank",
                'journal': journal.id,
                'debit_account': cash.id, 'credit_account': cash.id,
                }])
    return method


def pay(invoice, method, date):
    "Receive the amount to pay of the posted invoice and reconcile it"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    invoice = Invoice(invoice.id)
    with Transaction().set_context(company=invoice.company.id):
        paid = invoice.pay_invoice(invoice.amount_to_pay, method, date)
        MoveLine.reconcile(list(invoice.lines_to_pay) + paid)
    Invoice.process([invoice])


def report(model, from_date, to_date, granularity='month'):
    "The rows of the report `model` for the date range"
    Model = Pool().get(model)
    with Transaction().set_context(from_date=from_date, to_date=to_date,
            granularity=granularity):
        return Model.browse(Model.search([]))
