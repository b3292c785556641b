#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Populate a freshly created Tryton database with the lead trading demo.

Usage: demo_data.py -c <trytond.conf> -d <database> [--leads N] [--seed S]

The database must already have `lead_billing` activated (see setup/demo.py,
which runs this script). Everything is created through the ORM: the company
"Leadhandel Demo GmbH" with its chart of accounts, taxes, fiscal years and
invoice sequences, the lead categories with their products and prices,
10 suppliers, 30 buyers and the leads with their deliveries. The leads go
through the real intake (`lead.intake.ingest`) so that the quality rules,
the prices in force and the delivery rules apply exactly as in production.
With `lead_prepaid` activated, two buyers pay in advance: their top-ups are
booked before the intake (and in between), so that one keeps a comfortable
balance while the other's runs out and its last leads are refused.

The data is generated with a seeded random generator and spread over the
three months before today, so two builds on the same day are identical.
"""
import argparse
import datetime as dt
import random
import socket
import sys
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from functools import partial
from unittest import mock
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

TIMEZONE = 'Europe/Berlin'
CHART_TEMPLATE = ('account', 'account_template_root_de')
DATA_DAYS = 91
INTAKE_BATCH = 1000
DEFAULT_LEADS = 5000
DEFAULT_SEED = 4711
# The logins of a buyer and a supplier of the demo, as they see the suite
BUYER_LOGIN = ('buyer', 'buyer-demo')
SUPPLIER_LOGIN = ('supplier', 'supplier-demo')

# code, name, purchase price, sale price, share of the lead volume
CATEGORIES = [
    ('PV', "Photovoltaik", '18.00', '45.00', 30),
    ('WP', "Wärmepumpe", '22.00', '55.00', 20),
    ('BAUFI', "Baufinanzierung", '35.00', '89.00', 12),
    ('PKV', "Private Krankenversicherung", '28.00', '69.00', 13),
    ('IMMO', "Immobilienverkauf", '40.00', '110.00', 8),
    ('KFZ', "Kfz-Versicherung", '4.50', '12.00', 17),
    ]
# The general prices of this category change in the middle of the period
PRICE_CHANGE = ('WP', '24.00', '59.00')
# code, name, categories, billing interval, volume weight, self-billing
SUPPLIERS = [
    ('L001', "Solarvergleich Online GmbH", ['PV', 'WP'], 'weekly', 10, True),
    ('L002', "Energieportal24 GmbH", ['PV', 'WP'], 'semi_monthly', 8, True),
    ('L003', "Finanzradar Media GmbH", ['BAUFI', 'PKV'], 'monthly', 7,
        True),
    ('L004', "Versicherungscheck Digital GmbH", ['PKV', 'KFZ'], 'weekly', 7,
        True),
    ('L005', "ImmoWert Leads GmbH", ['IMMO', 'BAUFI'], 'semi_monthly', 5,
        True),
    ('L006', "Klickwerk Performance Marketing GmbH",
        ['PV', 'WP', 'BAUFI', 'PKV', 'IMMO', 'KFZ'], 'monthly', 6, True),
    ('L007', "Heizungsfinder Deutschland GmbH", ['WP'], 'weekly', 6, True),
    ('L008', "Leadquelle Nord UG (haftungsbeschränkt)", ['PV', 'KFZ'],
        'semi_monthly', 4, True),
    ('L009', "Kfz-Tarifportal GmbH", ['KFZ'], 'monthly', 6, False),
    ('L010', "Immoanfragen Süd GmbH", ['IMMO'], 'monthly', 4, False),
    ]
# What buyers write when they return a lead
COMPLAINT_TEXTS = [
    "Dreimal angerufen, niemand erreichbar.",
    "Kunde hat keine Anfrage gestellt.",
    "Telefonnummer existiert nicht.",
    "Kunde wohnt außerhalb unseres Gebiets.",
    "Lead kam bereits von einem anderen Anbieter.",
    "Kunde hat kein Interesse mehr.",
    "Name und Adresse passen nicht zusammen.",
    ]
# One supplier with a price of its own
SUPPLIER_PRICE = ('L003', 'PKV', '25.00')
INTERNAL_BUYER = 'K030'
BUYERS = [
    ('K001', "Sonnenstrom Müller GmbH", ['PV'], 'weekly', 8),
    ('K002', "Solartechnik Becker & Söhne KG", ['PV', 'WP'], 'monthly', 6),
    ('K003', "WärmeWerk Nord GmbH", ['WP'], 'semi_monthly', 6),
    ('K004', "Energiekonzept Süd GmbH", ['PV', 'WP'], 'monthly', 5),
    ('K005', "Baufinanz Partner Hamburg GmbH", ['BAUFI'], 'weekly', 6),
    ('K006', "Finanzkontor Rhein-Main GmbH", ['BAUFI', 'PKV'], 'monthly', 4),
    ('K007', "Versicherungsbüro Schneider e.K.", ['PKV', 'KFZ'],
        'semi_monthly', 4),
    ('K008', "Assekuranz Krüger & Partner GmbH", ['PKV', 'KFZ'], 'monthly',
        5),
    ('K009', "Immobilien Wagner GmbH", ['IMMO'], 'monthly', 5),
    ('K010', "Hausmakler Hoffmann e.K.", ['IMMO'], 'semi_monthly', 3),
    ('K011', "Dachprofi Schulz GmbH", ['PV'], 'weekly', 4),
    ('K012', "Heiztechnik Weber GmbH", ['WP'], 'monthly', 5),
    ('K013', "Kredithaus Zimmermann GmbH", ['BAUFI'], 'semi_monthly', 3),
    ('K014', "Gesundheitsvorsorge Braun GmbH", ['PKV'], 'monthly', 4),
    ('K015', "Autoversicherung Klein Agentur", ['KFZ'], 'weekly', 6),
    ('K016', "SolarPlus Energiesysteme GmbH", ['PV', 'WP'], 'semi_monthly',
        7),
    ('K017', "Immokontor Schmitz GmbH & Co. KG", ['IMMO', 'BAUFI'],
        'monthly', 3),
    ('K018', "Vorsorgewerk Lange GmbH", ['PKV'], 'weekly', 3),
    ('K019', "Photovoltaik Hartmann GmbH", ['PV'], 'monthly', 5),
    ('K020', "Wärmepumpen Fischer GmbH", ['WP'], 'semi_monthly', 4),
    ('K021', "Finanzierungsberatung Koch", ['BAUFI'], 'monthly', 2),
    ('K022', "Maklerbüro Richter GmbH", ['PKV', 'KFZ', 'BAUFI'], 'weekly',
        4),
    ('K023', "Grünstrom Installationen Wolf GmbH", ['PV'], 'monthly', 3),
    ('K024', "Klimahaus Schäfer GmbH", ['WP', 'PV'], 'semi_monthly', 4),
    ('K025', "Immobilienpartner Neumann GmbH", ['IMMO'], 'weekly', 3),
    ('K026', "Versicherungsmakler Schwarz GmbH", ['KFZ', 'PKV'], 'monthly',
        5),
    ('K027', "Energieberatung Zimmer & Krause GbR", ['PV', 'WP'], 'monthly',
        2),
    ('K028', "Baugeld Direkt Vogel GmbH", ['BAUFI'], 'semi_monthly', 3),
    ('K029', "Solarteure Lorenz GmbH", ['PV'], 'weekly', 3),
    (INTERNAL_BUYER, "Eigenvertrieb (intern)",
        [c[0] for c in CATEGORIES], 'monthly', 0),
    ]
# Buyers with a price of their own (framework agreements)
BUYER_PRICES = [
    ('K001', 'PV', '42.00'),
    ('K005', 'BAUFI', '85.00'),
    ('K012', 'WP', '52.00'),
    ('K015', 'KFZ', '10.50'),
    ]
# Buyers that pay in advance (lead_prepaid) and their low balance alerts:
# the first keeps a comfortable balance, topped up once more in the first
# third of the period; the second's balance runs dry in the last days, its
# last leads go to other buyers and its new top-up is requested, not paid
PREPAID_COMFORTABLE = 'K023'
PREPAID_DRY = 'K029'
PREPAID_THRESHOLDS = ['500.00', '100.00']
# Customers recruit customers (referral_commission): referrer, the
# customers it brought, type, branch and approval. The last one is recorded
# only after the first payout, so its commission shows as new.
REFERRALS = [
    ('K001', ['K011', 'K019'], 'standard', 'BER', 'approved'),
    ('K009', ['K010', 'K025'], 'collector', 'HAM', 'approved'),
    ('K022', ['K026', 'K018'], 'standard', 'BER', 'open'),
    ('K005', ['K013'], 'standard', 'HAM', 'blocked'),
    ('K002', ['K016'], 'standard', 'HAM', 'open'),
    ]
REFERRAL_BRANCHES = [
    ('BER', "Berlin", "Leadhandel Demo GmbH\nFriedrichstraße 123\n"
        "10117 Berlin", "030 1234567 · berlin@leadhandel-demo.example",
        "Ihr Team der Filiale Berlin"),
    ('HAM', "Hamburg", "Leadhandel Demo GmbH – Filiale Hamburg\n"
        "Ballindamm 7\n20095 Hamburg",
        "040 7654321 · hamburg@leadhandel-demo.example",
        "Ihr Team der Filiale Hamburg"),
    ]

# city, postal codes, area code (without 0)
DE_CITIES = [
    ("Berlin", ['10115', '10247', '10437', '10969', '12043', '12163',
            '13353', '14057'], '30'),
    ("Hamburg", ['20095', '20249', '21073', '22041', '22765'], '40'),
    ("München", ['80331', '80469', '80797', '81241', '81667'], '89'),
    ("Köln", ['50667', '50733', '50935', '51063'], '221'),
    ("Frankfurt am Main", ['60311', '60316', '60486', '65929'], '69'),
    ("Stuttgart", ['70173', '70180', '70372', '70597'], '711'),
    ("Düsseldorf", ['40210', '40213', '40477', '40545'], '211'),
    ("Leipzig", ['04103', '04109', '04177', '04277'], '341'),
    ("Dortmund", ['44135', '44137', '44139', '44263'], '231'),
    ("Essen", ['45127', '45130', '45138', '45239'], '201'),
    ("Bremen", ['28195', '28203', '28209', '28359'], '421'),
    ("Dresden", ['01067', '01069', '01097', '01309'], '351'),
    ("Hannover", ['30159', '30161', '30173', '30449'], '511'),
    ("Nürnberg", ['90402', '90419', '90443', '90489'], '911'),
    ("Bochum", ['44787', '44789', '44801'], '234'),
    ("Bielefeld", ['33602', '33604', '33615'], '521'),
    ("Bonn", ['53111', '53113', '53173'], '228'),
    ("Münster", ['48143', '48145', '48151'], '251'),
    ("Mannheim", ['68159', '68161', '68165'], '621'),
    ("Karlsruhe", ['76131', '76133', '76137'], '721'),
    ("Augsburg", ['86150', '86152', '86159'], '821'),
    ("Wiesbaden", ['65183', '65185', '65193'], '611'),
    ("Freiburg im Breisgau", ['79098', '79100', '79104'], '761'),
    ("Kiel", ['24103', '24105', '24114'], '431'),
    ("Rostock", ['18055', '18057', '18119'], '381'),
    ("Erfurt", ['99084', '99085', '99096'], '361'),
    ("Mainz", ['55116', '55118', '55122'], '6131'),
    ("Regensburg", ['93047', '93049', '93053'], '941'),
    ("Potsdam", ['14467', '14469', '14482'], '331'),
    ("Magdeburg", ['39104', '39106', '39108'], '391'),
    ("Saarbrücken", ['66111', '66113', '66119'], '681'),
    ("Osnabrück", ['49074', '49076', '49080'], '541'),
    ("Ulm", ['89073', '89075', '89077'], '731'),
    ("Würzburg", ['97070', '97072', '97074'], '931'),
    ("Kassel", ['34117', '34119', '34121'], '561'),
    ("Oldenburg", ['26121', '26122', '26123'], '441'),
    ("Heidelberg", ['69115', '69117', '69120'], '6221'),
    ("Lübeck", ['23552', '23554', '23556'], '451'),
    ("Göttingen", ['37073', '37075', '37083'], '551'),
    ("Ingolstadt", ['85049', '85051', '85055'], '841'),
    ]
AT_CITIES = [
    ("Wien", ['1010', '1020', '1050', '1100', '1190'], '1'),
    ("Graz", ['8010', '8020'], '316'),
    ("Linz", ['4020', '4040'], '732'),
    ("Salzburg", ['5020'], '662'),
    ("Innsbruck", ['6020'], '512'),
    ]
CH_CITIES = [
    ("Zürich", ['8001', '8004', '8032'], '44'),
    ("Basel", ['4051', '4056'], '61'),
    ("Bern", ['3011', '3013'], '31'),
    ]
DE_MOBILE = ['151', '152', '157', '159', '160', '162', '170', '171', '172',
    '173', '174', '175', '176', '177', '178', '179']
AT_MOBILE = ['664', '660', '676', '699', '650']
CH_MOBILE = ['76', '77', '78', '79']
STREETS = ["Hauptstraße", "Bahnhofstraße", "Industriestraße", "Gewerbering",
    "Lindenallee", "Schillerstraße", "Goethestraße", "Am Markt",
    "Kaiserstraße", "Friedrichstraße", "Rheinallee", "Hafenstraße",
    "Mühlenweg", "Parkstraße", "Poststraße", "Gartenstraße",
    "Schulstraße", "Bergstraße", "Waldweg", "Ringstraße"]
FIRST_NAMES = ["Anna", "Thomas", "Julia", "Michael", "Sabine", "Andreas",
    "Katrin", "Stefan", "Claudia", "Markus", "Nicole", "Christian",
    "Stefanie", "Frank", "Melanie", "Jürgen", "Sandra", "Uwe", "Petra",
    "Jan", "Lena", "Lukas", "Sophie", "Jonas", "Laura", "Felix", "Lea",
    "Tobias", "Sarah", "Daniel", "Birgit", "Matthias", "Monika", "Alexander",
    "Heike", "Sebastian", "Ursula", "Florian", "Karin", "Maximilian",
    "Franziska", "Björn", "Jörg", "Dörte", "Günter", "Renate", "Klaus",
    "Susanne", "Martin", "Ines", "Oliver", "Tanja", "Dirk", "Anja",
    "Holger", "Marie", "Paul", "Emma", "Leon", "Hannah", "Niklas",
    "Charlotte", "Timo", "Mia", "Kevin", "Jessica", "Ralf", "Gabriele",
    "Hans-Peter", "Anne-Marie", "Özlem", "Mehmet", "Aleksandra", "Piotr"]
LAST_NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber",
    "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch",
    "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann",
    "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter",
    "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz",
    "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
    "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck",
    "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon",
    "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer",
    "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel",
    "Heinrich", "Brandt", "Haas", "Yılmaz", "Kowalski", "Nowak"]
MAIL_DOMAINS = [('gmx.de', 20), ('web.de', 20), ('t-online.de', 12),
    ('gmail.com', 18), ('outlook.de', 6), ('yahoo.de', 4),
    ('freenet.de', 4), ('posteo.de', 2), ('icloud.com', 4),
    ('hotmail.de', 3), ('aol.com', 2), ('mail.de', 2)]
AT_MAIL_DOMAINS = [('gmx.at', 30), ('aon.at', 20), ('chello.at', 10),
    ('gmail.com', 30)]
CH_MAIL_DOMAINS = [('bluewin.ch', 40), ('gmx.ch', 20), ('gmail.com', 30)]


# Imported by main() once the trytond configuration is read
Pool = Transaction = TransactionError = None
_logged = set()
# The locks the demo's transactions asked for so far
_locks = {}


def log(message, once=False):
    "Print a progress line; `once` skips it when a transaction is retried"
    if once:
        if message in _logged:
            return
        _logged.add(message)
    print(message, flush=True)


def ascii_fold(text):
    "'Jürgen Groß' -> 'juergen gross' for e-mail local parts"
    text = text.lower()
    for src, dst in [('ä', 'ae'), ('ö', 'oe'), ('ü', 'ue'), ('ß', 'ss')]:
        text = text.replace(src, dst)
    text = unicodedata.normalize('NFKD', text)
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return text.replace('ı', 'i').replace(' ', '')


def run_committed(database, func, user=0):
    """Run `func` in its own transaction and commit it, starting again with
    the locks that Tryton asks for, as the server does. The locks stay for
    the next transactions: a step that posts invoices would otherwise run
    once more for each lock its first invoice asks for (on SQLite, the
    demo's database, a lock taken at the start costs nothing)."""
    while True:
        with Transaction().start(database, user, **_locks) as transaction:
            try:
                result = func()
            except TransactionError as e:
                transaction.rollback()
                e.fix(_locks)
                continue
            transaction.commit()
            return result


def weighted(rng, pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights)[0]


def vat_number(rng):
    "A German VAT id with a valid check digit (ISO 7064 MOD 11,10)"
    from stdnum.eu import vat
    from stdnum.iso7064 import mod_11_10
    while True:
        body = str(rng.randint(10_000_000, 99_999_999))
        number = 'DE' + body + mod_11_10.calc_check_digit(body)
        if vat.is_valid(number):
            return number


# ---------------------------------------------------------------------------
# Lead rows


class LeadGenerator:
    "Deterministic rows for `lead.intake.ingest`"

    def __init__(self, seed, count, now_utc, tzinfo):
        import phonenumbers

        from trytond.modules.lead_billing import validation
        self.phonenumbers = phonenumbers
        self.validation = validation
        self.rng = random.Random(seed)
        self.count = count
        self.now_utc = now_utc
        self.tz = tzinfo
        self.now_local = now_utc.replace(
            tzinfo=dt.timezone.utc).astimezone(tzinfo)
        self.first_day = self.now_local.date() - dt.timedelta(
            days=DATA_DAYS)
        self.used_phones = set()
        self.used_emails = set()
        self.references = Counter()

    # contact data ----------------------------------------------------------
    def phone(self, country, area):
        "A valid, unused phone number written the way people type it"
        rng = self.rng
        for _ in range(100):
            mobile = rng.random() < 0.6
            if country == 'DE':
                prefix = rng.choice(DE_MOBILE) if mobile else area
                length = (rng.choice([7, 8]) if mobile
                    else max(5, 10 - len(prefix) - rng.choice([0, 1])))
                cc = '49'
            elif country == 'AT':
                prefix = rng.choice(AT_MOBILE) if mobile else area
                length = 7 if mobile else max(5, 9 - len(prefix))
                cc = '43'
            else:
                prefix = rng.choice(CH_MOBILE) if mobile else area
                length = 7
                cc = '41'
            subscriber = str(rng.randint(2, 9)) + ''.join(
                str(rng.randint(0, 9)) for _ in range(length - 1))
            try:
                parsed = self.phonenumbers.parse(
                    f'+{cc}{prefix}{subscriber}')
            except self.phonenumbers.NumberParseException:
                continue
            if not self.phonenumbers.is_valid_number(parsed):
                continue
            key = self.phonenumbers.format_number(
                parsed, self.phonenumbers.PhoneNumberFormat.E164)
            if key in self.used_phones:
                continue
            self.used_phones.add(key)
            if country != 'DE' or rng.random() < 0.25:
                style = rng.choice(['+{cc} {p} {s}', '+{cc}{p}{s}',
                        '00{cc} {p} {s}'])
            else:
                style = rng.choice(['0{p} {s}', '0{p}/{s}', '0{p}-{s}',
                        '0{p}{s}', '(0{p}) {s}'])
            return style.format(cc=cc, p=prefix, s=subscriber)
        raise RuntimeError("could not generate a phone number")

    def invalid_phone(self):
        "A phone number that fails the phone rule"
        rng = self.rng
        while True:
            value = rng.choice([
                    lambda: '0' + str(rng.randint(100, 9999)),
                    lambda: str(rng.randint(1000, 999999)),
                    lambda: '0171 ' + str(rng.randint(10, 999)),
                    lambda: '+49 ' + str(rng.randint(1, 99)),
                    lambda: '01234 56',
                    lambda: 'keine Angabe',
                    lambda: '0' * rng.randint(6, 11),
                    ])()
            if self.validation.normalize_phone(value, 'DE') is None:
                return value

    def email(self, first, last, domains):
        rng = self.rng
        f, l_ = ascii_fold(first), ascii_fold(last)
        domain = weighted(rng, domains)
        year = rng.randint(55, 99) if rng.random() < 0.7 else rng.randint(
            0, 5)
        candidates = [
            f'{f}.{l_}', f'{f}{l_}', f'{f[0]}.{l_}', f'{l_}.{f}',
            f'{f}.{l_}{year:02d}', f'{f}{year:02d}', f'{f}_{l_}',
            f'{l_}{rng.randint(1, 999)}', f'{f[0]}{l_}{year:02d}',
            ]
        local = rng.choice(candidates)
        address = f'{local}@{domain}'
        while address in self.used_emails:
            address = f'{local}{rng.randint(1, 9999)}@{domain}'
        self.used_emails.add(address)
        # People do not care about the case of their address
        if rng.random() < 0.05:
            address = address.capitalize()
        return address

    def person(self):
        rng = self.rng
        country = weighted(rng, [('DE', 95), ('AT', 4), ('CH', 1)])
        cities, domains = {
            'DE': (DE_CITIES, MAIL_DOMAINS),
            'AT': (AT_CITIES, AT_MAIL_DOMAINS),
            'CH': (CH_CITIES, CH_MAIL_DOMAINS),
            }[country]
        city, postal_codes, area = rng.choice(cities)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return {
            'name': f'{first} {last}',
            'email': self.email(first, last, domains),
            'phone': self.phone(country, area),
            'postal_code': rng.choice(postal_codes),
            'city': city,
            'country': country,
            }

    # time ------------------------------------------------------------------
    def received_times(self):
        "Sorted local reception times, weekdays and business hours mostly"
        rng = self.rng
        days = [self.first_day + dt.timedelta(days=i)
            for i in range(DATA_DAYS + 1)]
        day_weights = []
        for i, day in enumerate(days):
            weight = {5: 0.45, 6: 0.3}.get(day.weekday(), 1.0)
            weight *= 0.85 + 0.3 * i / DATA_DAYS  # the business grows
            day_weights.append(weight)
        hour_weights = [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.0, 3.2,
            3.5, 3.3, 2.6, 2.8, 3.1, 3.0, 2.8, 2.5, 2.2, 2.1, 1.9, 1.4, 0.9,
            0.5]
        latest = self.now_local - dt.timedelta(minutes=5)
        result = []
        while len(result) < self.count:
            day = rng.choices(days, day_weights)[0]
            hour = rng.choices(range(24), hour_weights)[0]
            naive = dt.datetime.combine(day, dt.time(hour)) + dt.timedelta(
                seconds=rng.randint(0, 3599))
            # through UTC: a time in the spring DST gap moves to summer time
            local = naive.replace(tzinfo=self.tz).astimezone(
                dt.timezone.utc).astimezone(self.tz)
            if local > latest:
                continue
            result.append(local)
        result.sort()
        return result

    def delivered_at(self, received):
        rng = self.rng
        kind = rng.random()
        if kind < 0.7:
            delay = dt.timedelta(seconds=rng.randint(60, 30 * 60))
        elif kind < 0.95:
            delay = dt.timedelta(seconds=rng.randint(30 * 60, 4 * 3600))
        else:
            delay = dt.timedelta(seconds=rng.randint(4 * 3600, 26 * 3600))
        # in UTC: adding to a local time ignores a DST change in between
        at = (received.astimezone(dt.timezone.utc) + delay).astimezone(
            self.tz)
        if at > self.now_local - dt.timedelta(minutes=1):
            return None
        return at

    # rows ------------------------------------------------------------------
    def rows(self):
        rng = self.rng
        categories = [(c[0], c[4]) for c in CATEGORIES]
        suppliers_of = {
            code: [(s[0], s[4]) for s in SUPPLIERS if code in s[2]]
            for code, _ in categories}
        buyers_of = {
            code: [(b[0], b[4]) for b in BUYERS
                if code in b[2] and b[0] != INTERNAL_BUYER]
            for code, _ in categories}
        prefixes = {s[0]: ''.join(w[0] for w in s[1].split()[:3]).upper()
            for s in SUPPLIERS}

        rows, kinds = [], []
        for received in self.received_times():
            category = weighted(rng, categories)
            supplier = weighted(rng, suppliers_of[category])
            self.references[supplier] += 1
            row = {
                'supplier': supplier,
                'reference': (f'{prefixes[supplier]}-'
                    f'{received:%y%m}-{self.references[supplier]:06d}'),
                'category': category,
                'received_at': received.isoformat(timespec='seconds'),
                **self.person(),
                }
            kind = 'normal'
            draw = rng.random()
            if draw < 0.03:
                kind = 'bad_phone'
                row['phone'] = self.invalid_phone()
            elif draw < 0.05:
                kind = 'duplicate'
            rows.append(row)
            kinds.append(kind)

        self._make_duplicates(rows, kinds)
        for row, kind in zip(rows, kinds):
            if kind != 'normal':
                continue  # leads in review cannot be delivered
            received = dt.datetime.fromisoformat(row['received_at'])
            wanted = weighted(rng, [(0, 20), (1, 45), (2, 25), (3, 10)])
            pool = list(buyers_of[row['category']])
            buyers = []
            while pool and len(buyers) < wanted:
                buyer = weighted(rng, pool)
                pool = [p for p in pool if p[0] != buyer]
                buyers.append(buyer)
            # the internal sales team takes part of what nobody bought
            # and now and then a lead of its own choice
            if ((not buyers and rng.random() < 0.4)
                    or rng.random() < 0.03):
                buyers.append(INTERNAL_BUYER)
            deliveries = []
            for buyer in buyers:
                at = self.delivered_at(received)
                if at is not None:
                    deliveries.append({
                            'buyer': buyer,
                            'delivered_at': at.isoformat(
                                timespec='seconds'),
                            })
            if deliveries:
                row['deliveries'] = sorted(
                    deliveries, key=lambda d: d['delivered_at'])
        return rows

    def _make_duplicates(self, rows, kinds):
        """Turn the rows marked 'duplicate' into near-duplicates of an
        earlier lead of the same category within the duplicate window:
        same person, phone or e-mail written differently, often from
        another supplier."""
        rng = self.rng
        window = dt.timedelta(days=6)
        for i, kind in enumerate(kinds):
            if kind != 'duplicate':
                continue
            row = rows[i]
            received = dt.datetime.fromisoformat(row['received_at'])
            candidates = []
            for j in range(i - 1, -1, -1):
                other = rows[j]
                other_received = dt.datetime.fromisoformat(
                    other['received_at'])
                if received - other_received > window:
                    break
                if (kinds[j] == 'normal'
                        and other['category'] == row['category']):
                    candidates.append(other)
            original = rng.choice(candidates) if candidates else None
            if original is None:
                kinds[i] = 'normal'
                continue
            row['name'] = original['name']
            row['postal_code'] = original['postal_code']
            row['city'] = original['city']
            row['country'] = original['country']
            if rng.random() < 0.6:
                row['phone'] = self.reformat_phone(
                    original['phone'], original['country'])
            else:
                row['email'] = original['email'].upper() if (
                    rng.random() < 0.5) else original['email'].title()

    def reformat_phone(self, number, country):
        pn = self.phonenumbers
        parsed = pn.parse(number, country)
        return self.rng.choice([
                pn.format_number(parsed, pn.PhoneNumberFormat.INTERNATIONAL),
                pn.format_number(parsed, pn.PhoneNumberFormat.E164),
                pn.format_number(parsed, pn.PhoneNumberFormat.NATIONAL),
                ])


# ---------------------------------------------------------------------------
# Master data


def month_start(date):
    return date.replace(day=1)


def create_currency_and_countries():
    pool = Pool()
    Currency = pool.get('currency.currency')
    Rate = pool.get('currency.currency.rate')
    Country = pool.get('country.country')

    eur, = Currency.create([{
                'name': 'Euro', 'code': 'EUR', 'numeric_code': '978',
                'symbol': '€', 'rounding': Decimal('0.01'), 'digits': 2,
                }])
    Rate.create([{
                'currency': eur.id, 'date': dt.date(2000, 1, 1),
                'rate': Decimal(1),
                }])
    countries = {}
    names = [('DE', 'DEU', '276', 'Germany', 'Deutschland'),
        ('AT', 'AUT', '040', 'Austria', 'Österreich'),
        ('CH', 'CHE', '756', 'Switzerland', 'Schweiz')]
    for code, code3, numeric, name_en, name_de in names:
        found = Country.search([('code', '=', code)])
        if found:
            country, = found
        else:
            country, = Country.create([{
                        'code': code, 'code3': code3,
                        'code_numeric': numeric, 'name': name_en,
                        }])
            with Transaction().set_context(language='de'):
                Country.write([Country(country.id)], {'name': name_de})
        countries[code] = country
    return eur, countries


def address(street, number, postal_code, city, country):
    return {
        'street_name': street, 'building_number': str(number),
        'postal_code': postal_code, 'city': city, 'country': country.id,
        }


def create_company(eur, germany, rng):
    pool = Pool()
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')
    Lang = pool.get('ir.lang')

    party, = Party.create([{
                'name': "Leadhandel Demo GmbH",
                'addresses': [('create', [address(
                                "Friedrichstraße", 123, '10117', "Berlin",
                                germany)])],
                'identifiers': [('create', [
                            {'type': 'eu_vat', 'code': vat_number(rng)},
                            {'type': 'de_stnr', 'code': '37/815/08150'},
                            ])],
                'contact_mechanisms': [('create', [
                            {'type': 'phone', 'value': '+49 30 12345670'},
                            {'type': 'email',
                                'value': 'info@leadhandel-demo.example'},
                            {'type': 'website',
                                'value': 'https://leadhandel-demo.example'},
                            ])],
                }])
    company, = Company.create([{
                'party': party.id, 'currency': eur.id,
                'timezone': TIMEZONE,
                'header': "Leadhandel Demo GmbH · Friedrichstraße 123 · "
                "10117 Berlin",
                'footer': "Amtsgericht Charlottenburg HRB 123456 B · "
                "Geschäftsführung: Erika Mustermann",
                }])
    admin, = User.search([('login', '=', 'admin')])
    values = {
        'companies': [('add', [company.id])],
        'company': company.id,
        }
    german = Lang.search([('code', '=', 'de'), ('translatable', '=', True)])
    if german:
        values['language'] = german[0].id
    User.write([admin], values)
    return company


def create_chart(company):
    "The minimal chart of the account module (SKR03 is not published)"
    pool = Pool()
    AccountTemplate = pool.get('account.account.template')
    Account = pool.get('account.account')
    ModelData = pool.get('ir.model.data')
    CreateChart = pool.get('account.create_chart', type='wizard')

    template = AccountTemplate(ModelData.get_id(*CHART_TEMPLATE))
    session_id, _, _ = CreateChart.create()
    wizard = CreateChart(session_id)
    wizard.account.account_template = template
    wizard.account.company = company
    wizard.transition_create_account()

    def account(code):
        found, = Account.search([
                ('code', '=', code), ('company', '=', company.id)])
        return found

    wizard.properties.company = company
    wizard.properties.account_receivable = account('1.2.1')
    wizard.properties.account_payable = account('2.1.1')
    wizard.transition_create_properties()
    CreateChart.delete(session_id)

    tax_parent = account('6.3.0')
    vat_type = account('6.3.4').type
    ust_account, vst_account = Account.create([{
                'code': '6.3.12', 'name': "Umsatzsteuer 19 %",
                'parent': tax_parent.id, 'type': vat_type.id,
                'company': company.id,
                }, {
                'code': '6.3.13', 'name': "Abziehbare Vorsteuer 19 %",
                'parent': tax_parent.id, 'type': vat_type.id,
                'company': company.id,
                }])
    return {
        'receivable': account('1.2.1'),
        'payable': account('2.1.1'),
        'revenue': account('4.1.2'),
        'expense': account('5.1.3'),
        'ust': ust_account,
        'vst': vst_account,
        }


def create_taxes(company, accounts):
    pool = Pool()
    Group = pool.get('account.tax.group')
    Tax = pool.get('account.tax')
    TaxCode = pool.get('account.tax.code')

    sale_group, purchase_group = Group.create([
            {'name': "Umsatzsteuer", 'code': 'USt', 'kind': 'sale'},
            {'name': "Vorsteuer", 'code': 'VSt', 'kind': 'purchase'},
            ])
    ust, vst = Tax.create([{
                'name': "USt 19 %",
                'description': "Umsatzsteuer 19 %",
                'group': sale_group.id,
                'type': 'percentage', 'rate': Decimal('0.19'),
                'invoice_account': accounts['ust'].id,
                'credit_note_account': accounts['ust'].id,
                'company': company.id,
                }, {
                'name': "VSt 19 %",
                'description': "Vorsteuer 19 %",
                'group': purchase_group.id,
                'type': 'percentage', 'rate': Decimal('0.19'),
                'invoice_account': accounts['vst'].id,
                'credit_note_account': accounts['vst'].id,
                'company': company.id,
                }])

    def lines(tax, amount):
        return [('create', [
                    {'operator': '+', 'type': 'invoice', 'amount': amount,
                        'tax': tax.id},
                    {'operator': '-', 'type': 'credit', 'amount': amount,
                        'tax': tax.id},
                    ])]
    # The boxes of the German VAT return (UStVA) these taxes feed
    TaxCode.create([{
                'company': company.id, 'code': '81',
                'name': "Steuerpflichtige Umsätze 19 % (Bemessungsgrundlage)",
                'lines': lines(ust, 'base'),
                }, {
                'company': company.id, 'code': '81-St',
                'name': "Umsatzsteuer 19 %", 'lines': lines(ust, 'tax'),
                }, {
                'company': company.id, 'code': '66',
                'name': "Abziehbare Vorsteuerbeträge",
                'lines': lines(vst, 'tax'),
                }])
    return ust, vst


def create_fiscal_years(company, first_date, today):
    "Fiscal years from the year of `first_date` to the current one"
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence.strict')
    ModelData = pool.get('ir.model.data')

    move_type = ModelData.get_id('account', 'sequence_type_account_move')
    invoice_type = ModelData.get_id(
        'account_invoice', 'sequence_type_account_invoice')
    fiscalyears = []
    for year in range(first_date.year, today.year + 1):
        move_sequence, out_invoice, out_credit, in_invoice, in_credit = (
            Sequence.create([{
                        'name': f"Buchungen {year}",
                        'sequence_type': move_type,
                        'company': company.id,
                        'prefix': f'{year}-', 'padding': 6,
                        }] + [{
                        'name': f"{name} {year}",
                        'sequence_type': invoice_type,
                        'company': company.id,
                        'prefix': f'{prefix}{year}-', 'padding': 5,
                        } for name, prefix in [
                        ("Ausgangsrechnungen", 'RE'),
                        ("Rechnungskorrekturen", 'RK'),
                        ("Gutschriften an Lieferanten", 'GS'),
                        ("Gutschriftskorrekturen", 'GK'),
                        ]]))
        fiscalyear, = FiscalYear.create([{
                    'name': str(year),
                    'company': company.id,
                    'start_date': dt.date(year, 1, 1),
                    'end_date': dt.date(year, 12, 31),
                    'move_sequence': move_sequence.id,
                    'invoice_sequences': [('create', [{
                                    'company': company.id,
                                    'out_invoice_sequence': out_invoice.id,
                                    'out_credit_note_sequence':
                                    out_credit.id,
                                    'in_invoice_sequence': in_invoice.id,
                                    'in_credit_note_sequence': in_credit.id,
                                    }])],
                    }])
        fiscalyears.append(fiscalyear)
    FiscalYear.create_period(fiscalyears)
    return fiscalyears


def create_payment_term():
    pool = Pool()
    PaymentTerm = pool.get('account.invoice.payment_term')
    Configuration = pool.get('account.configuration')

    term, = PaymentTerm.create([{
                'name': "14 Tage netto",
                'description': "Zahlbar innerhalb von 14 Tagen ohne Abzug",
                'lines': [('create', [{
                                'type': 'remainder',
                                'relativedeltas': [('create', [
                                            {'days': 14}])],
                                }])],
                }])
    config = Configuration(1)
    config.default_customer_payment_term = term
    config.save()
    return term


def create_products(accounts, ust, vst):
    pool = Pool()
    ProductCategory = pool.get('product.category')
    Template = pool.get('product.template')
    ModelData = pool.get('ir.model.data')
    Configuration = pool.get('account.configuration')

    account_category, = ProductCategory.create([{
                'name': "Leads",
                'accounting': True,
                'account_revenue': accounts['revenue'].id,
                'account_expense': accounts['expense'].id,
                'customer_taxes': [('add', [ust.id])],
                'supplier_taxes': [('add', [vst.id])],
                }])
    config = Configuration(1)
    config.default_category_account_revenue = accounts['revenue']
    config.default_category_account_expense = accounts['expense']
    config.save()

    unit = ModelData.get_id('product', 'uom_unit')
    templates = Template.create([{
                'name': f"Lead {name}",
                'code': f'LEAD-{code}',
                'type': 'service',
                'default_uom': unit,
                'list_price': Decimal(sale),
                'account_category': account_category.id,
                'products': [('create', [{}])],
                } for code, name, _, sale, _ in CATEGORIES])
    return {code: template.products[0]
        for (code, *_), template in zip(CATEGORIES, templates)}


def create_categories(products):
    Category = Pool().get('lead.category')
    categories = Category.create([{
                'code': code, 'name': name, 'product': products[code].id,
                'check_phone': True, 'check_email': True,
                'check_postal_code': True, 'check_duplicates': True,
                'duplicate_window': 7,
                } for code, name, *_ in CATEGORIES])
    return {c.code: c for c in categories}


def company_address(rng, germany):
    city, postal_codes, _ = rng.choice(DE_CITIES)
    return address(rng.choice(STREETS), rng.randint(1, 180),
        rng.choice(postal_codes), city, germany)


def slugify(name):
    name = ascii_fold(name.replace('&', 'und'))
    for suffix in ['gmbhundco.kg', 'gmbh', 'e.k.', 'kg', 'ag', 'gbr',
            '(haftungsbeschraenkt)', 'ug', 'agentur']:
        name = name.replace(suffix, '')
    return ''.join(c if c.isalnum() else '-' for c in name).strip('-')


def create_parties(rng, germany, payment_term, start):
    pool = Pool()
    Party = pool.get('party.party')
    vlist = []
    for code, name, _, interval, _, self_billing in SUPPLIERS:
        domain = f'{slugify(name)}.example'
        values = {
            'code': code, 'name': name,
            'lead_supplier': True,
            'lead_billing_interval': interval,
            'lead_document_email': f'abrechnung@{domain}',
            'addresses': [('create', [
                        company_address(rng, germany)])],
            'identifiers': [('create', [
                        {'type': 'eu_vat', 'code': vat_number(rng)}])],
            'contact_mechanisms': [('create', [
                        {'type': 'email', 'value': f'partner@{domain}'},
                        ])],
            'supplier_payment_term': payment_term.id,
            }
        if self_billing:
            agreed = start - dt.timedelta(days=rng.randint(30, 400))
            values['self_billing_agreement_date'] = agreed
            values['self_billing_agreement_reference'] = (
                f'GSV-{agreed.year}-{code}')
        vlist.append(values)
    for code, name, _, interval, _ in BUYERS:
        internal = code == INTERNAL_BUYER
        domain = ('leadhandel-demo.example' if internal
            else f'{slugify(name)}.example')
        values = {
            'code': code, 'name': name,
            'lead_buyer': True,
            'lead_internal': internal,
            'lead_billing_interval': interval,
            'lead_document_email': (
                'vertrieb@leadhandel-demo.example' if internal
                else f'buchhaltung@{domain}'),
            'addresses': [('create', [
                        address("Friedrichstraße", 123, '10117', "Berlin",
                            germany) if internal
                        else company_address(rng, germany)])],
            'contact_mechanisms': [('create', [
                        {'type': 'email', 'value': f'leads@{domain}'},
                        ])],
            'customer_payment_term': payment_term.id,
            }
        if not internal:
            values['identifiers'] = [('create', [
                        {'type': 'eu_vat', 'code': vat_number(rng)}])]
        vlist.append(values)
    parties = Party.create(vlist)
    return {p.code: p for p in parties}


def create_prices(categories, parties, eur, start, change):
    Price = Pool().get('lead.price')
    vlist = []

    def price(category, kind, amount, party=None, start_date=start,
            end_date=None):
        vlist.append({
                'category': categories[category].id, 'kind': kind,
                'party': parties[party].id if party else None,
                'start_date': start_date, 'end_date': end_date,
                'unit_price': Decimal(amount), 'currency': eur.id,
                })

    changed, new_purchase, new_sale = PRICE_CHANGE
    for code, _, purchase, sale, _ in CATEGORIES:
        if code == changed:
            before = change - dt.timedelta(days=1)
            price(code, 'purchase', purchase, end_date=before)
            price(code, 'sale', sale, end_date=before)
            price(code, 'purchase', new_purchase, start_date=change)
            price(code, 'sale', new_sale, start_date=change)
        else:
            price(code, 'purchase', purchase)
            price(code, 'sale', sale)
    supplier, category, amount = SUPPLIER_PRICE
    price(category, 'purchase', amount, party=supplier)
    for buyer, category, amount in BUYER_PRICES:
        price(category, 'sale', amount, party=buyer)
    Price.create(vlist)


# ---------------------------------------------------------------------------
# Prepaid buyers


def setup_prepaid(company, ust):
    """The prepaid settings: the deposit account of the German chart holds
    the balances and carries the sales VAT of the prepayments, top-ups are
    booked to the bank account, requested top-ups expect a transfer."""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    PaymentJournal = pool.get('account.payment.journal')
    Configuration = pool.get('lead.configuration')

    deposit, = Account.search([
            ('type.deposit', '=', True), ('party_required', '=', True),
            ('company', '=', company.id)])
    deposit.taxes = [ust]
    deposit.save()
    bank, = Account.search([
            ('code', '=', '1.1.1'), ('company', '=', company.id)])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    method, = PaymentMethod.create([{
                'company': company.id, 'name': "Bankeingang Vorauszahlung",
                'journal': journal.id,
                'debit_account': bank.id, 'credit_account': bank.id,
                }])
    payment_journal, = PaymentJournal.create([{
                'company': company.id, 'name': "Überweisung",
                'currency': company.currency.id,
                'process_method': 'manual',
                }])
    config = Configuration(1)
    config.prepaid_deposit_account = deposit
    config.prepaid_payment_method = method
    config.prepaid_payment_journal = payment_journal
    config.save()


def sale_price(category, buyer, day, price_change):
    "The sale price of a lead of `category` for `buyer` on `day`"
    for code, price_category, amount in BUYER_PRICES:
        if (code, price_category) == (buyer, category):
            return Decimal(amount)
    changed, _, new_sale = PRICE_CHANGE
    if category == changed and day >= price_change:
        return Decimal(new_sale)
    sale, = [c[3] for c in CATEGORIES if c[0] == category]
    return Decimal(sale)


def planned_spending(rows, buyer, price_change):
    """[(delivery day, price)] of the deliveries to `buyer` that `rows`
    ask for; the intake refuses some (leads in review), never more"""
    spending = []
    for row in rows:
        for delivery in row.get('deliveries', []):
            if delivery['buyer'] == buyer:
                day = dt.datetime.fromisoformat(
                    delivery['delivered_at']).date()
                spending.append((day, sale_price(
                            row['category'], buyer, day, price_change)))
    return sorted(spending)


def round_to(amount, step, rounding):
    step = Decimal(step)
    return (amount / step).to_integral_value(rounding=rounding) * step


def prepaid_plan(rows, price_change, data_start, second_top_up):
    """The top-ups of the prepaid buyers, sized on what the lead rows
    will deliver to them: {code: [(booking date or None, net amount)]}
    where None is a requested top-up whose money has not come yet"""
    comfortable = planned_spending(rows, PREPAID_COMFORTABLE, price_change)
    before = sum((p for d, p in comfortable if d < second_top_up),
        Decimal(0))
    after = sum((p for d, p in comfortable if d >= second_top_up),
        Decimal(0))
    dry = planned_spending(rows, PREPAID_DRY, price_change)
    dry_total = sum((p for _, p in dry), Decimal(0))
    two_leads = 2 * max((p for _, p in dry), default=Decimal(0))
    # about a tenth of its leads no longer fit at the end of the period
    dry_top_up = max(Decimal(100), round_to(
            dry_total * Decimal('0.9') - two_leads, 100, ROUND_FLOOR))
    return {
        PREPAID_COMFORTABLE: [
            (data_start, round_to(
                    before * Decimal('1.2') + 500, 100, ROUND_CEILING)),
            (second_top_up, round_to(
                    after * Decimal('1.2') + 1000, 500, ROUND_CEILING)),
            ],
        PREPAID_DRY: [
            (data_start, dry_top_up),
            (None, round_to(dry_top_up, 500, ROUND_CEILING)),
            ],
        }


def open_prepaid_accounts(company_id, plan):
    "Open the prepaid accounts of the buyers of `plan` with their alerts"
    pool = Pool()
    Account = pool.get('lead.prepaid.account')
    Party = pool.get('party.party')
    parties = {p.code: p for p in Party.search([('code', 'in', list(plan))])}
    accounts = Account.create([{
                'company': company_id,
                'party': parties[code].id,
                'thresholds': [('create', [
                            {'amount': Decimal(a)}
                            for a in PREPAID_THRESHOLDS])],
                } for code in plan])
    return {a.party.code: a for a in accounts}


def book_top_ups(accounts, plan, day):
    """Book the top-ups of `plan` whose money came on `day`, as the
    accountant does with the bank statement of that day"""
    TopUp = Pool().get('lead.prepaid.top_up')
    vlist = [{
            'account': accounts[code].id, 'amount': amount, 'date': date,
            'reference': f"Kontoauszug {date:%d.%m.%Y}",
            } for code, top_ups in plan.items() for date, amount in top_ups
        if date == day]
    if vlist:
        with clock(day):
            TopUp.book(TopUp.create(vlist))


def request_top_ups(accounts, plan):
    "Record the top-ups of `plan` that the buyers asked for, still unpaid"
    TopUp = Pool().get('lead.prepaid.top_up')
    for code, top_ups in plan.items():
        for date, amount in top_ups:
            if date is None:
                TopUp.request(accounts[code], amount)


# ---------------------------------------------------------------------------
# Referral commissions


def setup_referral_programme(company, programme_start):
    """The referral settings: 5 % of the referred customers' revenue as a
    voucher or 3 % in cash, vouchers of at least 5 EUR, booked as a
    liability next to the provisions and against the commission expense"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    ProductCategory = pool.get('product.category')
    Template = pool.get('product.template')
    ModelData = pool.get('ir.model.data')
    Configuration = pool.get('lead.configuration')
    Branch = pool.get('referral.branch')

    def account(code):
        found, = Account.search([
                ('code', '=', code), ('company', '=', company.id)])
        return found
    provisions = account('2.4.3')
    vouchers, = Account.create([{
                'company': company.id, 'code': '2.4.9',
                'name': "Verbindlichkeiten aus KwK-Gutscheinen",
                'type': provisions.type.id, 'parent': provisions.parent.id,
                'party_required': True, 'reconcile': True,
                }])
    journal, = Journal.create([{
                'name': "KwK-Gutscheine", 'code': 'KWK', 'type': 'cash'}])
    method, = PaymentMethod.create([{
                'company': company.id, 'name': "KwK-Gutschein",
                'journal': journal.id,
                'debit_account': vouchers.id, 'credit_account': vouchers.id,
                }])
    category, = ProductCategory.create([{
                'name': "Provisionen", 'accounting': True,
                'account_expense': account('5.1.3').id,
                'account_revenue': account('4.1.2').id,
                }])
    template, = Template.create([{
                'name': "Provision Kunden werben Kunden",
                'code': 'KWK-PROVISION', 'type': 'service',
                'default_uom': ModelData.get_id('product', 'uom_unit'),
                'account_category': category.id,
                'products': [('create', [{}])],
                }])
    config = Configuration(1)
    config.referral_programme_start = programme_start
    config.referral_voucher_rate = Decimal('5')
    config.referral_cash_rate = Decimal('3')
    config.referral_minimum = Decimal('5')
    config.referral_product = template.products[0]
    config.referral_voucher_method = method
    config.save()
    Branch.create([{
                'code': code, 'name': name, 'sender': sender,
                'contact': contact, 'signature': signature,
                } for code, name, sender, contact, signature
            in REFERRAL_BRANCHES])


def record_referrals(referrals, date):
    """Record the referrals; each collects the revenue its customer was
    invoiced since `date`"""
    pool = Pool()
    Referral = pool.get('referral.referral')
    Party = pool.get('party.party')
    Branch = pool.get('referral.branch')
    parties = {p.code: p for p in Party.search([('lead_buyer', '=', True)])}
    branches = {b.code: b for b in Branch.search([])}
    records = Referral.create([{
                'referrer': parties[referrer].id,
                'referred': parties[referred].id,
                'date': date,
                'kind': kind,
                'branch': branches[branch].id,
                } for referrer, referred_codes, kind, branch, _ in referrals
            for referred in referred_codes])
    states = {referred: state
        for _, referred_codes, _, _, state in referrals
        for referred in referred_codes}
    Referral.approve([r for r in records
            if states[r.referred.code] == 'approved'])
    Referral.block([r for r in records
            if states[r.referred.code] == 'blocked'])
    return records


def referral_programme(database, admin_id, company_id, today):
    """Replay the referral programme: the customers' first invoices are
    paid, a payout three weeks after the first billing run exports and
    books vouchers, a referrer redeems part of one; then more is paid, a
    paid invoice is credited and a referral is recorded late, so that the
    payout left in draft shows new commission, differences and overpaid
    commission netted against them."""
    billed_on = month_start(today - dt.timedelta(days=today.day))
    paid_on = billed_on + dt.timedelta(days=10)
    payout_on = min(billed_on + dt.timedelta(days=20), today)
    programme_start = month_start(today - dt.timedelta(days=DATA_DAYS))
    early, late = REFERRALS[:-1], REFERRALS[-1:]
    referred = [c for _, codes, *_ in REFERRALS for c in codes]

    def first_invoices(codes):
        "The referred customers' invoices of the first billing run"
        Invoice = Pool().get('account.invoice')
        return Invoice.search([
                ('party.code', 'in', codes),
                ('type', '=', 'out'),
                ('invoice_date', '=', billed_on),
                ('state', 'in', ['posted', 'paid']),
                ], order=[('party', 'ASC'), ('id', 'ASC')])

    def first_payout():
        pool = Pool()
        Payout = pool.get('referral.payout')
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(company=company_id):
            setup_referral_programme(
                Pool().get('company.company')(company_id), programme_start)
            record_referrals(early, programme_start)
            # each customer paid about half of its first invoices in time
            by_party = {}
            for invoice in first_invoices(referred):
                by_party.setdefault(invoice.party, []).append(invoice)
            to_pay = [i for invoices in by_party.values()
                for i in invoices[:(len(invoices) + 1) // 2]
                if i.state == 'posted']
            settle(open_lines(to_pay), paid_on)
            Invoice.process(to_pay)
            with clock(payout_on):
                payout, = Payout.create([{
                            'company': company_id, 'period_end': billed_on}])
                try:
                    Payout.export([payout])
                except UserError:
                    # too little demo data for a voucher of the minimum
                    return None
                Payout.done([payout])
            return payout.id

    def redeem(payout_id):
        pool = Pool()
        Payout = pool.get('referral.payout')
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(company=company_id):
            for voucher in Payout(payout_id).vouchers:
                invoices = Invoice.search([
                        ('party', '=', voucher.party.id),
                        ('type', '=', 'out'), ('state', '=', 'posted'),
                        ], order=[('invoice_date', 'DESC')], limit=1)
                if invoices:
                    invoice, = invoices
                    amount = min(voucher.balance, invoice.amount_to_pay,
                        Decimal('5.00'))
                    voucher.redeem_against(invoice, amount, today)
                    return

    def later():
        pool = Pool()
        Payout = pool.get('referral.payout')
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(company=company_id):
            record_referrals(late, programme_start)
            open_ = [i for i in first_invoices(referred)
                if i.state == 'posted']
            settle(open_lines(open_), today)
            Invoice.process(open_)
            paid_out = [i for i in first_invoices(referred)
                if any(line.commissions and any(
                            c.referral_voucher for c in line.commissions)
                    for line in i.lines)]
            if paid_out:
                credit_half(paid_out[0], today)
            payout, = Payout.create([{'company': company_id}])
            Payout.preview([payout])
            return Payout(payout.id)

    with mail_sink():
        payout_id = run_committed(database, first_payout, user=admin_id)
        if payout_id:
            run_committed(database, partial(redeem, payout_id),
                user=admin_id)
        draft = run_committed(database, lambda: later().id, user=admin_id)
    return payout_id, draft


def open_lines(invoices):
    "The receivable lines of the invoices that are not reconciled yet"
    return [line for invoice in invoices for line in invoice.lines_to_pay
        if not line.reconciliation]


def credit_half(invoice, date):
    """Post a correction of half the first revenue line of `invoice`: the
    buyer was credited after its referrer's commission had been paid"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    line = invoice.line_lines[0]
    correction = Invoice(
        company=invoice.company, type='out', party=invoice.party,
        invoice_date=date, lead_document=True,
        description=f"Teilgutschrift zu {invoice.number}")
    correction.on_change_type()
    correction.on_change_party()
    correction.save()
    Line.create([{
                'invoice': correction.id, 'type': 'line',
                'account': line.account.id, 'product': line.product.id,
                'unit': line.unit.id,
                'description': f"Kulanz: {line.description}",
                'quantity': -1,
                'unit_price': (line.amount / 2).quantize(Decimal('0.01')),
                'taxes': [('add', [t.id for t in line.taxes])],
                'origin': str(line),
                }])
    Invoice.update_taxes([correction])
    Invoice.post([correction])


# ---------------------------------------------------------------------------


def close_setup_wizard():
    """Mark the first-login setup steps done: the demo has its users,
    company and chart already, the wizard would only set them up again."""
    Item = Pool().get('ir.module.config_wizard.item')
    Item.write(Item.search([('state', '!=', 'done')]), {'state': 'done'})


def run(database, leads, seed):
    pool = Pool(database)
    pool.init()
    tzinfo = ZoneInfo(TIMEZONE)
    now_utc = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    today = now_utc.replace(tzinfo=dt.timezone.utc).astimezone(
        tzinfo).date()
    data_start = today - dt.timedelta(days=DATA_DAYS)
    price_start = month_start(data_start - dt.timedelta(days=31))
    price_change = data_start + dt.timedelta(days=DATA_DAYS // 2)
    first_fiscal_date = min(price_start, month_start(
            today - dt.timedelta(days=4 * 31)))

    # the top-up booked in the first third of the period is dated before
    # the billing run of the dunning history: invoices are numbered in the
    # order of their dates
    second_top_up = min(data_start + dt.timedelta(days=DATA_DAYS // 3),
        month_start(today - dt.timedelta(days=today.day)))
    prepaid = 'lead.prepaid.account' in dict(pool.iterobject())

    admin_id = run_committed(database, lambda: Pool().get('res.user').search(
            [('login', '=', 'admin')])[0].id, user=0)

    started = time.monotonic()

    def master_data():
        rng = random.Random(seed)
        log("demo data: company, currency, countries", once=True)
        eur, countries = create_currency_and_countries()
        company = create_company(eur, countries['DE'], rng)
        with Transaction().set_context(
                company=company.id, companies=[company.id]):
            log("demo data: chart of accounts, taxes, fiscal years",
                once=True)
            accounts = create_chart(company)
            ust, vst = create_taxes(company, accounts)
            fiscalyears = create_fiscal_years(
                company, first_fiscal_date, today)
            payment_term = create_payment_term()
            log("demo data: products, lead categories, parties, prices",
                once=True)
            products = create_products(accounts, ust, vst)
            categories = create_categories(products)
            parties = create_parties(
                rng, countries['DE'], payment_term, data_start)
            create_prices(categories, parties, eur, price_start,
                price_change)
            if prepaid:
                log("demo data: prepaid settings", once=True)
                setup_prepaid(company, ust)
        close_setup_wizard()
        return company.id, [f.name for f in fiscalyears]

    company_id, fiscalyears = run_committed(
        database, master_data, user=admin_id)
    log(f"demo data: master data done in {time.monotonic() - started:.1f}s "
        f"(fiscal years {', '.join(fiscalyears)})")

    started = time.monotonic()
    generator = LeadGenerator(seed, leads, now_utc, tzinfo)
    rows = generator.rows()
    log(f"demo data: {len(rows)} lead rows generated "
        f"({data_start:%d.%m.%Y} – {today:%d.%m.%Y}) "
        f"in {time.monotonic() - started:.1f}s")

    plan, prepaid_accounts = {}, {}
    if prepaid:
        plan = prepaid_plan(rows, price_change, data_start, second_top_up)

        def open_accounts():
            with Transaction().set_context(company=company_id):
                accounts = open_prepaid_accounts(company_id, plan)
                book_top_ups(accounts, plan, data_start)
                return {code: a.id for code, a in accounts.items()}
        # alerts are e-mailed strictly, a top-up may be below a threshold
        with mail_sink():
            prepaid_accounts = run_committed(
                database, open_accounts, user=admin_id)
        log("demo data: prepaid buyers " + ", ".join(
                f"{code} ({' + '.join(f'{a}' for d, a in top_ups if d)} EUR)"
                for code, top_ups in plan.items()))
    # rows received from this one on come after the second top-up
    split = next((i for i, r in enumerate(rows)
            if dt.date.fromisoformat(r['received_at'][:10])
            >= second_top_up), len(rows)) if plan else None

    def intake(begin, end):
        "Ingest the rows from `begin` to `end` (excluded)"
        User = pool.get('res.user')
        Intake = pool.get('lead.intake')
        Lead = pool.get('lead.lead')
        statuses, delivery_statuses, refused_to = (
            Counter(), Counter(), Counter())
        context = User.get_preferences(context_only=True)
        context['company'] = company_id
        with Transaction().set_context(context):
            for start in range(begin, end, INTAKE_BATCH):
                batch_started = time.monotonic()
                batch = rows[start:min(start + INTAKE_BATCH, end)]
                # ingest() normalises the rows in place
                results = Intake.ingest([dict(r) for r in batch])
                for result in results:
                    statuses[result.get('status')] += 1
                    for delivery in result.get('deliveries', []):
                        delivery_statuses[delivery['status']] += 1
                        if delivery['status'] == 'refused':
                            refused_to[delivery['buyer']] += 1
                refused = [r for r in results if r.get('status') == 'refused']
                if refused:
                    raise RuntimeError(f"intake refused rows: {refused[:3]}")
                elapsed = time.monotonic() - batch_started
                log(f"demo data: intake of leads {start + 1}–"
                    f"{start + len(batch)} ({elapsed:.1f}s)")
            if end < len(rows):
                return statuses, delivery_statuses, refused_to

            # The review team threw out a handful of obvious duplicates
            in_review = Lead.search([
                    ('quality_state', '=', 'review'),
                    ], order=[('id', 'ASC')])
            duplicates = [lead for lead in in_review
                if 'duplicate' in lead.quality_issues]
            to_reject = random.Random(seed).sample(
                duplicates, min(len(duplicates), max(1, leads // 700)))
            if to_reject:
                Lead.reject(to_reject)
        return statuses, delivery_statuses, refused_to

    def second_top_ups():
        "The money of the top-ups of the first third of the period came"
        Account = Pool().get('lead.prepaid.account')
        with Transaction().set_context(company=company_id):
            book_top_ups({code: Account(id_)
                    for code, id_ in prepaid_accounts.items()},
                plan, second_top_up)

    def requests():
        Account = Pool().get('lead.prepaid.account')
        with Transaction().set_context(company=company_id):
            request_top_ups({code: Account(id_)
                    for code, id_ in prepaid_accounts.items()}, plan)

    statuses, delivery_statuses, refused_to = Counter(), Counter(), Counter()
    # the intake stops for the second top-up: its money comes in between
    bounds = [0, split, len(rows)] if plan else [0, len(rows)]
    # low balance alerts are e-mailed strictly as deliveries are made
    with mail_sink():
        for begin, end in zip(bounds, bounds[1:]):
            if plan and begin == split:
                run_committed(database, second_top_ups, user=admin_id)
            counters = run_committed(
                database, partial(intake, begin, end), user=admin_id)
            for total, counter in zip(
                    (statuses, delivery_statuses, refused_to), counters):
                total.update(counter)

    log(f"demo data: intake done in {time.monotonic() - started:.1f}s")
    if 'account.dunning.log' in dict(pool.iterobject()):
        started = time.monotonic()
        dunned = dunning_history(database, admin_id, company_id, today, seed)
        log(f"demo data: dunning history done in "
            f"{time.monotonic() - started:.1f}s")
    else:
        dunned = None
    started = time.monotonic()
    billed = billing_run(database, admin_id, company_id, today)
    log(f"demo data: billing run done in {time.monotonic() - started:.1f}s")
    complained = None
    if 'lead.complaint' in dict(pool.iterobject()):
        started = time.monotonic()
        complained = complaints(database, admin_id, company_id, seed)
        log(f"demo data: complaints done in "
            f"{time.monotonic() - started:.1f}s")
    if plan:
        # the buyer whose balance ran out asks for money to be topped up
        run_committed(database, requests, user=admin_id)
    management = None
    if 'lead.reporting.management' in dict(pool.iterobject()):
        management = run_committed(database, partial(
                prepare_reporting, company_id), user=admin_id)
    referrals = None
    if 'referral.referral' in dict(pool.iterobject()):
        started = time.monotonic()
        referrals = referral_programme(database, admin_id, company_id, today)
        log(f"demo data: referral programme done in "
            f"{time.monotonic() - started:.1f}s")
    logins = external_logins(database, admin_id, company_id)
    summary(database, admin_id, company_id, statuses, delivery_statuses)
    log("  logins: " + ", ".join(f"{login} / {password} ({party})"
            for login, password, party in logins))
    log("  billing run up to {}: {} buyer invoices for {} deliveries, "
        "{} self-billing statements for {} leads, {} suppliers without "
        "agreement".format(*billed))
    if dunned:
        log("  dunning: " + ", ".join(
                f'{name} {count}' for name, count in dunned.items()))
    if complained:
        log("  complaints: " + ", ".join(
                f'{state} {count}' for state, count in sorted(
                    complained.items())))
    if plan:
        prepaid_summary(database, admin_id, company_id, refused_to)
    if referrals:
        referral_summary(database, admin_id, company_id, *referrals)
    if management:
        reporting_summary(database, admin_id, company_id, management)


@contextmanager
def clock(day):
    "Let Tryton's today be `day`: the demo replays the last weeks"
    Date = Pool().get('ir.date')
    with mock.patch.object(Date, 'today', lambda timezone=None: day):
        yield


@contextmanager
def mail_sink():
    """Accept and drop the demo's e-mails: dunning e-mails and low balance
    alerts are sent strictly, a refused connection would keep them unsent
    (or fail the transaction)"""
    from aiosmtpd.controller import Controller

    from trytond import config

    class Drop:
        async def handle_DATA(self, server, session, envelope):
            return '250 OK'
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    controller = Controller(Drop(), hostname='127.0.0.1', port=port)
    controller.start()
    previous = config.get('email', 'uri')
    config.set('email', 'uri', f'smtp://127.0.0.1:{port}')
    try:
        yield
    finally:
        config.set('email', 'uri', previous)
        controller.stop()


def dunning_history(database, admin_id, company_id, today, seed):
    """Replay last month's dunning: the month before last is billed on the
    first of last month, reminders go out when the invoices are due, some
    buyers pay, the others get the formal notice two weeks later."""
    rng = random.Random(seed)
    billed_on = month_start(today - dt.timedelta(days=today.day))
    reminded_on = billed_on + dt.timedelta(days=15)
    paid_on = min(reminded_on + dt.timedelta(days=5), today)
    noticed_on = min(reminded_on + dt.timedelta(days=14), today)

    def bill_and_remind():
        pool = Pool()
        Run = pool.get('lead.billing.run')
        Party = pool.get('party.party')
        Dunning = pool.get('account.dunning')
        ModelData = pool.get('ir.model.data')
        with Transaction().set_context(company=company_id):
            procedure = ModelData.get_id(
                'dunning_levels', 'procedure_lead_trading')
            Party.write(Party.search([('lead_buyer', '=', True)]),
                {'dunning_procedure': procedure})
            with clock(billed_on):
                run, = Run.create([{'company': company_id,
                            'cut_off': billed_on - dt.timedelta(days=1)}])
                Run.compute([run])
                Run.post([Run(run.id)])
            with clock(reminded_on):
                Dunning.run_job()

    def pay_some():
        pool = Pool()
        Dunning = pool.get('account.dunning')
        with Transaction().set_context(company=company_id):
            dunnings = Dunning.search([], order=[('id', 'ASC')])
            paid = rng.sample(dunnings, len(dunnings) * 2 // 5)
            settle([d.line for d in paid], paid_on)

    def notice():
        Dunning = Pool().get('account.dunning')
        with Transaction().set_context(company=company_id):
            with clock(noticed_on):
                Dunning.run_job()
            return Counter(
                d.level.name for d in Dunning.search([]))

    with mail_sink():
        run_committed(database, bill_and_remind, user=admin_id)
        run_committed(database, pay_some, user=admin_id)
        return run_committed(database, notice, user=admin_id)


def settle(lines, date):
    "Receive the payment of receivable move lines on `date`, reconciled"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    for line in lines:
        company = line.account.company
        cash, = Account.search([
                ('company', '=', company.id), ('code', '=', '1.1.1')])
        amount = line.debit - line.credit
        move, = Move.create([{
                    'journal': journal.id,
                    'period': Period.find(company, date=date),
                    'date': date,
                    'description': "Zahlungseingang",
                    'lines': [('create', [{
                                    'account': line.account.id,
                                    'party': line.party.id,
                                    'credit': amount, 'debit': Decimal(0),
                                    }, {
                                    'account': cash.id,
                                    'debit': amount, 'credit': Decimal(0),
                                    }])],
                    }])
        Move.post([move])
        payment, = [m for m in move.lines if m.account == line.account]
        MoveLine.reconcile([line, payment], date=date)


def billing_run(database, admin_id, company_id, today):
    """Bill every period closed at the end of last month and post the
    documents; their e-mails stay queued, the demo sends nothing."""
    def bill():
        Run = Pool().get('lead.billing.run')
        with Transaction().set_context(company=company_id):
            cut_off = month_start(today) - dt.timedelta(days=1)
            run, = Run.create([{'company': company_id, 'cut_off': cut_off}])
            Run.compute([run])
            Run.post([Run(run.id)])
            run = Run(run.id)
            return (run.cut_off, run.buyer_invoice_count, run.delivery_count,
                run.statement_count, run.lead_count,
                run.missing_agreement_count)
    return run_committed(database, bill, user=admin_id)


def complaints(database, admin_id, company_id, seed):
    """Let buyers return some of the leads of the last six weeks, for the
    reasons they would, and decide most of them: the complaint list and
    its analysis then show every state, invoice corrections for returns
    of billed leads and supplier shares to be netted."""
    rng = random.Random(seed)

    def complain():
        pool = Pool()
        Complaint = pool.get('lead.complaint')
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        Reason = pool.get('lead.complaint.reason')
        with Transaction().set_context(company=company_id):
            buyers = Party.search([
                    ('lead_buyer', '=', True),
                    ('lead_internal', '!=', True),
                    ], order=[('code', 'ASC')])
            # Some buyers negotiated a longer window, some a return cap
            Party.write(buyers[:8], {'lead_complaint_window_days': 45})
            Party.write(buyers[2:4], {'lead_return_cap': Decimal('0.05')})
            window_start = dt.datetime.now() - dt.timedelta(days=42)
            deliveries = Delivery.search([
                    ('buyer', 'in', [b.id for b in buyers[:8]]),
                    ('delivered_at', '>=', window_start),
                    ('billable', '=', True),
                    ], order=[('id', 'ASC')])
            reasons = {r.code: r for r in Reason.search([])}
            weights = [('UNREACHABLE', 30), ('NO_INTEREST', 20),
                ('PHONE', 15), ('FAKE', 10), ('DUPLICATE', 10),
                ('AREA', 10), ('EMAIL', 5)]
            chosen = rng.sample(deliveries, min(len(deliveries), 160))
            drafts = Complaint.create([{
                        'delivery': d.id,
                        'reason': reasons[weighted(rng, weights)].id,
                        'description': rng.choice(COMPLAINT_TEXTS),
                        } for d in chosen])
            in_time = [c for c, refusal in zip(drafts,
                    Complaint.window_refusals(drafts, dt.datetime.now()))
                if not refusal]
            Complaint.delete([c for c in drafts if c not in in_time])
            Complaint.submit(in_time[5:])
            submitted = Complaint.search([('state', '=', 'submitted')],
                order=[('id', 'ASC')])
            rng.shuffle(submitted)
            # one of the accepted returns a lead not billed yet, whatever
            # the hour the demo is built at
            unbilled = [c for c in submitted if not c.delivery.invoice_line]
            if unbilled:
                submitted.remove(unbilled[0])
                submitted.insert(0, unbilled[0])
            # 40 % accepted, 20 % rejected, a few cancelled, the rest open
            accepted = max(1, len(submitted) * 4 // 10)
            rejected = accepted + max(1, len(submitted) * 2 // 10)
            to_accept = submitted[:accepted]
            to_reject = submitted[accepted:rejected]
            to_cancel = submitted[rejected:rejected + 3]
            Complaint.write(to_accept, {
                    'decision_note': "Lead geprüft, Reklamation berechtigt."})
            Complaint.accept(to_accept)
            Complaint.write(to_reject, {
                    'decision_note': "Kontakt wurde beim zweiten Versuch "
                    "erreicht; Lead ist verwertbar."})
            Complaint.reject(to_reject)
            Complaint.cancel(to_cancel)
            return Counter(c.state for c in Complaint.search([]))
    return run_committed(database, complain, user=admin_id)


def external_logins(database, admin_id, company_id):
    """Give the buyer with the most deliveries among those with complaints
    (the first eight) and the supplier with the most leads a login of their
    own, through the party's wizard as an administrator would; return
    [(login, password, party name)]"""
    def create():
        pool = Pool()
        Party = pool.get('party.party')
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        CreateLogin = pool.get('lead.party.create_login', type='wizard')
        with Transaction().set_context(company=company_id):
            buyers = Party.search([
                    ('lead_buyer', '=', True),
                    ('lead_internal', '!=', True),
                    ], order=[('code', 'ASC')], limit=8)
            deliveries = Counter(d.buyer for d in Delivery.search(
                    [('buyer', 'in', [b.id for b in buyers])]))
            buyer = deliveries.most_common(1)[0][0]
            leads = Counter(lead.supplier for lead in Lead.search([]))
            supplier = leads.most_common(1)[0][0]
            created = []
            for party, (login, password) in [
                    (buyer, BUYER_LOGIN), (supplier, SUPPLIER_LOGIN)]:
                session_id, _, _ = CreateLogin.create()
                wizard = CreateLogin(session_id)
                with Transaction().set_context(active_model='party.party',
                        active_id=party.id, active_ids=[party.id]):
                    for name, value in wizard.default_start(None).items():
                        setattr(wizard.start, name, value)
                    wizard.start.login = login
                    wizard.start.password = password
                    wizard.transition_create_()
                CreateLogin.delete(session_id)
                created.append((login, password, party.rec_name))
            return created
    return run_committed(database, create, user=admin_id)


def summary(database, admin_id, company_id, statuses, delivery_statuses):
    pool = Pool(database)
    with Transaction().start(database, admin_id, readonly=True,
            context={'company': company_id}):
        Lead = pool.get('lead.lead')
        Delivery = pool.get('lead.delivery')
        Party = pool.get('party.party')
        states = Counter()
        issues = Counter()
        for lead in Lead.search([]):
            states[lead.quality_state] += 1
            issues.update(lead.quality_issues or ())
        deliveries = Delivery.search([])
        billable = sum(1 for d in deliveries if d.billable)
        revenue = sum((d.unit_price or 0) for d in deliveries if d.billable)
        log("")
        log("Demo data summary")
        def parties(flag):
            return Party.search_count([(flag, '=', True)])
        log(f"  suppliers: {parties('lead_supplier')}, "
            f"buyers: {parties('lead_buyer')} "
            f"(internal: {parties('lead_internal')})")
        log(f"  leads: {sum(states.values())} – "
            + ", ".join(f'{state} {states[state]}'
                for state in ['valid', 'review', 'rejected']))
        log("  quality issues: " + ", ".join(
                f'{issue} {count}' for issue, count in sorted(
                    issues.items())))
        log("  intake answers: " + ", ".join(
                f'{status} {count}' for status, count in sorted(
                    statuses.items())))
        log(f"  deliveries: {len(deliveries)} – billable {billable}, "
            f"internal {len(deliveries) - billable}"
            + (f", refused by the rules {delivery_statuses['refused']}"
                if delivery_statuses['refused'] else ''))
        log(f"  billable sale value: {revenue:.2f} EUR")


def prepaid_summary(database, admin_id, company_id, refused_to):
    pool = Pool(database)
    with Transaction().start(database, admin_id, readonly=True,
            context={'company': company_id}):
        Account = pool.get('lead.prepaid.account')
        for account in Account.search([]):
            party = account.party
            states = Counter(t.state for t in account.top_ups)
            crossed = [f'{t.amount:.0f}' for t in account.thresholds
                if t.crossed]
            log(f"  prepaid {party.code} {party.name}: available "
                f"{account.available:.2f} EUR (deposit {account.deposit:.2f}"
                f", unbilled {account.unbilled_amount:.2f}), top-ups "
                + ", ".join(f'{state} {count}'
                    for state, count in sorted(states.items()))
                + (f", below {' and '.join(crossed)} EUR" if crossed
                    else '')
                + f", {refused_to[party.code]} deliveries refused")


def prepare_reporting(company_id):
    """The management gets the monthly report by e-mail; last month's is
    there to print"""
    pool = Pool()
    Configuration = pool.get('lead.configuration')
    Management = pool.get('lead.reporting.management')
    with Transaction().set_context(company=company_id):
        config = Configuration(1)
        config.reporting_recipients = (
            'geschaeftsfuehrung@leadhandel-demo.example, '
            'controlling@leadhandel-demo.example')
        config.save()
        report, = Management.create([{'company': company_id}])
        return report.id


def reporting_summary(database, admin_id, company_id, management_id):
    pool = Pool(database)
    with Transaction().start(database, admin_id, readonly=True,
            context={'company': company_id}):
        Management = pool.get('lead.reporting.management')
        Period = pool.get('lead.reporting.period')
        report = Management(management_id)
        months = Period.browse(Period.search([]))
        log(f"  reporting: {len(months)} months on the dashboard, "
            + ", ".join(f"{m.period_start:%m/%Y} revenue {m.revenue:.2f} "
                f"margin {m.margin:.2f}" for m in months if m.revenue)
            + f"; management report of {report.month:%m/%Y} ready")


def referral_summary(database, admin_id, company_id, exported_id, draft_id):
    pool = Pool(database)
    with Transaction().start(database, admin_id, readonly=True,
            context={'company': company_id}):
        Payout = pool.get('referral.payout')
        Referral = pool.get('referral.referral')
        log(f"  referrals: {Referral.search_count([])}")
        if exported_id:
            exported = Payout(exported_id)
            log(f"  referral payout {exported.id} {exported.state}: "
                f"{exported.voucher_count} vouchers, "
                f"{exported.voucher_total:.2f} EUR")
        draft = Payout(draft_id)
        areas = Counter()
        for line in draft.lines:
            areas[line.area] += line.voucher_amount
        log(f"  referral payout {draft.id} previewed: " + ", ".join(
                f"{area} {areas[area]:.2f} EUR"
                for area in ['new', 'difference', 'overpaid']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--leads', type=int, default=DEFAULT_LEADS)
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.leads < 0:
        parser.error("--leads must not be negative")

    # trytond picks its backend when imported: read the configuration first
    from trytond import config
    config.update_etc(args.config)
    global Pool, Transaction, TransactionError, UserError
    from trytond.exceptions import UserError
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    started = time.monotonic()
    run(args.database, args.leads, args.seed)
    log(f"demo data: done in {time.monotonic() - started:.1f}s")


if __name__ == '__main__':
    sys.exit(main())
