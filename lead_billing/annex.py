# This file is part of the lead trading suite. See README.rst for details.
"""The annex of a billing document: one row per lead that it bills.

The same rows feed the annex table of the printed document and the
spreadsheet written here. A billing run may cover a hundred thousand leads,
so the spreadsheet is streamed: xlsxwriter's constant memory mode writes
each row out as soon as the next one starts and the totals are summed on
the way, so that `rows` can be a generator over a database cursor.

The module has no Tryton import so that it can be tested on its own."""
import datetime
import io
import re
from decimal import Decimal
from typing import Iterable, NamedTuple, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell


class AnnexRow(NamedTuple):
    """One billed lead.

    The counterpart (buyer or supplier) is not a column: every row of an
    annex belongs to the one document, which names it already."""
    reference: str
    day: datetime.date  # local date of the lead, in the company's time zone
    category: str
    unit_price: Decimal


COLUMN_WIDTHS = (24, 12, 32, 14)
DATE_FORMAT = 'dd.mm.yyyy'
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 0, 1, 2
REFERENCE_COLUMN, DAY_COLUMN, CATEGORY_COLUMN, PRICE_COLUMN = range(4)
SHEET_NAME_MAX_LENGTH = 31
# Excel refuses these characters in sheet names
SHEET_NAME_FORBIDDEN = re.compile(r'[\[\]:*?/\\]')
# Function numbers of SUBTOTAL: 3 counts the non-empty cells, 9 sums,
# both leave out the rows that the autofilter hides, like the total row of
# an Excel table does
SUBTOTAL_COUNT, SUBTOTAL_SUM = 3, 9


def sheet_name(title):
    name = SHEET_NAME_FORBIDDEN.sub(' ', title).strip(" '")
    return name[:SHEET_NAME_MAX_LENGTH].strip(" '") or 'Annex'


def annex_workbook(
        title: str, headers: Sequence[str], rows: Iterable[AnnexRow],
        currency_format: str = '#,##0.00 "€"', *,
        total_label: str = 'Total') -> bytes:
    """Return the .xlsx file listing `rows` under `title`.

    `headers` are the four column titles, in the order of AnnexRow, and
    `total_label` the text of the total row, all already translated by the
    caller. The total row holds the number of leads under the references
    and the sum of the unit prices; each is a formula, so that it follows
    the autofilter, stored with the value computed here, so that it shows
    without a recalculation (viewers and mail previews do not compute)."""
    if len(headers) != len(AnnexRow._fields):
        raise ValueError(
            f'{len(AnnexRow._fields)} headers expected, got {len(headers)}')
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'constant_memory': True})
    workbook.set_properties({'title': title})
    title_format = workbook.add_format({'bold': True, 'font_size': 13})
    header_format = workbook.add_format({'bold': True, 'bottom': 1})
    date_format = workbook.add_format({'num_format': DATE_FORMAT})
    price_format = workbook.add_format({'num_format': currency_format})
    count_format = workbook.add_format(
        {'bold': True, 'top': 1, 'num_format': '#,##0', 'align': 'left'})
    total_label_format = workbook.add_format(
        {'bold': True, 'top': 1, 'align': 'right'})
    total_format = workbook.add_format(
        {'bold': True, 'top': 1, 'num_format': currency_format})
    border_format = workbook.add_format({'top': 1})

    sheet = workbook.add_worksheet(sheet_name(title))
    # In constant memory mode rows can only be written in ascending order,
    # so every setting of the sheet comes before the first cell
    for column, width in enumerate(COLUMN_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(FIRST_DATA_ROW, 0)
    sheet.write_string(TITLE_ROW, 0, title, title_format)
    for column, header in enumerate(headers):
        sheet.write_string(HEADER_ROW, column, header, header_format)

    count, total = 0, Decimal(0)
    for row in rows:
        row_number = FIRST_DATA_ROW + count
        # Strings are written as such: a reference from a lead platform
        # that looks like a number or a formula must stay the text it is
        sheet.write_string(row_number, REFERENCE_COLUMN, row.reference)
        sheet.write_datetime(row_number, DAY_COLUMN, row.day, date_format)
        sheet.write_string(row_number, CATEGORY_COLUMN, row.category)
        sheet.write_number(
            row_number, PRICE_COLUMN, float(row.unit_price), price_format)
        count += 1
        total += row.unit_price
    last_data_row = FIRST_DATA_ROW + count - 1

    total_row = FIRST_DATA_ROW + count
    if count:
        sheet.write_formula(
            total_row, REFERENCE_COLUMN,
            subtotal(SUBTOTAL_COUNT, REFERENCE_COLUMN, last_data_row),
            count_format, count)
        sheet.write_formula(
            total_row, PRICE_COLUMN,
            subtotal(SUBTOTAL_SUM, PRICE_COLUMN, last_data_row),
            total_format, float(total))
    else:
        sheet.write_number(total_row, REFERENCE_COLUMN, 0, count_format)
        sheet.write_number(total_row, PRICE_COLUMN, 0, total_format)
    sheet.write_blank(total_row, DAY_COLUMN, None, border_format)
    sheet.write_string(
        total_row, CATEGORY_COLUMN, total_label, total_label_format)
    # The filter covers the header and the leads but not the total row,
    # which must stay visible whatever is filtered
    sheet.autofilter(
        HEADER_ROW, 0, max(last_data_row, HEADER_ROW), len(headers) - 1)
    workbook.close()
    return output.getvalue()


def subtotal(function, column, last_row):
    first = xl_rowcol_to_cell(FIRST_DATA_ROW, column)
    last = xl_rowcol_to_cell(last_row, column)
    return f'=SUBTOTAL({function},{first}:{last})'
