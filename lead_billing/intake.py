# This file is part of the lead trading suite. See README.rst for details.
"""Batch intake of leads and their deliveries from lead platforms.

A batch is a list of rows. Every row is answered on its own:

* ``created``: the lead is stored and valid;
* ``review``: the lead is stored but a quality rule sent it to review;
* ``duplicate``: the supplier already sent this reference, nothing new is
  stored for the lead (its deliveries are still applied);
* ``refused``: the row is structurally wrong, nothing of it is stored.

Rows of one batch are independent: a refused row does not stop the others.
"""
import datetime as dt
from decimal import Decimal, InvalidOperation

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .bulk import insert_records
from .delivery import DeliveryRequest
from .exceptions import IntakeError
from .lead import company_timezone, local_date
from .price import prices_in_force

LEAD_FIELDS = {
    'supplier', 'reference', 'received_at', 'category', 'name', 'email',
    'phone', 'postal_code', 'city', 'country', 'purchase_price', 'currency',
    'deliveries'}
DELIVERY_FIELDS = {'buyer', 'delivered_at', 'unit_price', 'currency'}
TEXT_FIELDS = ['name', 'email', 'phone', 'postal_code', 'city']
MAX_TEXT = 255
MAX_REFERENCE = 100
# No single lead is worth that much; such a price is a typing error
MAX_PRICE = Decimal('100000')
EARLIEST = dt.datetime(2000, 1, 1)
CHUNK = 1000


class RowError(Exception):
    "A structural error of a row, naming the field"

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message

    def as_dict(self):
        return {'field': self.field, 'message': self.message}


class Lookups:
    """What the parser needs to know about the database, loaded once per
    batch: codes of parties, categories, countries and currencies."""

    def __init__(self, suppliers, buyers, categories, countries, currencies,
            company_currency, tzinfo, now, future_tolerance, price_digits):
        self.suppliers = suppliers
        self.buyers = buyers
        self.categories = categories
        self.countries = countries
        self.currencies = currencies
        self.company_currency = company_currency
        self.tzinfo = tzinfo
        self.now = now
        self.future_tolerance = future_tolerance
        self.price_digits = price_digits


def _text(row, field, required=False, max_length=MAX_TEXT):
    value = row.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(field, gettext('lead_billing.msg_intake_missing'))
        return None
    if not isinstance(value, str):
        raise RowError(field, gettext('lead_billing.msg_intake_not_text'))
    value = value.strip()
    if len(value) > max_length:
        raise RowError(field, gettext(
                'lead_billing.msg_intake_too_long', max=max_length))
    if any(ord(c) < 32 for c in value):
        raise RowError(field, gettext(
                'lead_billing.msg_intake_control_character'))
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        # JSON lets a lone surrogate ("\ud800") through, the database
        # cannot store it
        raise RowError(field, gettext('lead_billing.msg_intake_surrogate'))
    return value


def lookup_code(item, field):
    "The code that `_code` would look up for the field, or None"
    try:
        return _text(item, field)
    except RowError:
        return None


def _code(row, field, codes, message_id, required=True, upper=False):
    value = _text(row, field, required=required)
    if value is None:
        return None
    if upper:
        value = value.upper()
    try:
        return codes[value]
    except KeyError:
        raise RowError(field, gettext(message_id, code=value))


def parse_timestamp(row, field, lookups):
    """Return the naive UTC timestamp of an ISO 8601 value; a value without
    offset is read in the company's timezone. Missing means now."""
    value = row.get(field)
    if value is None:
        return lookups.now
    if not isinstance(value, str):
        raise RowError(field, gettext('lead_billing.msg_intake_timestamp'))
    try:
        timestamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(field, gettext('lead_billing.msg_intake_timestamp'))
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=lookups.tzinfo)
    try:
        timestamp = timestamp.astimezone(dt.timezone.utc).replace(
            tzinfo=None)
    except OverflowError:
        # the offset moves the first or last day of year 1 or 9999 out
        # of the calendar
        timestamp = dt.datetime.min if timestamp.year == 1 else (
            dt.datetime.max)
    if timestamp < EARLIEST:
        raise RowError(field, gettext(
                'lead_billing.msg_intake_too_old', earliest='2000-01-01'))
    if timestamp > lookups.now + dt.timedelta(
            minutes=lookups.future_tolerance):
        raise RowError(field, gettext('lead_billing.msg_intake_future'))
    return timestamp


def parse_price(row, field, digits):
    "Return the price as Decimal or None; refuse what is not an amount"
    value = row.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(
            value, (int, str, Decimal, float)):
        raise RowError(field, gettext('lead_billing.msg_intake_price'))
    try:
        # floats arrive only from callers that bypass the JSON decoder
        # ValueError: an int too long to be converted to text
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RowError(field, gettext('lead_billing.msg_intake_price'))
    if not price.is_finite():
        raise RowError(field, gettext('lead_billing.msg_intake_price'))
    if price < 0:
        raise RowError(field, gettext('lead_billing.msg_intake_negative'))
    if price >= MAX_PRICE:
        raise RowError(field, gettext(
                'lead_billing.msg_intake_price_too_high', max=MAX_PRICE))
    if price != price.quantize(Decimal(1).scaleb(-digits)):
        raise RowError(field, gettext(
                'lead_billing.msg_intake_price_digits', digits=digits))
    return price


def _no_unknown_fields(row, allowed, prefix=''):
    unknown = sorted(set(row) - allowed)
    if unknown:
        raise RowError(prefix + unknown[0], gettext(
                'lead_billing.msg_intake_unknown_field'))


def parse_row(row, lookups):
    """Check the structure of one row and return the lead values and the
    list of delivery values, or raise RowError."""
    if not isinstance(row, dict):
        raise RowError('row', gettext('lead_billing.msg_intake_not_object'))
    _no_unknown_fields(row, LEAD_FIELDS)
    lead = {
        'supplier': _code(row, 'supplier', lookups.suppliers,
            'lead_billing.msg_intake_unknown_supplier'),
        'reference': _text(
            row, 'reference', required=True, max_length=MAX_REFERENCE),
        'category': _code(row, 'category', lookups.categories,
            'lead_billing.msg_intake_unknown_category'),
        'received_at': parse_timestamp(row, 'received_at', lookups),
        'country': _code(row, 'country', lookups.countries,
            'lead_billing.msg_intake_unknown_country', required=False,
            upper=True),
        'purchase_price': parse_price(
            row, 'purchase_price', lookups.price_digits),
        'currency': _code(row, 'currency', lookups.currencies,
            'lead_billing.msg_intake_unknown_currency', required=False),
        }
    for field in TEXT_FIELDS:
        lead[field] = _text(row, field)

    deliveries = row.get('deliveries')
    if deliveries is None:
        deliveries = []
    elif not isinstance(deliveries, list):
        raise RowError(
            'deliveries', gettext('lead_billing.msg_intake_not_list'))
    parsed = []
    for i, delivery in enumerate(deliveries):
        prefix = f'deliveries[{i}].'
        try:
            if not isinstance(delivery, dict):
                raise RowError(
                    '', gettext('lead_billing.msg_intake_not_object'))
            _no_unknown_fields(delivery, DELIVERY_FIELDS)
            values = {
                'buyer': _code(delivery, 'buyer', lookups.buyers,
                    'lead_billing.msg_intake_unknown_buyer'),
                'delivered_at': parse_timestamp(
                    delivery, 'delivered_at', lookups),
                'unit_price': parse_price(delivery, 'unit_price', 4),
                'currency': _code(delivery, 'currency', lookups.currencies,
                    'lead_billing.msg_intake_unknown_currency',
                    required=False),
                }
        except RowError as e:
            raise RowError(prefix + e.field if e.field else prefix[:-1],
                e.message)
        parsed.append(values)
    return lead, parsed


def check_currency(values, field, price, company_currency):
    """Refuse a currency that is neither the one of the price in force nor,
    without price, the company's."""
    expected = price.currency if price else company_currency
    if values.get('currency') is not None and values['currency'] != expected:
        raise RowError(field, gettext('lead_billing.msg_intake_currency'))


def fill_price(values, field, price):
    "Take the price in force when the row gives no price"
    if values[field] is None and price:
        values[field] = price.unit_price
        values['currency'] = price.currency


class Intake(Model):
    "Lead intake: batches pushed by lead platforms"
    __name__ = 'lead.intake'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'ingest': RPC(readonly=False),
                })

    @classmethod
    def batch_limit(cls):
        return Pool().get('lead.configuration')(1).intake_batch_limit

    @classmethod
    def lookups(cls, rows):
        pool = Pool()
        Party = pool.get('party.party')
        Category = pool.get('lead.category')
        Country = pool.get('country.country')
        Currency = pool.get('currency.currency')
        Company = pool.get('company.company')
        Configuration = pool.get('lead.configuration')

        def codes(field, nested=None):
            found = set()
            for row in rows:
                if not isinstance(row, dict):
                    continue
                items = row.get(nested) if nested else [row]
                if isinstance(items, list):
                    found.update(lookup_code(i, field) for i in items
                        if isinstance(i, dict))
            found.discard(None)
            return found

        def search(Model, domain, codes):
            # a batch may name more codes than a query takes parameters
            return {r.code: r.id
                for sub_codes in grouped_slice(
                    sorted(codes), backend.MAX_QUERY_PARAMS)
                for r in Model.search(
                    domain + [('code', 'in', list(sub_codes))])}

        company = Company(Transaction().context['company'])
        configuration = Configuration(1)
        return Lookups(
            suppliers=search(Party, [('lead_supplier', '=', True)],
                codes('supplier')),
            # buyers that stopped buying are refused by the delivery rules,
            # with a clearer message than "unknown"
            buyers=search(Party, [('active', 'in', [True, False])],
                codes('buyer', 'deliveries')),
            categories=search(Category, [], codes('category')),
            countries=search(Country, [],
                {c.upper() for c in codes('country')}),
            currencies=search(Currency, [],
                codes('currency') | codes('currency', 'deliveries')),
            company_currency=company.currency.id,
            tzinfo=company_timezone(),
            now=dt.datetime.now(),
            future_tolerance=configuration.future_tolerance,
            price_digits=company.currency.digits,
            )

    @classmethod
    def ingest(cls, rows):
        """Store a batch of leads with their deliveries and answer for each
        row (see the module documentation for the answers)."""
        pool = Pool()
        Lead = pool.get('lead.lead')
        ModelAccess = pool.get('ir.model.access')
        User = pool.get('res.user')

        if Transaction().context.get('company') is None:
            # Platforms calling over RPC may send no context at all
            preferences = User.get_preferences(context_only=True)
            if preferences.get('company') is None:
                raise IntakeError(gettext(
                        'lead_billing.msg_intake_no_company'))
            with Transaction().set_context(preferences):
                return cls.ingest(rows)

        # The rows are written set-based, past the ORM's own access check
        ModelAccess.check('lead.lead', 'create')
        ModelAccess.check('lead.delivery', 'create')
        if not isinstance(rows, list):
            raise IntakeError(gettext('lead_billing.msg_intake_not_batch'))
        limit = cls.batch_limit()
        if len(rows) > limit:
            raise IntakeError(gettext(
                    'lead_billing.msg_intake_batch_too_large',
                    size=len(rows), limit=limit))
        lookups = cls.lookups(rows)
        results = [{'row': i} for i in range(len(rows))]
        parsed = {}
        for i, row in enumerate(rows):
            if isinstance(row, dict) and isinstance(row.get('reference'), str):
                results[i]['reference'] = row['reference'].strip()
            try:
                parsed[i] = parse_row(row, lookups)
            except RowError as e:
                cls._refuse(results[i], e)

        cls._apply_prices(parsed, results, lookups)
        existing = cls._existing_leads(parsed.values())

        to_create, first_of = [], {}
        for i, (lead, _) in parsed.items():
            key = (lead['supplier'], lead['reference'])
            if key in existing:
                results[i].update(status='duplicate', lead=existing[key])
            elif key in first_of:
                results[i].update(
                    status='duplicate', duplicate_of_row=first_of[key])
            else:
                first_of[key] = i
                to_create.append(i)

        issue_labels = dict(Lead.fields_get(
                ['quality_issues'])['quality_issues']['selection'])
        company = Transaction().context['company']
        for start in range(0, len(to_create), CHUNK):
            indexes = to_create[start:start + CHUNK]
            vlist = [dict(parsed[i][0], company=company) for i in indexes]
            Lead.assess(vlist)
            batch_duplicates = Lead.pop_batch_duplicates(vlist)
            for values in vlist:
                values.setdefault('duplicate_of', None)
                values['delivery_count'] = 0
            ids = insert_records(
                Lead, vlist, unique=['supplier', 'reference'])
            Lead.link_batch_duplicates(batch_duplicates, ids)
            concurrent = [values for values, id_ in zip(vlist, ids)
                if id_ is None]
            existing.update(cls._existing_leads(
                    [(values, []) for values in concurrent]))
            for i, values, id_ in zip(indexes, vlist, ids):
                key = values['supplier'], values['reference']
                if id_ is None:
                    results[i].update(status='duplicate', lead=existing[key])
                    continue
                results[i]['lead'] = id_
                existing[key] = id_
                if values['quality_state'] == 'valid':
                    results[i]['status'] = 'created'
                else:
                    results[i]['status'] = 'review'
                    results[i]['reasons'] = [
                        {'code': code, 'message': issue_labels[code]}
                        for code in values['quality_issues']]
        for i, (lead, _) in parsed.items():
            if results[i].get('duplicate_of_row') is not None:
                results[i]['lead'] = existing[
                    lead['supplier'], lead['reference']]
                del results[i]['duplicate_of_row']

        cls._deliver(parsed, results)
        return results

    @staticmethod
    def _refuse(result, error):
        result['status'] = 'refused'
        result.setdefault('errors', []).append(error.as_dict())

    @classmethod
    def _apply_prices(cls, parsed, results, lookups):
        """Fill in the prices in force where a row gives none, and refuse
        rows whose currency differs from the price's, before anything of
        them is stored."""
        tzinfo = lookups.tzinfo
        lead_prices = prices_in_force('purchase', [
                (lead['category'], lead['supplier'],
                    local_date(lead['received_at'], tzinfo))
                for lead, _ in parsed.values()])
        delivery_keys, owners = [], []
        for i, (lead, deliveries) in parsed.items():
            for j, delivery in enumerate(deliveries):
                delivery_keys.append((lead['category'], delivery['buyer'],
                        local_date(delivery['delivered_at'], tzinfo)))
                owners.append((i, j))
        delivery_prices = dict(zip(
                owners, prices_in_force('sale', delivery_keys)))
        for i, price in zip(list(parsed), lead_prices):
            lead, deliveries = parsed[i]
            try:
                check_currency(lead, 'currency', price,
                    lookups.company_currency)
                for j, delivery in enumerate(deliveries):
                    check_currency(delivery, f'deliveries[{j}].currency',
                        delivery_prices[i, j], lookups.company_currency)
            except RowError as e:
                cls._refuse(results[i], e)
                del parsed[i]
                continue
            fill_price(lead, 'purchase_price', price)
            for j, delivery in enumerate(deliveries):
                fill_price(delivery, 'unit_price', delivery_prices[i, j])

    @classmethod
    def _existing_leads(cls, rows):
        "Map (supplier, reference) of the (lead, deliveries) rows to ids"
        Lead = Pool().get('lead.lead')
        table = Lead.__table__()
        cursor = Transaction().connection.cursor()
        existing = {}
        by_supplier = {}
        for lead, _ in rows:
            by_supplier.setdefault(lead['supplier'], set()).add(
                lead['reference'])
        for supplier, references in by_supplier.items():
            for sub_references in grouped_slice(
                    references, backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.select(
                        table.id, table.reference,
                        where=(table.supplier == supplier)
                        & table.reference.in_(list(sub_references))))
                for id_, reference in cursor:
                    existing[supplier, reference] = id_
        return existing

    @classmethod
    def _deliver(cls, parsed, results):
        "Apply the delivery rules to the rows' deliveries, create the allowed"
        pool = Pool()
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        wanted = [(i, j, delivery)
            for i, (_, deliveries) in parsed.items()
            for j, delivery in enumerate(deliveries)]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            leads = {lead.id: lead for lead in Lead.browse(
                    list({results[i]['lead'] for i, _, _ in chunk}))}
            buyers = {p.id: p for p in Party.browse(
                    list({d['buyer'] for _, _, d in chunk}))}
            requests = Delivery.price_requests([DeliveryRequest(
                        leads[results[i]['lead']], buyers[d['buyer']],
                        d['delivered_at'], d['unit_price'], d['currency'])
                    for i, _, d in chunk])
            refusals = Delivery.delivery_refusals(requests)
            to_create, answers = [], []
            for (i, j, _), request, refused in zip(
                    chunk, requests, refusals):
                answer = {'buyer': request.buyer.code}
                results[i].setdefault('deliveries', []).append(answer)
                if refused:
                    answer['status'] = 'refused'
                    answer['errors'] = [
                        {'field': f'deliveries[{j}].{r.field}',
                            'message': r.message}
                        for r in refused]
                else:
                    answer['status'] = 'created'
                    to_create.append(Delivery.values_for(request))
                    answers.append((j, answer))
            ids = insert_records(Delivery, to_create, unique=['lead', 'buyer'])
            Lead.count_deliveries(
                values['lead'] for values, id_ in zip(to_create, ids)
                if id_ is not None)
            Delivery.delivered({
                    values['buyer'] for values, id_ in zip(to_create, ids)
                    if id_ is not None})
            for (j, answer), id_ in zip(answers, ids):
                if id_ is None:
                    answer['status'] = 'refused'
                    answer['errors'] = [{'field': f'deliveries[{j}].buyer',
                            'message': gettext(
                                'lead_billing.msg_delivery_lead_buyer_unique')
                            }]
                else:
                    answer['delivery'] = id_
