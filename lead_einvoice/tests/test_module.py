# This file is part of the lead trading suite. See README.rst for details.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.modules.lead_billing.tests.access import ModelAccessMixin
from trytond.modules.lead_billing.tests.tools import WebClientViewMixin
from trytond.tests.test_tryton import ModuleTestCase


class LeadEInvoiceTestCase(
        ModelAccessMixin, WebClientViewMixin, CompanyTestMixin,
        ModuleTestCase):
    "Test Lead E-Invoice module"
    module = 'lead_einvoice'


del ModuleTestCase
