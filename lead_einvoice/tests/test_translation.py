# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.i18n import gettext
from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


class LeadEInvoiceTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    """Test the German translation of the Lead E-Invoice module, which
    has no menu of its own: its fields and messages stand for it"""
    module = 'lead_einvoice'
    field = ('party.party', 'einvoice_format')
    message = 'msg_missing_bank_account'

    def expected(self, msgctxt):
        entry, = (e for e in self.po if e.msgctxt == msgctxt)
        return entry.msgstr

    @with_transaction()
    def test_import(self):
        "Tryton loads the file and shows the module in German"
        pool = Pool()
        Translation = pool.get('ir.translation')
        model, field = self.field
        Model = pool.get(model)
        Translation.translation_import(
            'de', self.module, [str(self.po_path)])
        with Transaction().set_context(language='de'):
            self.assertEqual(
                Model.fields_get([field])[field]['string'],
                self.expected(f'field:{model},{field}:'))
            self.assertEqual(
                gettext(f'{self.module}.{self.message}'),
                self.expected(f'model:ir.message,text:{self.message}'))

    def test_template_not_empty(self):
        "The exported template holds the fields and messages of the module"
        contexts = {e.msgctxt for e in self.template}
        model, field = self.field
        self.assertIn(f'field:{model},{field}:', contexts)
        self.assertIn(f'model:ir.message,text:{self.message}', contexts)
