# This file is part of the lead trading suite. See README.rst for details.
"""Referrals: a customer recruited a new customer and earns commission on
the revenue the new customer brings."""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.modules.lead_billing.audit import AuditedMixin
from trytond.modules.product import round_price
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids, sqlite_apply_types
from trytond.transaction import Transaction, without_check_access

from .configuration import referral_settings
from .exceptions import ReferralError
from .rules import commission_share

# Ids per query: a payout or a collect may cover thousands of customers
QUERY_SLICE = 1000
# What makes a referral earn: fixed once it earned commission
FIXED_WITH_COMMISSION = {'referrer', 'referred', 'date', 'company'}
REFERRAL_STATES = [
    ('open', "Open"),
    ('approved', "Approved"),
    ('blocked', "Blocked"),
    ]
REFERRAL_KINDS = [
    ('standard', "Standard Recipient"),
    ('collector', "Commission Collector"),
    ]


class Referral(AuditedMixin, Workflow, ModelSQL, ModelView):
    "Referral of a new customer by an existing one"
    __name__ = 'referral.referral'

    _fixed = {'readonly': Eval('id', -1) >= 0}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    referrer = fields.Many2One(
        'party.party', "Referrer", required=True, states=_fixed,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The customer who recruited the new customer and earns the "
        "commission.")
    referred = fields.Many2One(
        'party.party', "Referred Customer", required=True, states=_fixed,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The new customer whose revenue earns the commission.")
    date = fields.Date(
        "Referral Date", required=True, states=_fixed,
        help="Revenue invoiced from this day on earns commission.")
    branch = fields.Many2One(
        'referral.branch', "Branch", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The branch whose letterhead the vouchers carry.")
    kind = fields.Selection(
        REFERRAL_KINDS, "Type", required=True,
        help="A standard recipient may get a voucher per referral; a "
        "commission collector always gets one voucher for all of its "
        "referrals.")
    state = fields.Selection(
        REFERRAL_STATES, "Approval", required=True, readonly=True,
        sort=False,
        help="Approved referrals are paid; open ones only by payouts "
        "that do not ask for approval; blocked ones never.")
    agent = fields.Many2One(
        'commission.agent', "Commission Agent", readonly=True,
        ondelete='RESTRICT',
        help="The commission agent that stands for the referrer.")
    note = fields.Text("Note")
    commissions = fields.One2Many(
        'commission', 'referral', "Commissions", readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    revenue = fields.Function(Monetary(
            "Revenue", currency='currency', digits='currency',
            help="The referred customer's invoiced revenue that earns "
            "commission, net of credit notes."),
        'get_amounts')
    paid_amount = fields.Function(Monetary(
            "Paid Out", currency='currency', digits='currency',
            help="The voucher commission paid out so far."),
        'get_amounts')
    open_revenue = fields.Function(Monetary(
            "Revenue Not Paid Out", currency='currency', digits='currency',
            help="Revenue whose commission was not paid out yet, settled "
            "or not."),
        'get_amounts')

    del _fixed

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {
            'referrer', 'referred', 'date', 'branch', 'kind', 'state'}
        t = cls.__table__()
        cls._sql_constraints += [
            ('referred_unique', Unique(t, t.company, t.referred),
                'referral_commission.msg_referral_referred_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.referrer, Index.Range())),
                Index(t, (t.branch, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'approved'),
            ('open', 'blocked'),
            ('approved', 'blocked'),
            ('blocked', 'approved'),
            ('approved', 'open'),
            ('blocked', 'open'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') == 'approved',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'block': {
                    'invisible': Eval('state') == 'blocked',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') == 'open',
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'collect': {
                    'readonly': Eval('id', -1) < 0,
                    'icon': 'tryton-refresh',
                    'depends': ['id'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'open'

    @staticmethod
    def default_kind():
        return 'standard'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return gettext('referral_commission.msg_referral_rec_name',
            referrer=self.referrer.rec_name, referred=self.referred.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('referrer.rec_name',) + tuple(clause[1:]),
            ('referred.rec_name',) + tuple(clause[1:]),
            ]

    @classmethod
    def get_amounts(cls, referrals, names):
        Commission = Pool().get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        totals = {name: defaultdict(Decimal) for name in [
                'revenue', 'paid_amount', 'open_revenue']}
        paid = commission.referral_voucher != Null
        for sub_ids in grouped_slice(referrals, backend.MAX_QUERY_PARAMS):
            query = commission.select(
                commission.referral, paid,
                Sum(commission.base_amount).as_('base'),
                Sum(commission.amount).as_('amount'),
                where=reduce_ids(commission.referral, map(int, sub_ids)),
                group_by=[commission.referral, paid])
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, None, 'NUMERIC', 'NUMERIC'])
            cursor.execute(*query)
            for referral_id, is_paid, base, amount in cursor:
                totals['revenue'][referral_id] += base
                if is_paid:
                    totals['paid_amount'][referral_id] += amount
                else:
                    totals['open_revenue'][referral_id] += base
        return {name: {r.id: r.currency.round(totals[name][r.id])
                for r in referrals}
            for name in names}

    @classmethod
    def validate_fields(cls, referrals, field_names):
        super().validate_fields(referrals, field_names)
        cls.check_parties(referrals, field_names)

    @classmethod
    def check_parties(cls, referrals, field_names=None):
        if field_names and not (field_names & {'referrer', 'referred'}):
            return
        for referral in referrals:
            if referral.referrer == referral.referred:
                raise ReferralError(gettext(
                        'referral_commission.msg_referral_self',
                        party=referral.referrer.rec_name))

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            values.setdefault('company', cls.default_company())
        # the agent and the commission are the programme's business, not
        # something the user creates
        with without_check_access():
            agents = cls.referrer_agents(
                {(v['company'], v['referrer']) for v in vlist})
        for values in vlist:
            values['agent'] = agents[values['company'], values['referrer']]
        referrals = super().create(vlist)
        with without_check_access():
            cls.collect(referrals)
        cls.forget_visible_parties()
        return referrals

    @classmethod
    def forget_visible_parties(cls):
        """A referrer logged in as itself sees the parties it referred: the
        record rules computed with the former ones are dropped"""
        Pool().get('ir.rule')._domain_get_cache.clear()

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args, changed = [], []
        for referrals, values in zip(actions, actions):
            if values.keys() & {'referrer', 'referred'}:
                cls.forget_visible_parties()
            if values.keys() & FIXED_WITH_COMMISSION:
                for referral in referrals:
                    if referral.commissions:
                        raise ReferralError(gettext(
                                'referral_commission.msg_referral_fixed',
                                referral=referral.rec_name))
                changed.extend(referrals)
            args.extend((referrals, values))
        super().write(*args)
        if changed:
            with without_check_access():
                agents = cls.referrer_agents(
                    {(r.company.id, r.referrer.id) for r in changed})
                for referral in changed:
                    agent = agents[referral.company.id, referral.referrer.id]
                    if referral.agent.id != agent:
                        super().write([referral], {'agent': agent})
                cls.collect(cls.browse(changed))

    @classmethod
    def referrer_agents(cls, keys):
        """{(company id, party id): agent id} of the commission agents of the
        referral programme for the referrers, created the first time a
        party refers someone"""
        pool = Pool()
        Agent = pool.get('commission.agent')
        Company = pool.get('company.company')
        agents = {}
        for sub_keys in grouped_slice(list(keys), QUERY_SLICE):
            for agent in Agent.search([
                        ('referral_programme', '=', True),
                        ('party', 'in', list({p for _, p in sub_keys})),
                        ]):
                agents[agent.company.id, agent.party.id] = agent.id
        missing = sorted(keys - agents.keys())
        for (company_id, party_id), agent in zip(missing, Agent.create([{
                        'company': company_id,
                        'party': party_id,
                        'type_': 'agent',
                        'currency': Company(company_id).currency.id,
                        'referral_programme': True,
                        } for company_id, party_id in missing])):
            agents[company_id, party_id] = agent.id
        return agents

    @classmethod
    def delete(cls, referrals):
        for referral in referrals:
            if referral.commissions:
                raise ReferralError(gettext(
                        'referral_commission.msg_referral_delete_commissions',
                        referral=referral.rec_name))
        super().delete(referrals)
        cls.forget_visible_parties()

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, referrals):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('blocked')
    def block(cls, referrals):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, referrals):
        pass

    @classmethod
    @ModelView.button
    def collect(cls, referrals):
        """Give the referrals the commission of the revenue their customers
        were invoiced since the referral date and that has none yet: revenue
        posted before the referral was recorded, or before the programme
        was set up"""
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        Commission = pool.get('commission')
        if not referrals:
            return
        # Written first: a second collect of the same referral waits for
        # this one and fails to serialize instead of doubling commission
        cls.write(list(referrals), {})
        # the referral dates are checked when the commission is made
        since = min(r.date for r in referrals)
        lines = []
        for parties in grouped_slice(
                list({r.referred.id for r in referrals}), QUERY_SLICE):
            lines.extend(InvoiceLine.search([
                        ('invoice.type', '=', 'out'),
                        ('invoice.state', 'in', ['posted', 'paid']),
                        ('invoice.party', 'in', list(parties)),
                        ('invoice.invoice_date', '>=', since),
                        ('type', '=', 'line'),
                        ], order=[('id', 'ASC')]))
        collected = set()
        for sub_ids in grouped_slice(
                [line.id for line in lines], QUERY_SLICE):
            collected.update(c.referral_line_key for c in Commission.search([
                        ('referral_line_key', 'in', list(sub_ids)),
                        ]))
        cls.commission_lines(
            [line for line in lines if line.id not in collected])

    @classmethod
    def commission_lines(cls, lines):
        """Create the referral commissions of posted customer invoice lines:
        revenue of a referred customer from its referral date on earns
        commission; a credit of such revenue corrects its commission;
        revenue that never earned commission is never corrected."""
        pool = Pool()
        Commission = pool.get('commission')
        lines = [line for line in lines
            if line.type == 'line' and line.invoice.type == 'out'
            and line.account and line.account.type
            and line.account.type.revenue]
        if not lines:
            return []
        referral_of = cls.referrals_of_lines(lines)
        settings = {company: referral_settings(company.id) for company in {
                r.company for r in referral_of.values()}}
        revenue, credits = [], []
        for line in lines:
            referral = referral_of.get(line.id)
            if referral:
                corrected = line.corrected_revenue_line
                (credits if corrected else revenue).append(
                    (line, referral, corrected))
        # revenue first: a credit note may correct a line collected along
        commissions = [c for c in (
                referral.new_commission(line, settings[referral.company])
                for line, referral, _ in revenue)
            if c]
        Commission.save(commissions)
        corrections = []
        if credits:
            originals = {c.referral_line_key: c for c in Commission.search([
                        ('referral_line_key', 'in',
                            [o.id for _, _, o in credits]),
                        ])}
            for line, referral, corrected in credits:
                original = originals.get(corrected.id)
                if original is None or original.referral != referral:
                    continue
                commission = referral.new_commission(
                    line, settings[referral.company])
                if commission:
                    commission.referral_corrects = original
                    corrections.append(commission)
            Commission.save(corrections)
        return commissions + corrections

    @classmethod
    def referrals_of_lines(cls, lines):
        "{invoice line id: referral} of the lines whose revenue earns"
        referrals = defaultdict(list)
        for referral in cls.search([
                    ('referred', 'in', list({line.invoice.party.id
                                for line in lines})),
                    ]):
            referrals[referral.company.id, referral.referred.id].append(
                referral)
        result = {}
        for line in lines:
            invoice = line.invoice
            for referral in referrals[invoice.company.id, invoice.party.id]:
                if invoice.invoice_date and invoice.invoice_date >= (
                        referral.date):
                    result[line.id] = referral
        return result

    def new_commission(self, line, settings):
        """The commission of the invoice line for the referrer, valued with
        the referral `settings` of its company at the programme's voucher
        rate until a payout pays it at its own; None when that value is
        below the smallest commission"""
        pool = Pool()
        Commission = pool.get('commission')
        Currency = pool.get('currency.currency')
        Date = pool.get('ir.date')
        invoice = line.invoice
        if not settings.product:
            raise ReferralError(gettext(
                    'referral_commission.msg_referral_not_configured',
                    company=self.company.rec_name))
        with Transaction().set_context(date=invoice.currency_date):
            base = round_price(Currency.compute(
                    invoice.currency, line.amount, self.agent.currency,
                    round=False))
        amount = commission_share(base, settings.voucher_rate)
        if not amount:
            return None
        commission = Commission(
            origin=line, agent=self.agent, product=settings.product,
            base_amount=base, amount=amount, referral=self,
            referral_line=line, referral_line_key=line.id)
        if invoice.state == 'paid':
            with Transaction().set_context(company=self.company.id):
                commission.date = invoice.reconciled or Date.today()
        return commission

    @classmethod
    def paid_before(cls, referral_ids):
        "The ids of the referrals of which commission was paid out"
        Commission = Pool().get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub_ids in grouped_slice(referral_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*commission.select(
                    commission.referral,
                    where=reduce_ids(commission.referral, sub_ids)
                    & (commission.referral_voucher != Null),
                    group_by=[commission.referral],
                    having=Count(commission.id) > 0))
            result.update(r for r, in cursor)
        return result
