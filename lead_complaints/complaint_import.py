# This file is part of the lead trading suite. See README.rst for details.
"""Upload of complaints by the buyer's own view of its leads: a buyer knows
the supplier's reference of a lead, not our delivery, so a list of rows
(reference, reason, description and, when the reference is not unique among
the buyer's leads, the supplier) becomes submitted complaints.

Every row is answered on its own, in the order given:

* ``submitted``: the complaint is stored and waits for a decision;
* ``accepted``: the automatic rules accepted it at submission;
* ``refused``: nothing of the row is stored; the message says why.

Rows are checked up front with the rules of the complaints themselves and
the valid ones are created and submitted in one batch, so a refused row
never leaves anything behind and never stops the others."""
import csv
import datetime as dt
import io
from pathlib import PurePath

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .complaint import HOLDING_STATES
from .exceptions import ComplaintValidationError

MAX_ROWS = 5000
# Rows read from the database per query
CHUNK = 1000
# Complaints created and submitted per call: on SQLite, Tryton checks the
# constraint of one open complaint per delivery with a condition nested once
# per record, which SQLite's parser refuses from about 90 records on.
SUBMIT_CHUNK = 50
ROW_KEYS = {'reference', 'reason', 'description', 'supplier'}
# Header names of the CSV file, English and German, case-insensitive
COLUMNS = {
    'reference': 'reference',
    'referenz': 'reference',
    'reason': 'reason',
    'grund': 'reason',
    'description': 'description',
    'beschreibung': 'description',
    'supplier': 'supplier',
    'lieferant': 'supplier',
    }
REQUIRED_COLUMNS = ['reference', 'reason']
RESULT_COLUMNS = [
    'line', 'reference', 'supplier', 'reason', 'status', 'complaint',
    'message']


class ComplaintImportError(UserError):
    "A complaint upload that cannot be read as a whole"


class RowRefused(Exception):
    "A row that is answered as refused, with the message saying why"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _text(row, key):
    "The stripped text of row[key], None when empty"
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowRefused(gettext('lead_complaints.msg_import_not_text',
                field=key))
    return value.strip() or None


class Complaint(metaclass=PoolMeta):
    __name__ = 'lead.complaint'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'import_rows': RPC(readonly=False),
                })

    @classmethod
    def import_rows(cls, buyer_id, rows):
        """Create and submit a complaint for each row about the delivery to
        the buyer of the lead it names and answer for each row in order
        (see the module documentation for the answers)."""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Party = pool.get('party.party')

        # Only Lead Trading may file complaints (the wizard checks the group
        # of its action, an RPC call the access to complaints)
        ModelAccess.check('lead.complaint', 'create')
        company = Transaction().context.get('company')
        if company is None:
            raise ComplaintImportError(gettext(
                    'lead_complaints.msg_import_no_company'))
        if not isinstance(rows, list):
            raise ComplaintImportError(gettext(
                    'lead_complaints.msg_import_not_rows'))
        if len(rows) > MAX_ROWS:
            raise ComplaintImportError(gettext(
                    'lead_complaints.msg_import_too_many_rows',
                    rows=len(rows), limit=MAX_ROWS))
        buyers = Party.search([
                ('id', '=', buyer_id),
                ('lead_buyer', '=', True),
                ('active', 'in', [True, False]),
                ])
        if not buyers:
            raise ComplaintImportError(gettext(
                    'lead_complaints.msg_import_not_buyer', buyer=buyer_id))
        buyer, = buyers

        results = []
        parsed = {}
        for i, row in enumerate(rows):
            result = {'row': i, 'reference': None, 'complaint': None}
            results.append(result)
            try:
                parsed[i] = cls._import_parse(row, result)
            except RowRefused as e:
                cls._refuse_row(result, e)

        deliveries = cls._import_deliveries(company, buyer, {
                values['reference'] for values in parsed.values()})
        reasons = cls._import_reasons()
        candidates = {}
        for i, values in parsed.items():
            try:
                delivery = cls._import_delivery(
                    buyer, values, deliveries.get(values['reference'], []))
                reason = cls._import_reason(reasons, values['reason'])
            except RowRefused as e:
                cls._refuse_row(results[i], e)
                continue
            candidates[i] = cls(buyer=buyer, delivery=delivery,
                reason=reason, description=values['description'])

        valid = cls._import_check(candidates, results)
        for sub_valid in grouped_slice(valid, SUBMIT_CHUNK):
            sub_valid = list(sub_valid)
            complaints = [candidates[i] for i in sub_valid]
            cls.save(complaints)
            cls.submit(complaints)
            for i, complaint in zip(sub_valid, cls.browse(complaints)):
                results[i].update(
                    status='accepted' if complaint.state == 'accepted'
                    else 'submitted',
                    complaint=complaint.id,
                    message=complaint.auto_check)
        return results

    @staticmethod
    def _refuse_row(result, error):
        result.update(status='refused', message=error.message)

    @classmethod
    def _import_parse(cls, row, result):
        "The stripped texts of a row, its reference noted in the answer"
        if not isinstance(row, dict):
            raise RowRefused(gettext('lead_complaints.msg_import_not_row'))
        unknown = sorted(set(row) - ROW_KEYS)
        if unknown:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_unknown_field',
                    field=unknown[0]))
        result['reference'] = _text(row, 'reference')
        values = {key: _text(row, key) for key in ROW_KEYS}
        if not values['reference']:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_reference_missing'))
        if not values['reason']:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_reason_missing'))
        return values

    @classmethod
    def _import_deliveries(cls, company, buyer, references):
        """{reference: [deliveries]} of the buyer's deliveries of leads with
        one of the references, from any supplier and in any state"""
        Delivery = Pool().get('lead.delivery')
        result = {}
        for sub_references in grouped_slice(sorted(references), CHUNK):
            for delivery in Delivery.search([
                        ('company', '=', company),
                        ('buyer', '=', buyer.id),
                        ('lead.reference', 'in', list(sub_references)),
                        ], order=[('id', 'ASC')]):
                result.setdefault(delivery.lead.reference, []).append(
                    delivery)
        return result

    @classmethod
    def _import_delivery(cls, buyer, values, deliveries):
        """The delivery a row means among the buyer's deliveries of leads
        with its reference: the supplier column chooses when the reference
        is not unique among them."""
        reference, supplier = values['reference'], values['supplier']
        if supplier:
            deliveries = [d for d in deliveries
                if d.lead.supplier.code == supplier]
        if not deliveries:
            if supplier:
                raise RowRefused(gettext(
                        'lead_complaints.msg_import_unknown_lead_supplier',
                        reference=reference, supplier=supplier,
                        buyer=buyer.rec_name))
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_unknown_lead',
                    reference=reference, buyer=buyer.rec_name))
        delivered = [d for d in deliveries if d.state == 'delivered']
        if len(delivered) > 1:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_ambiguous_lead',
                    reference=reference, buyer=buyer.rec_name,
                    suppliers=', '.join(sorted(
                            d.lead.supplier.code or d.lead.supplier.rec_name
                            for d in delivered))))
        if not delivered:
            raise RowRefused(gettext(
                    'lead_complaints.msg_complaint_delivery_cancelled',
                    delivery=deliveries[0].rec_name))
        return delivered[0]

    @classmethod
    def _import_reasons(cls):
        """The active reasons by exact code, and by code and by name in the
        user's language, both case-insensitive"""
        Reason = Pool().get('lead.complaint.reason')
        by_code, by_folded = {}, {}
        reasons = Reason.search([])
        for reason in reasons:
            by_code[reason.code] = reason
            by_folded.setdefault(reason.code.casefold(), set()).add(reason)
        for reason in reasons:
            by_folded.setdefault(reason.name.casefold(), set()).add(reason)
        return by_code, by_folded

    @classmethod
    def _import_reason(cls, reasons, value):
        by_code, by_folded = reasons
        if value in by_code:
            return by_code[value]
        found = by_folded.get(value.casefold(), set())
        if len(found) > 1:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_ambiguous_reason',
                    reason=value))
        if not found:
            raise RowRefused(gettext(
                    'lead_complaints.msg_import_unknown_reason',
                    reason=value))
        reason, = found
        return reason

    @classmethod
    def _import_check(cls, candidates, results):
        """Refuse the candidates that the complaint rules would refuse at
        creation or submission, and those about a delivery that already
        has a complaint; return the indexes of the others in order."""
        held = set()
        delivery_ids = list({c.delivery.id for c in candidates.values()})
        for sub_ids in grouped_slice(delivery_ids, CHUNK):
            held.update(c.delivery.id for c in cls.search([
                        ('delivery', 'in', list(sub_ids)),
                        ('state', 'in', HOLDING_STATES),
                        ]))
        in_file = set()
        valid = []
        late = dict(zip(candidates, cls.window_refusals(
                    list(candidates.values()), dt.datetime.now())))
        for i, candidate in candidates.items():
            delivery = candidate.delivery
            try:
                try:
                    cls.check_delivery([candidate])
                except ComplaintValidationError as e:
                    raise RowRefused(e.message)
                if late[i]:
                    raise RowRefused(late[i])
                if delivery.id in held:
                    raise RowRefused(gettext(
                            'lead_complaints.msg_complaint_delivery_unique'))
                if delivery.id in in_file:
                    raise RowRefused(gettext(
                            'lead_complaints.msg_import_duplicate_row',
                            delivery=delivery.rec_name))
            except RowRefused as e:
                cls._refuse_row(results[i], e)
                continue
            in_file.add(delivery.id)
            valid.append(i)
        return valid


class ImportStart(ModelView):
    "Import complaints"
    __name__ = 'lead.complaint.import.start'

    buyer = fields.Many2One(
        'party.party', "Buyer", required=True,
        domain=[('lead_buyer', '=', True)],
        help="The buyer who complains about the leads of the file.")
    file = fields.Binary(
        "File", filename='filename', required=True,
        help="A CSV file in UTF-8, separated by commas or semicolons, with "
        "the header line reference, reason, description, supplier (or "
        "Referenz, Grund, Beschreibung, Lieferant); reference and reason "
        "are required, supplier only when leads of several suppliers share "
        "the reference.")
    filename = fields.Char("File Name")


class ImportResult(ModelView):
    "Import complaints"
    __name__ = 'lead.complaint.import.result'

    summary = fields.Text("Summary", readonly=True)
    file = fields.Binary(
        "Result File", filename='filename', readonly=True,
        help="Each line of the file with its answer.")
    filename = fields.Char("File Name", readonly=True)


class Import(Wizard):
    "Import complaints of a buyer from a CSV file"
    __name__ = 'lead.complaint.import'

    start = StateView('lead.complaint.import.start',
        'lead_complaints.complaint_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('lead.complaint.import.result',
        'lead_complaints.complaint_import_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        Complaint = Pool().get('lead.complaint')
        lines, rows, delimiter = read_csv(bytes(self.start.file))
        answers = Complaint.import_rows(self.start.buyer.id, rows)
        self.result.summary = summarize(lines, rows, answers)
        self.result.file = write_csv(lines, rows, answers, delimiter)
        stem = PurePath(self.start.filename or 'complaints').stem
        self.result.filename = f'{stem}-result.csv'
        return 'result'

    def default_result(self, fields):
        return {
            'summary': self.result.summary,
            'file': self.result.file,
            'filename': self.result.filename,
            }


def read_csv(data):
    """Return the line numbers, the rows and the delimiter of a CSV file of
    complaints; the delimiter is sniffed from the header line, which holds
    no text that could contain it."""
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise ComplaintImportError(gettext(
                'lead_complaints.msg_import_not_utf8'))
    header_line = text.lstrip('\r\n').partition('\n')[0]
    try:
        delimiter = csv.Sniffer().sniff(header_line, delimiters=',;').delimiter
    except csv.Error:
        delimiter = ','
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=delimiter)
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        if header is None:
            raise ComplaintImportError(gettext(
                    'lead_complaints.msg_import_empty'))
        keys = []
        for name in header:
            key = COLUMNS.get(name.strip().casefold())
            if key is None:
                raise ComplaintImportError(gettext(
                        'lead_complaints.msg_import_unknown_column',
                        column=name.strip()))
            if key in keys:
                raise ComplaintImportError(gettext(
                        'lead_complaints.msg_import_duplicate_column',
                        column=name.strip()))
            keys.append(key)
        for key in REQUIRED_COLUMNS:
            if key not in keys:
                raise ComplaintImportError(gettext(
                        'lead_complaints.msg_import_missing_column',
                        column=key))
        lines, rows = [], []
        for record in reader:
            if not any(c.strip() for c in record):
                continue
            if len(record) > len(keys):
                raise ComplaintImportError(gettext(
                        'lead_complaints.msg_import_too_many_fields',
                        line=reader.line_num))
            lines.append(reader.line_num)
            rows.append(dict(zip(keys, record)))
    except csv.Error as e:
        raise ComplaintImportError(gettext(
                'lead_complaints.msg_import_csv_error',
                line=reader.line_num, error=e))
    return lines, rows, delimiter


def summarize(lines, rows, answers):
    "The counts of the answers and the refused lines, for a person to read"
    counts = {'submitted': 0, 'accepted': 0, 'refused': 0}
    refused = []
    for line, answer in zip(lines, answers):
        counts[answer['status']] += 1
        if answer['status'] == 'refused':
            refused.append(gettext('lead_complaints.msg_import_refused_line',
                    line=line, reference=answer['reference'] or '',
                    message=answer['message']))
    summary = gettext('lead_complaints.msg_import_summary',
        rows=len(rows), **counts)
    return '\n'.join([summary, *refused])


def write_csv(lines, rows, answers, delimiter):
    """Each row of the file with its answer, in UTF-8 with BOM and the
    file's delimiter so that spreadsheets open it as they opened the file"""
    output = io.StringIO(newline='')
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(RESULT_COLUMNS)
    for line, row, answer in zip(lines, rows, answers):
        writer.writerow([line, row.get('reference', ''),
                row.get('supplier', ''), row.get('reason', ''),
                answer['status'], answer['complaint'] or '',
                answer['message'] or ''])
    return output.getvalue().encode('utf-8-sig')
