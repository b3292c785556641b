# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)


class LeadReportingTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Lead Reporting module"
    module = 'lead_reporting'
    extras = ['lead_complaints', 'lead_prepaid', 'dunning_levels']
    menu = 'menu_reporting'
    field = ('lead.reporting.period', 'sell_through')
