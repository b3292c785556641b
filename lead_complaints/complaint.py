# This file is part of the lead trading suite. See README.rst for details.
"""Complaints: a buyer returns a delivered lead with a reason inside the
complaint window; a person or an automatic rule decides, and acceptance
moves the money on both sides: the buyer is not billed or gets an invoice
correction, the supplier is not paid or gets the share netted on its next
self-billing statement."""
import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

from sql import Null
from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.modules.lead_billing import validation
from trytond.modules.lead_billing.lead import company_timezone, local_date
from trytond.modules.lead_billing.period import period_of
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ComplaintRefused, ComplaintValidationError
from .rules import (
    RATE_EXPONENT, complaint_deadline, exceeds_cap, return_rate,
    supplier_share, window_days, within_window)

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]
# The states in which a complaint holds its delivery: at most one per
# delivery, enforced by the database
HOLDING_STATES = ['draft', 'submitted', 'accepted']
# What a buyer logged in as itself says about its complaint; everything
# else on it is the trader's to record
BUYER_FIELDS = {'buyer', 'delivery', 'reason', 'description'}
EMPTY_VALUES = (None, '', [], (), False)
# A decided complaint is a document: what it returned, why, and how it was
# decided and booked stay as they were; the statement that nets its
# supplier share is linked to it later
DECIDED_STATES = {'accepted', 'rejected'}
FIXED_WHEN_DECIDED = {
    'company', 'buyer', 'delivery', 'reason', 'description', 'state',
    'submitted_at', 'submitted_by', 'over_cap', 'period_return_rate',
    'auto_check', 'decision_note', 'decided_at', 'decided_by',
    'decided_automatically', 'credit_line', 'supplier_amount'}
SUPPLIER_STATES = [
    (None, ""),
    ('not_paid', "Not paid"),
    ('pending', "To be netted"),
    ('netted', "Netted"),
    ]


class Complaint(Workflow, ModelSQL, ModelView):
    "Lead complaint: a buyer returns a delivered lead"
    __name__ = 'lead.complaint'

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    buyer = fields.Many2One(
        'party.party', "Buyer", required=True, ondelete='RESTRICT',
        domain=[('lead_buyer', '=', True)],
        context={'company': Eval('company', -1)}, depends={'company'},
        states=_draft)
    delivery = fields.Many2One(
        'lead.delivery', "Delivery", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('state', '=', 'delivered'),
            If(Bool(Eval('buyer')), ('buyer', '=', Eval('buyer', -1)), ()),
            ],
        states=_draft)
    reason = fields.Many2One(
        'lead.complaint.reason', "Reason", required=True,
        ondelete='RESTRICT', states=_draft)
    description = fields.Text("Description", states=_draft)
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    lead = fields.Function(
        fields.Many2One('lead.lead', "Lead"),
        'get_delivery_field', searcher='search_delivery_field')
    supplier = fields.Function(
        fields.Many2One('party.party', "Supplier",
            context={'company': Eval('company', -1)}, depends={'company'}),
        'get_delivery_field', searcher='search_delivery_field')
    category = fields.Function(
        fields.Many2One('lead.category', "Category"),
        'get_delivery_field', searcher='search_delivery_field')
    delivered_at = fields.Function(
        fields.DateTime("Delivered At"),
        'get_delivery_field', searcher='search_delivery_field')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'get_delivery_field')
    unit_price = fields.Function(
        Monetary("Unit Price", currency='currency', digits='currency'),
        'get_delivery_field')
    deadline = fields.Function(
        fields.Date("Deadline",
            help="The last day the buyer may complain about the delivery."),
        'get_deadline')
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    submitted_by = fields.Many2One(
        'res.user', "Submitted By", readonly=True)
    over_cap = fields.Boolean(
        "Over Return Cap", readonly=True,
        help="With this complaint the buyer returns more of the billing "
        "period's leads than its return cap allows; it is never accepted "
        "automatically.")
    period_return_rate = fields.Numeric(
        "Period Return Rate", digits=(1, 4), readonly=True,
        help="Returned leads (submitted or accepted, this one included) per "
        "lead delivered to the buyer in the billing period, when submitted.")
    auto_check = fields.Char(
        "Automatic Check", readonly=True,
        help="What the automatic rules found when the complaint was "
        "submitted.")
    decision_note = fields.Text(
        "Decision Note",
        states={
            'readonly': ~Eval('state').in_(['draft', 'submitted']),
            })
    decided_at = fields.DateTime("Decided At", readonly=True)
    decided_by = fields.Many2One('res.user', "Decided By", readonly=True)
    decided_automatically = fields.Boolean(
        "Decided Automatically", readonly=True)
    credit_line = fields.Many2One(
        'account.invoice.line', "Credit Line", readonly=True,
        ondelete='RESTRICT',
        help="The invoice correction line that credits the buyer.")
    credit_note = fields.Function(
        fields.Many2One('account.invoice', "Invoice Correction"),
        'get_credit_note', searcher='search_credit_note')
    supplier_amount = Monetary(
        "Supplier Share", currency='currency', digits='currency',
        readonly=True,
        help="The share of the lead's purchase price that the supplier "
        "gives back for the returned delivery.")
    supplier_line = fields.Many2One(
        'account.invoice.line', "Statement Line", readonly=True,
        ondelete='SET NULL',
        help="The self-billing statement line that nets the supplier "
        "share.")
    supplier_state = fields.Function(
        fields.Selection(SUPPLIER_STATES, "Supplier Side"),
        'get_supplier_state')
    # The delivery while the complaint holds it (draft, submitted, accepted)
    # and empty afterwards, so that a plain unique index, which every
    # backend enforces, allows one holding complaint per delivery.
    holding_delivery = fields.Integer("Holding Delivery", readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('holding_delivery_unique', Unique(t, t.holding_delivery),
                'lead_complaints.msg_complaint_delivery_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.delivery, Index.Range())),
                Index(t, (t.buyer, Index.Range()),
                    (t.state, Index.Equality())),
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['draft', 'submitted'])),
                Index(t, (t.supplier_line, Index.Range())),
                Index(t, (t.credit_line, Index.Range())),
                # The billing run nets the accepted returns no statement
                # took yet; this index stays as small as that backlog.
                Index(t, (t.company, Index.Range()),
                    where=(t.state == 'accepted')
                    & (t.supplier_line == Null)),
                })
        cls._order = [('submitted_at', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'accepted'),
            ('submitted', 'rejected'),
            ('draft', 'cancelled'),
            ('submitted', 'cancelled'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'accept': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'readonly': ~Eval('decision_note'),
                    'icon': 'tryton-cancel',
                    'depends': ['state', 'decision_note'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'submitted']),
                    'icon': 'tryton-delete',
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
    def default_buyer():
        parties = Pool().get('res.user').get_lead_parties()
        return parties[0] if len(parties) == 1 else None

    def get_rec_name(self, name):
        return f'{self.delivery.rec_name} ({self.reason.rec_name})'

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('delivery.rec_name',) + tuple(clause[1:]),
            ('reason.rec_name',) + tuple(clause[1:]),
            ]

    def get_delivery_field(self, name):
        if name in {'delivered_at', 'unit_price'}:
            return getattr(self.delivery, name)
        if name == 'currency':
            return self.delivery.currency.id
        if name == 'lead':
            return self.delivery.lead.id
        return getattr(self.delivery.lead, name).id

    @classmethod
    def search_delivery_field(cls, name, clause):
        nested = clause[0][len(name):]
        if name in {'lead', 'delivered_at'}:
            return [('delivery.' + name + nested, *clause[1:])]
        return [('delivery.lead.' + name + nested, *clause[1:])]

    @classmethod
    def get_deadline(cls, complaints, name):
        tzinfo = company_timezone()
        return {c.id: c.compute_deadline(tzinfo) for c in complaints}

    def compute_deadline(self, tzinfo):
        days = window_days(
            self.delivery.lead.category.complaint_window_days,
            self.buyer.lead_complaint_window_days)
        return complaint_deadline(
            local_date(self.delivery.delivered_at, tzinfo), days)

    def get_credit_note(self, name):
        return self.credit_line.invoice.id if self.credit_line else None

    @classmethod
    def search_credit_note(cls, name, clause):
        nested = clause[0][len(name):]
        return [('credit_line.invoice' + nested, *clause[1:])]

    def get_supplier_state(self, name):
        if self.state != 'accepted':
            return None
        if self.supplier_line:
            return 'netted'
        if self.delivery.lead.supplier_not_payable:
            return 'not_paid'
        if self.supplier_amount:
            return 'pending'
        return None

    @classmethod
    def check_buyer_values(cls, values, creating=False):
        """Refuse values a buyer logged in as itself may not give: it files
        and describes its complaint, the trader decides it"""
        User = Pool().get('res.user')
        if not (Transaction().check_access and User.get_lead_parties()):
            return
        refused = set(values) - BUYER_FIELDS
        if creating and refused:
            # the web client sends every field of the form with a new
            # record: what is left empty or at its default says nothing
            defaults = cls.default_get(list(refused), with_rec_name=False)
            refused = {f for f in refused
                if values[f] not in EMPTY_VALUES
                and values[f] != defaults.get(f)}
        refused = sorted(refused)
        if refused:
            raise AccessError(gettext(
                    'lead_complaints.msg_complaint_buyer_fields',
                    fields=', '.join(
                        cls._fields[f].string if f in cls._fields else f
                        for f in refused)))

    @classmethod
    def check_own_deliveries(cls, vlist):
        """Refuse a buyer logged in as itself a complaint about a delivery
        that is not its own, before the database is asked: its constraint
        would tell whether that delivery has a complaint already"""
        pool = Pool()
        User = pool.get('res.user')
        Delivery = pool.get('lead.delivery')
        parties = User.get_lead_parties()
        if not (Transaction().check_access and parties):
            return
        delivery_ids = {v['delivery'] for v in vlist
            if v.get('delivery') is not None}
        with Transaction().set_context(active_test=False):
            own = {d.id for d in Delivery.search([
                        ('id', 'in', list(delivery_ids)),
                        ('buyer', 'in', parties),
                        ])}
        if delivery_ids - own:
            raise AccessError(gettext(
                    'lead_complaints.msg_complaint_not_own_delivery'))

    @classmethod
    def create(cls, vlist):
        Delivery = Pool().get('lead.delivery')
        vlist = [v.copy() for v in vlist]
        cls.check_own_deliveries(vlist)
        for values in vlist:
            cls.check_buyer_values(values, creating=True)
            if values.get('delivery') is not None:
                delivery = Delivery(values['delivery'])
                values.setdefault('buyer', delivery.buyer.id)
                values.setdefault('company', delivery.company.id)
            if values.get('state', 'draft') in HOLDING_STATES:
                values['holding_delivery'] = values.get('delivery')
            else:
                values['holding_delivery'] = None
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        # A complaint only leaves the holding states (to rejected or
        # cancelled), and its delivery only changes while it is a draft
        actions = iter(args)
        args = []
        for complaints, values in zip(actions, actions):
            cls.check_buyer_values(values)
            values = values.copy()
            if 'delivery' in values:
                values['holding_delivery'] = values['delivery']
            if values.get('state', 'draft') not in HOLDING_STATES:
                values['holding_delivery'] = None
            args.extend((complaints, values))
        super().write(*args)

    @classmethod
    def check_modification(
            cls, mode, complaints, values=None, external=False):
        super().check_modification(
            mode, complaints, values=values, external=external)
        if mode == 'write' and values.keys() & FIXED_WHEN_DECIDED:
            for complaint in complaints:
                if complaint.state in DECIDED_STATES:
                    raise AccessError(gettext(
                            'lead_complaints.msg_complaint_decided_modify',
                            complaint=complaint.rec_name))

    @classmethod
    def validate_fields(cls, complaints, field_names):
        super().validate_fields(complaints, field_names)
        if field_names & {'delivery', 'buyer', 'reason'}:
            cls.check_delivery(complaints)

    @classmethod
    def check_delivery(cls, complaints):
        for complaint in complaints:
            delivery = complaint.delivery
            if delivery.buyer.lead_internal:
                raise ComplaintValidationError(gettext(
                        'lead_complaints.msg_complaint_internal',
                        delivery=delivery.rec_name))
            if delivery.buyer != complaint.buyer:
                raise ComplaintValidationError(gettext(
                        'lead_complaints.msg_complaint_other_buyer',
                        delivery=delivery.rec_name,
                        buyer=complaint.buyer.rec_name))
            if delivery.state != 'delivered':
                raise ComplaintValidationError(gettext(
                        'lead_complaints.msg_complaint_delivery_cancelled',
                        delivery=delivery.rec_name))
            category = delivery.lead.category
            if complaint.reason in category.complaint_reasons_disabled:
                raise ComplaintValidationError(gettext(
                        'lead_complaints.msg_complaint_reason_disabled',
                        reason=complaint.reason.rec_name,
                        category=category.rec_name))

    @classmethod
    def delete(cls, complaints):
        for complaint in complaints:
            if complaint.state not in {'draft', 'cancelled'}:
                raise AccessError(gettext(
                        'lead_complaints.msg_complaint_delete',
                        complaint=complaint.rec_name))
        super().delete(complaints)

    @classmethod
    def copy(cls, complaints, default=None):
        default = default.copy() if default is not None else {}
        for name in ['holding_delivery', 'submitted_at', 'submitted_by',
                'over_cap',
                'period_return_rate', 'auto_check', 'decision_note',
                'decided_at', 'decided_by', 'decided_automatically',
                'credit_line', 'supplier_amount', 'supplier_line']:
            default.setdefault(name)
        default.setdefault('state', 'draft')
        return super().copy(complaints, default=default)

    @classmethod
    @ModelView.button
    def submit(cls, complaints):
        """Submit draft complaints inside their window, flag those over the
        buyer's return cap and let the automatic rules accept the ones
        whose lead fails the check their reason claims"""
        complaints = [c for c in complaints if c.state == 'draft']
        cls._submit(complaints)
        complaints = cls.browse(complaints)
        cls.flag_over_cap(complaints)
        cls.decide_automatically(cls.browse(complaints))

    @classmethod
    @Workflow.transition('submitted')
    def _submit(cls, complaints):
        now = dt.datetime.now()
        for complaint, refusal in zip(
                complaints, cls.window_refusals(complaints, now)):
            if refusal:
                raise ComplaintRefused(refusal)
        cls.write(complaints, {
                'submitted_at': now,
                'submitted_by': Transaction().user,
                })

    @classmethod
    def window_refusals(cls, complaints, at):
        """Return for each complaint the message that refuses it when made
        at `at` (naive UTC) after its window closed, else None"""
        Lang = Pool().get('ir.lang')
        tzinfo = company_timezone()
        today = local_date(at, tzinfo)
        lang = Lang.get()
        refusals = []
        for complaint in complaints:
            deadline = complaint.compute_deadline(tzinfo)
            if within_window(today, deadline):
                refusals.append(None)
            else:
                refusals.append(gettext(
                        'lead_complaints.msg_complaint_window_closed',
                        delivery=complaint.delivery.rec_name,
                        deadline=lang.strftime(deadline),
                        today=lang.strftime(today)))
        return refusals

    @classmethod
    def flag_over_cap(cls, complaints):
        """Record for each complaint the buyer's return rate of the billing
        period of its delivery, and flag it when that is over the cap.

        Complaints submitted together count in turn, oldest first: each one
        is judged with the returns before it, not with those after it."""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        delivery = Delivery.__table__()
        complaint = cls.__table__()
        cursor = Transaction().connection.cursor()
        tzinfo = company_timezone()
        periods = defaultdict(list)
        for record in complaints:
            buyer = record.buyer
            period = period_of(buyer.lead_billing_interval or 'monthly',
                local_date(record.delivery.delivered_at, tzinfo))
            periods[buyer, period].append(record)
        to_write = []
        for (buyer, period), records in periods.items():
            start, stop = period.utc_bounds(tzinfo)
            in_period = ((delivery.buyer == buyer.id)
                & (delivery.state == 'delivered')
                & (delivery.delivered_at >= start)
                & (delivery.delivered_at < stop))
            cursor.execute(*delivery.select(Count(delivery.id),
                    where=in_period))
            delivered, = cursor.fetchone()
            judged = [r.id for r in records]
            cursor.execute(*delivery.join(complaint,
                    condition=complaint.delivery == delivery.id).select(
                    Count(complaint.id),
                    where=in_period
                    & complaint.state.in_(['submitted', 'accepted'])
                    & ~complaint.id.in_(judged)))
            returned, = cursor.fetchone()
            for record in sorted(records, key=lambda r: r.id):
                returned += 1
                rate = return_rate(returned, delivered)
                to_write.extend(([record], {
                            'period_return_rate': rate.quantize(
                                RATE_EXPONENT),
                            'over_cap': exceeds_cap(
                                returned, delivered, buyer.lead_return_cap),
                            }))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def decide_automatically(cls, complaints):
        "Accept the complaints whose automatic rule confirms their reason"
        notes = defaultdict(list)
        confirmed = []
        for complaint, (accepted, note) in zip(
                complaints, cls.automatic_checks(complaints)):
            notes[note].append(complaint)
            if accepted:
                confirmed.append(complaint)
        to_write = []
        for note, records in notes.items():
            to_write.extend((records, {'auto_check': note}))
        if to_write:
            cls.write(*to_write)
        if confirmed:
            cls.accept_automatically(confirmed)

    @classmethod
    def automatic_checks(cls, complaints):
        """Return for each complaint (accept, why): whether its reason's rule
        confirms it, with the explanation every automatic decision gives."""
        pool = Pool()
        Configuration = pool.get('lead.configuration')
        region = Configuration(1).phone_region
        duplicates = cls._confirmed_duplicates(
            [c for c in complaints if c.reason.auto_rule == 'duplicate'])
        results = []
        for complaint in complaints:
            rule = complaint.reason.auto_rule
            lead = complaint.delivery.lead
            if not rule:
                results.append((False, gettext(
                            'lead_complaints.msg_auto_no_rule')))
                continue
            if complaint.over_cap:
                results.append((False, gettext(
                            'lead_complaints.msg_auto_over_cap',
                            rate=f'{complaint.period_return_rate:.2%}',
                            cap=f'{complaint.buyer.lead_return_cap:.2%}')))
                continue
            if complaint.delivery.invoice_line and (
                    complaint.delivery.invoice_line.invoice.state
                    == 'draft'):
                results.append((False, gettext(
                            'lead_complaints.msg_auto_draft_invoice')))
                continue
            if lead.personal_data_erased and rule != 'duplicate':
                # blank contact data would pass for invalid contact data
                results.append((False, gettext(
                            'lead_complaints.msg_auto_erased')))
                continue
            if rule == 'phone':
                failed = validation.normalize_phone(
                    lead.phone, region) is None
                key = 'phone'
                value = lead.phone or ''
            elif rule == 'email':
                failed = not validation.is_valid_email(lead.email)
                key = 'email'
                value = lead.email or ''
            elif rule == 'postal_code':
                failed = validation.is_valid_postal_code(
                    lead.postal_code,
                    lead.country.code if lead.country else None) is False
                key = 'postal_code'
                value = lead.postal_code or ''
            else:
                other = duplicates.get(lead.id)
                failed = other is not None
                key = 'duplicate'
                value = other.rec_name if other else ''
            state = 'failed' if failed else 'passed'
            results.append((failed, gettext(
                        f'lead_complaints.msg_auto_{key}_{state}',
                        value=value)))
        return results

    @classmethod
    def _confirmed_duplicates(cls, complaints):
        """{lead id: the other lead} for the leads of complaints that the
        duplicate check of their category finds again, whether or not the
        category sends duplicates to review"""
        Lead = Pool().get('lead.lead')
        leads = {c.delivery.lead for c in complaints}
        result = {}
        vlist = []
        for lead in leads:
            if lead.duplicate_of:
                result[lead.id] = lead.duplicate_of
                continue
            vlist.append({
                    '_self': lead.id,
                    'category': lead.category.id,
                    'received_at': lead.received_at,
                    'phone_key': lead.phone_key,
                    'email_key': lead.email_key,
                    })
        if vlist:
            categories = {lead.category.id: SimpleNamespace(
                    id=lead.category.id, check_duplicates=True,
                    duplicate_window=lead.category.duplicate_window)
                for lead in leads}
            Lead._find_duplicates(vlist, categories)
            for values in vlist:
                if values.get('duplicate_of'):
                    result[values['_self']] = Lead(values['duplicate_of'])
        return result

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, complaints):
        cls.apply_acceptance(complaints, automatic=False)

    @classmethod
    @Workflow.transition('accepted')
    def accept_automatically(cls, complaints):
        cls.apply_acceptance(complaints, automatic=True)

    @classmethod
    def apply_acceptance(cls, complaints, automatic):
        """Take the deliveries back: unbilled ones leave the next invoice,
        billed ones get a posted invoice correction; the supplier gives
        back its share of the lead, by not being paid for it or on its next
        statement."""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        # Write the complaints and their leads first: a concurrent decision
        # on the same complaint, or on another delivery of the same lead,
        # waits for this transaction and then fails to serialize, so Tryton
        # runs it again on what this one committed.
        cls.write(complaints, {
                'decided_at': dt.datetime.now(),
                'decided_by': None if automatic else Transaction().user,
                'decided_automatically': automatic,
                })
        Lead.claim(list({c.delivery.lead for c in complaints}))
        for complaint in complaints:
            line = complaint.delivery.invoice_line
            if line and line.invoice.state == 'draft':
                raise ComplaintRefused(gettext(
                        'lead_complaints.msg_complaint_draft_invoice',
                        complaint=complaint.rec_name,
                        invoice=line.invoice.rec_name))
        unbilled = [c.delivery for c in complaints
            if not c.delivery.invoice_line]
        if unbilled:
            Delivery.write(unbilled, {'billable': False})
        cls.credit_buyers([c for c in complaints if c.delivery.invoice_line])
        cls.reverse_supplier_shares(complaints)

    @classmethod
    def credit_buyers(cls, complaints):
        """Create, post and send one invoice correction per complaint for
        exactly its delivery, at the price and taxes it was billed with"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Date = pool.get('ir.date')
        if not complaints:
            return
        today = Date.today()
        invoices = [c._invoice_correction(today) for c in complaints]
        Invoice.save(invoices)
        to_write = []
        for complaint, invoice in zip(complaints, invoices):
            to_write.extend(
                ([complaint], {'credit_line': invoice.lines[0].id}))
        cls.write(*to_write)
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(invoices)
        Invoice.__queue__.send_lead_documents(invoices)

    def _invoice_correction(self, today):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Lang = pool.get('ir.lang')
        billed = self.delivery.invoice_line
        original = billed.invoice
        invoice = Invoice(invoice_date=today, lead_document=True,
            lead_correction=True,
            lead_period_start=original.lead_period_start,
            lead_period_end=original.lead_period_end)
        for name in ['company', 'type', 'party', 'invoice_address',
                'currency', 'journal', 'account', 'payment_term',
                'tax_identifier', 'party_tax_identifier']:
            setattr(invoice, name, getattr(original, name))
        lead = self.delivery.lead
        with Transaction().set_context(
                language=original.party.lang.code
                if original.party.lang else None):
            invoice.description = gettext(
                'lead_complaints.msg_correction_description',
                invoice=original.number or original.rec_name,
                date=Lang.get().strftime(original.invoice_date))
            line = billed._credit()
            line.quantity = -1
            line.description = gettext(
                'lead_complaints.msg_correction_line',
                reference=lead.reference, reason=self.reason.name)
        invoice.lines = [line]
        return invoice

    @classmethod
    def reverse_supplier_shares(cls, complaints):
        """Set what the supplier gives back for each returned delivery; a
        lead not paid yet that every buyer has now returned stays off the
        statements altogether"""
        pool = Pool()
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        delivery = Delivery.__table__()
        complaint = cls.__table__()
        cursor = Transaction().connection.cursor()
        by_lead = defaultdict(list)
        for record in complaints:
            by_lead[record.delivery.lead].append(record)
        leads = list(by_lead)
        reversed_before = defaultdict(int)
        returned_before = defaultdict(int)
        delivered = defaultdict(int)
        for sub_leads in grouped_slice(leads, backend.MAX_QUERY_PARAMS):
            lead_ids = [lead.id for lead in sub_leads]
            cursor.execute(*delivery.select(delivery.lead,
                    Count(delivery.id),
                    where=reduce_ids(delivery.lead, lead_ids)
                    & (delivery.state == 'delivered'),
                    group_by=[delivery.lead]))
            delivered.update(cursor)
            cursor.execute(*delivery.join(complaint,
                    condition=complaint.delivery == delivery.id).select(
                    delivery.lead, Count(complaint.id),
                    where=reduce_ids(delivery.lead, lead_ids)
                    & (complaint.state == 'accepted')
                    & (complaint.supplier_amount != Null),
                    group_by=[delivery.lead]))
            returned_before.update(cursor)
            for record in cls.search([
                        ('delivery.lead', 'in', lead_ids),
                        ('state', '=', 'accepted'),
                        ('supplier_amount', '!=', None),
                        ]):
                reversed_before[record.delivery.lead.id] += (
                    record.supplier_amount)
        to_write = []
        fully_returned = []
        for lead, records in by_lead.items():
            already = reversed_before[lead.id]
            open_count = delivered[lead.id] - returned_before[lead.id]
            for record in sorted(records, key=lambda r: r.id):
                share = supplier_share(
                    lead.purchase_price, already, open_count,
                    lead.currency.rounding)
                to_write.extend(([record], {'supplier_amount': share}))
                already += share
                open_count -= 1
            if open_count == 0 and not lead.statement_line:
                fully_returned.append(lead)
        if to_write:
            cls.write(*to_write)
        if fully_returned:
            Lead.mark_not_payable(fully_returned)

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, complaints):
        for complaint in complaints:
            if not complaint.decision_note:
                raise ComplaintRefused(gettext(
                        'lead_complaints.msg_complaint_reject_note',
                        complaint=complaint.rec_name))
        cls.write(complaints, {
                'decided_at': dt.datetime.now(),
                'decided_by': Transaction().user,
                'decided_automatically': False,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, complaints):
        pass


class DecideStart(ModelView):
    "Decide complaints"
    __name__ = 'lead.complaint.decide.start'

    decision = fields.Selection([
            ('accept', "Accept"),
            ('reject', "Reject"),
            ], "Decision", required=True)
    note = fields.Text("Decision Note",
        states={'required': Eval('decision') == 'reject'})
    count = fields.Integer("Complaints to Decide", readonly=True)

    @classmethod
    def default_decision(cls):
        return 'accept'


class Decide(Wizard):
    "Accept or reject many submitted complaints at once"
    __name__ = 'lead.complaint.decide'

    start = StateView('lead.complaint.decide.start',
        'lead_complaints.complaint_decide_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Decide", 'decide', 'tryton-ok', default=True),
            ])
    decide = StateTransition()

    def default_start(self, fields):
        return {
            'count': len([r for r in self.records
                    if r.state == 'submitted']),
            }

    def transition_decide(self):
        Complaint = Pool().get('lead.complaint')
        complaints = [r for r in self.records if r.state == 'submitted']
        if not complaints:
            raise ComplaintRefused(gettext(
                    'lead_complaints.msg_complaint_none_submitted'))
        if self.start.note:
            Complaint.write(complaints, {'decision_note': self.start.note})
        if self.start.decision == 'accept':
            Complaint.accept(complaints)
        else:
            Complaint.reject(complaints)
        return 'end'
