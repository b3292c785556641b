# This file is part of the lead trading suite. See README.rst for details.
"""Billing runs leave the leads every buyer returned before the supplier was
paid off the statements, and net the supplier's share of returns of leads
already paid on the supplier's next statement."""
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Null
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.modules.lead_billing.billing import line_id, line_template
from trytond.modules.lead_billing.bulk import forget_cached
from trytond.modules.lead_billing.exceptions import BillingConflict
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .rules import select_clawbacks


class BillingRun(metaclass=PoolMeta):
    __name__ = 'lead.billing.run'

    @classmethod
    def unpaid_leads(cls, lead, company_id):
        return (super().unpaid_leads(lead, company_id)
            & (Coalesce(lead.supplier_not_payable, Literal(False))
                == Literal(False)))

    def _bill_suppliers(self, tracker):
        super()._bill_suppliers(tracker)
        self._net_returns()

    def _net_returns(self):
        """Add the pending supplier shares of returned leads that a
        statement paid to the latest statement of their supplier in this
        run, as far as it stays a credit for the supplier"""
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        Lead = pool.get('lead.lead')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        Category = pool.get('lead.category')
        RunParty = pool.get('lead.billing.run.party')
        complaint = Complaint.__table__()
        delivery = Delivery.__table__()
        lead = Lead.__table__()
        cursor = Transaction().connection.cursor()

        statements = {}
        for statement in Invoice.search([
                    ('lead_billing_run', '=', self.id),
                    ('lead_self_billing', '=', True),
                    ('state', '=', 'draft'),
                    ], order=[('lead_period_end', 'ASC'), ('id', 'ASC')]):
            statements[statement.party.id, statement.currency.id] = statement
        if not statements:
            return

        pending = defaultdict(list)
        cursor.execute(*complaint.join(delivery,
                condition=complaint.delivery == delivery.id
                ).join(lead, condition=delivery.lead == lead.id
                ).select(
                complaint.id, lead.supplier, lead.currency, lead.category,
                complaint.supplier_amount,
                where=(complaint.company == self.company.id)
                & (complaint.state == 'accepted')
                & (complaint.supplier_line == Null)
                & (complaint.supplier_amount > 0)
                & (lead.statement_line != Null),
                order_by=[complaint.decided_at, complaint.id]))
        for complaint_id, supplier, currency, category, amount in cursor:
            if (supplier, currency) in statements:
                pending[supplier, currency].append(
                    (complaint_id, category, Decimal(str(amount))))

        chosen = {}
        for key, returns in pending.items():
            statement = statements[key]
            indexes = select_clawbacks(
                statement.untaxed_amount, [r[2] for r in returns])
            chosen[key] = [returns[i] for i in indexes]

        categories = {c.id: c for c in Category.browse(list({
                        r[1] for rs in chosen.values() for r in rs}))}
        line_keys, line_values, templates = [], [], {}
        for key, returns in chosen.items():
            statement = statements[key]
            groups = defaultdict(list)
            for complaint_id, category_id, amount in returns:
                groups[category_id, amount].append(complaint_id)
            for (category_id, amount), complaint_ids in sorted(
                    groups.items()):
                category = categories[category_id]
                template_key = (statement.party.id, category.product.id)
                if template_key not in templates:
                    templates[template_key] = line_template(
                        statement, category.product)
                line_keys.append(complaint_ids)
                line_values.append({
                        **templates[template_key],
                        'invoice': statement.id,
                        'quantity': -len(complaint_ids),
                        'unit_price': amount,
                        'description': gettext(
                            'lead_complaints.msg_statement_return_line',
                            category=category.rec_name),
                        'origin': str(category),
                        })
        if not line_values:
            return
        lines = []
        for sub_values in grouped_slice(line_values, 1000):
            lines.extend(Line.create(list(sub_values)))

        line_of = {}
        for complaint_ids, line in zip(line_keys, lines):
            for complaint_id in complaint_ids:
                line_of[complaint_id] = line.id
        for sub_ids in grouped_slice(sorted(line_of), 500):
            sub_ids = list(sub_ids)
            cursor.execute(*complaint.update(
                    [complaint.supplier_line],
                    [Case(*((complaint.id == i, line_id(line_of[i]))
                                for i in sub_ids))],
                    where=reduce_ids(complaint.id, sub_ids)
                    & (complaint.supplier_line == Null)))
            if cursor.rowcount != len(sub_ids):
                raise BillingConflict(gettext(
                        'lead_billing.msg_billing_conflict',
                        expected=len(sub_ids), marked=cursor.rowcount))
        forget_cached(Complaint)

        netted = [statements[k] for k, rs in chosen.items() if rs]
        Invoice.update_taxes(netted)
        rows = RunParty.search([
                ('run', '=', self.id),
                ('invoice', 'in', [s.id for s in netted]),
                ])
        for row in rows:
            row.amount = Invoice(row.invoice.id).untaxed_amount
        RunParty.save(rows)
