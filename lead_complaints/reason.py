# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.lead_billing.audit import AuditedMixin

AUTO_RULES = [
    (None, ""),
    ('phone', "Phone number invalid"),
    ('email', "Email address invalid"),
    ('postal_code', "Postal code does not fit the country"),
    ('duplicate', "Duplicate confirmed"),
    ]


class Reason(
        AuditedMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    "Complaint reason (Reklamationsgrund)"
    __name__ = 'lead.complaint.reason'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True, strip=True)
    description = fields.Text("Description", translate=True)
    auto_rule = fields.Selection(
        AUTO_RULES, "Automatic Acceptance", sort=False,
        help="Accept a complaint for this reason automatically when the "
        "lead fails this check again; otherwise a person decides.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields |= {'name', 'code', 'auto_rule', 'active'}
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'lead_complaints.msg_reason_code_unique'),
            ]
