# This file is part of the lead trading suite. See README.rst for details.
"""The web client as the staff use it: Chromium (Debian's, headless, driven
by Playwright) on Tryton's web client, served by trytond on a copy of the
demo database of tests/conftest.py.

setup/browser.sh (`make test` runs it) installs Chromium; without it, or
without the web client (npm), the tests are skipped with the reason. The
user interface is German, like the demo's admin."""
from pathlib import Path

import pytest

from demo_support import demo_marks

pytest.importorskip('playwright',
    reason="playwright is not installed; `make venv` installs it")

from playwright.sync_api import expect  # noqa: E402
from browser_support import (  # noqa: E402
    list_rows, login, open_menu, open_record, print_report, relate, row_with,
    select_domain_tab)

pytestmark = demo_marks


@pytest.fixture
def staff(page, demo_server):
    "The page, logged in as the demo's administrator"
    login(page, 'admin', 'admin', database=demo_server.database)
    return page


def test_deliveries(staff):
    "Lead Trading > Deliveries lists the deliveries"
    open_menu(staff, 'Leadhandel', 'Auslieferungen')
    expect(list_rows(staff)).not_to_have_count(0)


def test_print_invoice_of_billing_run(staff):
    """A posted billing run relates to its documents; a buyer invoice among
    them prints as the lead document, a PDF"""
    open_menu(staff, 'Leadhandel', 'Abrechnungsläufe')
    select_domain_tab(staff, 'Gebucht')
    open_record(staff, list_rows(staff).first)
    relate(staff, 'Belege des Abrechnungslaufs')
    open_record(staff, row_with(staff, 'Typ', 'Kunde').first)

    document = print_report(staff, 'Leadbeleg')
    assert document.suggested_filename.endswith('.pdf')
    assert Path(document.path()).read_bytes().startswith(b'%PDF')
