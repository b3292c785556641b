# This file is part of the lead trading suite. See README.rst for details.
"""Fixtures of the tests in tests/: one demo database for the whole session
(tests/test_demo.py checks it, the browser tests serve a copy of it) and the
browser tests' server, browser and page.

A browser test that fails leaves a screenshot of its page in
.build/screenshots/ and names it in its failure report."""
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from demo_support import LEADS, REPO, load_demo_module, run_demo, serve_copy

PAGE_ERRORS = pytest.StashKey[list]()
CHROMIUM = Path('/usr/bin/chromium')
# setup/browser.sh writes why it could not install Chromium there
CHROMIUM_MISSING = REPO / '.build' / 'chromium-missing.txt'
SCREENSHOTS = REPO / '.build' / 'screenshots'
# a server on two busy cores may take a while to answer
BROWSER_TIMEOUT_MS = 20_000


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """A demo directory with a freshly built database, and a copy of that
    database as built (tests may write into the demo: test_serve exports
    a payout)"""
    directory = tmp_path_factory.mktemp('demo')
    started = time.monotonic()
    result = run_demo(
        '--build-only', '--leads', str(LEADS), '--dir', str(directory))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo database built" in result.stdout, result.stdout
    database = directory / 'db' / 'demo.sqlite'
    as_built = tmp_path_factory.mktemp('demo_as_built') / 'demo.sqlite'
    shutil.copyfile(database, as_built)
    return {
        'dir': directory,
        'database': database,
        'as_built': as_built,
        'build_seconds': elapsed,
        'output': result.stdout,
        }


@pytest.fixture(scope='session')
def web_root():
    """The web client where the demo's server takes it (.build/www),
    fetched with npm when missing"""
    web_root = load_demo_module().WEB_ROOT
    result = subprocess.run(
        [str(REPO / 'setup' / 'webclient.sh'), str(web_root)], cwd=REPO,
        capture_output=True, text=True, timeout=600)
    if result.returncode:
        pytest.skip("the web client could not be installed: "
            + (result.stderr.strip().splitlines() or ['?'])[-1])
    return web_root


@pytest.fixture(scope='session')
def demo_server(web_root, demo, tmp_path_factory):
    """A Tryton server on a copy of the demo database as built, with the
    web client; log in as admin / admin"""
    with serve_copy(demo['as_built'],
            tmp_path_factory.mktemp('demo_server')) as server:
        yield server


@pytest.fixture(scope='session')
def browser():
    """Debian's Chromium, headless, driven by Playwright (which never
    downloads a browser of its own here)"""
    if not CHROMIUM.exists():
        reason = (CHROMIUM_MISSING.read_text().strip()
            if CHROMIUM_MISSING.exists()
            else f"{CHROMIUM} is missing; setup/browser.sh installs it")
        pytest.skip(f"Chromium could not be installed: {reason}")
    sync_api = pytest.importorskip('playwright.sync_api',
        reason="playwright is not installed; `make venv` installs it")
    sync_api.expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page(browser, demo_server, request):
    """A page of a new browser context (no cookies, no storage of other
    tests) whose relative URLs go to the demo server"""
    context = browser.new_context(base_url=demo_server.url,
        viewport={'width': 1600, 'height': 1000}, locale='de-DE',
        timezone_id='Europe/Berlin', accept_downloads=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    # JavaScript errors, for the failure report
    errors = request.node.stash[PAGE_ERRORS] = []
    page.on('pageerror', lambda error: errors.append(str(error)))
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test with a page fails, save a screenshot of the page and
    name it (and the server's log) in the failure report."""
    report = yield
    page = getattr(item, 'funcargs', {}).get('page')
    if report.failed and page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r'[^\w.-]+', '_', f'{item.path.stem}.{item.name}')
        screenshot = SCREENSHOTS / f'{name}.png'
        lines = []
        try:
            page.screenshot(path=screenshot, full_page=True)
            lines.append(f"screenshot: {screenshot}")
        except Exception as error:  # the browser itself may be gone
            lines.append(f"no screenshot: {error}")
        server = item.funcargs.get('demo_server')
        if server:
            lines.append(f"server log: {server.log}")
        lines.extend(f"JavaScript error: {error}"
            for error in item.stash.get(PAGE_ERRORS, []))
        report.sections.append(('browser', '\n'.join(lines)))
    return report
