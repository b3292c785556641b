# This file is part of the lead trading suite. See README.rst for details.
"""The web client as the demo's buyer and supplier see it: their logins
(created by the demo through the party's Create Login) show them their own
records only."""
import datetime as dt
import re
import sqlite3

import pytest

from demo_support import demo_marks

pytest.importorskip('playwright',
    reason="playwright is not installed; `make venv` installs it")

from playwright.sync_api import expect  # noqa: E402
from browser_support import (  # noqa: E402
    active_tab, fill_many2one, list_rows, login, open_menu, relate, row_with,
    wait_idle)

pytestmark = demo_marks

# the demo's logins (setup/demo_data.py)
BUYER = ('buyer', 'buyer-demo')
SUPPLIER = ('supplier', 'supplier-demo')
SELF_SERVICE = 'Mein Leadhandel'


def demo_query(demo, query, *parameters):
    "The rows of `query` on the demo database as built"
    with sqlite3.connect(f"file:{demo['as_built']}?mode=ro", uri=True) as db:
        return db.execute(query, parameters).fetchall()


@pytest.fixture(scope='module')
def parties(demo):
    "The names of the parties of the demo's logins, from the database"
    return dict(demo_query(demo,
            'SELECT u.login, p.name FROM res_user u '
            'JOIN party_party p ON p.id = u.lead_party '
            'WHERE u.login IN (?, ?)', BUYER[0], SUPPLIER[0]))


@pytest.fixture(scope='module')
def returnable(demo):
    """A delivery of the demo's buyer that it may still return: billable,
    a day inside its window and no complaint held on it (a rejected or
    cancelled one does not count); (id, lead reference)"""
    (party, window), = demo_query(demo,
        'SELECT p.id, p.lead_complaint_window_days FROM party_party p '
        'JOIN res_user u ON u.lead_party = p.id WHERE u.login = ?', BUYER[0])
    since = dt.datetime.now() - dt.timedelta(days=(window or 14) - 1)
    rows = demo_query(demo,
        'SELECT d.id, l.reference FROM lead_delivery d '
        'JOIN lead_lead l ON l.id = d.lead '
        'WHERE d.buyer = ? AND d.delivered_at >= ? AND d.billable '
        'AND d.id NOT IN (SELECT holding_delivery FROM lead_complaint '
        'WHERE holding_delivery IS NOT NULL) '
        'ORDER BY d.delivered_at DESC, d.id LIMIT 1',
        party, since.isoformat(' '))
    assert rows, "the demo's buyer has no delivery left to return"
    return rows[0]


@pytest.fixture(scope='module')
def other_buyers_delivery(demo):
    "The id of a delivery to another buyer than the demo's buyer"
    (delivery,), = demo_query(demo,
        'SELECT MIN(d.id) FROM lead_delivery d '
        'WHERE d.buyer != (SELECT lead_party FROM res_user WHERE login = ?)',
        BUYER[0])
    return delivery


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


def test_buyer_files_complaint(page, demo_server, parties, returnable):
    """The buyer opens one of its deliveries, files a complaint about it
    and submits it; My Complaints lists it as submitted"""
    delivery, reference = returnable
    login(page, *BUYER, database=demo_server.database,
        path=f'/model/lead.delivery/{delivery}')
    expect(page.locator('#tabcontent')).to_have_attribute(
        'data-view-type', 'form')
    wait_idle(page)
    relate(page, 'Reklamationen')
    tab = active_tab(page)
    tab.locator('button#new_').click()
    expect(page.locator('#tabcontent')).to_have_attribute(
        'data-view-type', 'form')
    wait_idle(page)
    # the delivery comes from the relation, the buyer is the user's party
    expect(tab.locator('input[name=delivery]')).to_have_value(
        re.compile(rf'^{re.escape(reference)} '))
    expect(tab.locator('input[name=buyer]')).to_have_value(
        parties[BUYER[0]])
    fill_many2one(page, 'reason', 'Nicht erreichbar')
    tab.locator('textarea[name=description]').fill(
        'Dreimal angerufen, niemand nimmt ab.')
    tab.locator('button#save').click()
    wait_idle(page)
    tab.locator('button[name=submit]').click()
    wait_idle(page)
    expect(tab.locator('button[name=submit]')).to_be_hidden()

    open_menu(page, SELF_SERVICE, 'Meine Reklamationen')
    # an earlier complaint about the lead, if any, was rejected or cancelled
    submitted = page.locator('td[data-title="Status: "]').get_by_title(
        'Eingereicht', exact=True)
    expect(row_with(page, 'Lead', reference).filter(has=submitted)
        ).to_have_count(1)


def test_buyer_refused_other_buyers_delivery(
        page, demo_server, other_buyers_delivery):
    """Another buyer's delivery, asked for by its id in the URL, is not
    shown: the server refuses to read it"""
    login(page, *BUYER, database=demo_server.database,
        path=f'/model/lead.delivery/{other_buyers_delivery}')
    # sao shows the server's refusal, naming the rule that applies
    refusal = page.locator('.modal-dialog').filter(
        has_text='nicht berechtigt')
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text('Eigene Auslieferungen')
