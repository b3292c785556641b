# This file is part of the lead trading suite. See README.rst for details.
"""The web client as the demo's buyer and supplier see it: their logins
(created by the demo through the party's Create Login) show them their own
records only."""
import sqlite3

import pytest

from demo_support import demo_marks

pytest.importorskip('playwright',
    reason="playwright is not installed; `make venv` installs it")

from playwright.sync_api import expect  # noqa: E402
from browser_support import (  # noqa: E402
    active_tab, list_rows, login, open_menu)

pytestmark = demo_marks

# the demo's logins (setup/demo_data.py)
BUYER = ('buyer', 'buyer-demo')
SUPPLIER = ('supplier', 'supplier-demo')
SELF_SERVICE = 'Mein Leadhandel'


@pytest.fixture(scope='module')
def parties(demo):
    "The names of the parties of the demo's logins, from the database"
    with sqlite3.connect(f"file:{demo['as_built']}?mode=ro", uri=True) as db:
        return dict(db.execute(
                'SELECT u.login, p.name FROM res_user u '
                'JOIN party_party p ON p.id = u.lead_party '
                'WHERE u.login IN (?, ?)', (BUYER[0], SUPPLIER[0])))


def column_texts(page, column):
    "The texts of the column `column` (its label) of the active tab's list"
    cells = list_rows(page).locator(
        f'td[data-title="{column}: "]')
    return {text.strip() for text in cells.all_inner_texts()}


def test_buyer_sees_only_own_deliveries(page, demo_server, parties):
    login(page, *BUYER, database=demo_server.database)
    open_menu(page, SELF_SERVICE, 'Meine Lieferungen')
    expect(list_rows(page)).not_to_have_count(0)
    assert column_texts(page, 'Abnehmer') == {parties[BUYER[0]]}
    # who supplied the leads is not shown to a buyer
    expect(active_tab(page).locator(
            'th[data-title^="Lieferant"], td[data-title^="Lieferant"]')
        ).to_have_count(0)


def test_supplier_sees_own_statements(page, demo_server, parties):
    login(page, *SUPPLIER, database=demo_server.database)
    open_menu(page, SELF_SERVICE, 'Meine Gutschriften')
    expect(list_rows(page)).not_to_have_count(0)
    assert column_texts(page, 'Partei') == {parties[SUPPLIER[0]]}
