# This file is part of the lead trading suite. See README.rst for details.
"""The files of a payout export: per branch a spreadsheet and a CSV file
with one row per voucher, for the letters the branch sends on its own
letterhead; the spreadsheet also lists what each voucher pays."""
import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import xlsxwriter

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.lead_billing.annex import sheet_name
from trytond.pool import Pool
from trytond.tools import slugify

from .rules import amount_in_words

FORMATS = [
    ('xlsx', "Spreadsheet"),
    ('csv', "CSV"),
    ]
AMOUNT_FORMAT = '#,##0.00'
DATE_FORMAT = 'dd.mm.yyyy'
COLUMN_WIDTH = 16
WIDE_COLUMN_WIDTH = 30
# The columns of the voucher rows, each a message of its header
VOUCHER_COLUMNS = [
    'number', 'date', 'referrer_code', 'referrer', 'street', 'postal_code',
    'city', 'country', 'email', 'language', 'branch', 'referred', 'revenue',
    'new', 'difference', 'overpaid', 'voucher', 'voucher_words', 'cash',
    'cash_words']
DETAIL_COLUMNS = [
    'number', 'referrer', 'referred', 'area', 'revenue', 'voucher', 'cash',
    'lines']
WIDE_COLUMNS = {'referrer', 'street', 'referred', 'voucher_words',
    'cash_words'}


class PayoutFile(ModelSQL, ModelView):
    "File of a referral payout export"
    __name__ = 'referral.payout.file'

    payout = fields.Many2One(
        'referral.payout', "Payout", required=True, readonly=True,
        ondelete='CASCADE')
    branch = fields.Many2One(
        'referral.branch', "Branch", readonly=True, ondelete='RESTRICT')
    format = fields.Selection(FORMATS, "Format", required=True, readonly=True)
    name = fields.Char("Name", required=True, readonly=True)
    data = fields.Binary("File", filename='name', readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payout')
        cls._order = [('payout', 'DESC'), ('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def save_exports(cls, payout, vouchers, recipients):
        """Write the export files of the payout per branch: the vouchers
        and the preview recipients they were made from, in the same order"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        by_branch = defaultdict(list)
        for voucher, recipient in zip(vouchers, recipients):
            by_branch[voucher.branch].append((voucher, recipient))
        vlist = []
        for branch, pairs in sorted(by_branch.items(),
                key=lambda i: i[0].code if i[0] else ''):
            rows = [voucher_row(v, r, lang) for v, r in pairs]
            details = [detail_row(v, line) for v, r in pairs
                for line in r.lines]
            stem = slugify(gettext(
                    'referral_commission.msg_export_file_name',
                    payout=payout.id,
                    branch=branch.code if branch else gettext(
                        'referral_commission.msg_export_no_branch')))
            title = gettext('referral_commission.msg_export_title',
                payout=payout.rec_name,
                branch=branch.rec_name if branch else payout.company.rec_name)
            for format_, data in [
                    ('xlsx', vouchers_workbook(title, rows, details)),
                    ('csv', vouchers_csv(rows, lang)),
                    ]:
                vlist.append({
                        'payout': payout.id,
                        'branch': branch.id if branch else None,
                        'format': format_,
                        'name': f'{stem}.{format_}',
                        'data': data,
                        })
        return cls.create(vlist)


def voucher_row(voucher, recipient, lang):
    "The values of the voucher's row, by column"
    party = voucher.party
    address = party.address_get(type='invoice')
    language = party.lang.code if party.lang else lang.code
    return {
        'number': voucher.number,
        'date': voucher.date,
        'referrer_code': party.code or '',
        'referrer': party.full_name,
        'street': (address.street or '') if address else '',
        'postal_code': (address.postal_code or '') if address else '',
        'city': (address.city or '') if address else '',
        'country': (address.country.name if address and address.country
            else ''),
        'email': party.email or '',
        'language': language,
        'branch': voucher.branch.rec_name if voucher.branch else '',
        'referred': ', '.join((voucher.referred or '').splitlines()),
        'revenue': recipient.base_amount,
        'new': recipient.new_amount,
        'difference': recipient.difference_amount,
        'overpaid': recipient.overpaid_amount,
        'voucher': voucher.amount,
        'voucher_words': amount_in_words(
            voucher.amount, voucher.currency.code, language),
        'cash': voucher.cash_amount,
        'cash_words': amount_in_words(
            voucher.cash_amount, voucher.currency.code, language),
        }


def detail_row(voucher, line):
    "The values of a row of what a voucher pays, by column"
    return {
        'number': voucher.number,
        'referrer': line.referral.referrer.full_name,
        'referred': line.referral.referred.full_name,
        'area': line.area_string,
        'revenue': line.base_amount,
        'voucher': line.voucher_amount,
        'cash': line.cash_amount,
        'lines': line.commission_count,
        }


def header(column):
    return gettext(f'referral_commission.msg_export_column_{column}')


def vouchers_workbook(title, rows, detail_rows):
    """Return the .xlsx file of the voucher rows and, on a second sheet,
    the details they pay; amounts are numbers, dates dates"""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True})
    workbook.set_properties({'title': title})
    formats = {
        'header': workbook.add_format({'bold': True, 'bottom': 1}),
        Decimal: workbook.add_format({'num_format': AMOUNT_FORMAT}),
        dt.date: workbook.add_format({'num_format': DATE_FORMAT}),
        }
    for name, columns, sheet_rows in [
            (gettext('referral_commission.msg_export_sheet_vouchers'),
                VOUCHER_COLUMNS, rows),
            (gettext('referral_commission.msg_export_sheet_details'),
                DETAIL_COLUMNS, detail_rows),
            ]:
        sheet = workbook.add_worksheet(sheet_name(name))
        for index, column in enumerate(columns):
            sheet.set_column(index, index, WIDE_COLUMN_WIDTH
                if column in WIDE_COLUMNS else COLUMN_WIDTH)
            sheet.write_string(0, index, header(column), formats['header'])
        sheet.freeze_panes(1, 0)
        for row_index, row in enumerate(sheet_rows, 1):
            for index, column in enumerate(columns):
                value = row[column]
                if isinstance(value, Decimal):
                    sheet.write_number(
                        row_index, index, float(value), formats[Decimal])
                elif isinstance(value, dt.date):
                    sheet.write_datetime(
                        row_index, index, value, formats[dt.date])
                elif isinstance(value, int):
                    sheet.write_number(row_index, index, value)
                else:
                    # written as text: a customer code that looks like a
                    # number or a formula stays what it is
                    sheet.write_string(row_index, index, value)
        sheet.autofilter(0, 0, max(len(sheet_rows), 1), len(columns) - 1)
    workbook.close()
    return output.getvalue()


def vouchers_csv(rows, lang):
    """Return the CSV file of the voucher rows for a mail merge: UTF-8 with
    a byte order mark, semicolons, amounts and dates as the user's
    language writes them"""
    output = io.StringIO()
    writer = csv.writer(output, delimiter=';', lineterminator='\r\n')
    writer.writerow([header(c) for c in VOUCHER_COLUMNS])
    for row in rows:
        writer.writerow([csv_value(row[c], lang) for c in VOUCHER_COLUMNS])
    return ('\ufeff' + output.getvalue()).encode('utf-8')


def csv_value(value, lang):
    if isinstance(value, Decimal):
        return lang.format('%.2f', value)
    if isinstance(value, dt.date):
        return lang.strftime(value)
    return str(value)
