# This file is part of the lead trading suite. See README.rst for details.
"""The login of a buyer or supplier, created from its party"""
import unittest

from trytond.modules.lead_billing.exceptions import LoginError
from trytond.modules.lead_billing.login import login_from_name
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

from .tools import create, create_party, login_wizard, with_lead_trading


class LoginNameTestCase(unittest.TestCase):
    def test_login_from_name(self):
        self.assertEqual(
            login_from_name("Solar Nord GmbH & Co. KG"),
            'solar-nord-gmbh-co-kg')
        self.assertEqual(login_from_name("Wärme Süd"), 'wärme-süd')
        self.assertEqual(login_from_name(None), '')


class LoginTestCase(unittest.TestCase):
    "Create Login on a party"

    @classmethod
    def setUpClass(cls):
        activate_module('lead_billing')

    def groups(self, user):
        ModelData = Pool().get('ir.model.data')
        names = {ModelData.get_id('lead_billing', n): n for n in [
                'group_lead_buyer_external', 'group_lead_supplier_external',
                'group_lead_trading']}
        return sorted(names[g.id] for g in user.groups if g.id in names)

    @with_lead_trading
    def test_buyer_login(self, f):
        User = Pool().get('res.user')
        f.buyer.lead_document_email = 'einkauf@solar-nord.example'
        f.buyer.save()
        wizard = login_wizard(f.buyer, password='Solar-Nord-2026')
        self.assertEqual(wizard.start.login, 'solar-nord-gmbh')
        self.assertEqual(wizard.start.email, 'einkauf@solar-nord.example')
        self.assertEqual((wizard.start.buyer, wizard.start.supplier),
            (True, False))
        self.assertEqual(create(wizard), 'end')
        user, = User.search([('login', '=', 'solar-nord-gmbh')])
        self.assertEqual(user.lead_party, f.buyer)
        self.assertEqual(user.company, f.company)
        self.assertEqual(list(user.companies), [f.company])
        self.assertEqual(self.groups(user), ['group_lead_buyer_external'])
        self.assertEqual(User.get_login('solar-nord-gmbh', {
                    'password': 'Solar-Nord-2026'}), user.id)

    @with_lead_trading
    def test_party_both_buyer_and_supplier(self, f):
        User = Pool().get('res.user')
        f.supplier.lead_buyer = True
        f.supplier.save()
        create(login_wizard(f.supplier, email='a@leadquelle.example',
                password='Leadquelle-2026'))
        user, = User.search([('lead_party', '=', f.supplier.id)])
        self.assertEqual(self.groups(user), [
                'group_lead_buyer_external', 'group_lead_supplier_external'])

    @with_lead_trading
    def test_without_password_mails_a_temporary_one(self, f):
        User = Pool().get('res.user')
        create(login_wizard(f.buyer2, email='buero@waerme-sued.example'))
        user, = User.search([('lead_party', '=', f.buyer2.id)])
        self.assertTrue(user.password_reset)
        self.assertFalse(user.password_hash)

    @with_lead_trading
    def test_refusals(self, f):
        other = create_party("Spedition Meyer", 'X1')
        with self.assertRaises(LoginError) as cm:
            login_wizard(other)
        self.assertIn("Spedition Meyer", str(cm.exception))

        create(login_wizard(f.buyer, login='solar', email='a@b.example',
                password='Solar-Nord-2026'))
        wizard = login_wizard(f.buyer2, login='solar', email='c@d.example',
            password='Waerme-2026')
        with self.assertRaises(LoginError) as cm:
            create(wizard)
        self.assertIn('"solar"', str(cm.exception))

