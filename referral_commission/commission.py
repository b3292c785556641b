# This file is part of the lead trading suite. See README.rst for details.
"""Tryton's commissions carry the referral programme: each line of a
referred customer's revenue is a commission of the referrer's agent, paid
out by a voucher instead of an agent invoice."""
from sql import Null
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, Unique, fields
from trytond.modules.product import price_digits, round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice, reduce_ids, sqlite_apply_types
from trytond.transaction import Transaction

from .exceptions import ReferralError

AREA_SELECTION = [
    (None, ''),
    ('new', "New"),
    ('difference', "Difference"),
    ('overpaid', "Overpaid"),
    ]


class Commission(metaclass=PoolMeta):
    __name__ = 'commission'

    referral = fields.Many2One(
        'referral.referral', "Referral", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('referral')})
    referral_line = fields.Many2One(
        'account.invoice.line', "Revenue Line", readonly=True,
        ondelete='RESTRICT',
        states={'invisible': ~Eval('referral')},
        help="The line of the referred customer's invoice or credit note.")
    # The line whose posting created the commission, empty on the copies
    # that reverse a cancelled invoice, so that a plain unique index
    # allows one commission per posted line
    referral_line_key = fields.Integer("Revenue Line Key", readonly=True)
    referral_corrects = fields.Many2One(
        'commission', "Corrects", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('referral_corrects')},
        help="The commission whose revenue was credited or cancelled.")
    referral_voucher = fields.Many2One(
        'referral.voucher', "Voucher", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('referral')},
        help="The voucher that paid the commission out.")
    referral_area = fields.Selection(
        AREA_SELECTION, "Payout Area", readonly=True,
        states={'invisible': ~Eval('referral_voucher')})
    referral_cash_amount = fields.Numeric(
        "Cash Alternative", digits=price_digits, readonly=True,
        states={'invisible': ~Eval('referral_voucher')},
        help="What the commission pays when the referrer takes cash "
        "instead of the voucher.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('referral_line_key_unique', Unique(t, t.referral_line_key),
                'referral_commission.msg_commission_line_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.referral, Index.Range())),
                Index(t, (t.referral_line, Index.Range())),
                Index(t, (t.referral_voucher, Index.Range())),
                Index(t, (t.referral_corrects, Index.Range())),
                # what payouts read: the open commission of referrals
                Index(t, (t.referral, Index.Range()),
                    where=(t.referral != Null)
                    & (t.referral_voucher == Null)),
                })
        paid = Bool(Eval('referral_voucher'))
        for name in ['origin', 'date', 'agent', 'product', 'base_amount',
                'amount']:
            field = getattr(cls, name)
            field.states = field.states.copy()
            field.states['readonly'] = field.states.get(
                'readonly', False) | paid
            field.depends = set(field.depends) | {'referral_voucher'}
        cls._buttons['invoice']['invisible'] |= Bool(Eval('referral'))
        cls._buttons['invoice']['depends'] = list(
            cls._buttons['invoice'].get('depends', [])) + ['referral']

    @classmethod
    def copy(cls, commissions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['referral_line_key', 'referral_voucher',
                'referral_area', 'referral_cash_amount']:
            default.setdefault(name)
        return super().copy(commissions, default=default)

    @classmethod
    def invoice(cls, commissions):
        "Referral commissions are paid by vouchers, never by agent invoices"
        referral = [c for c in commissions if c.referral]
        if referral:
            raise ReferralError(gettext(
                    'referral_commission.msg_commission_not_invoiced',
                    commission=referral[0].rec_name))
        super().invoice(commissions)

    @classmethod
    def delete(cls, commissions):
        for commission in commissions:
            if commission.referral_voucher:
                raise ReferralError(gettext(
                        'referral_commission.msg_commission_delete_paid',
                        commission=commission.rec_name,
                        voucher=commission.referral_voucher.rec_name))
        super().delete(commissions)

    @classmethod
    def referral_window_ends(cls, line_ids):
        """{invoice line id: the last day on which the revenue of the line
        may still be returned}, for the lines that can be returned"""
        return {}

    @classmethod
    def reverse_referral(cls, commissions):
        """Take back the referral commission of cancelled revenue: what was
        not paid out is deleted, what was paid is reversed by a correction
        that the next payout nets as overpaid"""
        to_delete = [c for c in commissions if not c.referral_voucher]
        paid = [c for c in commissions if c.referral_voucher]
        if to_delete:
            # credits of revenue that is gone go with it, before it
            cls.delete(cls.search([
                        ('referral_corrects', 'in', [c.id for c in to_delete]),
                        ('id', 'not in', [c.id for c in to_delete]),
                        ]))
            cls.delete(to_delete)
        if paid:
            cls.copy(paid, default={
                    'base_amount': lambda d: -d['base_amount'],
                    'amount': lambda d: -d['amount'],
                    'referral_corrects': lambda d: d['id'],
                    })


class Agent(metaclass=PoolMeta):
    __name__ = 'commission.agent'

    referral_programme = fields.Boolean(
        "Referral Programme", readonly=True,
        help="The agent stands for a referrer of the referral programme; "
        "its commission is paid by vouchers.")

    @classmethod
    def get_pending_amount(cls, agents, name):
        "The referral commission paid out by vouchers is not pending"
        Commission = Pool().get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        amounts = super().get_pending_amount(agents, name)
        referral_agents = [a.id for a in agents if a.referral_programme]
        for sub_ids in grouped_slice(
                referral_agents, backend.MAX_QUERY_PARAMS):
            query = commission.select(
                commission.agent, Sum(commission.amount).as_('paid'),
                where=reduce_ids(commission.agent, sub_ids)
                & (commission.invoice_line == Null)
                & (commission.referral_voucher != Null),
                group_by=[commission.agent])
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'NUMERIC'])
            cursor.execute(*query)
            for agent_id, paid in cursor:
                amounts[agent_id] = round_price(amounts[agent_id] - paid)
        return amounts


class CreateInvoice(metaclass=PoolMeta):
    __name__ = 'commission.create_invoice'

    def get_domain(self):
        return super().get_domain() + [('referral', '=', None)]
