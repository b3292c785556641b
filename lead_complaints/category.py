# This file is part of the lead trading suite. See README.rst for details.
from trytond.model import ModelSQL, fields
from trytond.pool import PoolMeta

from .rules import DEFAULT_WINDOW_DAYS


class Category(metaclass=PoolMeta):
    __name__ = 'lead.category'

    complaint_window_days = fields.Integer(
        "Complaint Window", required=True,
        domain=[('complaint_window_days', '>=', 0)],
        help="In days after the day of delivery; buyers may have their own.")
    complaint_reasons_disabled = fields.Many2Many(
        'lead.category-lead.complaint.reason', 'category', 'reason',
        "Reasons Switched Off",
        help="Complaints with these reasons are refused for leads of the "
        "category.")

    @classmethod
    def default_complaint_window_days(cls):
        return DEFAULT_WINDOW_DAYS


class CategoryReasonDisabled(ModelSQL):
    "Complaint reason switched off for a lead category"
    __name__ = 'lead.category-lead.complaint.reason'

    category = fields.Many2One(
        'lead.category', "Category", required=True, ondelete='CASCADE')
    reason = fields.Many2One(
        'lead.complaint.reason', "Reason", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # who may change the category may switch its reasons
        cls.__access__.add('category')
