# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for prepaid tests: a deposit account with VAT, the
booking of top-ups, a manual payment journal and prepaid buyers."""
from decimal import Decimal

from trytond.modules.lead_billing.tests.tools import (  # noqa: F401
    ago, deliver_lead, lead_values, run_billing, setup_accounting)
from trytond.pool import Pool


def setup_prepaid(fixture, years=()):
    """Give the fixture's company accounting and the prepaid settings"""
    return configure_prepaid(fixture, setup_accounting(fixture, years))


def configure_prepaid(fixture, tax):
    """Set the prepaid settings of the fixture's company, whose chart is
    there: the chart's deposit account taxed with `tax`, top-ups booked to
    the cash account, requests expecting a manual payment"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    PaymentJournal = pool.get('account.payment.journal')
    Configuration = pool.get('lead.configuration')
    company = fixture.company
    deposit, = Account.search([
            ('type.deposit', '=', True), ('company', '=', company.id)])
    deposit.taxes = [tax]
    deposit.save()
    cash, = Account.search([
            ('company', '=', company.id), ('code', '=', '1.1.1')])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    method, = PaymentMethod.create([{
                'company': company.id, 'name': "Bank",
                'journal': journal.id,
                'debit_account': cash.id, 'credit_account': cash.id,
                }])
    payment_journal, = PaymentJournal.create([{
                'company': company.id, 'name': "Transfer",
                'currency': company.currency.id,
                'process_method': 'manual',
                }])
    config = Configuration(1)
    config.prepaid_deposit_account = deposit
    config.prepaid_payment_method = method
    config.prepaid_payment_journal = payment_journal
    config.save()
    fixture.tax = tax
    fixture.deposit_account = deposit
    return fixture


def make_prepaid(party, thresholds=()):
    "Open the prepaid account of `party` with alerts below `thresholds`"
    Account = Pool().get('lead.prepaid.account')
    account, = Account.create([{
                'party': party.id,
                'thresholds': [('create', [
                            {'amount': Decimal(a)} for a in thresholds])],
                }])
    return account


def top_up(account, amount):
    "Book a top-up of net `amount` as an accountant does"
    TopUp = Pool().get('lead.prepaid.top_up')
    record, = TopUp.create([{
                'account': account.id, 'amount': Decimal(amount)}])
    TopUp.book([record])
    return TopUp(record.id)


def deliver(fixture, reference, buyer, delivered_at=None, **values):
    "Create a valid lead of `fixture` and deliver it to `buyer` alone"
    delivery, = deliver_lead(
        fixture, reference, buyer, delivered_at=delivered_at, **values)
    return delivery


def new_lead(fixture, reference, received_at=None):
    Lead = Pool().get('lead.lead')
    lead, = Lead.create([lead_values(fixture, reference,
                received_at=received_at or ago(hours=3))])
    return lead



def balance(account):
    "(deposit, unbilled, available) of the account as stored now"
    Account = Pool().get('lead.prepaid.account')
    account = Account(account.id)
    return account.deposit, account.unbilled_amount, account.available
