# This file is part of the lead trading suite. See README.rst for details.
"""Top-ups raise a prepaid balance when their money is booked; refunds
pay what is left back to a buyer that leaves."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from .configuration import prepaid_settings
from .exceptions import PrepaidError, TopUpError
from .invoice import recall_line_values
from .rules import refundable

TOP_UP_STATES = [
    ('requested', "Requested"),
    ('booked', "Booked"),
    ('cancelled', "Cancelled"),
    ]
ORIGINS = [
    ('staff', "Staff"),
    ('buyer', "Buyer"),
    ]


def check_configured(settings, company):
    "Refuse top-ups while the company lacks the prepaid settings"
    if not settings.deposit_account or not settings.payment_method:
        raise PrepaidError(gettext(
                'lead_prepaid.msg_prepaid_not_configured',
                company=company.rec_name))


def prepayment_taxes(account):
    "The taxes of a prepayment: the default taxes of the deposit account"
    return list(account.taxes) if account else []


def gross_amount(amount, taxes, date, currency):
    "(tax, total) of a prepayment of net `amount`"
    Tax = Pool().get('account.tax')
    tax = sum((t['amount'] for t in Tax.compute(
                taxes, amount, 1, date)), Decimal(0))
    tax = currency.round(tax)
    return tax, amount + tax


class TopUp(Workflow, ModelSQL, ModelView):
    "Top-up of a prepaid balance"
    __name__ = 'lead.prepaid.top_up'

    _states = {'readonly': Eval('state') != 'requested'}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    account = fields.Many2One(
        'lead.prepaid.account', "Prepaid Account", required=True,
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('id', -1) >= 0})
    party = fields.Function(
        fields.Many2One('party.party', "Buyer",
            context={'company': Eval('company', -1)}, depends={'company'}),
        'on_change_with_party', searcher='search_party')
    number = fields.Char(
        "Number", readonly=True,
        help="The payment reference the buyer gives with its transfer.")
    reference = fields.Char(
        "Bank Reference", states=_states,
        help="The reference of the money received, such as the bank "
        "statement entry.")
    origin = fields.Selection(ORIGINS, "Requested By", readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, states=_states)
    amount = Monetary(
        "Credit", currency='currency', digits='currency', required=True,
        states={
            'readonly': (Eval('state') != 'requested') | Eval('invoice'),
            },
        help="The net amount the balance rises by; VAT is added to the "
        "amount to pay.")
    tax_amount = fields.Function(Monetary(
            "VAT", currency='currency', digits='currency'),
        'get_gross')
    total_amount = fields.Function(Monetary(
            "Amount to Pay", currency='currency', digits='currency'),
        'get_gross')
    date = fields.Date(
        "Booking Date", states={
            'readonly': Eval('state') != 'requested',
            'required': Eval('state') == 'booked',
            },
        help="The day the money was received; the prepayment invoice "
        "carries it.")
    state = fields.Selection(
        TOP_UP_STATES, "State", required=True, readonly=True, sort=False)
    booked_by = fields.Many2One('res.user', "Booked By", readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Prepayment Invoice", readonly=True,
        ondelete='RESTRICT')
    payment = fields.Many2One(
        'account.payment', "Payment", readonly=True, ondelete='SET NULL',
        help="The payment the request expects, through the payment "
        "journal of the configuration.")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('invoice_unique', Unique(t, t.invoice),
                'lead_prepaid.msg_top_up_invoice_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.payment, Index.Range())))
        cls.__access__.add('account')
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('requested', 'booked'),
            ('requested', 'cancelled'),
            }
        cls._buttons.update({
                'book': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'requested'

    @staticmethod
    def default_origin():
        return 'staff'

    @classmethod
    def default_currency(cls):
        Company = Pool().get('company.company')
        company_id = cls.default_company()
        if company_id is not None and company_id >= 0:
            return Company(company_id).currency.id

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('account')
    def on_change_with_party(self, name=None):
        return self.account.party.id if self.account else None

    @classmethod
    def search_party(cls, name, clause):
        nested = clause[0][len(name):]
        return [('account.party' + nested, *clause[1:])]

    def get_rec_name(self, name):
        return self.number or str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('number',) + tuple(clause[1:]),
            ('reference',) + tuple(clause[1:]),
            ]

    @classmethod
    def get_gross(cls, top_ups, names):
        Date = Pool().get('ir.date')
        result = {name: {} for name in names}
        taxes_of = {company: prepayment_taxes(
                prepaid_settings(company.id).deposit_account)
            for company in {t.company for t in top_ups}}
        for top_up in top_ups:
            with Transaction().set_context(company=top_up.company.id):
                today = Date.today()
            taxes = taxes_of[top_up.company]
            tax, total = gross_amount(top_up.amount or Decimal(0), taxes,
                top_up.date or today, top_up.currency)
            values = {'tax_amount': tax, 'total_amount': total}
            for name in names:
                result[name][top_up.id] = values[name]
        return result

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            company_id = values.get('company', cls.default_company())
            sequence = prepaid_settings(company_id).top_up_sequence
            values['number'] = sequence.get()
        return super().create(vlist)

    @classmethod
    def validate_fields(cls, top_ups, field_names):
        super().validate_fields(top_ups, field_names)
        cls.check_amount(top_ups, field_names)

    @classmethod
    def check_amount(cls, top_ups, field_names=None):
        if field_names and not (field_names & {'amount', 'currency'}):
            return
        Lang = Pool().get('ir.lang')
        for top_up in top_ups:
            if top_up.amount is None or top_up.amount <= 0:
                raise TopUpError(gettext(
                        'lead_prepaid.msg_top_up_amount_positive',
                        amount=Lang.get().format_number(
                            top_up.amount or 0, digits=2)))
            if top_up.currency != top_up.company.currency:
                raise TopUpError(gettext(
                        'lead_prepaid.msg_top_up_currency',
                        currency=top_up.currency.code,
                        company_currency=top_up.company.currency.code))

    @classmethod
    def request(cls, account, amount, currency=None, origin='staff'):
        """Record a top-up the buyer will pay and, with a payment journal
        configured, the payment that expects its money"""
        pool = Pool()
        Payment = pool.get('account.payment')
        settings = prepaid_settings(account.company.id)
        check_configured(settings, account.company)
        top_up, = cls.create([{
                    'company': account.company.id,
                    'account': account.id,
                    'amount': amount,
                    'currency': (currency or account.company.currency).id,
                    'origin': origin,
                    }])
        # the request document: the advance payment invoice as a draft,
        # posted with the day the money arrives, when its VAT falls due
        with without_check_access():
            invoice = top_up._prepayment_invoice(settings)
            invoice.invoice_date = None
            invoice.save()
        top_up.invoice = invoice
        top_up.save()
        journal = settings.payment_journal
        if journal:
            with without_check_access():
                payment, = Payment.create([{
                            'company': account.company.id,
                            'journal': journal.id,
                            'kind': 'receivable',
                            'party': account.party.id,
                            'amount': top_up.total_amount,
                            'reference': top_up.number,
                            }])
                Payment.submit([payment])
            top_up.payment = payment
            top_up.save()
        return top_up

    @classmethod
    @ModelView.button
    @Workflow.transition('booked')
    def book(cls, top_ups):
        """Book the money of the top-ups: each gets its prepayment invoice
        (advance payment with VAT, § 14 (5) UStG), paid at once by the
        money received, which raises the buyer's deposit."""
        cls._book(top_ups, paid_by_payment=False)

    @classmethod
    @Workflow.transition('booked')
    def book_paid(cls, top_ups):
        "Book the top-ups whose payment succeeded"
        cls._book(top_ups, paid_by_payment=True)

    @classmethod
    def _book(cls, top_ups, paid_by_payment):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Payment = pool.get('account.payment')
        if not top_ups:
            return
        # Written first: a concurrent booking of the same top-up waits for
        # this transaction and then fails to serialize instead of booking
        # the money twice.
        cls.write(top_ups, {'booked_by': Transaction().user})
        to_delete = []
        for top_up in top_ups:
            payment = top_up.payment
            if payment and not paid_by_payment:
                if payment.state in {'processing', 'succeeded'}:
                    raise TopUpError(gettext(
                            'lead_prepaid.msg_top_up_payment_running',
                            top_up=top_up.rec_name,
                            payment=payment.rec_name))
                to_delete.append(payment)
        if to_delete:
            with without_check_access():
                Payment.draft(to_delete)
                Payment.delete(to_delete)
        invoices = []
        for top_up in top_ups:
            settings = prepaid_settings(top_up.company.id)
            check_configured(settings, top_up.company)
            invoice = top_up.invoice
            if invoice and invoice.state == 'draft':
                invoice.invoice_date = top_up.date
            else:
                invoice = top_up._prepayment_invoice(settings)
            invoices.append(invoice)
        Invoice.save(invoices)
        cls.write(*[a for top_up, invoice in zip(top_ups, invoices)
                for a in ([top_up], {'invoice': invoice.id})])
        with Transaction().set_context(
                _skip_warnings=True, lead_prepaid_booking=True):
            Invoice.post(invoices)
        for top_up, invoice in zip(top_ups, invoices):
            settings = prepaid_settings(top_up.company.id)
            with Transaction().set_context(company=top_up.company.id):
                paid = invoice.pay_invoice(
                    invoice.total_amount, settings.payment_method,
                    top_up.date, description=top_up.number)
                MoveLine.reconcile(list(invoice.lines_to_pay) + paid)
        Invoice.process(invoices)
        Invoice.__queue__.send_lead_documents(invoices)
        with without_check_access():
            Account.check_thresholds(
                Account.browse(list({t.account.id for t in top_ups})))

    def _prepayment_invoice(self, settings):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        invoice = Invoice(
            company=self.company, type='out', party=self.account.party,
            invoice_date=self.date, lead_document=True,
            lead_prepayment='top_up')
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.currency = self.currency
        invoice.payment_term = None
        invoice.description = gettext(
            'lead_prepaid.msg_prepayment_description', number=self.number)
        line = Line(
            invoice=invoice, type='line', company=self.company,
            currency=self.currency, account=settings.deposit_account,
            quantity=1, unit_price=self.amount,
            description=gettext(
                'lead_prepaid.msg_prepayment_line', number=self.number),
            taxes=prepayment_taxes(settings.deposit_account))
        invoice.lines = [line]
        return invoice

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, top_ups):
        Payment = Pool().get('account.payment')
        running = [t for t in top_ups
            if t.payment and t.payment.state in {'processing', 'succeeded'}]
        if running:
            raise TopUpError(gettext(
                    'lead_prepaid.msg_top_up_payment_running',
                    top_up=running[0].rec_name,
                    payment=running[0].payment.rec_name))
        payments = [t.payment for t in top_ups if t.payment]
        if payments:
            with without_check_access():
                Payment.draft(payments)
                Payment.delete(payments)
        cls.delete_requests(top_ups)

    @classmethod
    def delete(cls, top_ups):
        for top_up in top_ups:
            if top_up.state == 'booked':
                raise AccessError(gettext(
                        'lead_prepaid.msg_top_up_delete_booked',
                        top_up=top_up.rec_name))
        cls.delete_requests(top_ups)
        super().delete(top_ups)

    @classmethod
    def delete_requests(cls, top_ups):
        "Delete the draft advance payment invoices of unbooked top-ups"
        Invoice = Pool().get('account.invoice')
        drafts = [t for t in top_ups
            if t.state != 'booked' and t.invoice
            and t.invoice.state == 'draft']
        if drafts:
            invoices = [t.invoice for t in drafts]
            cls.write(drafts, {'invoice': None})
            with without_check_access():
                Invoice.delete(invoices)


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    def succeed(cls, payments):
        """A succeeded payment of a top-up request books its money, whoever
        reports the success: an accountant for a manual journal, a
        payment provider's module otherwise"""
        TopUp = Pool().get('lead.prepaid.top_up')
        super().succeed(payments)
        top_ups = TopUp.search([
                ('payment', 'in', [p.id for p in payments]),
                ('state', '=', 'requested'),
                ])
        if top_ups:
            TopUp.write(*[a for t in top_ups for a in (
                        [t], {'date': t.payment.date or TopUp.default_date()})
                    ])
            TopUp.book_paid(top_ups)


class RequestTopUpStart(ModelView):
    "Request a top-up"
    __name__ = 'lead.prepaid.top_up.request.start'

    account = fields.Many2One(
        'lead.prepaid.account', "Prepaid Account", required=True,
        readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    amount = Monetary(
        "Credit", currency='currency', digits='currency', required=True,
        help="The net amount the balance rises by; VAT is added to the "
        "amount to pay.")


class RequestTopUpDone(ModelView):
    "Top-up requested"
    __name__ = 'lead.prepaid.top_up.request.done'

    top_up = fields.Many2One(
        'lead.prepaid.top_up', "Top-up", readonly=True)
    instructions = fields.Text("How to Pay", readonly=True)


class RequestTopUp(Wizard):
    "Request a top-up"
    __name__ = 'lead.prepaid.top_up.request'
    start = StateView('lead.prepaid.top_up.request.start',
        'lead_prepaid.top_up_request_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Request", 'request', 'tryton-ok', default=True),
            ])
    request = StateTransition()
    done = StateView('lead.prepaid.top_up.request.done',
        'lead_prepaid.top_up_request_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        return {
            'account': self.record.id,
            'currency': self.record.company.currency.id,
            }

    def transition_request(self):
        pool = Pool()
        TopUp = pool.get('lead.prepaid.top_up')
        User = pool.get('res.user')
        origin = 'buyer' if User.get_lead_parties() else 'staff'
        with without_check_access():
            self.done.top_up = TopUp.request(
                self.record, self.start.amount, self.start.currency,
                origin=origin)
        return 'done'

    def default_done(self, fields):
        pool = Pool()
        Lang = pool.get('ir.lang')
        top_up = self.done.top_up
        lang = Lang.get()
        return {
            'top_up': top_up.id,
            'instructions': gettext(
                'lead_prepaid.msg_top_up_instructions',
                total=lang.currency(top_up.total_amount, top_up.currency),
                amount=lang.currency(top_up.amount, top_up.currency),
                tax=lang.currency(top_up.tax_amount, top_up.currency),
                number=top_up.number,
                company=top_up.company.rec_name),
            }


class RefundStart(ModelView):
    "Refund a prepaid balance"
    __name__ = 'lead.prepaid.refund.start'

    account = fields.Many2One(
        'lead.prepaid.account', "Prepaid Account", required=True,
        readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    refundable = Monetary(
        "Refundable", currency='currency', digits='currency', readonly=True,
        help="The deposit less the deliveries that still await billing.")
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        domain=[
            ('amount', '>', 0),
            ('amount', '<=', Eval('refundable', 0)),
            ],
        help="The net amount paid back; the credit note adds its VAT.")
    date = fields.Date("Date", required=True)
    close = fields.Boolean(
        "Close Account",
        help="The buyer leaves prepaid: the account is deactivated, so "
        "its deliveries are no longer limited by a balance.")


class Refund(Wizard):
    "Refund a prepaid balance"
    __name__ = 'lead.prepaid.refund'
    start = StateView('lead.prepaid.refund.start',
        'lead_prepaid.refund_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Refund", 'refund', 'tryton-ok', default=True),
            ])
    refund = StateTransition()
    open_ = StateAction('account_invoice.act_invoice_out_form')

    def default_start(self, fields):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        Date = pool.get('ir.date')
        account = self.record
        balance = Account.balances(
            account.company, [account.party.id])[account.party.id]
        amount = refundable(balance.deposit, balance.unbilled)
        with Transaction().set_context(company=account.company.id):
            today = Date.today()
        return {
            'account': account.id,
            'currency': account.company.currency.id,
            'refundable': amount,
            'amount': amount,
            'date': today,
            'close': True,
            }

    def transition_refund(self):
        pool = Pool()
        Account = pool.get('lead.prepaid.account')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Lang = pool.get('ir.lang')
        account = self.record
        company = account.company
        settings = prepaid_settings(company.id)
        if not settings.deposit_account:
            raise PrepaidError(gettext(
                    'lead_prepaid.msg_prepaid_not_configured',
                    company=company.rec_name))
        # Read again after taking the account, as deliveries do
        Account.lock_balances(company.id, [account.party.id])
        balance = Account.balances(company, [account.party.id])[
            account.party.id]
        available = refundable(balance.deposit, balance.unbilled)
        amount = self.start.amount
        if amount is None or amount <= 0 or amount > available:
            lang = Lang.get()
            raise PrepaidError(gettext(
                    'lead_prepaid.msg_refund_amount',
                    amount=lang.currency(amount or 0, company.currency),
                    available=lang.currency(available, company.currency)))
        invoice = Invoice(
            company=company, type='out', party=account.party,
            invoice_date=self.start.date, lead_document=True,
            lead_prepayment='refund')
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.currency = company.currency
        invoice.payment_term = None
        invoice.description = gettext('lead_prepaid.msg_refund_description')
        invoice.save()
        Line.create([recall_line_values(
                    invoice, settings.deposit_account, -amount,
                    [t.id for t in prepayment_taxes(
                            settings.deposit_account)])])
        Invoice.update_taxes([invoice])
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post([invoice])
        Invoice.__queue__.send_lead_documents([invoice])
        if self.start.close:
            Account.write([account], {'active': False})
        self.refund_invoice = invoice
        return 'open_'

    def do_open_(self, action):
        action['res_id'] = [self.refund_invoice.id]
        action['views'].reverse()
        return action, {}
