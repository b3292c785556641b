# This file is part of the lead trading suite. See README.rst for details.
"""The prepaid account of a buyer: its settings and what its balance is.

The balance itself lives in the ledger: it is the buyer's credit on the
prepaid deposit account (money booked by top-ups, less what billing runs
recalled), read together with the deliveries not billed yet."""
import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal
from email.message import EmailMessage
from typing import NamedTuple

from sql import Literal, Null
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.config import config
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report
from trytond.sendmail import send_message_transactional
from trytond.tools import grouped_slice, reduce_ids
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction

from .configuration import prepaid_settings
from .rules import (
    SPEND_WINDOW_DAYS, available_balance, runway_days, threshold_changes)

logger = logging.getLogger(__name__)


class Balance(NamedTuple):
    "What the ledger and the deliveries say about one buyer"
    deposit: Decimal
    unbilled: Decimal
    spent: Decimal

    @property
    def available(self):
        return available_balance(self.deposit, self.unbilled)


EMPTY_BALANCE = Balance(Decimal(0), Decimal(0), Decimal(0))


class Account(DeactivableMixin, ModelSQL, ModelView):
    "Prepaid account of a buyer"
    __name__ = 'lead.prepaid.account'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    party = fields.Many2One(
        'party.party', "Buyer", required=True, ondelete='RESTRICT',
        domain=[('lead_buyer', '=', True), ('lead_internal', '!=', True)],
        context={'company': Eval('company', -1)}, depends={'company'},
        states={'readonly': Eval('id', -1) >= 0})
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    deposit = fields.Function(Monetary(
            "Deposit", currency='currency', digits='currency',
            help="The money booked by top-ups less what invoices used, "
            "net of VAT."),
        'get_balance')
    unbilled_amount = fields.Function(Monetary(
            "Delivered, Not Billed", currency='currency', digits='currency',
            help="The net value of the deliveries that the next billing "
            "run will settle from the deposit."),
        'get_balance')
    available = fields.Function(Monetary(
            "Available Balance", currency='currency', digits='currency',
            help="Deposit less the deliveries not billed yet: a lead is "
            "delivered only while its price fits in it."),
        'get_balance', searcher='search_available')
    spent = fields.Function(Monetary(
            "Spent in the Last 14 Days", currency='currency',
            digits='currency'),
        'get_balance')
    runway = fields.Function(fields.Integer(
            "Runway",
            help="The days the available balance lasts at the average "
            "daily spend of the last 14 days; empty when nothing was "
            "spent."),
        'get_balance')
    thresholds = fields.One2Many(
        'lead.prepaid.threshold', 'account', "Low Balance Alerts",
        help="The buyer receives an e-mail when its available balance "
        "falls below one of these amounts, once until it is topped up "
        "above it again.")
    top_ups = fields.One2Many(
        'lead.prepaid.top_up', 'account', "Top-ups", readonly=True,
        order=[('create_date', 'DESC'), ('id', 'DESC')])
    balance_checked_at = fields.Timestamp(
        "Balance Checked At", readonly=True,
        help="When a delivery was last checked against the balance.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_party_unique', Unique(t, t.company, t.party),
                'lead_prepaid.msg_account_party_unique'),
            ]
        cls._order = [('party.name', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'request_top_up': {
                    'invisible': ~Eval('active', True),
                    'icon': 'tryton-add',
                    'depends': ['active'],
                    },
                'refund': {
                    'invisible': ~Eval('active', True),
                    'icon': 'tryton-back',
                    'depends': ['active'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency.id if self.company else None

    def get_rec_name(self, name):
        return self.party.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('party.rec_name',) + tuple(clause[1:])]

    @classmethod
    def get_balance(cls, accounts, names):
        by_company = defaultdict(list)
        for account in accounts:
            by_company[account.company].append(account)
        result = {name: {} for name in names}
        for company, company_accounts in by_company.items():
            balances = cls.balances(
                company, [a.party.id for a in company_accounts],
                spending=bool({'spent', 'runway'} & set(names)))
            for account in company_accounts:
                balance = balances.get(account.party.id, EMPTY_BALANCE)
                values = {
                    'deposit': balance.deposit,
                    'unbilled_amount': balance.unbilled,
                    'available': balance.available,
                    'spent': balance.spent,
                    'runway': runway_days(balance.available, balance.spent),
                    }
                for name in names:
                    result[name][account.id] = values[name]
        return result

    @classmethod
    def search_available(cls, name, clause):
        _, operator, value = clause[:3]
        accounts = cls.search([])
        values = cls.get_balance(accounts, ['available'])['available']
        compare = {
            '=': lambda a: a == value, '!=': lambda a: a != value,
            '<': lambda a: a < value, '<=': lambda a: a <= value,
            '>': lambda a: a > value, '>=': lambda a: a >= value,
            }[operator]
        return [('id', 'in', [i for i, a in values.items()
                    if compare(a)])]

    @classmethod
    def balances(cls, company, party_ids, spending=True):
        """{party id: Balance} of the parties in `company`, from the
        deposit account and the deliveries as this transaction sees them;
        the spend of the last days only when `spending`"""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        InvoiceLine = pool.get('account.invoice.line')
        Invoice = pool.get('account.invoice')
        delivery = Delivery.__table__()
        invoice_line = InvoiceLine.__table__()
        invoice = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        currency = company.currency
        since = dt.datetime.now() - dt.timedelta(days=SPEND_WINDOW_DAYS)

        deposit = cls.deposits(company, party_ids)
        unbilled = defaultdict(Decimal)
        spent = defaultdict(Decimal)

        def add(values):
            for party_id, amount in cursor:
                # SQLite sums numerics as floats
                values[party_id] += Decimal(str(amount or 0))
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            billable = ((delivery.company == company.id)
                & reduce_ids(delivery.buyer, sub_ids)
                & (delivery.state == 'delivered')
                & (delivery.billable == Literal(True)))
            # Two queries rather than one with OR: the first is answered by
            # the index of unbilled deliveries, the second starts from the
            # few draft invoices. A delivery on a draft invoice is settled
            # only when the invoice is posted with the recall.
            cursor.execute(*delivery.select(
                    delivery.buyer, Sum(delivery.unit_price),
                    where=billable & (delivery.invoice_line == Null),
                    group_by=[delivery.buyer]))
            add(unbilled)
            cursor.execute(*invoice.join(invoice_line,
                    condition=invoice_line.invoice == invoice.id
                    ).join(delivery,
                    condition=delivery.invoice_line == invoice_line.id
                    ).select(delivery.buyer, Sum(delivery.unit_price),
                    where=billable
                    & reduce_ids(invoice.party, sub_ids)
                    & (invoice.type == 'out')
                    & invoice.state.in_(['draft', 'validated']),
                    group_by=[delivery.buyer]))
            add(unbilled)
            if spending:
                cursor.execute(*delivery.select(
                        delivery.buyer, Sum(delivery.unit_price),
                        where=billable & (delivery.delivered_at >= since),
                        group_by=[delivery.buyer]))
                add(spent)
        return {p: Balance(deposit[p], currency.round(unbilled[p]),
                currency.round(spent[p]))
            for p in party_ids}

    @classmethod
    def deposits(cls, company, party_ids):
        """{party id: the party's credit on the prepaid deposit account}:
        the money booked by top-ups and credits less what posted invoices
        recalled and refunds paid back, net of VAT"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        line = MoveLine.__table__()
        cursor = Transaction().connection.cursor()
        account = prepaid_settings(company.id).deposit_account
        deposits = dict.fromkeys(party_ids, Decimal(0))
        if not account:
            return deposits
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.party,
                    Sum(Coalesce(line.credit, 0) - Coalesce(line.debit, 0)),
                    where=(line.account == account.id)
                    & reduce_ids(line.party, list(sub_ids)),
                    group_by=[line.party]))
            for party_id, amount in cursor:
                deposits[party_id] = company.currency.round(
                    Decimal(str(amount or 0)))
        return deposits

    @classmethod
    def lock_balances(cls, company_id, party_ids):
        """Write the active accounts of the parties first thing and return
        them as {party id: account id}: transactions that check the same
        balance at once wait for each other, and the later one fails to
        serialize and is run again on what the first committed, so two
        deliveries never spend the same money."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        accounts = {}
        for sub_ids in grouped_slice(
                sorted(party_ids), backend.MAX_QUERY_PARAMS):
            where = ((table.company == company_id)
                & reduce_ids(table.party, list(sub_ids))
                & (table.active == Literal(True)))
            cursor.execute(*table.update(
                    [table.balance_checked_at], [CurrentTimestamp()],
                    where=where))
            cursor.execute(*table.select(table.party, table.id, where=where))
            accounts.update(cursor)
        return accounts

    @classmethod
    def check_thresholds(cls, accounts):
        """Alert the buyers whose available balance fell below one of their
        thresholds since the last alert, and re-arm the thresholds their
        balance is back above"""
        pool = Pool()
        Threshold = pool.get('lead.prepaid.threshold')
        Email = pool.get('ir.email')
        accounts = [a for a in accounts if a.active and a.thresholds]
        if not accounts:
            return
        available = cls.get_balance(accounts, ['available'])['available']
        now = dt.datetime.now()
        to_write, emails = [], []
        for account in accounts:
            changes = threshold_changes(
                [(t, t.amount, t.crossed) for t in account.thresholds],
                available[account.id])
            if changes.alert:
                to_write.extend(
                    (changes.alert, {'crossed': True, 'crossed_at': now}))
                lowest = min(t.amount for t in changes.alert)
                email = account.send_low_balance_alert(
                    lowest, available[account.id])
                if email:
                    emails.append(email)
            if changes.rearm:
                to_write.extend(
                    (changes.rearm, {'crossed': False, 'crossed_at': None}))
        if to_write:
            Threshold.write(*to_write)
        Email.save(emails)

    def send_low_balance_alert(self, threshold, available):
        """E-mail the buyer that its balance fell below `threshold`; the
        message leaves when the transaction commits, and a refusing server
        keeps the transaction from committing, so the alert stays due"""
        pool = Pool()
        Email = pool.get('ir.email')
        settings = prepaid_settings(self.company.id)
        template = settings.alert_template
        party = self.party
        to = party.lead_document_email or party.email
        if not template or not to:
            logger.warning("no low balance alert for %s: %s",
                party.rec_name,
                "no template" if not template else "no e-mail address")
            return
        language = party.lang.code if party.lang else None
        with Transaction().set_context(language=language,
                lead_prepaid_alert={
                    'threshold': threshold, 'available': available}):
            account = self.__class__(self.id)
            values = template.__class__(template.id).get(account)
        msg = EmailMessage()
        msg.set_content(values.get('body', ''))
        from_ = config.get('email', 'from')
        set_from_header(msg, from_, self.company.party.email or from_)
        msg['To'] = to
        msg['Subject'] = values.get('subject', '')
        msg['Auto-Submitted'] = 'auto-generated'
        send_message_transactional(msg, strict=True)
        return Email.from_message(
            msg, body=values.get('body'), resource=self)

    def get_email_context(self):
        "What the alert template may use besides `record`"
        alert = Transaction().context.get('lead_prepaid_alert') or {}
        return {
            'threshold': alert.get('threshold'),
            'available': alert.get('available'),
            'format_currency': Report.format_currency,
            }

    @classmethod
    @ModelView.button_action('lead_prepaid.wizard_request_top_up')
    def request_top_up(cls, accounts):
        pass

    @classmethod
    @ModelView.button_action('lead_prepaid.wizard_refund')
    def refund(cls, accounts):
        pass


class Threshold(ModelSQL, ModelView):
    "Low balance alert threshold of a prepaid account"
    __name__ = 'lead.prepaid.threshold'

    account = fields.Many2One(
        'lead.prepaid.account', "Account", required=True, ondelete='CASCADE')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    amount = Monetary(
        "Below", currency='currency', digits='currency', required=True,
        domain=[('amount', '>', 0)])
    crossed = fields.Boolean(
        "Alerted", readonly=True,
        help="The buyer was alerted and the balance has not risen above "
        "the amount since.")
    crossed_at = fields.DateTime("Alerted At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('account_amount_unique', Unique(t, t.account, t.amount),
                'lead_prepaid.msg_threshold_unique'),
            ]
        cls.__access__.add('account')
        cls._order = [('amount', 'DESC'), ('id', 'ASC')]

    @fields.depends('account', '_parent_account.company')
    def on_change_with_currency(self, name=None):
        if self.account and self.account.company:
            return self.account.company.currency.id

    @staticmethod
    def default_crossed():
        return False


class EmailTemplate(metaclass=PoolMeta):
    __name__ = 'ir.email.template'

    def get_context(self, record):
        context = super().get_context(record)
        if self.model.name == 'lead.prepaid.account':
            context.update(record.get_email_context())
        return context
