# This file is part of the lead trading suite. See README.rst for details.
"The German translation covers every translatable string of the module"
import unittest

from trytond.modules.lead_billing.tests.test_translation import (
    TranslationTestMixin)


class ReferralCommissionTranslationTestCase(
        TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Referral Commission module"
    module = 'referral_commission'
    extras = ['lead_complaints']
    menu = 'menu_referral'
    field = ('referral.payout', 'voucher_rate')
