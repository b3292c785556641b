# This file is part of the lead trading suite. See README.rst for details.
"""Quality rules applied to incoming leads.

Each rule is a plain function without database access so that it can be
tested on its own and reused by the intake, the lead form and later modules
(for example the automatic complaint decisions).
"""
import datetime as dt
import re

import phonenumbers

DEFAULT_PHONE_REGION = 'DE'

# A pragmatic address syntax check: one "@", a non-empty local part without
# spaces and a domain with at least one dot and a 2+ letter top level label.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}$")

# Postal code formats of the countries our customers sell into. A country
# that is not listed is not checked (returns None) rather than refused.
POSTAL_CODE_FORMATS = {
    'AT': r'\d{4}',
    'BE': r'\d{4}',
    'CH': r'\d{4}',
    'CZ': r'\d{3} ?\d{2}',
    'DE': r'\d{5}',
    'DK': r'\d{4}',
    'ES': r'(?:0[1-9]|[1-4]\d|5[0-2])\d{3}',
    'FR': r'\d{5}',
    'GB': r'[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}',
    'IT': r'\d{5}',
    'LI': r'94(?:8[5-9]|9[0-8])',
    'LU': r'(?:L-)?\d{4}',
    'NL': r'\d{4} ?[A-Z]{2}',
    'PL': r'\d{2}-\d{3}',
    'SE': r'\d{3} ?\d{2}',
    'US': r'\d{5}(?:-\d{4})?',
    }
_POSTAL_CODE = {
    country: re.compile(rf'^{pattern}$')
    for country, pattern in POSTAL_CODE_FORMATS.items()}


def normalize_phone(number, region=DEFAULT_PHONE_REGION):
    """Return the number in E.164 form, or None when it is not a valid
    phone number. Numbers without a country prefix are read in `region`."""
    if not number or not number.strip():
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(address):
    "Return the key under which two spellings of an address are equal"
    if not address:
        return None
    return address.strip().lower() or None


def is_valid_email(address):
    return bool(address) and bool(_EMAIL.match(address.strip()))


def is_valid_postal_code(postal_code, country_code):
    """Tell whether the postal code fits the country's format.

    Returns None when the country's format is not known, so that the caller
    can decide not to check rather than refuse."""
    pattern = _POSTAL_CODE.get((country_code or '').upper())
    if pattern is None:
        return None
    return bool(pattern.match((postal_code or '').strip().upper()))


def duplicate_window(received_at, days):
    """Return the interval (start, end) in which another lead with the same
    phone or email makes a lead received at `received_at` a duplicate.

    The window is symmetric so that the order in which a platform pushes two
    leads does not change which pair is found; both ends are inclusive."""
    delta = dt.timedelta(days=days)
    return received_at - delta, received_at + delta


def is_within_window(received_at, other_received_at, days):
    start, end = duplicate_window(received_at, days)
    return start <= other_received_at <= end
