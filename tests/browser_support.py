# This file is part of the lead trading suite. See README.rst for details.
"""Helpers to drive Tryton's web client (sao 8.0) with Playwright, as a
person would: log in, open a menu entry, pick a list row, relate, print.

They take the Playwright page of a test (the `page` fixture of
tests/conftest.py, whose base URL is the test server) and work on what sao
shows: the menu tree on the left, one tab per opened window with its toolbar
and its list or form. Labels are those the user sees, in the user's
language (the demo's users work in German).

What sao renders, and what the helpers rely on:

* Login is two dialogs: `.login-dialog` asks the user name (`input#login`),
  then `.ask-dialog` asks the password (`input#ask-dialog-entry`).
* The menu is a tree table in `#menu`; each entry is a row whose text
  cell `.column-char` carries the name as its title; a parent opens with
  the `.expander` of its row, a single click on an entry opens its window.
* Each window is a tab: its title in `#tablist li.active`, its content
  the `.tab-pane.active` directly under `#tabcontent`, which tells the
  shown view type in its `data-view-type` attribute (tree or form).
* The toolbar buttons of a tab have fixed ids (`button#relate`,
  `button#print`, `button#action`, `button#switch_`, ...), their menus are
  `ul[aria-labelledby=<id>]`.
* List cells tell their column by `data-title="<label>: "`; many2one cells
  are links that open the linked record in a new tab, so rows are opened
  by double-clicking a plain cell.
* A many2one field is an `input[name=<field>]`; leaving it with a text
  opens the search dialog `.modal-dialog` with the records that match,
  chosen by clicking one and OK.
* A report arrives as a file download (sao offers it in a dialog and
  clicks its link).
"""
import json
import re

from playwright.sync_api import expect

MENU_ROWS = '#menu table.tree > tbody > tr'
ACTIVE_TAB = '#tabcontent > .tab-pane.active'
# the title of the active tab, e.g. "Leadhandel / Auslieferungen"
ACTIVE_TAB_TITLE = '#tablist > li.active span[title]'
# the list of the tab itself, not the lists of one2many fields in its form
LIST_ROWS = (ACTIVE_TAB + ' > .panel > .panel-body > div > .screen-container'
    ' > .content-box > .tree-container > .treeview > table.tree > tbody'
    ' > tr:not(.more-row)')
# sao talks to the server with jQuery.ajax; the bus, when the server has
# one, keeps a long poll pending all the time
QUIET_MS = 200
IDLE_SCRIPT = """quiet => {
    const busy = jQuery.active > (Sao.Bus && Sao.Bus.listening ? 1 : 0);
    if (busy) {
        window.__saoIdleSince = null;
        return false;
    }
    window.__saoIdleSince = window.__saoIdleSince || Date.now();
    return Date.now() - window.__saoIdleSince >= quiet;
}"""


def wait_idle(page, timeout=None):
    """Wait until sao has had no request to the server pending for a
    moment (sao often chains requests: search, then read, then render)."""
    page.evaluate('() => { window.__saoIdleSince = null; }')
    page.wait_for_function(IDLE_SCRIPT, arg=QUIET_MS, timeout=timeout,
        polling=50)


def login(page, user, password, database=None, path=''):
    """Open the web client and log in through its login dialogs; wait
    until the menu is shown. `database` is only needed when the server
    offers several (sao takes it from the URL); `path` is what the URL
    asks to open after the login, e.g. '/model/lead.delivery/42'."""
    page.goto(f'/#{database}{path}' if database else '/')
    dialog = page.locator('.login-dialog')
    dialog.locator('input#login').fill(user)
    dialog.locator('button[type=submit]').click()
    password_entry = page.locator('.ask-dialog input#ask-dialog-entry')
    password_entry.fill(password)
    password_entry.press('Enter')
    expect(page.locator(MENU_ROWS).first).to_be_visible()
    wait_idle(page)


def menu_entry(page, name, below=None):
    """The row of the menu entry `name`; with `below`, the first such row
    after the row `below` (its children follow it once it is expanded)."""
    rows = (below.locator('xpath=following-sibling::tr') if below
        else page.locator(MENU_ROWS))
    return rows.filter(has=page.get_by_title(name, exact=True)).first


def open_menu(page, *path, title=None):
    """Open the window of a menu entry given by its path of names, e.g.
    open_menu(page, 'Leadhandel', 'Auslieferungen'): expand each parent
    unless it is open already, click the entry and wait until its tab is
    active and loaded. `title` is the tab's title when it is not the
    entry's name."""
    *parents, name = path
    row = None
    for parent, child in zip(parents, path[1:]):
        row = menu_entry(page, parent, below=row)
        if not menu_entry(page, child, below=row).is_visible():
            row.locator('.expander').click()
        expect(menu_entry(page, child, below=row)).to_be_visible()
    menu_entry(page, name, below=row).locator('.column-char').click()
    # sao puts the menu path before the name: "Leadhandel / Auslieferungen"
    expect_tab(page, re.compile(rf'(^|/ ){re.escape(title or name)}$'))


def expect_tab(page, title):
    """Wait until the active tab's title matches `title` (a string or a
    regular expression) and its content is loaded."""
    expect(page.locator(ACTIVE_TAB_TITLE).first).to_have_attribute(
        'title', title)
    wait_idle(page)


def active_tab(page):
    "The content of the active tab"
    return page.locator(ACTIVE_TAB)


def list_rows(page):
    "The rows of the list in the active tab (the records loaded so far)"
    return page.locator(LIST_ROWS)


def row_with(page, column, value):
    """The rows of the active tab's list whose column `column` (its label)
    shows `value` exactly"""
    cell = page.locator(f'td[data-title={json.dumps(column + ": ")}]')
    return list_rows(page).filter(
        has=cell.get_by_title(value, exact=True))


def select_domain_tab(page, name):
    """Click the list's tab `name` above the list (the action's domains,
    like 'Alle') and wait until its records are loaded."""
    # the tab's text goes on with the count of its records, if shown
    label = re.compile(rf'^\s*{re.escape(name)}(\s|$)')
    tabs = active_tab(page).locator('.tab-domain .nav-tabs')
    tabs.locator('li > a').filter(has_text=label).click()
    expect(tabs.locator('li.active > a')).to_have_text(label)
    wait_idle(page)


def open_record(page, row):
    """Open the record of a list row in the form view (by double-clicking
    a cell that is no link nor button) and wait until it is shown."""
    row.locator('td .cell').filter(visible=True).filter(
        has_not=page.locator('a, button, input')).first.dblclick()
    expect(page.locator('#tabcontent')).to_have_attribute(
        'data-view-type', 'form')
    wait_idle(page)


def toolbar_menu(page, button, entry):
    """Click the entry `entry` of the menu of the toolbar button whose id
    is `button` ('relate', 'print', 'action', ...) in the active tab."""
    tab = active_tab(page)
    tab.locator(f'button#{button}').click()
    tab.locator(f'ul[aria-labelledby={button}] a').get_by_text(
        entry, exact=True).click()


def relate(page, name, title=None):
    """Open the related records `name` (the toolbar's relate menu) of the
    record shown; wait until their tab is active. `title` is the tab's
    title when it is not `name`."""
    toolbar_menu(page, 'relate', name)
    # sao adds the record's name: "Belege des Abrechnungslaufs (30.11.2026)"
    expect_tab(page, re.compile(rf'^{re.escape(title or name)}( \(.*\))?$'))


def print_report(page, name):
    """Print the report `name` (the toolbar's print menu) of the record
    shown; return the Playwright Download of the file sao offers."""
    with page.expect_download() as download:
        toolbar_menu(page, 'print', name)
    return download.value


def fill_many2one(page, name, text):
    """Set the many2one field `name` of the form shown to the record named
    `text`, as a user does: type the name, leave the field and pick the
    record in the search dialog"""
    entry = active_tab(page).locator(f'input[name={name}]')
    entry.fill(text)
    entry.press('Tab')
    dialog = page.locator('.modal-dialog').filter(
        has=page.locator('table.tree'))
    dialog.locator('table.tree > tbody > tr').filter(
        has=page.get_by_title(text, exact=True)).first.click()
    dialog.get_by_role('button', name='OK').click()
    expect(dialog).to_be_hidden()
    expect(entry).to_have_value(text)
    wait_idle(page)
