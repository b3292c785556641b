# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for dunning tests: posted customer invoices due in the
past, their payment, the shipped procedure on a party and the daily job."""
import datetime as dt
from decimal import Decimal

from trytond.modules.lead_billing.billing import line_template
from trytond.pool import Pool
from trytond.transaction import Transaction


def today():
    return Pool().get('ir.date').today()


def procedure(party=None):
    "The shipped procedure, set on `party` when given"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Procedure = pool.get('account.dunning.procedure')
    record = Procedure(ModelData.get_id(
            'dunning_levels', 'procedure_lead_trading'))
    if party:
        party.dunning_procedure = record
        party.save()
    return record


def level(name):
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Level = pool.get('account.dunning.level')
    return Level(ModelData.get_id('dunning_levels', f'level_{name}'))


def post_invoice(fixture, party, days_ago, amount='100.00'):
    "A posted customer invoice dated and due `days_ago` days ago"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    date = today() - dt.timedelta(days=days_ago)
    invoice = Invoice(type='out', party=party, company=fixture.company,
        currency=fixture.company.currency, invoice_date=date,
        lead_document=True, lead_period_start=date, lead_period_end=date)
    invoice.on_change_type()
    invoice.on_change_party()
    invoice.payment_term = None
    invoice.payment_term_date = date
    invoice.save()
    Line.create([{
                **line_template(invoice, fixture.product),
                'invoice': invoice.id,
                'quantity': 1,
                'unit_price': Decimal(amount),
                'description': "Leads",
                }])
    Invoice.update_taxes([invoice])
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post([invoice])
    return Invoice(invoice.id)


def pay(invoice, days_ago=0):
    "Settle the invoice with a cash payment, reconciled"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    date = today() - dt.timedelta(days=days_ago)
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([
            ('company', '=', invoice.company.id),
            ('code', '=', '1.1.1'),
            ])
    receivable = invoice.lines_to_pay[0]
    amount = receivable.debit - receivable.credit
    move, = Move.create([{
                'journal': journal.id,
                'period': Period.find(invoice.company, date=date),
                'date': date,
                'lines': [('create', [{
                                'account': receivable.account.id,
                                'party': invoice.party.id,
                                'credit': amount,
                                'debit': Decimal(0),
                                }, {
                                'account': cash.id,
                                'debit': amount,
                                'credit': Decimal(0),
                                }])],
                }])
    Move.post([move])
    payment, = [line for line in move.lines
        if line.account == receivable.account]
    MoveLine.reconcile([receivable, payment], date=date)


def run_job():
    Pool().get('account.dunning').run_job()


def backdate(dunnings, days):
    """Pretend the dunnings reached their level `days` ago, as the job of
    that day would have left them"""
    pool = Pool()
    Dunning = pool.get('account.dunning')
    Log = pool.get('account.dunning.log')
    date = today() - dt.timedelta(days=days)
    Dunning.write(dunnings, {'date': date})
    logs = Log.search([('dunning', 'in', [d.id for d in dunnings])])
    Log.write(logs, {'date': date})


def sent_emails(dunning):
    Email = Pool().get('ir.email')
    return Email.search([('resource', '=', str(dunning))],
        order=[('id', 'ASC')])


def in_company(fixture):
    return Transaction().set_context(company=fixture.company.id)
