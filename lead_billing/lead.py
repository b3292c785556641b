# This file is part of the lead trading suite. See README.rst for details.
import datetime as dt
from collections import defaultdict
from typing import NamedTuple

from sql import Null
from sql.aggregate import Count
from sql.operators import Or

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids, timezone
from trytond.transaction import Transaction

from . import validation
from .bulk import forget_cached
from .gdpr import PersonalDataMixin
from .price import prices_in_force

QUALITY_STATES = [
    ('valid', "Valid"),
    ('review', "In Review"),
    ('rejected', "Rejected"),
    ]
QUALITY_ISSUES = [
    ('phone', "Invalid phone number"),
    ('email', "Invalid email address"),
    ('postal_code', "Postal code does not fit the country"),
    ('duplicate', "Duplicate of another lead"),
    ('purchase_price', "No supplier price in force"),
    ]


def company_timezone():
    "Return the tzinfo of the company in the context (UTC without one)"
    Company = Pool().get('company.company')
    company_id = Transaction().context.get('company')
    if company_id is not None and company_id >= 0:
        company = Company(company_id)
        if company.timezone:
            return timezone.get_tzinfo(company.timezone)
    return timezone.UTC


def local_date(timestamp, tzinfo):
    "The calendar date of a naive UTC timestamp in `tzinfo`"
    return timestamp.replace(tzinfo=dt.timezone.utc).astimezone(tzinfo).date()


class BatchRow(NamedTuple):
    "A lead of the batch being assessed, not yet stored"
    index: int


class Lead(PersonalDataMixin, Workflow, ModelSQL, ModelView):
    "Lead: one prospect bought from a supplier"
    __name__ = 'lead.lead'
    _transition_state = 'quality_state'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    supplier = fields.Many2One(
        'party.party', "Supplier", required=True, ondelete='RESTRICT',
        domain=[('lead_supplier', '=', True)],
        context={'company': Eval('company', -1)}, depends={'company'},
        states={'readonly': Eval('id', -1) >= 0})
    reference = fields.Char(
        "Reference", required=True, strip=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="The supplier's own reference of the lead.")
    received_at = fields.DateTime(
        "Received At", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    category = fields.Many2One(
        'lead.category', "Category", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0})
    name = fields.Char("Name")
    email = fields.Char("Email")
    phone = fields.Char("Phone")
    postal_code = fields.Char("Postal Code")
    city = fields.Char("City")
    country = fields.Many2One('country.country', "Country")
    phone_key = fields.Char(
        "Phone Key", readonly=True,
        help="The phone number in international form, used to find "
        "duplicates.")
    email_key = fields.Char(
        "Email Key", readonly=True,
        help="The email address in lower case, used to find duplicates.")
    quality_state = fields.Selection(
        QUALITY_STATES, "Quality", required=True, readonly=True, sort=False)
    quality_state_string = quality_state.translated('quality_state')
    quality_issues = fields.MultiSelection(
        QUALITY_ISSUES, "Quality Issues", readonly=True, sort=False)
    duplicate_of = fields.Many2One(
        'lead.lead', "Duplicate Of", readonly=True, ondelete='SET NULL')
    purchase_price = Monetary(
        "Purchase Price", currency='currency', digits='currency',
        domain=['OR',
            ('purchase_price', '=', None),
            ('purchase_price', '>=', 0),
            ],
        help="The amount owed to the supplier for the lead.")
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    deliveries = fields.One2Many(
        'lead.delivery', 'lead', "Deliveries", readonly=True)
    statement_line = fields.Many2One(
        'account.invoice.line', "Statement Line", readonly=True,
        ondelete='SET NULL',
        help="The self-billing statement line that pays the supplier "
        "for the lead.")
    delivery_count = fields.Integer(
        "Number of Deliveries", readonly=True,
        help="The deliveries of the lead that are not cancelled.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('supplier_reference_unique', Unique(t, t.supplier, t.reference),
                'lead_billing.msg_lead_reference_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.category, Index.Range()),
                    (t.phone_key, Index.Equality()),
                    (t.received_at, Index.Range())),
                Index(t, (t.category, Index.Range()),
                    (t.email_key, Index.Equality()),
                    (t.received_at, Index.Range())),
                Index(t, (t.received_at, Index.Range(order='DESC'))),
                Index(t, (t.statement_line, Index.Range())),
                # The billing run reads the unpaid valid leads per supplier
                # and period; this index stays as small as the backlog.
                Index(t, (t.supplier, Index.Range()),
                    (t.received_at, Index.Range()),
                    where=(t.statement_line == Null)
                    & (t.quality_state == 'valid')),
                Index(t, (t.quality_state, Index.Equality()),
                    where=t.quality_state != 'valid'),
                })
        cls._order.insert(0, ('received_at', 'DESC'))
        cls._transitions |= {
            ('review', 'valid'),
            ('review', 'rejected'),
            }
        cls._buttons.update({
                'accept': {
                    'invisible': Eval('quality_state') != 'review',
                    'icon': 'tryton-ok',
                    'depends': ['quality_state'],
                    },
                'reject': {
                    'invisible': Eval('quality_state') != 'review',
                    'icon': 'tryton-cancel',
                    'depends': ['quality_state'],
                    },
                'recheck': {
                    'invisible': Eval('quality_state') == 'valid',
                    'icon': 'tryton-refresh',
                    'depends': ['quality_state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_currency(cls):
        Company = Pool().get('company.company')
        company_id = cls.default_company()
        if company_id is not None and company_id >= 0:
            return Company(company_id).currency.id

    @staticmethod
    def default_quality_state():
        return 'valid'

    @staticmethod
    def default_received_at():
        return dt.datetime.now()

    def get_rec_name(self, name):
        # buyers and suppliers logged in as themselves know a lead by its
        # reference: who supplied it is the trader's business
        if Pool().get('res.user').get_lead_parties():
            return self.reference
        return f'{self.supplier.rec_name}: {self.reference}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('reference', operator, value),
            ('name', operator, value),
            ('email', operator, value),
            ]

    @classmethod
    def __register__(cls, module):
        # deliveries to count exist only where the table did before
        counted = (not backend.TableHandler.table_exist(cls._table)
            or cls.__table_handler__(module).column_exist('delivery_count'))
        super().__register__(module)
        if not counted:
            cls.count_deliveries()

    @classmethod
    def default_delivery_count(cls):
        return 0

    @classmethod
    def count_deliveries(cls, lead_ids=None):
        """Store the number of not cancelled deliveries of the leads (all
        when `lead_ids` is None) as the database holds them now; called
        after deliveries are created, cancelled or deleted, in the same
        transaction, so that a concurrent change of the same lead fails
        on the update of its row instead of leaving a wrong count."""
        pool = Pool()
        Delivery = pool.get('lead.delivery')
        table = cls.__table__()
        delivery = Delivery.__table__()
        cursor = Transaction().connection.cursor()
        count = delivery.select(Count(delivery.id),
            where=(delivery.lead == table.id)
            & (delivery.state != 'cancelled'))
        if lead_ids is None:
            cursor.execute(*table.update([table.delivery_count], [count]))
        else:
            for sub_ids in grouped_slice(
                    sorted(set(lead_ids)), backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.update(
                        [table.delivery_count], [count],
                        where=reduce_ids(table.id, sub_ids)))
        forget_cached(cls)

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        cls.assess(vlist)
        batch_duplicates = cls.pop_batch_duplicates(vlist)
        leads = super().create(vlist)
        cls.link_batch_duplicates(
            batch_duplicates, [lead.id for lead in leads])
        return leads

    @classmethod
    def assess(cls, vlist):
        """Complete lead values with their purchase price, their matching
        keys and the outcome of the quality rules of their category.

        Works on a whole batch with a fixed number of queries so that the
        intake and the CSV import can feed thousands of leads at once."""
        pool = Pool()
        Category = pool.get('lead.category')
        Configuration = pool.get('lead.configuration')
        Country = pool.get('country.country')

        region = Configuration(1).phone_region
        tzinfo = company_timezone()
        categories = {c.id: c for c in Category.browse(
                list({v['category'] for v in vlist if v.get('category')}))}
        country_codes = {c.id: c.code for c in Country.browse(
                list({v['country'] for v in vlist if v.get('country')}))}
        default_currency = cls.default_currency()
        for values in vlist:
            if values.get('received_at') is None:
                values['received_at'] = cls.default_received_at()
        unpriced = [v for v in vlist if v.get('purchase_price') is None]
        for values, price in zip(unpriced, prices_in_force('purchase', [
                        (v.get('category'), v.get('supplier'),
                            local_date(v['received_at'], tzinfo))
                        for v in unpriced])):
            if price:
                values['purchase_price'] = price.unit_price
                if values.get('currency') is None:
                    values['currency'] = price.currency

        for values in vlist:
            if values.get('currency') is None:
                values['currency'] = default_currency
            values['phone_key'] = validation.normalize_phone(
                values.get('phone'), region)
            values['email_key'] = validation.normalize_email(
                values.get('email'))

            category = categories.get(values.get('category'))
            issues = []
            if category:
                if category.check_phone and not values['phone_key']:
                    issues.append('phone')
                if (category.check_email
                        and not validation.is_valid_email(
                            values.get('email'))):
                    issues.append('email')
                if (category.check_postal_code
                        and validation.is_valid_postal_code(
                            values.get('postal_code'),
                            country_codes.get(values.get('country'))
                            ) is False):
                    issues.append('postal_code')
            if values.get('purchase_price') is None:
                issues.append('purchase_price')
            values['_issues'] = issues

        cls._find_duplicates(vlist, categories)

        for values in vlist:
            values.pop('_self', None)
            issues = values.pop('_issues')
            duplicate = values.pop('_duplicate', False)
            if duplicate or values.get('duplicate_of'):
                issues.append('duplicate')
            values['quality_issues'] = issues
            if values.get('quality_state') != 'rejected':
                values['quality_state'] = 'review' if issues else 'valid'

    @classmethod
    def _find_duplicates(cls, vlist, categories):
        """Mark values having the phone or email of another lead of the
        same category within the category's window, looking both in the
        database and earlier in the same batch."""
        checked = [(i, v) for i, v in enumerate(vlist)
            if categories.get(v.get('category'))
            and categories[v['category']].check_duplicates
            and (v['phone_key'] or v['email_key'])]
        if not checked:
            return
        # (category, kind, key) -> [(received at, lead id or batch index)]
        seen = defaultdict(list)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        max_window = max(
            categories[v['category']].duplicate_window for _, v in checked)
        start = min(v['received_at'] for _, v in checked) - dt.timedelta(
            days=max_window)
        end = max(v['received_at'] for _, v in checked) + dt.timedelta(
            days=max_window)
        in_max = backend.MAX_QUERY_PARAMS // 2
        for category_id in {v['category'] for _, v in checked}:
            phones = list({v['phone_key'] for _, v in checked
                    if v['category'] == category_id and v['phone_key']})
            emails = list({v['email_key'] for _, v in checked
                    if v['category'] == category_id and v['email_key']})
            for i in range(0, max(len(phones), len(emails)), in_max):
                conditions = []
                if phones[i:i + in_max]:
                    conditions.append(
                        table.phone_key.in_(phones[i:i + in_max]))
                if emails[i:i + in_max]:
                    conditions.append(
                        table.email_key.in_(emails[i:i + in_max]))
                cursor.execute(*table.select(
                        table.id, table.phone_key, table.email_key,
                        table.received_at,
                        where=(table.category == category_id)
                        & Or(conditions)
                        & (table.received_at >= start)
                        & (table.received_at <= end)))
                for id_, phone_key, email_key, received_at in cursor:
                    if phone_key:
                        seen[category_id, 'phone', phone_key].append(
                            (received_at, id_))
                    if email_key:
                        seen[category_id, 'email', email_key].append(
                            (received_at, id_))

        for index, values in checked:
            category = categories[values['category']]
            for kind in ('phone', 'email'):
                key = values[f'{kind}_key']
                if not key:
                    continue
                matches = seen[category.id, kind, key]
                for received_at, other in matches:
                    if other == values.get('_self'):
                        continue
                    if validation.is_within_window(
                            values['received_at'], received_at,
                            category.duplicate_window):
                        values['_duplicate'] = True
                        if isinstance(other, BatchRow):
                            values.setdefault('_duplicate_of_row', other)
                        else:
                            values.setdefault('duplicate_of', other)
                        break
                # later rows of the batch compare with this one too
                matches.append((values['received_at'], BatchRow(index)))

    @classmethod
    def pop_batch_duplicates(cls, vlist):
        """Remove from assessed values the marks of duplicates found earlier
        in the same batch, to be linked by `link_batch_duplicates` once the
        leads have ids; returns (index, index of the earlier lead) pairs."""
        return [(i, values.pop('_duplicate_of_row').index)
            for i, values in enumerate(vlist)
            if '_duplicate_of_row' in values]

    @classmethod
    def link_batch_duplicates(cls, pairs, ids):
        """Set duplicate_of between leads of one batch, given their new ids
        (pairs as returned by `pop_batch_duplicates`)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        linked = False
        for index, earlier in pairs:
            if ids[index] is not None and ids[earlier] is not None:
                cursor.execute(*table.update(
                        [table.duplicate_of], [ids[earlier]],
                        where=table.id == ids[index]))
                linked = True
        if linked:
            forget_cached(cls)

    @classmethod
    @ModelView.button
    @Workflow.transition('valid')
    def accept(cls, leads):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, leads):
        pass

    @classmethod
    @ModelView.button
    def recheck(cls, leads):
        "Apply the quality rules again, e.g. after the contact was corrected"
        to_write = []
        for lead in leads:
            values = {
                'category': lead.category.id,
                'supplier': lead.supplier.id,
                'received_at': lead.received_at,
                'phone': lead.phone,
                'email': lead.email,
                'postal_code': lead.postal_code,
                'country': lead.country.id if lead.country else None,
                'purchase_price': lead.purchase_price,
                'currency': lead.currency.id,
                }
            values['_self'] = lead.id
            cls.assess([values])
            values.setdefault('duplicate_of', None)
            for field in ['category', 'supplier', 'received_at', 'currency']:
                del values[field]
            to_write.extend(([lead], values))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        for leads, values in zip(actions, actions):
            contact = {'phone', 'email', 'postal_code', 'country'}
            if contact & values.keys() and 'quality_issues' not in values:
                # Keep the matching keys in step with edited contact data;
                # the quality is decided by the recheck button.
                values = values.copy()
                if 'phone' in values:
                    values['phone_key'] = validation.normalize_phone(
                        values['phone'],
                        Pool().get('lead.configuration')(1).phone_region)
                if 'email' in values:
                    values['email_key'] = validation.normalize_email(
                        values['email'])
            args.extend((leads, values))
        super().write(*args)

    @classmethod
    def copy(cls, leads, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('deliveries', None)
        default.setdefault('delivery_count', 0)
        default.setdefault(
            'reference', lambda data: data['reference'] + ' (copy)')
        return super().copy(leads, default=default)
