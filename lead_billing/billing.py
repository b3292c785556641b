# This file is part of the lead trading suite. See README.rst for details.
"""Billing runs: every unbilled delivery and every unpaid lead of the closed
periods become buyer invoices and supplier self-billing statements.

The rows that grow with the business (deliveries, leads) are read as
aggregates and marked with one UPDATE per document; only the documents and
their grouped lines go through the ORM, so Tryton computes taxes, moves and
numbers as it always does."""
import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from sql import Cast, Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case
from sql.operators import Or

from trytond import backend
from trytond import config as tryton_config
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .bulk import forget_cached
from .exceptions import BillingConflict
from .lead import company_timezone
from .period import Period, closed_periods, local_day

logger = logging.getLogger(__name__)

RUN_STATES = [
    ('draft', "Draft"),
    ('computed', "Computed"),
    ('posted', "Posted"),
    ('cancelled', "Cancelled"),
    ]
ROLES = [
    ('buyer', "Buyer"),
    ('supplier', "Supplier"),
    ]
PARTY_STATUSES = [
    ('billed', "Billed"),
    ('no_agreement', "No self-billing agreement"),
    ]
# Documents created and posted per ORM call: large enough to amortise the
# call, small enough that one call stays in the fast range of Tryton's
# create (about 1,000 to 2,000 lines).
DOCUMENT_BATCH = 100


class DocumentKey(NamedTuple):
    "What makes one document of a run"
    party: int
    currency: int
    start: dt.date
    end: dt.date


class LineGroup(NamedTuple):
    "The leads of one document that share a category and a unit price"
    category: int
    unit_price: Decimal
    quantity: int


class BillingRun(Workflow, ModelSQL, ModelView):
    "Lead billing run"
    __name__ = 'lead.billing.run'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('state') != 'draft'})
    cut_off = fields.Date(
        "Cut-off", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Every period that ended on this day or before is billed.")
    invoice_date = fields.Date(
        "Invoice Date", readonly=True,
        help="The date the documents of the run carry.")
    state = fields.Selection(
        RUN_STATES, "State", required=True, readonly=True, sort=False)
    parties = fields.One2Many(
        'lead.billing.run.party', 'run', "Parties", readonly=True)
    invoices = fields.One2Many(
        'account.invoice', 'lead_billing_run', "Documents", readonly=True)
    buyer_invoice_count = fields.Function(
        fields.Integer("Buyer Invoices"), 'get_summary')
    statement_count = fields.Function(
        fields.Integer("Self-billing Statements"), 'get_summary')
    missing_agreement_count = fields.Function(
        fields.Integer("Suppliers without Agreement"), 'get_summary')
    delivery_count = fields.Function(
        fields.Integer("Deliveries Billed"), 'get_summary')
    lead_count = fields.Function(
        fields.Integer("Leads Paid"), 'get_summary')
    progress = fields.Function(
        fields.Float("Progress", digits=(1, 2)), 'get_progress')
    progress_note = fields.Function(
        fields.Char("Working On"), 'get_progress')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('cut_off', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computed'),
            ('computed', 'posted'),
            ('draft', 'cancelled'),
            ('computed', 'cancelled'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'computed',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_cut_off(cls):
        "The day before today: its periods are complete"
        Date = Pool().get('ir.date')
        return Date.today() - dt.timedelta(days=1)

    def get_rec_name(self, name):
        pool = Pool()
        Lang = pool.get('ir.lang')
        return Lang.get().strftime(self.cut_off)

    @classmethod
    def get_summary(cls, runs, names):
        RunParty = Pool().get('lead.billing.run.party')
        row = RunParty.__table__()
        cursor = Transaction().connection.cursor()
        summary = {n: {r.id: 0 for r in runs} for n in [
                'buyer_invoice_count', 'delivery_count', 'statement_count',
                'lead_count', 'missing_agreement_count']}
        for sub_ids in grouped_slice(
                [r.id for r in runs], backend.MAX_QUERY_PARAMS):
            cursor.execute(*row.select(
                    row.run, row.role, row.status, Count(row.invoice),
                    Count(row.party, distinct=True), Sum(row.lead_count),
                    where=reduce_ids(row.run, sub_ids),
                    group_by=[row.run, row.role, row.status]))
            for run_id, role, status, documents, parties, leads in cursor:
                if role == 'buyer':
                    summary['buyer_invoice_count'][run_id] += documents
                    summary['delivery_count'][run_id] += leads
                elif status == 'billed':
                    summary['statement_count'][run_id] += documents
                    summary['lead_count'][run_id] += leads
                else:
                    summary['missing_agreement_count'][run_id] += parties
        return {n: summary[n] for n in names}

    @classmethod
    def get_progress(cls, runs, names):
        Progress = Pool().get('lead.billing.run.progress')
        progress = {p.run: p for p in Progress.search(
                [('run', 'in', [r.id for r in runs])])}
        result = {'progress': {}, 'progress_note': {}}
        for run in runs:
            record = progress.get(run.id)
            if run.state in {'computed', 'posted'}:
                result['progress'][run.id] = 1.0
            else:
                result['progress'][run.id] = (
                    record.done / record.total
                    if record and record.total else 0.0)
            result['progress_note'][run.id] = record.note if record else ''
        return {n: result[n] for n in names}

    @classmethod
    def delete(cls, runs):
        Progress = Pool().get('lead.billing.run.progress')
        for run in runs:
            if run.state not in {'draft', 'cancelled'} and run.invoices:
                raise AccessError(gettext(
                        'lead_billing.msg_billing_run_delete',
                        run=run.rec_name))
        Progress.delete(Progress.search(
                [('run', 'in', [r.id for r in runs])]))
        super().delete(runs)

    @classmethod
    @ModelView.button
    def compute(cls, runs, progress=None):
        """Create the draft documents of the runs and mark what they bill;
        post them at once unless the company checks every run first.
        `progress(done, total, note)` hears how far a run got."""
        cls._compute(runs, progress)
        auto = [r for r in cls.browse(runs)
            if r.state == 'computed' and not r.needs_final_check]
        if auto:
            cls.post(auto)

    @classmethod
    @Workflow.transition('computed')
    def _compute(cls, runs, progress=None):
        pool = Pool()
        Date = pool.get('ir.date')
        for run in runs:
            with Transaction().set_context(company=run.company.id):
                tracker = ProgressTracker(run, progress)
                run.invoice_date = Date.today()
                run.save()
                run._bill_buyers(tracker)
                run._bill_suppliers(tracker)
                tracker.finish()

    @property
    def needs_final_check(self):
        Configuration = Pool().get('lead.configuration')
        return Configuration(1).get_multivalue(
            'billing_final_check', company=self.company.id)

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, runs):
        """Post the documents of the runs and queue their e-mails; with
        queue workers, the posting itself is shared among them."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        has_worker = tryton_config.getboolean(
            'queue', 'worker', default=False)
        for run in runs:
            invoices = Invoice.search([
                    ('lead_billing_run', '=', run.id),
                    ('state', '=', 'draft'),
                    ], order=[('type', 'DESC'), ('party.name', 'ASC'),
                    ('id', 'ASC')])
            ids = [i.id for i in invoices]
            for sub_ids in grouped_slice(ids, DOCUMENT_BATCH):
                if has_worker:
                    cls.__queue__.post_documents([run], list(sub_ids))
                else:
                    cls.post_documents([run], list(sub_ids))

    @classmethod
    def post_documents(cls, runs, invoice_ids):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = [i for i in Invoice.browse(invoice_ids)
            if i.state == 'draft']
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(invoices)
        Invoice.__queue__.send_lead_documents(invoices)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, runs):
        "Delete the draft documents and free what they billed"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        RunParty = pool.get('lead.billing.run.party')
        invoices = Invoice.search([('lead_billing_run', 'in',
                    [r.id for r in runs])])
        if any(i.state != 'draft' for i in invoices):
            raise AccessError(gettext(
                    'lead_billing.msg_billing_run_cancel_posted'))
        Invoice.delete(invoices)
        RunParty.delete(RunParty.search([('run', 'in',
                        [r.id for r in runs])]))

    @classmethod
    def run_due(cls):
        """The scheduled job: bill what the closed periods hold, for the
        company of the context or else for every company, and post it
        unless the company checks every run by hand."""
        Company = Pool().get('company.company')
        company_id = Transaction().context.get('company')
        companies = ([Company(company_id)] if company_id is not None
            else Company.search([]))
        for company in companies:
            with Transaction().set_context(company=company.id):
                run, = cls.create([{'company': company.id}])
                cls.compute([run])
                if not cls(run.id).parties:
                    cls.delete([run])

    @classmethod
    def unbilled_deliveries(cls, delivery, company_id):
        """The condition on the delivery table that a run still has to
        bill; the one definition for reading and for marking"""
        return ((delivery.company == company_id)
            & (delivery.invoice_line == Null)
            & (delivery.billable == Literal(True))
            & (delivery.state == 'delivered'))

    @classmethod
    def unpaid_leads(cls, lead, company_id):
        """The condition on the lead table that a statement still has to
        pay; the one definition for reading and for marking"""
        return ((lead.company == company_id)
            & (lead.statement_line == Null)
            & (lead.quality_state == 'valid')
            & (lead.purchase_price != Null))

    def _bill_buyers(self, tracker):
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        Party = pool.get('party.party')
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        tzinfo = company_timezone()

        unbilled = self.unbilled_deliveries(delivery, self.company.id)
        cursor.execute(*delivery.select(
                delivery.buyer, Min(delivery.delivered_at),
                where=unbilled, group_by=[delivery.buyer]))
        first_delivery = {b: as_datetime(at) for b, at in cursor}
        buyers = Party.browse(list(first_delivery))
        plan = self._plan(buyers, first_delivery, tzinfo, self.cut_off)
        tracker.add(len(plan))

        for (interval, period), party_ids in plan:
            tracker.step(gettext('lead_billing.msg_billing_progress_buyers',
                    start=period.start, end=period.end))
            start, stop = period.utc_bounds(tzinfo)
            groups = defaultdict(list)
            for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
                query = delivery.join(lead,
                    condition=delivery.lead == lead.id).select(
                    delivery.buyer, delivery.currency, lead.category,
                    delivery.unit_price, Count(delivery.id),
                    where=unbilled
                    & reduce_ids(delivery.buyer, sub_ids)
                    & (delivery.delivered_at >= start)
                    & (delivery.delivered_at < stop),
                    group_by=[delivery.buyer, delivery.currency,
                        lead.category, delivery.unit_price])
                cursor.execute(*query)
                for buyer, currency, category, unit_price, count in cursor:
                    key = DocumentKey(buyer, currency, period.start,
                        period.end)
                    groups[key].append(LineGroup(
                            category, Decimal(str(unit_price)), count))
            for keys in grouped_slice(sorted(groups), DOCUMENT_BATCH):
                keys = list(keys)
                lines = self._create_documents(
                    'out', {k: groups[k] for k in keys})
                self._mark_deliveries(keys, groups, lines, tzinfo)
        forget_cached(Delivery)

    def _bill_suppliers(self, tracker):
        pool = Pool()
        Lead = pool.get('lead.lead')
        Party = pool.get('party.party')
        RunParty = pool.get('lead.billing.run.party')
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        tzinfo = company_timezone()

        unpaid = self.unpaid_leads(lead, self.company.id)
        cursor.execute(*lead.select(
                lead.supplier, Min(lead.received_at),
                where=unpaid, group_by=[lead.supplier]))
        first_lead = {s: as_datetime(at) for s, at in cursor}
        suppliers = Party.browse(list(first_lead))
        plan = []
        for supplier in suppliers:
            hold = dt.timedelta(days=supplier.lead_statement_hold_days or 0)
            plan.extend(self._plan(
                    [supplier], first_lead, tzinfo, self.cut_off - hold))
        plan = merge_plan(plan)
        tracker.add(len(plan))

        missing = []
        for (interval, period), party_ids in plan:
            tracker.step(gettext(
                    'lead_billing.msg_billing_progress_suppliers',
                    start=period.start, end=period.end))
            start, stop = period.utc_bounds(tzinfo)
            groups = defaultdict(list)
            for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
                cursor.execute(*lead.select(
                        lead.supplier, lead.currency, lead.category,
                        lead.purchase_price, Count(lead.id),
                        where=unpaid
                        & reduce_ids(lead.supplier, sub_ids)
                        & (lead.received_at >= start)
                        & (lead.received_at < stop),
                        group_by=[lead.supplier, lead.currency,
                            lead.category, lead.purchase_price]))
                for supplier, currency, category, price, count in cursor:
                    key = DocumentKey(supplier, currency, period.start,
                        period.end)
                    groups[key].append(LineGroup(
                            category, Decimal(str(price)), count))
            agreed = {p.id for p in Party.browse(
                    list({k.party for k in groups}))
                if p.has_self_billing_agreement}
            for key in sorted(groups):
                if key.party not in agreed:
                    missing.append(self._missing_agreement(key, groups[key]))
            billable = sorted(k for k in groups if k.party in agreed)
            for keys in grouped_slice(billable, DOCUMENT_BATCH):
                keys = list(keys)
                lines = self._create_documents(
                    'in', {k: groups[k] for k in keys})
                self._mark_leads(keys, groups, lines, tzinfo)
        RunParty.create(missing)
        forget_cached(Lead)

    @staticmethod
    def _plan(parties, first_day_of, tzinfo, cut_off):
        """Return [((interval, period), party ids)]: the closed periods
        that each party has something to bill in."""
        plan = defaultdict(list)
        for party in parties:
            interval = party.lead_billing_interval or 'monthly'
            first = local_day(first_day_of[party.id], tzinfo)
            for period in closed_periods(interval, first, cut_off):
                plan[(interval, period)].append(party.id)
        return sorted(plan.items(), key=lambda i: (i[0][1], i[0][0]))

    def _missing_agreement(self, key, groups):
        return {
            'run': self.id,
            'party': key.party,
            'role': 'supplier',
            'status': 'no_agreement',
            'period_start': key.start,
            'period_end': key.end,
            'currency': key.currency,
            'lead_count': sum(g.quantity for g in groups),
            'amount': sum(g.unit_price * g.quantity for g in groups),
            }

    def _create_documents(self, type_, groups):
        """Create the draft documents of `groups` {DocumentKey: [LineGroup]}
        and return {(key, category, unit price): invoice line id}."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Party = pool.get('party.party')
        Category = pool.get('lead.category')
        RunParty = pool.get('lead.billing.run.party')
        parties = {p.id: p for p in Party.browse(
                list({k.party for k in groups}))}
        categories = {c.id: c for c in Category.browse(
                list({g.category for gs in groups.values() for g in gs}))}

        invoices = []
        for key in groups:
            invoices.append(self._new_document(
                    type_, parties[key.party], key))
        Invoice.save(invoices)

        line_keys, line_values = [], []
        line_defaults = {}
        for key, invoice in zip(groups, invoices):
            for group in groups[key]:
                category = categories[group.category]
                tax_key = (invoice.party.id, category.product.id)
                if tax_key not in line_defaults:
                    line_defaults[tax_key] = line_template(
                        invoice, category.product)
                line_keys.append((key, group.category, group.unit_price))
                with party_language(invoice.party):
                    description = line_description(type_, category, key)
                line_values.append({
                        **line_defaults[tax_key],
                        'invoice': invoice.id,
                        'quantity': group.quantity,
                        'unit_price': group.unit_price,
                        'description': description,
                        'origin': str(category),
                        })
        lines = Line.create(line_values)
        Invoice.update_taxes(invoices)
        RunParty.create([{
                    'run': self.id,
                    'party': key.party,
                    'role': 'buyer' if type_ == 'out' else 'supplier',
                    'status': 'billed',
                    'period_start': key.start,
                    'period_end': key.end,
                    'currency': key.currency,
                    'lead_count': sum(g.quantity for g in groups[key]),
                    'amount': sum(
                        g.unit_price * g.quantity for g in groups[key]),
                    'invoice': invoice.id,
                    } for key, invoice in zip(groups, invoices)])
        return {k: line.id for k, line in zip(line_keys, lines)}

    def _new_document(self, type_, party, key):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice(
            company=self.company, type=type_, party=party,
            currency=key.currency, invoice_date=self.invoice_date,
            lead_document=True, lead_billing_run=self,
            lead_period_start=key.start,
            lead_period_end=key.end)
        invoice.on_change_type()
        invoice.currency = key.currency
        if type_ == 'in':
            invoice.lead_self_billing = True
            invoice.lead_agreement_reference = (
                party.self_billing_agreement_reference)
        with party_language(party):
            invoice.description = document_description(type_, key)
        return invoice

    def _mark_deliveries(self, keys, groups, lines, tzinfo):
        """Link each delivery of the documents to its invoice line, in one
        UPDATE per document that only touches unbilled deliveries."""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        for key in keys:
            start, stop = period_bounds(key, tzinfo)
            line_of, matched = line_assignment(
                key, groups[key], lines, lead.category, delivery.unit_price)
            cursor.execute(*delivery.update(
                    [delivery.invoice_line], [line_of],
                    from_=[lead],
                    where=(lead.id == delivery.lead)
                    & self.unbilled_deliveries(delivery, self.company.id)
                    & (delivery.buyer == key.party)
                    & (delivery.currency == key.currency)
                    & (delivery.delivered_at >= start)
                    & (delivery.delivered_at < stop)
                    & matched))
            check_marked(cursor.rowcount, groups[key], key)

    def _mark_leads(self, keys, groups, lines, tzinfo):
        "Link each lead of the statements to its statement line"
        Lead = Pool().get('lead.lead')
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        for key in keys:
            start, stop = period_bounds(key, tzinfo)
            line_of, matched = line_assignment(
                key, groups[key], lines, lead.category, lead.purchase_price)
            cursor.execute(*lead.update(
                    [lead.statement_line], [line_of],
                    where=self.unpaid_leads(lead, self.company.id)
                    & (lead.supplier == key.party)
                    & (lead.currency == key.currency)
                    & (lead.received_at >= start)
                    & (lead.received_at < stop)
                    & matched))
            check_marked(cursor.rowcount, groups[key], key)


def line_assignment(key, groups, lines, category, price):
    """Return the CASE that gives each row of the document `key` the line
    of its category and price, and the condition that some line matches
    it: a row no line matches would be set to NULL yet counted as
    marked."""
    matches = [(category == g.category) & (price == g.unit_price)
        for g in groups]
    line_of = Case(*(
            (match, line_id(lines[(key, g.category, g.unit_price)]))
            for match, g in zip(matches, groups)))
    return line_of, Or(matches)


def line_id(value):
    "An invoice line id typed for PostgreSQL, which cannot infer it in CASE"
    return Cast(Literal(value), 'INTEGER')


def as_datetime(value):
    "SQLite answers aggregates of timestamps as text"
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def period_bounds(key, tzinfo):
    return Period(key.start, key.end).utc_bounds(tzinfo)


def merge_plan(plan):
    "Merge plan entries of the same interval and period"
    merged = defaultdict(list)
    for period_key, party_ids in plan:
        merged[period_key].extend(party_ids)
    return sorted(merged.items(), key=lambda i: (i[0][1], i[0][0]))


def check_marked(marked, groups, key):
    """Refuse the run when the rows marked differ from the rows counted:
    another transaction billed some of them meanwhile."""
    expected = sum(g.quantity for g in groups)
    if marked != expected:
        raise BillingConflict(gettext(
                'lead_billing.msg_billing_conflict',
                expected=expected, marked=marked))


def line_template(invoice, product):
    """The account, taxes and unit of a line selling or buying `product`
    on `invoice`, as Tryton's own line form would fill them in."""
    Line = Pool().get('account.invoice.line')
    line = Line(invoice=invoice, type='line', product=product,
        company=invoice.company, currency=invoice.currency)
    line.on_change_product()
    values = {
        'type': 'line',
        'product': product.id,
        'unit': line.unit.id,
        'account': line.account.id,
        'taxes': [('add', [t.id for t in line.taxes])],
        'company': invoice.company.id,
        'currency': invoice.currency.id,
        }
    if invoice.type == 'in':
        values['taxes_deductible_rate'] = line.taxes_deductible_rate
    return values


def party_language(party):
    """The context to write texts for `party` in: its language, else the
    language of the transaction"""
    context = {'language': party.lang.code} if party.lang else {}
    return Transaction().set_context(**context)


def line_description(type_, category, key):
    if type_ == 'out':
        return gettext('lead_billing.msg_line_description_sale',
            category=category.rec_name)
    return gettext('lead_billing.msg_line_description_purchase',
        category=category.rec_name)


def document_description(type_, key):
    Lang = Pool().get('ir.lang')
    lang = Lang.get()
    return gettext('lead_billing.msg_document_description',
        start=lang.strftime(key.start), end=lang.strftime(key.end))


class BillingRunParty(ModelSQL, ModelView):
    "What a billing run bills for one party and period (its preview)"
    __name__ = 'lead.billing.run.party'

    run = fields.Many2One(
        'lead.billing.run', "Run", required=True, ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT')
    role = fields.Selection(ROLES, "Role", required=True)
    status = fields.Selection(PARTY_STATUSES, "Status", required=True)
    period_start = fields.Date("Period Start", required=True)
    period_end = fields.Date("Period End", required=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True)
    lead_count = fields.Integer("Leads", required=True)
    amount = fields.Numeric(
        "Net Amount", digits=(16, 2), required=True)
    invoice = fields.Many2One(
        'account.invoice', "Document", ondelete='SET NULL')
    tax_amount = fields.Function(
        fields.Numeric("Tax", digits=(16, 2)), 'get_invoice_amount')
    total_amount = fields.Function(
        fields.Numeric("Total", digits=(16, 2)), 'get_invoice_amount')
    invoice_state = fields.Function(
        fields.Selection('get_invoice_states', "Document State"),
        'get_invoice_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        cls._order = [
            ('role', 'ASC'), ('status', 'DESC'), ('party', 'ASC'),
            ('period_start', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_invoice_amount(cls, rows, names):
        Invoice = Pool().get('account.invoice')
        invoices = Invoice.browse([r.invoice.id for r in rows if r.invoice])
        amounts = Invoice.get_amount(invoices, ['tax_amount', 'total_amount'])
        return {name: {r.id: (
                    amounts[name][r.invoice.id] if r.invoice else None)
                for r in rows} for name in names}

    @classmethod
    def get_invoice_states(cls):
        Invoice = Pool().get('account.invoice')
        return [(None, '')] + Invoice.fields_get(
            ['state'])['state']['selection']

    def get_invoice_state(self, name):
        return self.invoice.state if self.invoice else None


class BillingRunProgress(ModelSQL):
    """How far a billing run got, written in transactions of its own so
    that users see it while the run works"""
    __name__ = 'lead.billing.run.progress'

    # No foreign key: the progress of a run that is not committed yet is
    # written from another transaction, which cannot see the run.
    run = fields.Integer("Run", required=True)
    done = fields.Integer("Done")
    total = fields.Integer("Total")
    note = fields.Char("Note")


class ProgressTracker:
    """Counts the steps of a run and reports them to `callback` and, on
    PostgreSQL, to the run record through a transaction of its own (SQLite
    allows one writer, which the run itself is)."""

    def __init__(self, run, callback=None):
        self.run = run
        self.callback = callback
        self.done = 0
        self.total = 0
        self.publish = backend.name == 'postgresql'

    def add(self, steps):
        self.total += steps

    def step(self, note):
        self._report(note)
        self.done += 1

    def finish(self):
        self._report(gettext('lead_billing.msg_billing_progress_done'))

    def _report(self, note):
        if self.callback:
            self.callback(self.done, self.total, note)
        logger.info("billing run %s: %s/%s %s",
            self.run.id, self.done, self.total, note)
        if not self.publish:
            return
        Progress = Pool().get('lead.billing.run.progress')
        table = Progress.__table__()
        transaction = Transaction()
        with transaction.new_transaction() as progress_transaction:
            cursor = progress_transaction.connection.cursor()
            cursor.execute(*table.delete(where=table.run == self.run.id))
            cursor.execute(*table.insert(
                    [table.run, table.done, table.total, table.note],
                    [[self.run.id, self.done, self.total, note]]))
            progress_transaction.commit()

