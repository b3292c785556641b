# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import fields
from trytond.modules.lead_billing.audit import AuditedMixin
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .rules import DELAY_BASES, level_due


class Level(AuditedMixin, metaclass=PoolMeta):
    __name__ = 'account.dunning.level'

    name = fields.Char(
        "Name", translate=True,
        help="What the customer's letter and e-mail call the level, e.g. "
        "payment reminder or formal notice.")
    delay_base = fields.Selection(
        DELAY_BASES, "Delay From", required=True,
        help="Count the overdue delay from the due date of the invoice, or "
        "from the day the previous level was sent.")
    automatic = fields.Boolean(
        "Automatic",
        help="The daily dunning job processes and sends this level; "
        "otherwise the dunnings wait for a person.")
    email_text = fields.Many2One(
        'ir.email.template', "Email Text",
        domain=[('model.name', '=', 'account.dunning')],
        states={'invisible': ~Eval('send_email')},
        help="Subject and body of the e-mail, per language; empty: "
        "Tryton's dunning e-mail template.")
    attach_invoice = fields.Boolean(
        "Attach Invoice",
        states={'invisible': ~Eval('send_email')},
        help="Attach the invoice PDF to the e-mail.")
    attach_letter = fields.Boolean(
        "Attach Letter",
        states={'invisible': ~Eval('send_email')},
        help="Attach the dunning letter PDF to the e-mail.")
    stop_deliveries = fields.Boolean(
        "Stop Deliveries",
        help="No lead is delivered to a buyer with a dunning at this level "
        "until the overdue amount is paid.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {
            'overdue', 'delay_base', 'name', 'automatic', 'send_email',
            'email_text', 'attach_invoice', 'attach_letter', 'print_on_letter',
            'fee', 'stop_deliveries'}

    @classmethod
    def default_delay_base(cls):
        return 'due_date'

    def get_rec_name(self, name):
        if self.name:
            return f'{self.name} ({self.procedure.rec_name})'
        return super().get_rec_name(name)

    def test(self, line, date):
        if self.delay_base == 'due_date':
            return super().test(line, date)
        dunning = line.dunnings[0] if line.dunnings else None
        reached = (dunning.date
            if dunning and dunning.state != 'draft' else None)
        return level_due(
            self.delay_base, self.overdue, date, line.maturity_date, reached)
