# This file is part of the lead trading suite. See README.rst for details.
"""Audit trail: who changed which price, agreement or setting, when, from
what to what.

Tryton's `_history` keeps whole rows by write date, with ids for relations
and nothing for the company values of a configuration's MultiValue fields;
it would copy every column of party.party and tell neither which field a
user changed nor its readable value once a related record is renamed. The
suite logs instead each changed field of the audited models as one row of
text, written by `AuditedMixin` in bulk around create, write and delete."""
import datetime as dt
from decimal import Decimal

from sql import Null

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

AUDIT_ACTIONS = [
    ('create', "Created"),
    ('write', "Changed"),
    ('delete', "Deleted"),
    ]


def says_nothing(value):
    """Whether a value tells nothing on a created or deleted record: empty
    or an unticked box, but not a zero amount or count"""
    return value is None or value is False or value == ''


def audit_text(value, labels=None, decimals=None):
    """The readable text the change log keeps of a field value: the label
    of a selection key, ISO format for dates, a Decimal with the `decimals`
    of its field or else without trailing zeros, so that the text does not
    depend on how the database returns the number"""
    if value is None or value == '':
        return None
    if labels is not None:
        return labels.get(value, value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = (value.quantize(Decimal(1).scaleb(-decimals))
            if decimals is not None else value.normalize())
        return f'{value:f}'
    return str(value)


def audit_changes(before, after):
    """Yield (record id, record name, field, old text, new text) for every
    field whose text differs between the snapshots `before` and `after`,
    each a mapping of record id to (name, {field: text}); a record missing
    from `before` was created, one missing from `after` deleted."""
    for record_id in sorted(before.keys() | after.keys()):
        old_name, old = before.get(record_id, (None, {}))
        new_name, new = after.get(record_id, (None, {}))
        for field in sorted(old.keys() | new.keys()):
            if old.get(field) != new.get(field):
                yield (record_id, new_name or old_name, field,
                    old.get(field), new.get(field))


class AuditChange(ModelSQL, ModelView):
    "Change of an audited field"
    __name__ = 'lead.audit.change'

    date = fields.Timestamp("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    model = fields.Char("Model", required=True, readonly=True)
    model_string = fields.Function(
        fields.Char("Document Type"), 'get_model_string')
    record = fields.Reference(
        "Record", selection='get_models', readonly=True,
        help="Empty once the record is deleted.")
    record_id = fields.Integer("Record ID", required=True, readonly=True)
    record_name = fields.Char(
        "Record Name", readonly=True,
        help="The name of the record when it was changed; it stays when "
        "the record is deleted.")
    field = fields.Char("Field", required=True, readonly=True)
    field_string = fields.Function(
        fields.Char("Field Name"), 'get_field_string')
    action = fields.Selection(
        AUDIT_ACTIONS, "Action", required=True, readonly=True)
    old_value = fields.Char("Old Value", readonly=True)
    new_value = fields.Char("New Value", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.record, Index.Equality())),
                Index(t, (t.model, Index.Equality()),
                    (t.record_id, Index.Range())),
                Index(t, (t.model, Index.Equality()),
                    (t.date, Index.Range(order='DESC'))),
                })

    @classmethod
    def get_models(cls):
        Model = Pool().get('ir.model')
        return [(None, '')] + sorted(
            (name, Model.get_name(name))
            for name, klass in Pool().iterobject()
            if issubclass(klass, AuditedMixin))

    def get_model_string(self, name):
        return Pool().get('ir.model').get_name(self.model)

    def get_field_string(self, name):
        return Pool().get('ir.model.field').get_name(self.model, self.field)

    @classmethod
    def forget_records(cls, model, ids):
        """Unlink the log from the deleted records of `model`: a reference
        to a missing record cannot be read; model, id and name stay"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update([table.record], [Null],
                    where=table.record.in_(
                        [f'{model},{i}' for i in sub_ids])))


class AuditedMixin:
    """Log the changes of the fields named in `_audit_fields` to
    lead.audit.change; modules extend the set in their `__setup__`.

    The fields hold a value or a Many2One. A singleton puts the mixin after
    ModelSingleton, which turns a create into a write of its one record and
    a write into a create while there is none: each is then logged once,
    for the singleton's own record."""
    __slots__ = ()
    # The field whose rec_name names a record in the log
    _audit_name = 'rec_name'
    # Whether a created record replaces defaults that were in force before
    # it, as a singleton's or a company value's do: its creation is then
    # logged as the change of the fields that differ from them
    _audit_defaults_in_force = False

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._audit_fields = set()

    @classmethod
    def create(cls, vlist):
        names = cls._audit_fields
        if cls._audit_defaults_in_force and names:
            # read before the record exists: a singleton's defaults are
            # its values once it does
            defaults = cls._audit_texts(
                cls.default_get(list(names), with_rec_name=True), names)
        records = super().create(vlist)
        ids = [r.id for r in records]
        if cls._audit_defaults_in_force and names:
            # for the user, a setting changed from its default
            cls._audit_log('write', {i: (None, defaults) for i in ids},
                cls._audit_snapshot(ids, names))
        else:
            cls._audit_log('create', {},
                cls._audit_snapshot(ids, names, skip_empty=True))
        return records

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        names, ids = set(), set()
        for records, values in zip(actions, actions):
            changed = values.keys() & cls._audit_fields
            if changed:
                names |= changed
                ids.update(r.id for r in records)
        if not names:
            return super().write(*args)
        ids = sorted(ids)
        before = cls._audit_snapshot(ids, names)
        super().write(*args)
        cls._audit_log('write', before, cls._audit_snapshot(ids, names))

    @classmethod
    def delete(cls, records):
        before = cls._audit_snapshot(
            [r.id for r in records], cls._audit_fields, skip_empty=True)
        super().delete(records)
        Pool().get('lead.audit.change').forget_records(
            cls.__name__, [r.id for r in records])
        cls._audit_log('delete', before, {})

    @classmethod
    def _audit_snapshot(cls, ids, names, skip_empty=False):
        """Read `names` of the records in one call: record id → (name,
        {field: text}), without the values that say nothing if
        `skip_empty`"""
        if not ids or not names:
            return {}
        relations = {n for n in names
            if cls._fields[n]._type in {'many2one', 'one2one'}}
        read_names = [
            *(n for n in names if n not in relations),
            *(f'{n}.rec_name' for n in relations),
            cls._audit_name]
        # the user who changes a record may not read what it refers to
        with without_check_access():
            rows = cls.read(ids, read_names)
        return {row['id']: (_read_name(row, cls._audit_name),
                cls._audit_texts(row, names, skip_empty))
            for row in rows}

    @classmethod
    def _audit_texts(cls, row, names, skip_empty=False):
        """{field: text} of `names` in `row`, a result of `read` or
        `default_get` with the rec_name of the relations"""
        texts = {}
        for name in names:
            field = cls._fields[name]
            if field._type in {'many2one', 'one2one'}:
                target = row.get(f'{name}.')
                value = target['rec_name'] if target else None
            else:
                value = row.get(name)
            if field._type == 'boolean':
                # SQLite returns the integer it stores; NULL is unticked
                value = bool(value)
            if skip_empty and says_nothing(value):
                continue
            selection = getattr(field, 'selection', None)
            labels = (dict(selection)
                if isinstance(selection, (list, tuple)) else None)
            digits = getattr(field, 'digits', None)
            decimals = (digits[1] if isinstance(digits, tuple)
                and isinstance(digits[1], int) else None)
            texts[name] = audit_text(value, labels, decimals)
        return texts

    @classmethod
    def _audit_log(cls, action, before, after):
        Change = Pool().get('lead.audit.change')
        now = dt.datetime.now()
        user = Transaction().user
        vlist = [{
                'date': now,
                'user': user,
                'model': cls.__name__,
                'record': (f'{cls.__name__},{record_id}'
                    if action != 'delete' else None),
                'record_id': record_id,
                'record_name': record_name,
                'field': field,
                'action': action,
                'old_value': old,
                'new_value': new,
                } for record_id, record_name, field, old, new
            in audit_changes(before, after)]
        if vlist:
            with without_check_access():
                Change.create(vlist)


class AuditedCompanyValueMixin(AuditedMixin):
    """Name a company value of a configuration after its company in the log;
    the record is created when a setting of the company first changes from
    its default"""
    __slots__ = ()
    _audit_name = 'company.rec_name'
    _audit_defaults_in_force = True


def _read_name(row, name):
    "The value of the dotted `name` in a row of `read`"
    *path, last = name.split('.')
    for step in path:
        row = row[f'{step}.'] or {}
    return row.get(last)
