# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)


class DunningLevelsTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Dunning Levels module"
    module = 'dunning_levels'
    extras = ['lead_complaints']
    menu = 'menu_statistics'
    field = ('account.dunning.level', 'delay_base')
