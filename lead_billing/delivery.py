# This file is part of the lead trading suite. See README.rst for details.
import datetime as dt
from typing import NamedTuple

from sql import Literal, Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .bulk import forget_cached
from .exceptions import DeliveryRefused, LeadValidationError
from .lead import company_timezone, local_date
from .price import prices_in_force

DELIVERY_STATES = [
    ('delivered', "Delivered"),
    ('cancelled', "Cancelled"),
    ]


class DeliveryRequest(NamedTuple):
    "A wish to deliver `lead` to `buyer`, checked by the delivery rules"
    lead: object
    buyer: object
    delivered_at: dt.datetime
    unit_price: object = None
    currency: object = None


class Refusal(NamedTuple):
    field: str
    message: str


class Delivery(Workflow, ModelSQL, ModelView):
    "Lead delivery: one lead sold to one buyer"
    __name__ = 'lead.delivery'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    lead = fields.Many2One(
        'lead.lead', "Lead", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0})
    buyer = fields.Many2One(
        'party.party', "Buyer", required=True, ondelete='RESTRICT',
        domain=[('lead_buyer', '=', True)],
        context={'company': Eval('company', -1)}, depends={'company'},
        states={'readonly': Eval('id', -1) >= 0})
    delivered_at = fields.DateTime(
        "Delivered At", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    unit_price = Monetary(
        "Unit Price", currency='currency', digits=price_digits,
        readonly=True,
        help="The buyer's price in force at delivery, frozen.")
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    billable = fields.Boolean(
        "Billable", readonly=True,
        help="Deliveries to internal accounts are never billed.")
    state = fields.Selection(
        DELIVERY_STATES, "State", required=True, readonly=True, sort=False)
    invoice_line = fields.Many2One(
        'account.invoice.line', "Invoice Line", readonly=True,
        ondelete='SET NULL',
        help="The buyer invoice line that bills the delivery.")
    invoice = fields.Function(
        fields.Many2One('account.invoice', "Invoice"),
        'get_invoice', searcher='search_invoice')
    category = fields.Function(
        fields.Many2One('lead.category', "Category"),
        'get_lead_field', searcher='search_lead_field')
    supplier = fields.Many2One(
        'party.party', "Supplier", readonly=True, ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The supplier of the lead, kept on the delivery for the "
        "reports.")

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Lead = pool.get('lead.lead')
        table = cls.__table__()
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()
        supplier_stored = (not backend.TableHandler.table_exist(cls._table)
            or cls.__table_handler__(module).column_exist('supplier'))
        super().__register__(module)
        if not supplier_stored:
            cursor.execute(*table.update([table.supplier], [lead.select(
                            lead.supplier, where=lead.id == table.lead)]))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('lead_buyer_unique', Unique(t, t.lead, t.buyer),
                'lead_billing.msg_delivery_lead_buyer_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.buyer, Index.Range()),
                    (t.delivered_at, Index.Range())),
                Index(t, (t.delivered_at, Index.Range(order='DESC'))),
                Index(t, (t.invoice_line, Index.Range())),
                # The billing run reads the unbilled deliveries per buyer
                # and period; this index stays as small as the backlog.
                Index(t, (t.buyer, Index.Range()),
                    (t.delivered_at, Index.Range()),
                    where=(t.invoice_line == Null)
                    & (t.billable == Literal(True))
                    & (t.state == 'delivered')),
                })
        cls._order.insert(0, ('delivered_at', 'DESC'))
        cls._transitions |= {('delivered', 'cancelled')}
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'delivered',
                    'readonly': Bool(Eval('invoice_line')),
                    'icon': 'tryton-cancel',
                    'depends': ['state', 'invoice_line'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'delivered'

    @staticmethod
    def default_delivered_at():
        return dt.datetime.now()

    def get_rec_name(self, name):
        return f'{self.lead.rec_name} → {self.buyer.rec_name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('lead.rec_name',) + tuple(clause[1:]),
            ('buyer.rec_name',) + tuple(clause[1:]),
            ]

    def get_invoice(self, name):
        return self.invoice_line.invoice.id if self.invoice_line else None

    @classmethod
    def search_invoice(cls, name, clause):
        nested = clause[0][len(name):]
        return [('invoice_line.invoice' + nested, *clause[1:])]

    def get_lead_field(self, name):
        return getattr(self.lead, name).id

    @classmethod
    def search_lead_field(cls, name, clause):
        nested = clause[0][len(name):]
        return [('lead.' + name + nested, *clause[1:])]

    @classmethod
    def order_category(cls, tables):
        pool = Pool()
        Lead = pool.get('lead.lead')
        table, _ = tables[None]
        if 'lead' not in tables:
            lead = Lead.__table__()
            tables['lead'] = {
                None: (lead, table.lead == lead.id),
                }
        return Lead.category.convert_order(
            'category', tables['lead'], Lead)

    @classmethod
    def price_requests(cls, requests):
        """Return the requests with the buyer's price in force at delivery
        time filled in where none was given."""
        tzinfo = company_timezone()
        unpriced = [i for i, r in enumerate(requests) if r.unit_price is None]
        prices = prices_in_force('sale', [
                (requests[i].lead.category.id, requests[i].buyer.id,
                    local_date(requests[i].delivered_at, tzinfo))
                for i in unpriced])
        completed = list(requests)
        for i, price in zip(unpriced, prices):
            if price:
                completed[i] = requests[i]._replace(
                    unit_price=price.unit_price, currency=price.currency)
        return completed

    @classmethod
    def delivery_refusals(cls, requests):
        """The delivery rule chain: return for each request the list of
        `Refusal` that forbid it; an empty list allows the delivery.

        This is the one place that decides whether a lead may go to a buyer;
        modules add their rules by extending it. It works on a batch so that
        every rule can answer with a fixed number of queries."""
        delivery = cls.__table__()
        cursor = Transaction().connection.cursor()
        delivered = set()
        lead_ids = {r.lead.id for r in requests if r.lead.id >= 0}
        for sub_ids in grouped_slice(lead_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*delivery.select(
                    delivery.lead, delivery.buyer,
                    where=reduce_ids(delivery.lead, sub_ids)))
            delivered.update(cursor)

        result = []
        for request in requests:
            refusals = []
            lead, buyer = request.lead, request.buyer
            if lead.quality_state != 'valid':
                refusals.append(Refusal('lead', gettext(
                            'lead_billing.msg_delivery_lead_not_valid',
                            lead=lead.rec_name,
                            state=lead.quality_state_string)))
            if not buyer.active or not buyer.lead_buyer:
                refusals.append(Refusal('buyer', gettext(
                            'lead_billing.msg_delivery_not_buyer',
                            buyer=buyer.rec_name)))
            if (lead.id, buyer.id) in delivered:
                refusals.append(Refusal('buyer', gettext(
                            'lead_billing.msg_delivery_already_delivered',
                            lead=lead.rec_name, buyer=buyer.rec_name)))
            if request.unit_price is None:
                refusals.append(Refusal('unit_price', gettext(
                            'lead_billing.msg_delivery_no_price',
                            buyer=buyer.rec_name,
                            category=lead.category.rec_name)))
            if request.delivered_at < lead.received_at:
                refusals.append(Refusal('delivered_at', gettext(
                            'lead_billing.msg_delivery_before_reception',
                            lead=lead.rec_name)))
            if not refusals:
                delivered.add((lead.id, buyer.id))
            result.append(refusals)
        return result

    @classmethod
    def create(cls, vlist):
        """Create deliveries after the delivery rules allowed them, with the
        price in force frozen; refuses the whole call on the first refusal.
        """
        pool = Pool()
        Lead = pool.get('lead.lead')
        Party = pool.get('party.party')
        vlist = [v.copy() for v in vlist]
        leads = {lead.id: lead for lead in Lead.browse(
                list({v['lead'] for v in vlist if v.get('lead')}))}
        buyers = {p.id: p for p in Party.browse(
                list({v['buyer'] for v in vlist if v.get('buyer')}))}
        requests = [DeliveryRequest(
                leads[v['lead']], buyers[v['buyer']],
                v.get('delivered_at') or cls.default_delivered_at(),
                v.get('unit_price'), v.get('currency'))
            for v in vlist if v.get('lead') and v.get('buyer')]
        if len(requests) == len(vlist):
            requests = cls.price_requests(requests)
            for refusals in cls.delivery_refusals(requests):
                if refusals:
                    raise DeliveryRefused(refusals[0].message)
            vlist = [{**values, **cls.values_for(request)}
                for values, request in zip(vlist, requests)]
        deliveries = super().create(vlist)
        Lead.count_deliveries(d.lead.id for d in deliveries)
        cls.delivered({d.buyer.id for d in deliveries})
        return deliveries

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Lead = pool.get('lead.lead')
        counted = set()
        actions = iter(args)
        for deliveries, values in zip(actions, actions):
            if values.keys() & {'state', 'lead'}:
                counted.update(d.lead.id for d in deliveries)
                if values.get('lead'):
                    counted.add(values['lead'])
        super().write(*args)
        if counted:
            Lead.count_deliveries(counted)

    @classmethod
    def delete(cls, deliveries):
        pool = Pool()
        Lead = pool.get('lead.lead')
        counted = {d.lead.id for d in deliveries}
        super().delete(deliveries)
        Lead.count_deliveries(counted)

    @classmethod
    def delivered(cls, buyer_ids):
        """Called after deliveries to `buyer_ids` were created, by the ORM
        or in bulk by the intake, in the same transaction; modules react
        to new deliveries by extending it."""

    @classmethod
    def values_for(cls, request):
        "The values of the delivery that an allowed request creates"
        return {
            'company': request.lead.company.id,
            'lead': request.lead.id,
            'supplier': request.lead.supplier.id,
            'buyer': request.buyer.id,
            'delivered_at': request.delivered_at,
            'unit_price': request.unit_price,
            'currency': request.currency or request.lead.currency.id,
            'billable': not request.buyer.lead_internal,
            'state': 'delivered',
            }

    @classmethod
    def stop_billing(cls, buyers):
        """Make the open deliveries of buyers that became internal accounts
        non-billable; what was delivered before to a buyer that stops being
        internal stays free of charge."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_buyers in grouped_slice(buyers, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.billable], [False],
                    where=reduce_ids(table.buyer, [b.id for b in sub_buyers])
                    & (table.billable == True)  # noqa: E712
                    & (table.state == 'delivered')))
        forget_cached(cls)

    @classmethod
    def validate_fields(cls, deliveries, field_names):
        super().validate_fields(deliveries, field_names)
        if field_names & {'billable', 'buyer'}:
            for delivery in deliveries:
                if delivery.billable and delivery.buyer.lead_internal:
                    raise LeadValidationError(gettext(
                            'lead_billing.msg_delivery_internal_billable',
                            delivery=delivery.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, deliveries):
        for delivery in deliveries:
            if delivery.invoice_line:
                raise AccessError(gettext(
                        'lead_billing.msg_delivery_cancel_billed',
                        delivery=delivery.rec_name,
                        invoice=delivery.invoice_line.invoice.rec_name))
