# This file is part of the lead trading suite. See README.rst for details.
"""Payout runs: the settings of a payout, the preview of the open
commission in its three areas, the export that pays it by vouchers (once),
the booking of the vouchers and the undo of an export not booked yet."""
import datetime as dt
from decimal import Decimal

from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.modules.lead_billing.bulk import forget_cached, insert_records
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .configuration import RATE_DIGITS, referral_settings
from .exceptions import PayoutError
from .referral import REFERRAL_KINDS, REFERRAL_STATES
from .rules import (
    AREAS, BELOW_MINIMUM, BLOCKED, INCLUDED, NOT_APPROVED, NOT_POSITIVE,
    OUT_OF_SCOPE, OpenLine, Referral, Settings, default_period, plan_payout)

PAYOUT_STATES = [
    ('draft', "Draft"),
    ('exported', "Exported"),
    ('done', "Done"),
    ('undone', "Undone"),
    ]
VARIANTS = [
    ('referrer', "One Voucher per Referrer"),
    ('referral', "One Voucher per Referral"),
    ]
KIND_FILTERS = [('all', "All Types")] + REFERRAL_KINDS
AREA_NAMES = [
    ('new', "New"),
    ('difference', "Difference"),
    ('overpaid', "Overpaid"),
    ]
STATUSES = [
    (INCLUDED, "Paid by This Payout"),
    (BELOW_MINIMUM, "Below the Minimum"),
    (NOT_POSITIVE, "Nothing Left after Netting"),
    (OUT_OF_SCOPE, "Area Not in Scope"),
    (BLOCKED, "Referral Blocked"),
    (NOT_APPROVED, "Referral Not Approved"),
    ]


class Payout(Workflow, ModelSQL, ModelView):
    "Referral commission payout"
    __name__ = 'referral.payout'

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_draft)
    period_start = fields.Date(
        "From", required=True, states=_draft,
        domain=[If(Eval('period_end'),
                ('period_start', '<=', Eval('period_end')), ())],
        help="Revenue invoiced from this day on.")
    period_end = fields.Date(
        "To", required=True, states=_draft,
        domain=[If(Eval('period_start'),
                ('period_end', '>=', Eval('period_start')), ())],
        help="Revenue invoiced up to this day; leave time for late "
        "returns and cancellations.")
    voucher_rate = fields.Numeric(
        "Rate 1 (Voucher)", digits=RATE_DIGITS, required=True,
        states=_draft,
        domain=[('voucher_rate', '>', 0), ('voucher_rate', '<=', 100)],
        help="In percent of the revenue: the value of the voucher.")
    cash_rate = fields.Numeric(
        "Rate 2 (Cash)", digits=RATE_DIGITS, required=True, states=_draft,
        domain=[('cash_rate', '>=', 0), ('cash_rate', '<=', 100)],
        help="In percent of the revenue: what the referrer may take in "
        "cash instead; 0 when cash is not offered.")
    minimum = Monetary(
        "Minimum Voucher", currency='currency', digits='currency',
        required=True, states=_draft,
        domain=[('minimum', '>=', 0)],
        help="Vouchers below it are not issued; their commission waits "
        "for the next payout.")
    variant = fields.Selection(
        VARIANTS, "Export Variant", required=True, states=_draft,
        help="Whether a standard recipient gets one voucher for all of "
        "its referrals or one per referral; commission collectors always "
        "get one.")
    branches = fields.Many2Many(
        'referral.payout-referral.branch', 'payout', 'branch', "Branches",
        states=_draft,
        domain=[('company', '=', Eval('company', -1))],
        help="Limit the payout to these branches; empty: every branch. "
        "Each branch gets its own export files.")
    kind = fields.Selection(
        KIND_FILTERS, "Referral Types", required=True, states=_draft)
    approved_only = fields.Boolean(
        "Approved Referrals Only", states=_draft,
        help="Pay only referrals approved for payout (green); open ones "
        "wait.")
    scope_new = fields.Boolean(
        "New", states=_draft,
        help="Commission on revenue of referrals never paid before.")
    scope_difference = fields.Boolean(
        "Differences", states=_draft,
        help="Further commission of referrals paid before.")
    scope_overpaid = fields.Boolean(
        "Overpaid", states=_draft,
        help="Commission paid on revenue credited or cancelled since; "
        "subtracted from the open commission of the same voucher.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    state = fields.Selection(
        PAYOUT_STATES, "State", required=True, readonly=True, sort=False)
    previewed_at = fields.Timestamp("Previewed At", readonly=True)
    lines = fields.One2Many(
        'referral.payout.line', 'payout', "Open Commission", readonly=True)
    new_lines = fields.One2Many(
        'referral.payout.line', 'payout', "New", readonly=True,
        filter=[('area', '=', 'new')])
    difference_lines = fields.One2Many(
        'referral.payout.line', 'payout', "Differences", readonly=True,
        filter=[('area', '=', 'difference')])
    overpaid_lines = fields.One2Many(
        'referral.payout.line', 'payout', "Overpaid", readonly=True,
        filter=[('area', '=', 'overpaid')])
    recipients = fields.One2Many(
        'referral.payout.recipient', 'payout', "Recipients", readonly=True)
    vouchers = fields.One2Many(
        'referral.voucher', 'payout', "Vouchers", readonly=True)
    files = fields.One2Many(
        'referral.payout.file', 'payout', "Files", readonly=True)
    voucher_count = fields.Integer("Vouchers Issued", readonly=True)
    voucher_total = Monetary(
        "Voucher Total", currency='currency', digits='currency',
        readonly=True)
    cash_total = Monetary(
        "Cash Alternative Total", currency='currency', digits='currency',
        readonly=True)
    commission_count = fields.Integer("Commission Lines Paid", readonly=True)
    exported_by = fields.Many2One('res.user', "Exported By", readonly=True)
    exported_at = fields.Timestamp("Exported At", readonly=True)
    done_by = fields.Many2One('res.user', "Done By", readonly=True)
    done_at = fields.Timestamp("Done At", readonly=True)
    undone_by = fields.Many2One('res.user', "Undone By", readonly=True)
    undone_at = fields.Timestamp("Undone At", readonly=True)
    move = fields.Many2One(
        'account.move', "Booking", readonly=True, ondelete='RESTRICT',
        help="The move that books the vouchers as a liability.")

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.state, Index.Equality()),
                where=t.state.in_(['draft', 'exported'])))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'exported'),
            ('exported', 'done'),
            ('exported', 'undone'),
            }
        cls._buttons.update({
                'preview': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'export': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                'done': {
                    'invisible': Eval('state') != 'exported',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'undo': {
                    'invisible': Eval('state') != 'exported',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_variant():
        return 'referrer'

    @staticmethod
    def default_kind():
        return 'all'

    @staticmethod
    def default_approved_only():
        return False

    @staticmethod
    def default_scope_new():
        return True

    @staticmethod
    def default_scope_difference():
        return True

    @staticmethod
    def default_scope_overpaid():
        return True

    @classmethod
    def _default_setting(cls, name):
        company_id = cls.default_company()
        if company_id is not None and company_id >= 0:
            return getattr(referral_settings(company_id), name)

    @classmethod
    def default_voucher_rate(cls):
        return cls._default_setting('voucher_rate')

    @classmethod
    def default_cash_rate(cls):
        return cls._default_setting('cash_rate')

    @classmethod
    def default_minimum(cls):
        return cls._default_setting('minimum')

    @classmethod
    def _default_period(cls):
        Date = Pool().get('ir.date')
        return default_period(
            cls._default_setting('programme_start'), Date.today())

    @classmethod
    def default_period_start(cls):
        return cls._default_period()[0]

    @classmethod
    def default_period_end(cls):
        return cls._default_period()[1]

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        return gettext('referral_commission.msg_payout_rec_name',
            id=self.id, start=lang.strftime(self.period_start),
            end=lang.strftime(self.period_end))

    @property
    def scope(self):
        return frozenset(area for area in AREAS
            if getattr(self, f'scope_{area}'))

    @property
    def settings(self):
        "The settings of the run for the payout rules"
        return Settings(
            voucher_rate=self.voucher_rate, cash_rate=self.cash_rate,
            minimum=self.minimum, scope=self.scope,
            approved_only=bool(self.approved_only),
            per_referral=self.variant == 'referral',
            exponent=Decimal(1).scaleb(-self.currency.digits))

    @classmethod
    def copy(cls, payouts, default=None):
        default = default.copy() if default is not None else {}
        for name in ['lines', 'new_lines', 'difference_lines',
                'overpaid_lines', 'recipients', 'vouchers', 'files']:
            default.setdefault(name, None)
        for name in ['previewed_at', 'voucher_count', 'voucher_total',
                'cash_total', 'commission_count', 'exported_by',
                'exported_at', 'done_by', 'done_at', 'undone_by',
                'undone_at', 'move']:
            default.setdefault(name)
        default.setdefault('state', 'draft')
        return super().copy(payouts, default=default)

    @classmethod
    def delete(cls, payouts):
        for payout in payouts:
            if payout.state != 'draft':
                raise AccessError(gettext(
                        'referral_commission.msg_payout_delete_exported',
                        payout=payout.rec_name))
        super().delete(payouts)

    @classmethod
    def prepare_due(cls):
        """The scheduled job: for the company of the context or else for
        every company running the programme, a draft payout of the default
        period with its preview, ready for the accountant, unless one of
        that period was made already or nothing is open"""
        Company = Pool().get('company.company')
        company_id = Transaction().context.get('company')
        companies = ([Company(company_id)] if company_id is not None
            else Company.search([]))
        for company in companies:
            if not referral_settings(company.id).voucher_method:
                continue
            with Transaction().set_context(company=company.id):
                end = cls.default_period_end()
                if cls.search([
                            ('company', '=', company.id),
                            ('period_end', '=', end),
                            ('state', '!=', 'undone'),
                            ], limit=1):
                    continue
                payout, = cls.create([{'company': company.id}])
                cls.preview([payout])
                if not cls(payout.id).lines:
                    cls.delete([payout])

    # Reading the open commission

    def open_lines(self):
        """The open commission lines of the referrals the run covers, as
        the payout rules see them, and those referrals by id"""
        pool = Pool()
        Commission = pool.get('commission')
        ReferralModel = pool.get('referral.referral')
        InvoiceLine = pool.get('account.invoice.line')
        Invoice = pool.get('account.invoice')
        Voucher = pool.get('referral.voucher')
        Date = pool.get('ir.date')
        commission = Commission.__table__()
        referral = ReferralModel.__table__()
        invoice_line = InvoiceLine.__table__()
        invoice = Invoice.__table__()
        corrected = Commission.__table__()
        voucher = Voucher.__table__()
        paid_by = self.__table__()
        cursor = Transaction().connection.cursor()

        where = ((referral.company == self.company.id)
            & (commission.referral_voucher == Null))
        if self.branches:
            where &= referral.branch.in_([b.id for b in self.branches])
        if self.kind != 'all':
            where &= referral.kind == self.kind
        query = commission.join(referral,
            condition=commission.referral == referral.id
            ).join(invoice_line,
                condition=commission.referral_line == invoice_line.id
            ).join(invoice, condition=invoice_line.invoice == invoice.id
            ).join(corrected, 'LEFT',
                condition=commission.referral_corrects == corrected.id
            ).join(voucher, 'LEFT',
                condition=corrected.referral_voucher == voucher.id
            ).join(paid_by, 'LEFT', condition=voucher.payout == paid_by.id
            ).select(
                commission.id, commission.referral, commission.base_amount,
                commission.referral_corrects, invoice_line.id,
                invoice.invoice_date,
                invoice.state, paid_by.voucher_rate, paid_by.cash_rate,
                where=where,
                order_by=[commission.id])
        cursor.execute(*query)
        rows = cursor.fetchall()

        with Transaction().set_context(company=self.company.id):
            today = Date.today()
            window_ends = Commission.referral_window_ends(
                list({r[4] for r in rows}))
        due = {}
        lines = []
        # corrections follow the revenue they correct: originals first
        for (id_, referral_id, base, corrects, line_id, invoice_date,
                invoice_state, paid_voucher_rate, paid_cash_rate) in sorted(
                    rows, key=lambda r: (r[3] is not None, r[0])):
            base = Decimal(base)
            paid_rates = None
            in_period = (invoice_date is not None
                and self.period_start <= invoice_date <= self.period_end)
            if corrects is None:
                if base > 0:
                    window_end = window_ends.get(line_id)
                    due[id_] = (in_period and invoice_state == 'paid'
                        and (window_end is None or window_end < today))
                else:
                    due[id_] = in_period and invoice_state in {
                        'posted', 'paid'}
            elif paid_voucher_rate is not None:
                paid_rates = (paid_voucher_rate, paid_cash_rate)
                due[id_] = True
            else:
                due[id_] = due.get(corrects, False)
            lines.append(OpenLine(
                    id=id_, referral=referral_id, base=base, due=due[id_],
                    paid_rates=paid_rates))

        referral_ids = sorted({line.referral for line in lines})
        paid_before = ReferralModel.paid_before(referral_ids)
        referrals = {r.id: Referral(
                id=r.id, referrer=r.referrer.id,
                branch=r.branch.id if r.branch else None,
                kind=r.kind, state=r.state,
                paid_before=r.id in paid_before)
            for r in ReferralModel.browse(referral_ids)}
        return lines, referrals

    def compute_plan(self):
        "What the payout pays with the settings and the commission of now"
        lines, referrals = self.open_lines()
        return plan_payout(lines, referrals, self.settings)

    @classmethod
    def store_plan(cls, payout, plan):
        """Keep the plan as the payout's preview, in place of the one before:
        a recipient per voucher and a line per referral and area; return
        the recipients in the order of the plan's.

        The rows are written in bulk: a preview covers every referral with
        open commission, and the rules made their values."""
        pool = Pool()
        Line = pool.get('referral.payout.line')
        Recipient = pool.get('referral.payout.recipient')
        cursor = Transaction().connection.cursor()
        round_ = payout.currency.round
        for Model in [Line, Recipient]:
            table = Model.__table__()
            cursor.execute(*table.delete(where=table.payout == payout.id))
            forget_cached(Model)
        recipients = Recipient.browse(insert_records(Recipient, [{
                        'payout': payout.id,
                        'referrer': recipient.referrer,
                        'branch': recipient.branch,
                        'referral': recipient.referral,
                        'base_amount': round_(sum(
                                (s.base for s in recipient.shares),
                                Decimal(0))),
                        'new_amount': round_(recipient.area_total('new')),
                        'difference_amount': round_(
                            recipient.area_total('difference')),
                        'overpaid_amount': round_(
                            recipient.area_total('overpaid')),
                        'voucher_amount': recipient.voucher,
                        'cash_amount': recipient.cash,
                        'status': recipient.status,
                        'voucher': None,
                        } for recipient in plan.recipients]))
        recipient_of = {(s.referral, s.area): record.id
            for planned, record in zip(plan.recipients, recipients)
            for s in planned.shares}
        insert_records(Line, [{
                    'payout': payout.id,
                    'recipient': recipient_of.get((row.referral, row.area)),
                    'referral': row.referral,
                    'area': row.area,
                    'base_amount': round_(row.base),
                    'voucher_amount': round_(row.voucher),
                    'cash_amount': round_(row.cash),
                    'commission_count': row.lines,
                    'status': row.status,
                    } for row in plan.rows])
        cls.write([payout], {'previewed_at': dt.datetime.now()})
        return recipients

    @classmethod
    @ModelView.button
    def preview(cls, payouts):
        for payout in payouts:
            if payout.state != 'draft':
                continue
            cls.store_plan(payout, payout.compute_plan())

    # Export

    @classmethod
    @ModelView.button
    @Workflow.transition('exported')
    def export(cls, payouts):
        """Pay the open commission that reaches the minimum by vouchers, in
        one transaction: the plan is made again from the commission of now,
        each commission line is marked paid by its voucher, the export
        files are saved."""
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        File = pool.get('referral.payout.file')
        # One export at a time: a second one waits and then reads what the
        # first one paid
        cls.lock()
        for payout in payouts:
            plan = payout.compute_plan()
            recipients = [r for r, planned in zip(
                    cls.store_plan(payout, plan), plan.recipients)
                if planned.status == INCLUDED]
            if not recipients:
                raise PayoutError(gettext(
                        'referral_commission.msg_payout_nothing',
                        payout=payout.rec_name))
            vouchers = Voucher.make(payout, recipients, plan.included)
            cls.mark_paid(vouchers, plan.included)
            File.save_exports(payout, vouchers, recipients)
            cls.write([payout], {
                    'exported_by': Transaction().user,
                    'exported_at': dt.datetime.now(),
                    'voucher_count': len(vouchers),
                    'voucher_total': sum(v.amount for v in vouchers),
                    'cash_total': sum(v.cash_amount for v in vouchers),
                    'commission_count': sum(
                        len(r.shares) for r in plan.included),
                    })

    @classmethod
    def mark_paid(cls, vouchers, recipients):
        """Link each share's commission line to its voucher and store what
        it pays, refusing lines another transaction paid meanwhile"""
        Commission = Pool().get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        for voucher, recipient in zip(vouchers, recipients):
            ids = [s.line for s in recipient.shares]
            marked = 0
            for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
                cursor.execute(*commission.update(
                        [commission.referral_voucher], [voucher.id],
                        where=reduce_ids(commission.id, sub_ids)
                        & (commission.referral_voucher == Null)))
                marked += cursor.rowcount
            if marked != len(ids):
                raise PayoutError(gettext(
                        'referral_commission.msg_payout_paid_meanwhile',
                        voucher=voucher.rec_name))
        shares = [s for r in recipients for s in r.shares]
        query, _ = tuple(commission.update(
                [commission.amount, commission.referral_cash_amount,
                    commission.referral_area],
                [Decimal(0), Decimal(0), ''],
                where=commission.id == 0))
        cursor.executemany(query, [
                (s.voucher, s.cash, s.area, s.line) for s in shares])
        forget_cached(Commission)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, payouts):
        """The vouchers are sent: book them as a liability to each referrer
        against the commission expense; the export can no longer be
        undone"""
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        for payout in payouts:
            move = Voucher.book(payout, payout.vouchers)
            cls.write([payout], {
                    'move': move.id,
                    'done_by': Transaction().user,
                    'done_at': dt.datetime.now(),
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('undone')
    def undo(cls, payouts):
        "Take an export back before it is booked: its commission is open again"
        pool = Pool()
        Voucher = pool.get('referral.voucher')
        Commission = pool.get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        # Written first: the undo and a booking of the same export exclude
        # each other
        cls.write(payouts, {
                'undone_by': Transaction().user,
                'undone_at': dt.datetime.now(),
                })
        vouchers = [v for p in payouts for v in p.vouchers]
        for sub_ids in grouped_slice(
                [v.id for v in vouchers], backend.MAX_QUERY_PARAMS):
            cursor.execute(*commission.update(
                    [commission.referral_voucher, commission.referral_area,
                        commission.referral_cash_amount],
                    [Null, Null, Null],
                    where=reduce_ids(commission.referral_voucher, sub_ids)))
        forget_cached(Commission)
        Voucher.delete(vouchers)


class PayoutBranch(ModelSQL):
    "Branch of a referral payout"
    __name__ = 'referral.payout-referral.branch'

    payout = fields.Many2One(
        'referral.payout', "Payout", required=True, ondelete='CASCADE')
    branch = fields.Many2One(
        'referral.branch', "Branch", required=True, ondelete='CASCADE')


class _PayoutDetailMixin:
    __slots__ = ()
    payout = fields.Many2One(
        'referral.payout', "Payout", required=True, readonly=True,
        ondelete='CASCADE')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    voucher_amount = Monetary(
        "Voucher", currency='currency', digits='currency', readonly=True)
    cash_amount = Monetary(
        "Cash Alternative", currency='currency', digits='currency',
        readonly=True)
    status = fields.Selection(STATUSES, "Status", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payout')

    @fields.depends('payout', '_parent_payout.company')
    def on_change_with_currency(self, name=None):
        if self.payout and self.payout.company:
            return self.payout.company.currency


class PayoutLine(_PayoutDetailMixin, ModelSQL, ModelView):
    "Open commission of a referral in an area of a payout"
    __name__ = 'referral.payout.line'

    referral = fields.Many2One(
        'referral.referral', "Referral", required=True, readonly=True,
        ondelete='CASCADE')
    recipient = fields.Many2One(
        'referral.payout.recipient', "Recipient", readonly=True,
        ondelete='SET NULL',
        help="The voucher of the preview that pays the line; empty when "
        "the line is held back whatever its amount.")
    referrer = fields.Function(
        fields.Many2One('party.party', "Referrer"), 'get_referral_field',
        searcher='search_referral_field')
    referred = fields.Function(
        fields.Many2One('party.party', "Referred Customer"),
        'get_referral_field', searcher='search_referral_field')
    branch = fields.Function(
        fields.Many2One('referral.branch', "Branch"), 'get_referral_field',
        searcher='search_referral_field')
    kind = fields.Function(
        fields.Selection(REFERRAL_KINDS, "Type"), 'get_referral_field')
    referral_state = fields.Function(
        fields.Selection(REFERRAL_STATES, "Approval"), 'get_referral_field')
    payout_state = fields.Function(
        fields.Selection(PAYOUT_STATES, "Payout State"),
        'on_change_with_payout_state')
    area = fields.Selection(AREA_NAMES, "Area", required=True, readonly=True)
    area_string = area.translated('area')
    base_amount = Monetary(
        "Revenue", currency='currency', digits='currency', readonly=True)
    commission_count = fields.Integer("Lines", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('payout', 'ASC'), ('id', 'ASC')]
        not_draft = Eval('payout_state') != 'draft'
        cls._buttons.update({
                'block': {
                    'invisible': not_draft | (
                        Eval('referral_state') == 'blocked'),
                    'icon': 'tryton-cancel',
                    'depends': ['payout_state', 'referral_state'],
                    },
                'release': {
                    'invisible': not_draft | (
                        Eval('referral_state') == 'approved'),
                    'icon': 'tryton-ok',
                    'depends': ['payout_state', 'referral_state'],
                    },
                })

    def get_referral_field(self, name):
        value = getattr(self.referral, {
                'referral_state': 'state'}.get(name, name))
        return value.id if hasattr(value, 'id') else value

    @classmethod
    def search_referral_field(cls, name, clause):
        nested = clause[0][len(name):]
        return [('referral.' + name + nested, *clause[1:])]

    @fields.depends('payout', '_parent_payout.state')
    def on_change_with_payout_state(self, name=None):
        return self.payout.state if self.payout else None

    @classmethod
    @ModelView.button
    def block(cls, lines):
        "Block the referrals in the preview; the preview is made again"
        Referral = Pool().get('referral.referral')
        cls._decide(lines, Referral.block)

    @classmethod
    @ModelView.button
    def release(cls, lines):
        "Approve the referrals for payout; the preview is made again"
        Referral = Pool().get('referral.referral')
        cls._decide(lines, Referral.approve)

    @classmethod
    def _decide(cls, lines, transition):
        Payout = Pool().get('referral.payout')
        payouts = list({line.payout for line in lines})
        for payout in payouts:
            if payout.state != 'draft':
                raise AccessError(gettext(
                        'referral_commission.msg_payout_not_draft',
                        payout=payout.rec_name))
        transition(list({line.referral for line in lines}))
        Payout.preview(payouts)


class PayoutRecipient(_PayoutDetailMixin, ModelSQL, ModelView):
    "Voucher a referral payout issues or holds back"
    __name__ = 'referral.payout.recipient'

    referrer = fields.Many2One(
        'party.party', "Referrer", required=True, readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company')
    branch = fields.Many2One(
        'referral.branch', "Branch", readonly=True, ondelete='RESTRICT')
    referral = fields.Many2One(
        'referral.referral', "Referral", readonly=True, ondelete='CASCADE',
        help="The one referral the voucher is for; empty when it is for "
        "all of the referrer's referrals.")
    base_amount = Monetary(
        "Revenue", currency='currency', digits='currency', readonly=True)
    new_amount = Monetary(
        "New", currency='currency', digits='currency', readonly=True)
    difference_amount = Monetary(
        "Differences", currency='currency', digits='currency', readonly=True)
    overpaid_amount = Monetary(
        "Overpaid", currency='currency', digits='currency', readonly=True)
    voucher = fields.Many2One(
        'referral.voucher', "Voucher", readonly=True, ondelete='SET NULL')
    lines = fields.One2Many(
        'referral.payout.line', 'recipient', "Lines", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('payout', 'ASC'), ('id', 'ASC')]

    @fields.depends('payout', '_parent_payout.company')
    def on_change_with_company(self, name=None):
        return self.payout.company if self.payout else None
