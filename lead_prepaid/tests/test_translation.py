# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)


class LeadPrepaidTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Lead Prepaid module"
    module = 'lead_prepaid'
    extras = ['lead_complaints']
    menu = 'menu_account_form'
    field = ('lead.prepaid.account', 'available')
