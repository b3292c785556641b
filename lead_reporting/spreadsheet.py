# This file is part of the lead trading suite. See README.rst for details.
"""Any lead trading report as a spreadsheet: the selected rows with the
columns of the report's list, amounts and dates as numbers and dates,
rates as percentages, so that they can be computed on."""
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter
from lxml import etree

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.lead_billing.annex import DATE_FORMAT, sheet_name
from trytond.pool import Pool
from trytond.report import Report

from .report import RATE_DIGITS

AMOUNT_FORMAT = '#,##0.00'
RATE_FORMAT = '0.00%'
COLUMN_WIDTH, DIMENSION_COLUMN_WIDTH = 14, 32


def columns(Reporting):
    "The field names of a report model, as its list shows them"
    arch = Reporting.fields_view_get(view_type='tree')['arch']
    return [field.get('name')
        for field in etree.fromstring(arch.encode('utf-8')).iter('field')]


class Spreadsheet(Report):
    "The selected rows of a lead trading report as a spreadsheet"
    __name__ = 'lead.reporting.spreadsheet'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Model = pool.get('ir.model')
        Lang = pool.get('ir.lang')
        Context = pool.get('lead.reporting.context')
        Reporting = pool.get(data['model'])
        context = Context.get_context()
        lang = Lang.get()
        title = gettext('lead_reporting.msg_spreadsheet_title',
            report=Model.get_name(Reporting.__name__),
            from_date=lang.strftime(context['from_date']),
            to_date=lang.strftime(context['to_date']))
        names = columns(Reporting)
        strings = Reporting.fields_get(names)
        content = workbook(title, [(n, strings[n]['string']) for n in names],
            Reporting.browse(ids), Reporting)
        return 'xlsx', content, False, title


def workbook(title, headers, records, Reporting):
    """Return the .xlsx file of `records` under the (field name, header)
    `headers`"""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {'in_memory': True})
    book.set_properties({'title': title})
    header_format = book.add_format({'bold': True, 'bottom': 1})
    formats = {
        dt.date: book.add_format({'num_format': DATE_FORMAT}),
        'amount': book.add_format({'num_format': AMOUNT_FORMAT}),
        'rate': book.add_format({'num_format': RATE_FORMAT}),
        }
    sheet = book.add_worksheet(sheet_name(title))
    sheet.set_column(0, 0, DIMENSION_COLUMN_WIDTH)
    sheet.set_column(1, len(headers) - 1, COLUMN_WIDTH)
    sheet.freeze_panes(1, 0)
    for column, (_, header) in enumerate(headers):
        sheet.write_string(0, column, header, header_format)
    for row, record in enumerate(records, 1):
        for column, (name, _) in enumerate(headers):
            value = getattr(record, name)
            field = Reporting._fields[name]
            if value is None:
                sheet.write_blank(row, column, None)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, column, value, formats[dt.date])
            elif isinstance(value, Decimal):
                is_rate = (isinstance(field, fields.Numeric)
                    and field.digits == RATE_DIGITS)
                sheet.write_number(row, column, float(value),
                    formats['rate' if is_rate else 'amount'])
            elif isinstance(value, int):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, value.rec_name)
    sheet.autofilter(0, 0, max(len(records), 1), len(headers) - 1)
    book.close()
    return output.getvalue()
