# This file is part of the lead trading suite. See README.rst for details.
"""Vouchers: what a payout gives a referrer. Booked as a liability to the
referrer when the payout is done; redeemed against the referrer's own
invoices or, where the payout offered cash, paid out in cash instead."""
from decimal import Decimal
from types import SimpleNamespace

from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice, reduce_ids, sqlite_apply_types
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .configuration import referral_settings
from .exceptions import VoucherError
from .rules import amount_in_words

VOUCHER_STATES = [
    ('exported', "Exported"),
    ('issued', "Issued"),
    ('redeemed', "Redeemed"),
    ('cashed', "Paid in Cash"),
    ]


def booking_settings(company):
    """The voucher booking of the company's referral settings; refuse
    bookings while it is missing"""
    settings = referral_settings(company.id)
    method = settings.voucher_method
    if not method or not method.debit_account or not settings.product:
        raise VoucherError(gettext(
                'referral_commission.msg_voucher_booking_not_configured',
                company=company.rec_name))
    return settings


class Voucher(Workflow, ModelSQL, ModelView):
    "Referral voucher"
    __name__ = 'referral.voucher'

    number = fields.Char("Number", required=True, readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    payout = fields.Many2One(
        'referral.payout', "Payout", required=True, readonly=True,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Referrer", required=True, readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    branch = fields.Many2One(
        'referral.branch', "Branch", readonly=True, ondelete='RESTRICT')
    referral = fields.Many2One(
        'referral.referral', "Referral", readonly=True, ondelete='RESTRICT',
        help="The one referral the voucher is for; empty when it is for "
        "all of the referrer's referrals.")
    referred = fields.Text(
        "Referred Customers", readonly=True,
        help="The customers whose revenue the voucher rewards.")
    date = fields.Date("Date", required=True, readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True)
    cash_amount = Monetary(
        "Cash Alternative", currency='currency', digits='currency',
        required=True, readonly=True,
        help="What the referrer may take in cash instead of the voucher; "
        "0 when cash is not offered.")
    balance = fields.Function(Monetary(
            "Balance", currency='currency', digits='currency',
            help="What is left to redeem."),
        'get_balance')
    state = fields.Selection(
        VOUCHER_STATES, "State", required=True, readonly=True, sort=False)
    commissions = fields.One2Many(
        'commission', 'referral_voucher', "Commissions", readonly=True)
    redemptions = fields.One2Many(
        'referral.voucher.redemption', 'voucher', "Redemptions",
        readonly=True)
    cash_move = fields.Many2One(
        'account.move', "Cash Payout", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('cash_move')})
    document_cache = fields.Binary("Document", readonly=True)
    document_format = fields.Char("Document Format", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'referral_commission.msg_voucher_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.payout, Index.Range())),
                Index(t, (t.party, Index.Range()),
                    (t.state, Index.Equality())),
                })
        cls.__access__.add('payout')
        cls._order = [('date', 'DESC'), ('number', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('exported', 'issued'),
            ('issued', 'redeemed'),
            ('issued', 'cashed'),
            }
        cls._buttons.update({
                'redeem': {
                    'invisible': Eval('state') != 'issued',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'cash_out': {
                    'invisible': (Eval('state') != 'issued')
                    | (Eval('cash_amount', 0) <= 0)
                    | Eval('redemptions', [0]),
                    'icon': 'tryton-launch',
                    'depends': ['state', 'cash_amount', 'redemptions'],
                    },
                })

    @staticmethod
    def default_state():
        return 'exported'

    def get_rec_name(self, name):
        return self.number

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('number',) + tuple(clause[1:]),
            ('party.rec_name',) + tuple(clause[1:]),
            ]

    @classmethod
    def get_balance(cls, vouchers, name):
        Redemption = Pool().get('referral.voucher.redemption')
        redemption = Redemption.__table__()
        cursor = Transaction().connection.cursor()
        redeemed = {}
        for sub_ids in grouped_slice(vouchers, backend.MAX_QUERY_PARAMS):
            query = redemption.select(
                redemption.voucher, Sum(redemption.amount).as_('redeemed'),
                where=reduce_ids(redemption.voucher, map(int, sub_ids)),
                group_by=[redemption.voucher])
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'NUMERIC'])
            cursor.execute(*query)
            redeemed.update(cursor)
        return {v.id: (Decimal(0) if v.state == 'cashed'
                else v.currency.round(v.amount - redeemed.get(v.id, 0)))
            for v in vouchers}

    @classmethod
    def delete(cls, vouchers):
        for voucher in vouchers:
            if voucher.state != 'exported':
                raise AccessError(gettext(
                        'referral_commission.msg_voucher_delete_issued',
                        voucher=voucher.rec_name))
        super().delete(vouchers)

    @classmethod
    def make(cls, payout, recipients, planned):
        """Create the vouchers of the recipients of the payout (records of
        the preview and the rules' recipients, in the same order)"""
        pool = Pool()
        Referral = pool.get('referral.referral')
        Recipient = pool.get('referral.payout.recipient')
        Date = pool.get('ir.date')
        company = payout.company
        sequence = referral_settings(company.id).voucher_sequence
        with Transaction().set_context(company=company.id):
            today = Date.today()
        referred_name = {r.id: r.referred.rec_name for r in Referral.browse(
                list({s.referral for p in planned for s in p.shares}))}
        vouchers = cls.create([{
                    'number': sequence.get(),
                    'company': company.id,
                    'payout': payout.id,
                    'party': recipient.referrer.id,
                    'branch': recipient.branch.id if recipient.branch
                    else None,
                    'referral': recipient.referral.id if recipient.referral
                    else None,
                    'referred': '\n'.join(sorted({
                                referred_name[referral] for referral in {
                                    s.referral for s in plan.shares}})),
                    'date': today,
                    'currency': company.currency.id,
                    'amount': recipient.voucher_amount,
                    'cash_amount': recipient.cash_amount,
                    'state': 'exported',
                    } for recipient, plan in zip(recipients, planned)])
        Recipient.write(*[a for recipient, voucher in zip(recipients, vouchers)
                for a in ([recipient], {'voucher': voucher.id})])
        return vouchers

    @classmethod
    def book(cls, payout, vouchers):
        """Book the vouchers of a payout in one move, each a liability to
        its referrer on the voucher account, against the commission
        expense, and issue them. Return the posted move."""
        pool = Pool()
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        Date = pool.get('ir.date')
        company = payout.company
        settings = booking_settings(company)
        method = settings.voucher_method
        with Transaction().set_context(company=company.id):
            today = Date.today()
        # Tryton refuses a product without expense account with its message
        expense = settings.product.account_expense_used
        total = sum((v.amount for v in vouchers), Decimal(0))
        lines = [{
                'account': method.debit_account.current(date=today).id,
                'party': v.party.id,
                'debit': Decimal(0), 'credit': v.amount,
                'description': v.number,
                } for v in vouchers]
        lines.append({
                'account': expense.current(date=today).id,
                'debit': total, 'credit': Decimal(0),
                'description': gettext(
                    'referral_commission.msg_voucher_booking',
                    payout=payout.rec_name),
                })
        move, = Move.create([{
                    'company': company.id,
                    'journal': method.journal.id,
                    'period': Period.find(company, date=today),
                    'date': today,
                    'origin': str(payout),
                    'description': gettext(
                        'referral_commission.msg_voucher_booking',
                        payout=payout.rec_name),
                    'lines': [('create', lines)],
                    }])
        Move.post([move])
        cls.issue(vouchers)
        return move

    @classmethod
    @Workflow.transition('issued')
    def issue(cls, vouchers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cashed')
    def cash_out(cls, vouchers):
        """The referrer takes the cash alternative: the voucher's liability
        becomes a payable of the cash amount, the difference goes back to
        the commission expense"""
        pool = Pool()
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        Date = pool.get('ir.date')
        # Written first: a redemption of the same voucher waits
        cls.write(vouchers, {})
        moves = []
        for voucher in vouchers:
            if voucher.cash_amount <= 0 or voucher.redemptions:
                raise VoucherError(gettext(
                        'referral_commission.msg_voucher_no_cash',
                        voucher=voucher.rec_name))
            company = voucher.company
            settings = booking_settings(company)
            method = settings.voucher_method
            with Transaction().set_context(company=company.id):
                today = Date.today()
            # Tryton refuses a party without payable account itself
            payable = voucher.party.account_payable_used
            description = gettext(
                'referral_commission.msg_voucher_cash_payout',
                voucher=voucher.number)
            lines = [{
                    'account': method.debit_account.current(date=today).id,
                    'party': voucher.party.id,
                    'debit': voucher.amount, 'credit': Decimal(0),
                    }, {
                    'account': payable.current(date=today).id,
                    'party': voucher.party.id,
                    'debit': Decimal(0), 'credit': voucher.cash_amount,
                    'maturity_date': today,
                    }]
            difference = voucher.amount - voucher.cash_amount
            if difference:
                expense = settings.product.account_expense_used
                lines.append({
                        'account': expense.current(date=today).id,
                        'debit': max(-difference, Decimal(0)),
                        'credit': max(difference, Decimal(0)),
                        })
            moves.append({
                    'company': company.id,
                    'journal': method.journal.id,
                    'period': Period.find(company, date=today),
                    'date': today,
                    'origin': str(voucher),
                    'description': description,
                    'lines': [('create', lines)],
                    })
        moves = Move.create(moves)
        Move.post(moves)
        for voucher, move in zip(vouchers, moves):
            voucher.cash_move = move
        cls.save(vouchers)

    @classmethod
    @ModelView.button_action('referral_commission.wizard_voucher_redeem')
    def redeem(cls, vouchers):
        pass

    @classmethod
    @Workflow.transition('redeemed')
    def used_up(cls, vouchers):
        pass

    def redeem_against(self, invoice, amount, date):
        """Pay `amount` of the referrer's posted invoice with the voucher:
        the voucher's liability settles the invoice's receivable"""
        pool = Pool()
        Redemption = pool.get('referral.voucher.redemption')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Lang = pool.get('ir.lang')
        # Written first: two redemptions of one voucher run one after the
        # other, the second one reading the balance the first one left
        self.__class__.write([self], {})
        voucher = self.__class__(self.id)
        lang = Lang.get()
        if voucher.state != 'issued':
            raise VoucherError(gettext(
                    'referral_commission.msg_voucher_not_issued',
                    voucher=voucher.rec_name))
        if (invoice.party != voucher.party or invoice.type != 'out'
                or invoice.state != 'posted'
                or invoice.company != voucher.company
                or invoice.currency != voucher.currency):
            raise VoucherError(gettext(
                    'referral_commission.msg_voucher_invoice',
                    voucher=voucher.rec_name, invoice=invoice.rec_name,
                    party=voucher.party.rec_name))
        to_pay = invoice.amount_to_pay
        limit = min(voucher.balance, to_pay)
        if amount is None or amount <= 0 or amount > limit or (
                amount != voucher.currency.round(amount)):
            raise VoucherError(gettext(
                    'referral_commission.msg_voucher_redeem_amount',
                    amount=lang.currency(amount or 0, voucher.currency),
                    limit=lang.currency(limit, voucher.currency)))
        settings = booking_settings(voucher.company)
        with Transaction().set_context(company=voucher.company.id):
            paid = invoice.pay_invoice(
                amount, settings.voucher_method, date,
                description=voucher.number)
            if amount == to_pay:
                MoveLine.reconcile(list(invoice.lines_to_pay) + paid)
        redemption, = Redemption.create([{
                    'voucher': voucher.id, 'invoice': invoice.id,
                    'amount': amount, 'date': date,
                    'move': paid[0].move.id,
                    }])
        Invoice.process([invoice])
        if self.__class__(voucher.id).balance <= 0:
            self.__class__.used_up([voucher])
        return redemption


class Redemption(ModelSQL, ModelView):
    "Redemption of a referral voucher against an invoice"
    __name__ = 'referral.voucher.redemption'

    voucher = fields.Many2One(
        'referral.voucher', "Voucher", required=True, readonly=True,
        ondelete='RESTRICT')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, readonly=True,
        ondelete='RESTRICT')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    move = fields.Many2One(
        'account.move', "Move", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('voucher')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @fields.depends('voucher', '_parent_voucher.currency')
    def on_change_with_currency(self, name=None):
        return self.voucher.currency if self.voucher else None


class RedeemStart(ModelView):
    "Redeem a referral voucher"
    __name__ = 'referral.voucher.redeem.start'

    voucher = fields.Many2One(
        'referral.voucher', "Voucher", required=True, readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    party = fields.Many2One(
        'party.party', "Referrer", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    balance = Monetary(
        "Balance", currency='currency', digits='currency', readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True,
        domain=[
            ('party', '=', Eval('party', -1)),
            ('company', '=', Eval('company', -1)),
            ('currency', '=', Eval('currency', -1)),
            ('type', '=', 'out'),
            ('state', '=', 'posted'),
            ],
        help="A posted invoice of the referrer that is not paid yet.")
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        domain=[
            ('amount', '>', 0),
            ('amount', '<=', Eval('balance', 0)),
            ])
    date = fields.Date("Date", required=True)

    @fields.depends('invoice', 'balance', 'amount')
    def on_change_invoice(self):
        if self.invoice and self.balance is not None:
            self.amount = min(self.balance, self.invoice.amount_to_pay)


class Redeem(Wizard):
    "Redeem a referral voucher"
    __name__ = 'referral.voucher.redeem'
    start = StateView('referral.voucher.redeem.start',
        'referral_commission.voucher_redeem_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Redeem", 'redeem', 'tryton-ok', default=True),
            ])
    redeem = StateTransition()

    def default_start(self, fields):
        Date = Pool().get('ir.date')
        voucher = self.record
        with Transaction().set_context(company=voucher.company.id):
            today = Date.today()
        return {
            'voucher': voucher.id,
            'party': voucher.party.id,
            'company': voucher.company.id,
            'currency': voucher.currency.id,
            'balance': voucher.balance,
            'date': today,
            }

    def transition_redeem(self):
        self.record.redeem_against(
            self.start.invoice, self.start.amount, self.start.date)
        return 'end'


class VoucherDocument(Report):
    "Voucher letter of a referral payout"
    __name__ = 'referral.voucher.document'

    @classmethod
    def _execute(cls, records, header, data, action):
        """Render a voucher once and keep it, as sent: a later change of a
        letterhead or a text does not change a voucher issued before"""
        Voucher = Pool().get('referral.voucher')
        if len(records) == 1 and records[0].document_cache:
            voucher, = records
            return voucher.document_format, voucher.document_cache
        format_, content = super()._execute(records, header, data, action)
        if len(records) == 1:
            voucher, = records
            Voucher.write([voucher], {
                    'document_format': format_,
                    'document_cache': Voucher.document_cache.cast(content),
                    })
        return format_, content

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        letters = {}
        for voucher in records:
            party = voucher.party
            language = party.lang.code if party.lang else (
                Transaction().language)
            address = party.address_get(type='invoice')
            company_party = voucher.company.party
            company_address = company_party.address_get(type='invoice')
            branch = voucher.branch
            if branch:
                sender = branch.sender_lines
                contact, signature = branch.contact, branch.signature
            else:
                sender = [company_party.full_name] + (
                    company_address.full_address.splitlines()
                    if company_address else [])
                contact, signature = company_party.email, None
            letters[voucher.id] = SimpleNamespace(
                sender=sender,
                contact=contact or '',
                signature=signature or company_party.full_name,
                recipient=[party.full_name] + (
                    address.full_address.splitlines() if address else []),
                referred=(voucher.referred or '').splitlines(),
                words=amount_in_words(
                    voucher.amount, voucher.currency.code, language),
                cash_words=amount_in_words(
                    voucher.cash_amount, voucher.currency.code, language))
        context['letters'] = letters
        return context
