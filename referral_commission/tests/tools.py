# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for referral tests: the programme's settings on a
company with a chart of accounts, referrals, invoices of referred customers
paid or credited, and payout runs."""
import datetime as dt
from decimal import Decimal

from trytond.modules.lead_billing.tests.tools import (  # noqa: F401
    ago, create_party, deliver_lead, run_billing, setup_accounting,
    with_lead_trading)
from trytond.pool import Pool
from trytond.transaction import Transaction

TODAY = dt.date.today()
# Revenue of the tests is invoiced in the last weeks, a payout covers them
PERIOD_START = TODAY - dt.timedelta(days=60)


def setup_referrals(fixture, **settings):
    """Give the fixture's company accounting and the referral programme;
    return the fixture"""
    setup_accounting(fixture, {PERIOD_START.year, TODAY.year})
    return configure_referrals(fixture, **settings)


def configure_referrals(
        fixture, voucher_rate='5', cash_rate='0', minimum='5'):
    """Set the referral programme of the fixture's company, whose chart is
    there: a commission product on the lead product's accounting category,
    a voucher liability with its booking, bank payments for invoices.
    Return the fixture."""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    Configuration = pool.get('lead.configuration')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    company = fixture.company
    provisions, = Account.search([
            ('company', '=', company.id), ('code', '=', '2.4.3')])
    voucher_account, = Account.create([{
                'company': company.id, 'code': '2.4.9',
                'name': "Referral vouchers", 'type': provisions.type.id,
                'parent': provisions.parent.id,
                'party_required': True, 'reconcile': True,
                }])
    cash, = Account.search([
            ('company', '=', company.id), ('code', '=', '1.1.1')])
    cash_journal, = Journal.search([('type', '=', 'cash')], limit=1)
    voucher_journal, = Journal.create([{
                'name': "Referral vouchers", 'code': 'VOU', 'type': 'cash'}])
    voucher_method, bank = PaymentMethod.create([{
                'company': company.id, 'name': "Referral voucher",
                'journal': voucher_journal.id,
                'debit_account': voucher_account.id,
                'credit_account': voucher_account.id,
                }, {
                'company': company.id, 'name': "Bank",
                'journal': cash_journal.id,
                'debit_account': cash.id, 'credit_account': cash.id,
                }])
    unit, = Uom.search([('name', '=', 'Unit')])
    template, = Template.create([{
                'name': "Referral commission", 'type': 'service',
                'default_uom': unit.id,
                'account_category': fixture.product.template
                .account_category.id,
                'products': [('create', [{}])],
                }])
    config = Configuration(1)
    config.referral_programme_start = PERIOD_START
    config.referral_voucher_rate = Decimal(voucher_rate)
    config.referral_cash_rate = Decimal(cash_rate)
    config.referral_minimum = Decimal(minimum)
    config.referral_product = template.products[0]
    config.referral_voucher_method = voucher_method
    config.save()
    fixture.voucher_account = voucher_account
    fixture.voucher_method = voucher_method
    fixture.bank = bank
    fixture.commission_product = template.products[0]
    fixture.revenue_account = fixture.product.account_revenue_used
    fixture.expense_account = template.products[0].account_expense_used
    return fixture


def refer(referrer, referred, date=PERIOD_START, **values):
    "Record that `referrer` brought `referred`; return the referral"
    Referral = Pool().get('referral.referral')
    referral, = Referral.create([{
                'referrer': referrer.id, 'referred': referred.id,
                'date': date, **values}])
    return referral


def invoice(fixture, party, amount, date=None, paid=True):
    """Post an invoice of `amount` revenue (no tax) to `party`, paid in
    full unless told otherwise; return it"""
    Invoice = Pool().get('account.invoice')
    record = _invoice(fixture, party, date, [(Decimal(amount), None)])
    Invoice.post([record])
    if paid:
        pay(fixture, record)
    return Invoice(record.id)


def credit(fixture, original, amount, date=None):
    """Post a credit note of `amount` of the first line of the `original`
    invoice; return it"""
    Invoice = Pool().get('account.invoice')
    record = _invoice(fixture, original.party, date,
        [(-Decimal(amount), original.lines[0])])
    Invoice.post([record])
    return Invoice(record.id)


def _invoice(fixture, party, date, lines):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    record = Invoice(
        company=fixture.company, type='out', party=party,
        invoice_date=date or TODAY - dt.timedelta(days=20))
    record.on_change_type()
    record.on_change_party()
    record.payment_term = None
    record.lines = [Line(
            type='line', company=fixture.company,
            currency=fixture.company.currency,
            account=fixture.revenue_account, quantity=1, unit_price=amount,
            description="Leads", origin=origin)
        for amount, origin in lines]
    record.save()
    return record


def pay(fixture, record, date=None):
    "Receive the amount to pay of the posted invoice and reconcile it"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    record = Invoice(record.id)
    date = date or record.invoice_date
    with Transaction().set_context(company=fixture.company.id):
        paid = record.pay_invoice(
            record.amount_to_pay, fixture.bank, date)
        MoveLine.reconcile(list(record.lines_to_pay) + paid)
    Invoice.process([record])
    return Invoice(record.id)


def payout(period_start=PERIOD_START, period_end=TODAY, **values):
    "A draft payout of the period with the programme's settings"
    Payout = Pool().get('referral.payout')
    record, = Payout.create([{
                'period_start': period_start, 'period_end': period_end,
                **values}])
    return record


def preview(record):
    "Preview the payout; return it read again"
    Payout = Pool().get('referral.payout')
    Payout.preview([record])
    return Payout(record.id)


def export(record):
    "Export the payout; return it read again"
    Payout = Pool().get('referral.payout')
    Payout.export([record])
    return Payout(record.id)


def rows(record):
    "{(referred code, area): (voucher amount, status)} of a preview"
    return {(line.referral.referred.code, line.area):
        (line.voucher_amount, line.status) for line in record.lines}


def vouchers(record):
    "{(referrer code, amount)} of the vouchers of an export"
    return sorted((v.party.code, v.amount) for v in record.vouchers)
