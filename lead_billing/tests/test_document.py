# This file is part of the lead trading suite. See README.rst for details.
"""The billing document without a database: the annex spreadsheet and the
HTML template, rendered and turned into a PDF by trytond.report.Report
from stand-ins of the records and of the report action."""
import datetime as dt
import io
import re
import unittest
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import relatorio.reporting
from genshi.filters import Translator

from trytond.ir.translation import TranslationSet
from trytond.modules.lead_billing.annex import AnnexRow, annex_workbook
from trytond.report import Report

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / 'document.html'
HEADERS = ['Reference', 'Date', 'Category', 'Unit Price']
# HTML elements that may be written "<br/>"; any other element written so
# would be opened and never closed by an HTML parser
VOID_ELEMENTS = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input',
    'link', 'meta', 'source', 'track', 'wbr'}
SELF_CLOSED = re.compile(r'<([a-zA-Z][\w:-]*)(?:\s[^<>]*)?/>')
GERMAN = {
    'Service period': 'Leistungszeitraum',
    'Number': 'Nummer',
    'Total': 'Summe',
    }


def lead_rows(count):
    for number in range(count):
        yield AnnexRow(
            reference=f'L-{number:06d}',
            day=dt.date(2026, 3, 1) + dt.timedelta(days=number % 31),
            category='Solar' if number % 2 else 'Heat pump',
            unit_price=Decimal('12.50'))


def sheet_xml(content):
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        return workbook.read('xl/worksheets/sheet1.xml').decode('utf-8')


def formulas(xml):
    "Return the formulas of the sheet with the values stored for them"
    return {formula: float(value) for formula, value in re.findall(
            r'<f>([^<]*)</f><v>([^<]*)</v>', xml)}


class AnnexWorkbookTestCase(unittest.TestCase):
    "Test the annex spreadsheet"

    def test_rows_and_total(self):
        "Each lead is a row and the total row has formulas and values"
        rows = [
            AnnexRow('L-1', dt.date(2026, 3, 2), 'Solar', Decimal('12.50')),
            AnnexRow('L-2', dt.date(2026, 3, 3), 'Solar', Decimal('7.25')),
            AnnexRow('=1+1', dt.date(2026, 3, 31), 'Heat pump',
                Decimal('0.10')),
            ]

        content = annex_workbook('Annex to invoice R1', HEADERS, iter(rows))

        xml = sheet_xml(content)
        for text in ['Annex to invoice R1', 'L-1', 'L-2', 'Heat pump'] + (
                HEADERS):
            self.assertIn(f'<t>{text}</t>', xml)
        # A reference that looks like a formula stays a text
        self.assertIn('<t>=1+1</t>', xml)
        self.assertNotIn('<f>1+1</f>', xml)
        # 2026-03-02 as an Excel serial number
        self.assertIn('<v>46083</v>', xml)
        self.assertIn('<v>12.5</v>', xml)
        self.assertEqual(formulas(xml), {
                'SUBTOTAL(3,A3:A5)': 3,
                'SUBTOTAL(9,D3:D5)': 19.85,
                })
        self.assertIn('<t>Total</t>', xml)
        self.assertIn('<pane ySplit="2"', xml)
        self.assertIn('<autoFilter ref="A2:D5"/>', xml)

    def test_formats(self):
        "The dates and prices are formatted, the header is bold"
        content = annex_workbook(
            'Annex', HEADERS, lead_rows(1),
            currency_format='#,##0.00 "CHF"')

        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            styles = workbook.read('xl/styles.xml').decode('utf-8')
        self.assertIn('formatCode="dd.mm.yyyy"', styles)
        self.assertIn('formatCode="#,##0.00 &quot;CHF&quot;"', styles)
        self.assertIn('<b/>', styles)

    def test_stream(self):
        "Rows are taken from an iterator as they come"
        content = annex_workbook('Annex', HEADERS, lead_rows(50_000))

        xml = sheet_xml(content)
        # Not assertIn, which would print the whole sheet on failure
        self.assertTrue('<t>L-049999</t>' in xml)
        self.assertEqual(formulas(xml), {
                'SUBTOTAL(3,A3:A50002)': 50_000,
                'SUBTOTAL(9,D3:D50002)': 625_000,
                })

    def test_empty(self):
        "An annex without leads has a total row of zeros"
        xml = sheet_xml(annex_workbook('Annex', HEADERS, iter([])))

        self.assertIn('<autoFilter ref="A2:D2"/>', xml)
        self.assertIn('<c r="A3" s="3"><v>0</v></c>', xml)
        self.assertNotIn('<f>', xml)

    def test_headers(self):
        "One header per column is required"
        with self.assertRaises(ValueError):
            annex_workbook('Annex', HEADERS[:3], iter([]))

    def test_sheet_name(self):
        "The title makes a sheet name that Excel accepts"
        content = annex_workbook(
            'Annex to Gutschrift S/2026:0001 of a long supplier name',
            HEADERS, iter([]))

        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            xml = workbook.read('xl/workbook.xml').decode('utf-8')
        name, = re.findall(r'<sheet name="([^"]*)"', xml)
        self.assertLessEqual(len(name), 31)
        self.assertFalse(set(name) & set('[]:*?/\\'))


def format_date(value, lang=None, format=None):
    return value.strftime('%d.%m.%Y')


def format_number(value, lang, digits=None, grouping=True, monetary=None):
    text = f'{value:,.{digits if digits is not None else 2}f}'
    # German separators, as ir.lang formats for German
    return text.replace(',', ' ').replace('.', ',').replace(' ', '.')


def format_currency(
        value, lang, currency, symbol=True, grouping=True, digits=None):
    if digits is None:
        digits = currency.digits
    return format_number(value, lang, digits) + '\u00a0' + currency.symbol


def set_lang(language=None):
    pass


def invoice(**values):
    euro = SimpleNamespace(code='EUR', symbol='€', digits=2)
    standard_rate = SimpleNamespace(rec_name='19% VAT')
    result = SimpleNamespace(
        id=1, number='R2026-0001', invoice_date=dt.date(2026, 4, 2),
        type='out', lead_self_billing=False, lead_agreement_reference='',
        lead_period_start=dt.date(2026, 3, 1),
        lead_period_end=dt.date(2026, 3, 31),
        currency=euro,
        untaxed_amount=Decimal('25.50'), tax_amount=Decimal('4.85'),
        total_amount=Decimal('30.35'),
        party=SimpleNamespace(rec_name='Solar Vertrieb GmbH', lang=None),
        payment_term=SimpleNamespace(rec_name='14 days net'),
        comment='',
        taxes=[SimpleNamespace(
                description='VAT 19%', base=Decimal('25.50'),
                amount=Decimal('4.85'))],
        line_lines=[
            SimpleNamespace(
                description='Leads Solar', quantity=1.0,
                unit_price=Decimal('12.5000'), amount=Decimal('12.50'),
                taxes=[standard_rate]),
            SimpleNamespace(
                description='Leads Heat pump', quantity=2.0,
                unit_price=Decimal('6.5000'), amount=Decimal('13.00'),
                taxes=[standard_rate]),
            ],
        set_lang=set_lang)
    result.__dict__.update(values)
    return result


def gutschrift(**values):
    values = {
        'id': 2, 'number': 'G2026-0007', 'type': 'in',
        'lead_self_billing': True,
        'lead_agreement_reference': 'GV-2025-17',
        'payment_term': None, 'comment': 'Paid by bank transfer.',
        'party': SimpleNamespace(rec_name='Lead Quelle AG', lang=None),
        **values}
    return invoice(**values)


ANNEX = [
    AnnexRow('L-000001', dt.date(2026, 3, 2), 'Solar', Decimal('12.50')),
    AnnexRow('L-000002', dt.date(2026, 3, 9), 'Heat pump', Decimal('6.50')),
    # A datum that is also a text of the template stays as it is
    AnnexRow('L-000003', dt.date(2026, 3, 30), 'Total', Decimal('6.5')),
    ]
COMPANY_ADDRESS = 'Hafenstraße 1\n\n20457 Hamburg\nGermany'


def document(record):
    if record.lead_self_billing:
        return SimpleNamespace(
            issuer_name=record.party.rec_name,
            issuer_address='Quellweg 5\n80331 München',
            issuer_tax_id='143/123/45678',
            recipient_name='Lead Handel GmbH',
            recipient_address=COMPANY_ADDRESS,
            recipient_tax_id='DE123456789',
            title='Gutschrift (Self-billing Statement)', intro=None,
            annex=ANNEX, annex_count=3, annex_total=Decimal('25.50'))
    return SimpleNamespace(
        issuer_name='Lead Handel GmbH',
        issuer_address=COMPANY_ADDRESS,
        issuer_tax_id='DE123456789',
        recipient_name=record.party.rec_name,
        recipient_address='Sonnenallee 3\n10115 Berlin',
        recipient_tax_id='',
        title='Invoice', intro=None,
        annex=ANNEX, annex_count=3, annex_total=Decimal('25.50'))


def report_context(records):
    return {
        'records': records,
        'record': records[0],
        'documents': {r.id: document(r) for r in records},
        'format_date': format_date,
        'format_number': format_number,
        'format_currency': format_currency,
        'set_lang': set_lang,
        }


class ReportAction(SimpleNamespace):
    "Stand-in of the ir.action.report of the document, not translatable"

    def __init__(self):
        super().__init__(
            report_name='lead_billing.document', template_extension='html',
            extension='pdf', translatable=False,
            report_content=TEMPLATE_PATH.read_bytes())

    def get_template_cached(self):
        return None

    def set_template_cached(self, template):
        pass


def render(records, context=None):
    "Render the template with trytond.report.Report"
    return Report.render(ReportAction(), context or report_context(records))


def render_translated(records, translations):
    """Render the template with the translator filter set up as
    Report._callback_loader does, with a dictionary for ir.translation"""
    loader = relatorio.reporting.MIMETemplateLoader()
    factory = loader.factories[loader.get_type('text/html')]
    template = factory(io.BytesIO(TEMPLATE_PATH.read_bytes()))
    translator = Translator(lambda text: translations.get(text, text))
    template.filters.append(translator)
    template.add_directives(Translator.NAMESPACE, translator)
    return template.generate(**report_context(records)).render()


def convert(html):
    "Convert the rendered template with trytond.report.Report"
    extension, content = Report.convert(ReportAction(), html)
    assert extension == 'pdf'
    return content


class DocumentTemplateTestCase(unittest.TestCase):
    "Test the template of the billing document"

    def assertContains(self, html, text):
        # Not assertIn, which would print the whole document
        if text not in html:
            self.fail(f'{text!r} not in the document')

    def assertNotContains(self, html, text):
        if text in html:
            self.fail(f'{text!r} in the document')

    def assertWellFormedHTML(self, html):
        for tag in SELF_CLOSED.findall(html):
            self.assertIn(tag.lower(), VOID_ELEMENTS, msg=f'<{tag}/>')
        self.assertTrue(html.startswith('<!DOCTYPE html>'))
        self.assertNotContains(html, '${')

    def test_invoice(self):
        "The invoice shows what § 14 (4) UStG requires"
        html = render([invoice()])

        self.assertWellFormedHTML(html)
        for text in [
                'R2026-0001', 'Invoice', '02.04.2026',
                '01.03.2026 – 31.03.2026', 'Lead Handel GmbH',
                'Hafenstraße 1', '20457 Hamburg', 'Solar Vertrieb GmbH',
                'Sonnenallee 3', 'DE123456789', 'Our VAT ID / tax number',
                'Leads Solar', 'Leads Heat pump', '12,50\u00a0€',
                '6,50\u00a0€', 'VAT 19%', '25,50\u00a0€', '4,85\u00a0€',
                '30,35\u00a0€', '14 days net', 'Annex: leads', 'L-000001',
                'L-000003', '30.03.2026', 'Page', 'class="page-count"']:
            self.assertContains(html, text)
        self.assertNotContains(html, 'Gutschrift')
        self.assertNotContains(html, 'Self-billing agreement')
        self.assertNotContains(html, 'Your VAT ID')

    def test_gutschrift(self):
        "The Gutschrift names the supplier as issuer and the agreement"
        html = render([gutschrift()])

        self.assertWellFormedHTML(html)
        for text in [
                'Gutschrift (Self-billing Statement)', 'G2026-0007',
                'Self-billing agreement', 'GV-2025-17',
                '01.03.2026 – 31.03.2026',
                'Lead Quelle AG', 'Quellweg 5', '80331 München',
                'Your VAT ID / tax number', '143/123/45678',
                'Our VAT ID / tax number', 'DE123456789',
                'Lead Handel GmbH', 'VAT 19%', '4,85\u00a0€', '30,35\u00a0€',
                'Paid by bank transfer.', 'L-000002']:
            self.assertContains(html, text)
        self.assertNotContains(html, 'Payment term')
        # The supplier is addressed, the company heads the letter
        self.assertLess(
            html.index('class="letterhead"'), html.index('Lead Handel GmbH',
                html.index('class="letterhead"')))
        self.assertLess(
            html.index('class="addressee"'), html.index('Lead Quelle AG',
                html.index('class="addressee"')))

    def test_unit_price_digits(self):
        "A unit price keeps the digits beyond those of the currency"
        record = invoice()
        record.line_lines[0].unit_price = Decimal('0.1250')

        html = render([record])

        self.assertContains(html, '0,125\u00a0€')
        self.assertContains(html, '6,50\u00a0€')

    def test_without_optional_values(self):
        "Missing tax ids, comment and annex leave no empty elements"
        record = invoice(comment=None, payment_term=None)
        record_document = document(record)
        record_document.issuer_tax_id = ''
        record_document.annex = []
        record_document.annex_count = 0
        context = report_context([record])
        context['documents'] = {record.id: record_document}

        html = render([record], context)

        self.assertWellFormedHTML(html)
        self.assertNotContains(html, 'VAT ID')
        self.assertNotContains(html, 'Annex: leads')

    def test_several_records(self):
        "Each record is a document and the page count is left out"
        html = render([invoice(), gutschrift()])

        self.assertEqual(html.count('<section class="document"'), 2)
        self.assertNotContains(html, 'class="page-count"')
        self.assertTrue(convert(html).startswith(b'%PDF'))

    def test_translation(self):
        "The texts are translated, the annex rows are not"
        html = render_translated([gutschrift()], GERMAN)

        self.assertContains(html, '<th>Leistungszeitraum</th>')
        self.assertContains(html, '<th>Nummer</th>')
        self.assertContains(html, '<span>Summe</span>')
        self.assertContains(html, '<td>Total</td>')

    def test_extracted_texts(self):
        "Tryton extracts each text whole and nothing but texts"
        texts = set(TranslationSet.extract_report_html(
                None, TEMPLATE_PATH.read_bytes()))

        for text in [
                'Service period', 'Self-billing agreement',
                'Your VAT ID / tax number', 'Our VAT ID / tax number',
                'Annex: leads', 'Page', 'of', 'Total amount']:
            self.assertIn(text, texts)
        for text in texts:
            self.assertRegex(text, r'[A-Za-z]', msg=text)
            self.assertNotIn('$', text)

    def test_pdf(self):
        "WeasyPrint makes a PDF of each kind of document"
        for record in [invoice(), gutschrift()]:
            with self.subTest(kind=record.type):
                pdf = convert(render([record]))
                self.assertTrue(pdf.startswith(b'%PDF'))
