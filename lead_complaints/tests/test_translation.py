# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)


class LeadComplaintsTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Lead Complaints module"
    module = 'lead_complaints'
    menu = 'menu_complaint_form'
    field = ('lead.complaint', 'reason')
