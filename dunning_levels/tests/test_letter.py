# This file is part of the lead trading suite. See README.rst for details.
"The dunning letter on a database: PDF, content, one letter per party"
import datetime as dt
import unittest
from decimal import Decimal
from pathlib import Path

from trytond.ir.translation import TranslationSet
from trytond.modules.lead_billing.tests.tools import (
    setup_accounting, with_lead_trading)
from trytond.pool import Pool
from trytond.report import Report
from trytond.tests.test_tryton import activate_module
from trytond.transaction import Transaction

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / 'letter.html'
REPORT_NAME = 'dunning_levels.letter'
# Translations of the template as locale/de.po would give them
GERMAN = {
    'Days overdue': 'Tage überfällig',
    'Total amount due': 'Fälliger Gesamtbetrag',
    'Our VAT ID': 'Unsere USt-IdNr.',
    }


def cell(text):
    "A cell of the letter's table (invoice numbers are short)"
    return f'<td>{text}</td>'


def today():
    return Pool().get('ir.date').today()


def post_invoice(fixture, party, invoice_date, unit_price='30.00'):
    "Create and post a customer invoice of one lead line, due on its date"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    invoice = Invoice(
        company=fixture.company, type='out', party=party,
        invoice_date=invoice_date, payment_term_date=invoice_date)
    invoice.on_change_type()
    invoice.on_change_party()
    invoice.currency = fixture.currency
    line = Line(
        invoice=invoice, type='line', product=fixture.product,
        company=fixture.company, currency=fixture.currency)
    line.on_change_product()
    line.quantity = 1
    line.unit_price = Decimal(unit_price)
    invoice.lines = [line]
    invoice.save()
    # Posting with a due date in the past asks for a confirmation
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post([invoice])
    return invoice


def set_letterhead(fixture):
    "Give the company an address and a VAT id"
    pool = Pool()
    Party = pool.get('party.party')
    Address = pool.get('party.address')
    party = fixture.company.party
    # The address that the party got when it was created
    Address.write(list(party.addresses), {
            'street': 'Hafenstraße 1', 'postal_code': '20457',
            'city': 'Hamburg',
            })
    Party.write([party], {
            'identifiers': [('create', [{
                            'type': 'eu_vat', 'code': 'DE123456788',
                            }])],
            })


def set_procedure(*parties):
    pool = Pool()
    Party = pool.get('party.party')
    ModelData = pool.get('ir.model.data')
    procedure = ModelData.get_id(
        'dunning_levels', 'procedure_lead_trading')
    Party.write(list(parties), {'dunning_procedure': procedure})


def level(xml_id):
    pool = Pool()
    Level = pool.get('account.dunning.level')
    ModelData = pool.get('ir.model.data')
    return Level(ModelData.get_id('dunning_levels', xml_id))


def dunn(date):
    "Generate the dunnings on `date` and process them"
    Dunning = Pool().get('account.dunning')
    Dunning.generate_dunnings(date)
    dunnings = Dunning.search([('state', '=', 'draft')])
    Dunning.process(dunnings)
    return Dunning.search([], order=[('id', 'ASC')])


def add_fee(fixture, xml_id, amount='5.00'):
    "Charge a fee of `amount` at the level"
    pool = Pool()
    Fee = pool.get('account.dunning.fee')
    Journal = pool.get('account.journal')
    template = fixture.product.template
    template.list_price = Decimal(amount)
    template.save()
    journal, = Journal.search([('type', '=', 'general')], limit=1)
    fee, = Fee.create([{
                'name': 'Formal notice fee',
                'product': fixture.product.id,
                'journal': journal.id,
                'compute_method': 'list_price',
                }])
    notice = level(xml_id)
    notice.fee = fee
    notice.save()
    return fee


def render_html(dunnings):
    """The HTML of the letter as the report renders it before WeasyPrint
    converts it"""
    pool = Pool()
    Letter = pool.get(REPORT_NAME, type='report')
    ActionReport = pool.get('ir.action.report')
    action, = ActionReport.search([('report_name', '=', REPORT_NAME)])
    records = Letter._get_records(
        [d.id for d in dunnings], 'account.dunning', {})
    header = dict(Letter.header_key(records[0], {}))
    # set_lang changes the context, as Report._execute expects
    with Transaction().set_context(Transaction().context):
        return Letter.render(
            action, Letter.get_context(records, header, {}))


def execute(dunnings):
    Letter = Pool().get(REPORT_NAME, type='report')
    return Letter.execute([d.id for d in dunnings], {})


class DunningLetterTestCase(unittest.TestCase):
    "Test the dunning letter"

    @classmethod
    def setUpClass(cls):
        activate_module(['dunning_levels', 'lead_complaints'])

    def assertContains(self, html, text):
        # Not assertIn, which would print the whole letter
        if text not in html:
            self.fail(f'{text!r} not in the letter')

    def assertNotContains(self, html, text):
        if text in html:
            self.fail(f'{text!r} in the letter')

    @with_lead_trading
    def test_report_action(self, fixture):
        "The letter is a PDF report printed from the dunnings"
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Keyword = pool.get('ir.action.keyword')

        action, = ActionReport.search([('report_name', '=', REPORT_NAME)])

        self.assertEqual(action.name, "Dunning Letter (PDF)")
        self.assertEqual(action.model, 'account.dunning')
        self.assertEqual(action.template_extension, 'html')
        self.assertEqual(action.extension, 'pdf')
        keyword, = Keyword.search([('action', '=', action.action.id)])
        self.assertEqual(keyword.keyword, 'form_print')
        self.assertEqual(str(keyword.model), 'account.dunning,-1')

    @with_lead_trading
    def test_reminder(self, fixture):
        "The letter of a reminder is a PDF with the overdue invoice"
        date = today() - dt.timedelta(days=30)
        setup_accounting(fixture, years=[date.year])
        set_procedure(fixture.buyer)
        set_letterhead(fixture)
        invoice = post_invoice(fixture, fixture.buyer, date)

        dunning, = dunn(today())

        self.assertEqual(dunning.level, level('level_reminder'))
        self.assertEqual(dunning.state, 'waiting')
        extension, content, _, name = execute([dunning])
        self.assertEqual(extension, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))
        self.assertTrue(name.startswith("Dunning Letter"))

        html = render_html([dunning])
        lang = fixture.buyer.lang
        for text in [
                cell(invoice.number), 'Payment reminder',
                Report.format_currency(
                    invoice.total_amount, lang, invoice.currency),
                '36.00',
                Report.format_date(date, lang),
                Report.format_date(today(), lang),
                Report.format_date(today() + dt.timedelta(days=7), lang),
                '<td class="numeric">30</td>',
                'Leadhandel GmbH', 'Hafenstraße 1', '20457 Hamburg',
                'Our VAT ID', 'DE123456788', fixture.buyer.full_name,
                'Hauptstraße 1', 'Days overdue', 'Total amount due',
                'within 7 days']:
            self.assertContains(html, text)
        self.assertEqual(html.count('<section class="letter"'), 1)
        self.assertNotContains(html, 'Formal notice fee')

    @with_lead_trading
    def test_notice_with_fee(self, fixture):
        """The formal notice is titled by the highest level and charges
        its fee in the total"""
        date = today() - dt.timedelta(days=30)
        setup_accounting(fixture, years=[date.year])
        add_fee(fixture, 'level_notice')
        set_procedure(fixture.buyer)
        first = post_invoice(fixture, fixture.buyer, date)
        dunn(today())
        # The second invoice is overdue later: it stays at the reminder
        second = post_invoice(
            fixture, fixture.buyer, today(), unit_price='10.00')

        dunnings = dunn(today() + dt.timedelta(days=15))

        self.assertEqual(
            [(d.invoice, d.level) for d in dunnings],
            [(first, level('level_notice')),
                (second, level('level_reminder'))])
        fee, = dunnings[0].fees
        self.assertEqual(fee.amount, Decimal('5.00'))
        extension, content, _, _ = execute(dunnings)
        self.assertEqual(extension, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))

        html = render_html(dunnings)
        self.assertEqual(html.count('<section class="letter"'), 1)
        for text in [
                '<h1>Formal notice</h1>', cell(first.number),
                cell(second.number),
                '36.00', '12.00', '>Formal notice fee</td>',
                '5.00', '53.00']:
            self.assertContains(html, text)
        self.assertNotContains(html, '<h1>Payment reminder</h1>')

    @with_lead_trading
    def test_one_letter_per_party(self, fixture):
        """Dunnings of several parties make one letter each, in the
        language of the party"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        Party = pool.get('party.party')
        Translation = pool.get('ir.translation')
        Level = pool.get('account.dunning.level')
        date = today() - dt.timedelta(days=30)
        setup_accounting(fixture, years=[date.year])
        german, = Lang.search([('code', '=', 'de')])
        Lang.write([german], {'translatable': True})
        Party.write([fixture.buyer2], {'lang': german.id})
        with Transaction().set_context(language='de'):
            Level.write(
                [level('level_reminder')], {'name': 'Zahlungserinnerung'})
        Translation.create([{
                    'lang': 'de', 'src': src, 'value': value,
                    'name': REPORT_NAME, 'res_id': -1, 'type': 'report',
                    'module': 'dunning_levels', 'fuzzy': False,
                    } for src, value in GERMAN.items()])
        set_procedure(fixture.buyer, fixture.buyer2)
        set_letterhead(fixture)
        invoices = [
            post_invoice(fixture, party, date)
            for party in [fixture.buyer2, fixture.buyer]]

        dunnings = dunn(today())

        self.assertEqual(len(dunnings), 2)
        extension, content, _, _ = execute(dunnings)
        self.assertEqual(extension, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))

        html = render_html(dunnings)
        letters = html.split('<section class="letter"')[1:]
        self.assertEqual(len(letters), 2)
        english, german_letter = sorted(
            letters, key=lambda text: fixture.buyer2.full_name in text)
        self.assertContains(english, fixture.buyer.full_name)
        self.assertContains(english, cell(invoices[1].number))
        self.assertNotContains(english, cell(invoices[0].number))
        for text in ['Payment reminder', 'Days overdue', '36.00']:
            self.assertContains(english, text)
        self.assertContains(german_letter, fixture.buyer2.full_name)
        self.assertContains(german_letter, cell(invoices[0].number))
        self.assertNotContains(german_letter, cell(invoices[1].number))
        for text in [
                'Zahlungserinnerung', 'Tage überfällig',
                'Fälliger Gesamtbetrag', '36,00', 'Unsere USt-IdNr.',
                today().strftime('%d.%m.%Y')]:
            self.assertContains(german_letter, text)
        self.assertNotContains(german_letter, 'Days overdue')

    @with_lead_trading
    def test_blocked(self, fixture):
        "A blocked dunning is left out of the letter"
        pool = Pool()
        Dunning = pool.get('account.dunning')
        date = today() - dt.timedelta(days=30)
        setup_accounting(fixture, years=[date.year])
        set_procedure(fixture.buyer)
        first = post_invoice(fixture, fixture.buyer, date)
        second = post_invoice(fixture, fixture.buyer, date)
        dunnings = dunn(today())
        blocked, = [d for d in dunnings if d.invoice == second]
        Dunning.write([blocked], {'blocked': True})

        html = render_html(dunnings)

        self.assertContains(html, cell(first.number))
        self.assertNotContains(html, cell(second.number))

    def test_extracted_texts(self):
        "Tryton extracts each text whole and nothing but texts"
        texts = set(TranslationSet.extract_report_html(
                None, TEMPLATE_PATH.read_bytes()))

        for text in [
                'Dunning Letter', 'Days overdue', 'Total amount due',
                'Payment reminder', 'Dunning fee', 'Kind regards',
                'Please pay the total amount due within 7 days of the date '
                'of this letter, at the latest by']:
            self.assertIn(text, texts)
        for text in texts:
            self.assertRegex(text, r'[A-Za-z]', msg=text)
            self.assertNotIn('$', text)
