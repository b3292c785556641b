# This file is part of the lead trading suite. See README.rst for details.
"Unit tests of the plain rule functions, without database"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.lead_billing import validation
from trytond.modules.lead_billing.price import (
    PriceCandidate, periods_overlap, price_in_force)


class PhoneTestCase(unittest.TestCase):

    def test_german_number_without_prefix(self):
        self.assertEqual(
            validation.normalize_phone('030 1234567'), '+49301234567')

    def test_international_number(self):
        self.assertEqual(
            validation.normalize_phone('+43 1 5880000'), '+4315880000')

    def test_same_number_different_spelling(self):
        self.assertEqual(
            validation.normalize_phone('(0171) 123-4567'),
            validation.normalize_phone('+49 171 1234567'))

    def test_other_default_region(self):
        self.assertEqual(
            validation.normalize_phone('01 5880000', region='AT'),
            '+4315880000')

    def test_invalid(self):
        for number in ['12345', '030 12', 'not a number', '', '   ', None,
                '+49 000 0000000']:
            with self.subTest(number=number):
                self.assertIsNone(validation.normalize_phone(number))


class EmailTestCase(unittest.TestCase):

    def test_valid(self):
        for address in ['erika@example.com', 'e.m+leads@sub.example.de',
                ' erika@example.com ']:
            with self.subTest(address=address):
                self.assertTrue(validation.is_valid_email(address))

    def test_invalid(self):
        for address in ['erika', 'erika@', '@example.com', 'erika@example',
                'erika@@example.com', 'eri ka@example.com',
                'erika@example.c', '', None]:
            with self.subTest(address=address):
                self.assertFalse(validation.is_valid_email(address))

    def test_normalize(self):
        self.assertEqual(
            validation.normalize_email(' Erika@Example.COM '),
            'erika@example.com')
        self.assertIsNone(validation.normalize_email('  '))


class PostalCodeTestCase(unittest.TestCase):

    def test_valid(self):
        for code, country in [('10115', 'DE'), ('1010', 'AT'),
                ('8001', 'CH'), ('1012 AB', 'NL'), ('00-950', 'PL'),
                ('SW1A 1AA', 'GB'), ('28001', 'ES'), ('10115', 'de')]:
            with self.subTest(code=code, country=country):
                self.assertIs(
                    validation.is_valid_postal_code(code, country), True)

    def test_invalid(self):
        for code, country in [('1011', 'DE'), ('101155', 'DE'),
                ('ABCDE', 'DE'), ('10115', 'AT'), ('', 'DE'), (None, 'DE'),
                ('99001', 'ES')]:
            with self.subTest(code=code, country=country):
                self.assertIs(
                    validation.is_valid_postal_code(code, country), False)

    def test_unknown_country_not_checked(self):
        self.assertIsNone(validation.is_valid_postal_code('XYZ', 'BR'))
        self.assertIsNone(validation.is_valid_postal_code('10115', None))


class DuplicateWindowTestCase(unittest.TestCase):
    at = dt.datetime(2026, 3, 10, 12, 0)

    def test_edges_inclusive(self):
        self.assertTrue(validation.is_within_window(
                self.at, self.at - dt.timedelta(days=7), 7))
        self.assertTrue(validation.is_within_window(
                self.at, self.at + dt.timedelta(days=7), 7))

    def test_outside(self):
        second = dt.timedelta(seconds=1)
        self.assertFalse(validation.is_within_window(
                self.at, self.at - dt.timedelta(days=7) - second, 7))
        self.assertFalse(validation.is_within_window(
                self.at, self.at + dt.timedelta(days=7) + second, 7))

    def test_zero_window(self):
        self.assertTrue(validation.is_within_window(self.at, self.at, 0))
        self.assertFalse(validation.is_within_window(
                self.at, self.at + dt.timedelta(seconds=1), 0))


def _price(id, party, start, end, amount):
    return PriceCandidate(id, party, start, end, Decimal(amount), 1)


class PriceInForceTestCase(unittest.TestCase):
    prices = [
        _price(1, None, dt.date(2026, 1, 1), dt.date(2026, 1, 31), '10'),
        _price(2, None, dt.date(2026, 2, 1), None, '12'),
        _price(3, 7, dt.date(2026, 1, 15), dt.date(2026, 2, 15), '9'),
        ]

    def test_general_price(self):
        self.assertEqual(
            price_in_force(self.prices, 8, dt.date(2026, 1, 10)).id, 1)
        self.assertEqual(
            price_in_force(self.prices, 8, dt.date(2026, 2, 1)).id, 2)

    def test_boundaries_inclusive(self):
        self.assertEqual(
            price_in_force(self.prices, 8, dt.date(2026, 1, 31)).id, 1)
        self.assertEqual(
            price_in_force(self.prices, 7, dt.date(2026, 2, 15)).id, 3)
        self.assertEqual(
            price_in_force(self.prices, 7, dt.date(2026, 2, 16)).id, 2)

    def test_party_price_wins(self):
        self.assertEqual(
            price_in_force(self.prices, 7, dt.date(2026, 1, 20)).id, 3)

    def test_none_before_start(self):
        self.assertIsNone(
            price_in_force(self.prices, 8, dt.date(2025, 12, 31)))

    def test_overlap(self):
        d = dt.date
        self.assertTrue(periods_overlap(
                d(2026, 1, 1), d(2026, 1, 31), d(2026, 1, 31), None))
        self.assertFalse(periods_overlap(
                d(2026, 1, 1), d(2026, 1, 30), d(2026, 1, 31), None))
        self.assertTrue(periods_overlap(d(2026, 1, 1), None, d(2030, 1, 1),
                d(2030, 2, 1)))
