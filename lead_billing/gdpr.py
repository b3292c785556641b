# This file is part of the lead trading suite. See README.rst for details.
"""Erasure of the personal data of leads (right to erasure, GDPR Art. 17).

As Tryton's party erase does, the contact data is blanked in the table
(and its history, if kept) instead of deleting the lead: the reference,
supplier, category, reception time, prices, deliveries, invoice lines and
complaints stay, so invoices and statements keep their amounts and the
documents that list the leads can still be printed. The attachments and
notes of an erased lead are deleted, as they may carry the same data."""
import datetime as dt

from dateutil.relativedelta import relativedelta
from sql import Column, Null
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice, reduce_ids, timezone
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .bulk import forget_cached

# The fields of a lead that describe the person; the matching keys are
# derived from phone and email
PERSONAL_FIELDS = ['name', 'email', 'phone', 'postal_code', 'city', 'country']
MATCHING_KEYS = ['phone_key', 'email_key']


def retention_limit(today, months, tzinfo):
    """The naive UTC instant before which a lead was received more than
    `months` months before `today` (a date in `tzinfo`): local midnight of
    the same day `months` months earlier, or of the last day of that month
    when it is shorter (31 May less three months is 28 or 29 February)."""
    cut_off = today - relativedelta(months=months)
    midnight = dt.datetime.combine(cut_off, dt.time(0), tzinfo=tzinfo)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


class PersonalDataMixin:
    "The erasure of the personal data of leads"
    __slots__ = ()

    personal_data_erased = fields.Timestamp(
        "Personal Data Erased", readonly=True,
        help="When the contact data of the lead was erased; its deliveries "
        "and invoices stay.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # erased data is not entered again by hand
        for name in PERSONAL_FIELDS:
            field = getattr(cls, name)
            field.states = field.states.copy()
            field.states['readonly'] = (
                field.states.get('readonly', False)
                | Bool(Eval('personal_data_erased')))
            field.depends.add('personal_data_erased')

    @classmethod
    def copy(cls, leads, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('personal_data_erased', None)
        return super().copy(leads, default=default)

    @classmethod
    def erase_personal_data(cls, leads):
        """Blank the personal data of the leads and stamp them erased; a
        lead erased before keeps its first stamp"""
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        Note = pool.get('ir.note')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        names = PERSONAL_FIELDS + MATCHING_KEYS
        blanks = [Null] * len(names)
        for sub_ids in grouped_slice(
                sorted({lead.id for lead in leads}),
                backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*table.update(
                    [Column(table, n) for n in names] + [
                        table.personal_data_erased,
                        table.write_uid, table.write_date],
                    blanks + [
                        Coalesce(
                            table.personal_data_erased, CurrentTimestamp()),
                        transaction.user, CurrentTimestamp()],
                    where=reduce_ids(table.id, sub_ids)))
            if cls._history:
                history = cls.__table_history__()
                cursor.execute(*history.update(
                        [Column(history, n) for n in names], blanks,
                        where=reduce_ids(history.id, sub_ids)))
            resources = [f'{cls.__name__},{i}' for i in sub_ids]
            for Resource in [Attachment, Note]:
                resource = Resource.__table__()
                cursor.execute(*resource.delete(
                        where=resource.resource.in_(resources)))
        forget_cached(cls)

    @classmethod
    def erase_expired_personal_data(cls):
        """The scheduled job: erase the personal data of the leads received
        longer ago than the retention of the configuration, for the company
        of the context or else for every company"""
        pool = Pool()
        Company = pool.get('company.company')
        Configuration = pool.get('lead.configuration')
        Date = pool.get('ir.date')
        months = Configuration(1).personal_data_retention
        if not months:
            return
        company_id = Transaction().context.get('company')
        companies = ([Company(company_id)] if company_id is not None
            else Company.search([]))
        for company in companies:
            with Transaction().set_context(company=company.id):
                limit = retention_limit(Date.today(), months,
                    timezone.get_tzinfo(company.timezone or 'UTC'))
                cls.erase_personal_data(cls.search([
                            ('company', '=', company.id),
                            ('received_at', '<', limit),
                            ('personal_data_erased', '=', None),
                            ]))


class ErasePersonalDataStart(ModelView):
    "Erase Personal Data"
    __name__ = 'lead.erase_personal_data.start'

    lead_count = fields.Integer("Leads", readonly=True)
    erased_count = fields.Integer(
        "Already Erased", readonly=True,
        help="Leads among them whose personal data was erased before.")


class ErasePersonalData(Wizard):
    "Erase the personal data of the selected leads"
    __name__ = 'lead.erase_personal_data'

    start = StateView(
        'lead.erase_personal_data.start',
        'lead_billing.erase_personal_data_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Erase", 'erase', 'tryton-clear', default=True),
            ])
    erase = StateTransition()

    def default_start(self, fields):
        return {
            'lead_count': len(self.records),
            'erased_count': sum(
                1 for lead in self.records if lead.personal_data_erased),
            }

    def transition_erase(self):
        self.model.erase_personal_data(self.records)
        return 'end'

    def end(self):
        return 'reload'
