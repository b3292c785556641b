# This file is part of the lead trading suite. See README.rst for details.
from collections import defaultdict

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .audit import AuditedMixin
from .exceptions import PriceOverlapError

PRICE_KINDS = [
    ('sale', "Buyer Price"),
    ('purchase', "Supplier Price"),
    ]


def periods_overlap(start1, end1, start2, end2):
    "Tell whether two date ranges overlap; a missing end is open-ended"
    return ((end2 is None or start1 <= end2)
        and (end1 is None or start2 <= end1))


def price_in_force(prices, party, date):
    """Return the price record that applies to `party` on `date`.

    `prices` are the candidate records of one category and kind, each with
    `party` (None for the general price), `start_date` and `end_date`.
    A party's own price wins over the general one; among several matches the
    one that started last wins."""
    best = None
    for price in prices:
        if price.start_date > date:
            continue
        if price.end_date is not None and price.end_date < date:
            continue
        if price.party is not None and price.party != party:
            continue
        rank = (price.party is not None, price.start_date)
        if best is None or rank > best[0]:
            best = (rank, price)
    return best[1] if best else None


class PriceCandidate:
    "A light, cacheable copy of a price line for `price_in_force`"
    __slots__ = ('id', 'party', 'start_date', 'end_date', 'unit_price',
        'currency')

    def __init__(self, id, party, start_date, end_date, unit_price,
            currency):
        self.id = id
        self.party = party
        self.start_date = start_date
        self.end_date = end_date
        self.unit_price = unit_price
        self.currency = currency


class Price(AuditedMixin, ModelSQL, ModelView):
    "Lead price: what a buyer pays or a supplier earns for a lead"
    __name__ = 'lead.price'

    category = fields.Many2One(
        'lead.category', "Category", required=True, ondelete='CASCADE')
    kind = fields.Selection(PRICE_KINDS, "Kind", required=True)
    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE',
        domain=[If(Eval('kind') == 'sale',
                ('lead_buyer', '=', True),
                ('lead_supplier', '=', True))],
        help="Leave empty for the price that applies to every party "
        "without a price of its own.")
    start_date = fields.Date("Start Date", required=True)
    end_date = fields.Date(
        "End Date",
        domain=[If(Eval('end_date'),
                ('end_date', '>=', Eval('start_date')),
                ())],
        help="Leave empty for a price without end.")
    unit_price = Monetary(
        "Unit Price", currency='currency', digits=price_digits,
        required=True, domain=[('unit_price', '>=', 0)])
    currency = fields.Many2One('currency.currency', "Currency", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {
            'category', 'kind', 'party', 'start_date', 'end_date',
            'unit_price', 'currency'}
        cls._order = [
            ('category', 'ASC'),
            ('kind', 'ASC'),
            ('party', 'ASC NULLS FIRST'),
            ('start_date', 'DESC'),
            ('id', 'DESC'),
            ]
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.category, Index.Range()), (t.kind, Index.Equality())))

    @staticmethod
    def default_start_date():
        return Pool().get('ir.date').today()

    @staticmethod
    def default_currency():
        Company = Pool().get('company.company')
        company_id = Transaction().context.get('company')
        if company_id is not None and company_id >= 0:
            return Company(company_id).currency.id

    @classmethod
    def validate(cls, prices):
        super().validate(prices)
        cls.check_overlap(prices)

    @classmethod
    def check_overlap(cls, prices):
        for price in prices:
            others = cls.search([
                    ('id', '!=', price.id),
                    ('category', '=', price.category.id),
                    ('kind', '=', price.kind),
                    ('party', '=', price.party.id if price.party else None),
                    ])
            for other in others:
                if periods_overlap(price.start_date, price.end_date,
                        other.start_date, other.end_date):
                    raise PriceOverlapError(gettext(
                            'lead_billing.msg_price_overlap',
                            price=price.rec_name, other=other.rec_name))

    def get_rec_name(self, name):
        party = self.party.rec_name if self.party else '*'
        return (f'{self.category.rec_name} / {party} / '
            f'{self.start_date:%Y-%m-%d}')

    @classmethod
    def candidates(cls, kind, category_ids):
        """Return per category id the price lines of `kind` as light
        candidates for `price_in_force`, read set-based."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = defaultdict(list)
        category_ids = {c for c in category_ids if c is not None}
        for sub_ids in grouped_slice(category_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.id, table.category, table.party, table.start_date,
                    table.end_date, table.unit_price, table.currency,
                    where=(table.kind == kind)
                    & reduce_ids(table.category, list(sub_ids))))
            for (id_, category, party, start, end, unit_price,
                    currency) in cursor:
                result[category].append(PriceCandidate(
                        id_, party, start, end, unit_price, currency))
        return result


def prices_in_force(kind, keys):
    """Return for each (category id, party id, date) of `keys` the price
    candidate of `kind` in force, or None; one query for the whole list."""
    Price = Pool().get('lead.price')
    candidates = Price.candidates(kind, [k[0] for k in keys])
    return [price_in_force(candidates.get(category, []), party, date)
        for category, party, date in keys]

