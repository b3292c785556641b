# This file is part of the lead trading suite. See README.rst for details.
"""E-invoices of lead documents: master data checks, the CII XML of
invoices (380), credit notes (381) and self-billing statements (389) in
Factur-X and XRechnung, validated and compared with the Tryton invoice,
and the e-mail that carries them."""
import datetime as dt
import email
import email.policy
import io
import unittest
from decimal import Decimal
from types import SimpleNamespace

import facturx
import pypdf
from lxml import etree

from trytond.exceptions import UserError
from trytond.modules.lead_billing.tests.test_billing import deliver, new_run
from trytond.modules.lead_billing.tests.tools import (
    setup_accounting, with_lead_trading)
from trytond.modules.lead_einvoice.edocument import (
    broken_business_rules, check_schema)
from trytond.modules.lead_einvoice.party import missing_master_data
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

NS = {
    'rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
    'ram': 'urn:un:unece:uncefact:data:standard:'
    'ReusableAggregateBusinessInformationEntity:100',
    }
SETTLEMENT = (
    'rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement')
AGREEMENT = (
    'rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement')
SUMMATION = (
    SETTLEMENT + '/ram:SpecifiedTradeSettlementHeaderMonetarySummation')
COMPANY_VAT, SUPPLIER_VAT, BUYER_VAT = (
    'DE136695976', 'DE123456788', 'DE811907980')
COMPANY_IBAN, SUPPLIER_IBAN = (
    'DE89370400440532013000', 'DE02120300000000202051')


def address(street='Hauptstraße 1', postal_code='10115', city='Berlin',
        country='DE'):
    return SimpleNamespace(
        street=street, postal_code=postal_code, city=city, country=country)


class MasterDataRulesTestCase(unittest.TestCase):
    "What each e-invoice format needs of a party, without a database"

    def test_pdf_needs_nothing(self):
        self.assertEqual(missing_master_data(
                'pdf', None, None, None, None, None, payee=True, buyer=True),
            [])

    def test_facturx_payee(self):
        self.assertEqual(missing_master_data(
                'facturx', None, address(country=None), None, None, None,
                payee=True),
            ['vat_id', 'address', 'bank_account'])

    def test_facturx_buyer_complete(self):
        self.assertEqual(missing_master_data(
                'facturx', 'DE811907980', address(), None, None, None,
                buyer=True),
            [])

    def test_xrechnung_buyer(self):
        self.assertEqual(missing_master_data(
                'xrechnung', 'DE811907980', address(street=''), None, '',
                None, buyer=True),
            ['address', 'buyer_reference', 'electronic_address'])

    def test_xrechnung_complete(self):
        self.assertEqual(missing_master_data(
                'xrechnung', 'DE811907980', address(), 'account', '991-1',
                'a@example.com', payee=True, buyer=True),
            [])

    def test_schema_refuses_incomplete_document(self):
        xml = (
            b'<rsm:CrossIndustryInvoice xmlns:rsm="%s">'
            b'<rsm:ExchangedDocumentContext/>'
            b'</rsm:CrossIndustryInvoice>' % NS['rsm'].encode())
        with self.assertRaises(ValueError):
            check_schema(xml)


def complete_master_data(fixture, buyer_reference='04011000-12345-67'):
    """Give the company, the supplier and the buyer of `fixture` what
    e-invoices need and set up the accounting; return the tax"""
    pool = Pool()
    Identifier = pool.get('party.identifier')
    Address = pool.get('party.address')
    ContactMechanism = pool.get('party.contact_mechanism')
    BankAccount = pool.get('bank.account')
    tax = setup_accounting(fixture, [2026])
    tax.unece_code = 'VAT'
    tax.unece_category_code = 'S'
    tax.save()
    for party, vat, iban in [
            (fixture.company.party, COMPANY_VAT, COMPANY_IBAN),
            (fixture.supplier, SUPPLIER_VAT, SUPPLIER_IBAN),
            (fixture.buyer, BUYER_VAT, None)]:
        Identifier.create([{'party': party.id, 'type': 'eu_vat',
                    'code': vat}])
        values = {'street': 'Hauptstraße 1', 'postal_code': '10115',
            'city': 'Berlin', 'country': fixture.germany.id}
        if party.addresses:
            Address.write(list(party.addresses), values)
        else:
            Address.create([{'party': party.id, **values}])
        ContactMechanism.create([
                {'party': party.id, 'type': 'email',
                    'value': f'{party.code or "office"}@example.com'},
                {'party': party.id, 'type': 'phone',
                    'value': '+49 30 1234567'}])
        if iban:
            BankAccount.create([{
                        'owners': [('add', [party.id])],
                        'numbers': [('create', [{
                                        'type': 'iban', 'number': iban}])],
                        }])
    fixture.buyer.einvoice_buyer_reference = buyer_reference
    fixture.buyer.save()
    return tax


def set_format(format_, *parties):
    Party = Pool().get('party.party')
    Party.write(list(parties), {'einvoice_format': format_})


def posted_documents(fixture):
    """Bill October 2026 for the fixture's buyer and supplier and credit
    the buyer's invoice; return the posted invoice, statement and credit
    note"""
    pool = Pool()
    Run = pool.get('lead.billing.run')
    Invoice = pool.get('account.invoice')
    october = dt.datetime(2026, 10, 5, 8)
    deliver(fixture, 'L1', fixture.buyer, october)
    deliver(fixture, 'L2', fixture.buyer, october, category=fixture.heat)
    deliver(fixture, 'L3', fixture.buyer, october)
    run = new_run(fixture)
    Run._compute([run])
    Run.post([run])
    run = Run(run.id)
    invoice, = [i for i in run.invoices if i.type == 'out']
    statement, = [i for i in run.invoices if i.type == 'in']
    credit_note, = Invoice.credit([invoice])
    credit_note.lead_document = True
    credit_note.lead_period_start = invoice.lead_period_start
    credit_note.lead_period_end = invoice.lead_period_end
    credit_note.save()
    Invoice.post([credit_note])
    return run, Invoice(invoice.id), Invoice(statement.id), Invoice(
        credit_note.id)


def pdfa_part(pdf):
    "The PDF/A part that the XMP metadata of `pdf` declares"
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    metadata = etree.fromstring(
        reader.trailer['/Root']['/Metadata'].get_object().get_data())
    return metadata.findtext(
        './/{http://www.aiim.org/pdfa/ns/id/}part')


def amount(root, path):
    return Decimal(root.findtext(path, namespaces=NS))


def attachments(invoice):
    "{file name: content} of the e-mail that sent `invoice`"
    message = email.message_from_bytes(
        invoice.lead_document_email.outbox_message,
        policy=email.policy.default)
    return {part.get_filename(): part.get_payload(decode=True)
        for part in message.iter_attachments()}


class EInvoiceTestCase(unittest.TestCase):
    "E-invoices of lead documents on a database"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_einvoice')

    def assertDocument(self, xml, invoice, type_code, seller, buyer):
        """Check that the CII `xml` is schema valid and states the type
        code, the parties, the totals and the tax breakdown of `invoice`"""
        self.assertTrue(facturx.xml_check_xsd(xml, level='en16931'))
        self.assertEqual(broken_business_rules(xml), [])
        root = etree.fromstring(xml)
        self.assertEqual(root.findtext(
                'rsm:ExchangedDocument/ram:TypeCode', namespaces=NS),
            type_code)
        self.assertEqual(root.findtext(
                'rsm:ExchangedDocument/ram:ID', namespaces=NS),
            invoice.number)
        # a credit note states positive amounts
        sign = -1 if type_code == '381' else 1
        self.assertEqual(amount(root, SUMMATION + '/ram:LineTotalAmount')
            * sign, invoice.untaxed_amount)
        self.assertEqual(amount(root, SUMMATION + '/ram:TaxBasisTotalAmount')
            * sign, invoice.untaxed_amount)
        self.assertEqual(amount(root, SUMMATION + '/ram:TaxTotalAmount')
            * sign, invoice.tax_amount)
        self.assertEqual(amount(root, SUMMATION + '/ram:GrandTotalAmount')
            * sign, invoice.total_amount)
        lines = root.findall(
            'rsm:SupplyChainTradeTransaction/'
            'ram:IncludedSupplyChainTradeLineItem', namespaces=NS)
        self.assertEqual(len(lines), len(invoice.lines))
        self.assertEqual(sum(amount(line,
                    'ram:SpecifiedLineTradeSettlement/'
                    'ram:SpecifiedTradeSettlementLineMonetarySummation/'
                    'ram:LineTotalAmount') for line in lines) * sign,
            invoice.untaxed_amount)
        taxes = sorted(
            (amount(tax, 'ram:BasisAmount') * sign,
                amount(tax, 'ram:CalculatedAmount') * sign,
                amount(tax, 'ram:RateApplicablePercent'),
                tax.findtext('ram:CategoryCode', namespaces=NS))
            for tax in root.iterfind(
                SETTLEMENT + '/ram:ApplicableTradeTax', namespaces=NS))
        self.assertEqual(taxes, sorted(
                (t.base, t.amount, t.tax.rate * 100, 'S')
                for t in invoice.taxes))
        for role, (party, vat) in [
                ('SellerTradeParty', seller), ('BuyerTradeParty', buyer)]:
            path = f'{AGREEMENT}/ram:{role}'
            self.assertEqual(
                root.findtext(path + '/ram:Name', namespaces=NS),
                party.name)
            self.assertEqual(root.findtext(
                    path + '/ram:SpecifiedTaxRegistration/ram:ID',
                    namespaces=NS), vat)
            self.assertEqual(root.findtext(
                    path + '/ram:PostalTradeAddress/ram:CountryID',
                    namespaces=NS), 'DE')
        self.assertEqual(root.findtext(
                SETTLEMENT + '/ram:SpecifiedTradeSettlementPaymentMeans/'
                'ram:PayeePartyCreditorFinancialAccount/ram:IBANID',
                namespaces=NS),
            COMPANY_IBAN if type_code != '389' else SUPPLIER_IBAN)
        return root

    @with_lead_trading
    def test_choosing_format_needs_master_data(self, fixture):
        "A party cannot choose XRechnung before its master data is complete"
        with self.assertRaises(UserError) as context:
            set_format('xrechnung', fixture.buyer)
        message = context.exception.message
        for missing in ['VAT identification number', 'country',
                'buyer reference (Leitweg-ID)', 'e-mail address']:
            self.assertIn(missing, message)
        self.assertNotIn('IBAN', message)
        with self.assertRaises(UserError) as context:
            set_format('facturx', fixture.supplier)
        self.assertIn('IBAN', context.exception.message)

        complete_master_data(fixture)
        set_format('xrechnung', fixture.buyer)
        set_format('facturx', fixture.supplier)
        self.assertEqual(fixture.buyer.einvoice_format, 'xrechnung')

    @with_lead_trading
    def test_documents_in_each_format(self, fixture):
        "Invoice, credit note and statement as Factur-X and XRechnung"
        pool = Pool()
        Document = pool.get('lead.billing.document', type='report')
        complete_master_data(fixture)
        run, invoice, statement, credit_note = posted_documents(fixture)
        self.assertEqual(invoice.untaxed_amount, Decimal('90.00'))
        self.assertEqual(credit_note.total_amount, -invoice.total_amount)
        company = (fixture.company.party, COMPANY_VAT)
        buyer = (fixture.buyer, BUYER_VAT)
        supplier = (fixture.supplier, SUPPLIER_VAT)
        documents = [
            (invoice, '380', company, buyer),
            (credit_note, '381', company, buyer),
            (statement, '389', supplier, company),
            ]
        set_format('xrechnung', fixture.buyer, fixture.supplier)
        for document, type_code, seller, buyer_ in documents:
            with self.subTest(format='xrechnung', type_code=type_code):
                root = self.assertDocument(
                    document.get_einvoice_xml(), document, type_code,
                    seller, buyer_)
                # a credit note names the invoice it corrects (BG-3)
                self.assertEqual(
                    [e.findtext('ram:IssuerAssignedID', namespaces=NS)
                        for e in root.iterfind(SETTLEMENT
                            + '/ram:InvoiceReferencedDocument',
                            namespaces=NS)],
                    [invoice.number] if type_code == '381' else [])
                self.assertIn('xrechnung_3.0', root.findtext(
                        'rsm:ExchangedDocumentContext/'
                        'ram:GuidelineSpecifiedDocumentContextParameter/'
                        'ram:ID', namespaces=NS))
                self.assertEqual(
                    root.findtext(AGREEMENT + '/ram:BuyerReference',
                        namespaces=NS),
                    '04011000-12345-67' if type_code != '389'
                    else 'GS-2024-1')
        # a total that does not add up breaks a business rule
        xml = invoice.get_einvoice_xml().replace(
            b'<ram:GrandTotalAmount>108.00<', b'<ram:GrandTotalAmount>10.00<')
        self.assertTrue(any(rule.startswith('[BR-CO-15]')
                for rule in broken_business_rules(xml)))
        set_format('facturx', fixture.buyer, fixture.supplier)
        for document, type_code, seller, buyer_ in documents:
            with self.subTest(format='facturx', type_code=type_code):
                ext, pdf, _, _ = Document.execute([document.id], {})
                self.assertEqual(ext, 'pdf')
                name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
                self.assertEqual(name, 'factur-x.xml')
                root = self.assertDocument(
                    xml, document, type_code, seller, buyer_)
                self.assertEqual(root.findtext(
                        'rsm:ExchangedDocumentContext/'
                        'ram:GuidelineSpecifiedDocumentContextParameter/'
                        'ram:ID', namespaces=NS),
                    'urn:cen.eu:en16931:2017')
                self.assertEqual(pdfa_part(pdf), '3')

    @with_lead_trading
    def test_email_carries_format(self, fixture):
        "The buyer gets a Factur-X PDF, the supplier an XRechnung XML"
        Invoice = Pool().get('account.invoice')
        complete_master_data(fixture)
        set_format('facturx', fixture.buyer)
        set_format('xrechnung', fixture.supplier)
        run, invoice, statement, _ = posted_documents(fixture)
        Invoice.send_lead_documents([invoice, statement])
        invoice, statement = Invoice.browse([invoice.id, statement.id])

        self.assertEqual(invoice.einvoice_format, 'facturx')
        files = attachments(invoice)
        pdf_name, = [n for n in files if n.endswith('.pdf')]
        _, xml = facturx.get_xml_from_pdf(files[pdf_name])
        self.assertDocument(xml, invoice, '380',
            (fixture.company.party, COMPANY_VAT), (fixture.buyer, BUYER_VAT))
        self.assertTrue(any(n.endswith('.xlsx') for n in files))

        self.assertEqual(statement.einvoice_format, 'xrechnung')
        files = attachments(statement)
        self.assertFalse(any(n.endswith('.pdf') for n in files))
        xml_name, = [n for n in files if n.endswith('.xml')]
        self.assertDocument(files[xml_name], statement, '389',
            (fixture.supplier, SUPPLIER_VAT),
            (fixture.company.party, COMPANY_VAT))
        self.assertIsNone(run.einvoice_errors)

    @with_lead_trading
    def test_printed_before_choosing_facturx(self, fixture):
        """A document printed as plain PDF and not sent yet leaves as
        Factur-X once its party chose that format"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Document = pool.get('lead.billing.document', type='report')
        complete_master_data(fixture)
        _, invoice, _, _ = posted_documents(fixture)
        _, pdf, _, _ = Document.execute([invoice.id], {})
        self.assertEqual(facturx.get_xml_from_pdf(pdf), (False, False))
        set_format('facturx', fixture.buyer)
        Invoice.send_lead_documents([invoice])
        invoice = Invoice(invoice.id)
        pdf, = [content for name, content in attachments(invoice).items()
            if name.endswith('.pdf')]
        name, xml = facturx.get_xml_from_pdf(pdf)
        self.assertEqual(name, 'factur-x.xml')
        self.assertEqual(bytes(invoice.invoice_report_cache), pdf)

    @with_lead_trading
    def test_invalid_document_not_sent(self, fixture):
        """Without the company's bank account the buyer's e-invoice is not
        valid: it is not sent, the invoice and the run say why, and it
        leaves once the account is there"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Run = pool.get('lead.billing.run')
        BankAccount = pool.get('bank.account')
        complete_master_data(fixture)
        set_format('facturx', fixture.buyer)
        accounts = BankAccount.search([
                ('owners', '=', fixture.company.party.id)])
        company_owner = [fixture.company.party.id]
        BankAccount.write(accounts, {'owners': [('remove', company_owner)]})
        run, invoice, statement, _ = posted_documents(fixture)
        Invoice.send_lead_documents([invoice, statement])
        invoice, statement = Invoice.browse([invoice.id, statement.id])

        self.assertIsNone(invoice.lead_document_email)
        self.assertIn('bank account with IBAN', invoice.einvoice_error)
        self.assertIn(fixture.company.party.rec_name, invoice.einvoice_error)
        # the statement of a PDF supplier leaves as before
        self.assertTrue(statement.lead_document_email)
        self.assertIsNone(statement.einvoice_error)
        errors = Run(run.id).einvoice_errors
        self.assertIn(invoice.number, errors)
        self.assertNotIn(statement.number, errors)

        BankAccount.write(accounts, {'owners': [('add', company_owner)]})
        Invoice.send_einvoice([invoice])
        invoice = Invoice(invoice.id)
        self.assertTrue(invoice.lead_document_email)
        self.assertIsNone(invoice.einvoice_error)
        self.assertEqual(invoice.einvoice_format, 'facturx')
        self.assertIsNone(Run(run.id).einvoice_errors)
