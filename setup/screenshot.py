#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Take the README's screenshot of the Lead Trading menu: serve a copy of a
demo database (default: the one `make demo` built) with the web client and
photograph Lead Trading > Deliveries as the demo's administrator sees it.

Usage: .venv/bin/python setup/screenshot.py [<demo.sqlite>]
Needs Chromium (setup/browser.sh) and the web client (make webclient)."""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))

from browser_support import login, open_menu  # noqa: E402
from demo_support import serve_copy  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

TARGET = ROOT / 'doc' / 'lead-trading-menu.png'


def main(database):
    with tempfile.TemporaryDirectory() as directory, \
            serve_copy(database, Path(directory)) as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium')
        page = browser.new_page(base_url=server.url,
            viewport={'width': 1400, 'height': 800}, locale='de-DE',
            timezone_id='Europe/Berlin')
        page.set_default_timeout(30_000)
        login(page, 'admin', 'admin', database=server.database)
        open_menu(page, 'Leadhandel', 'Auslieferungen')
        TARGET.parent.mkdir(exist_ok=True)
        page.screenshot(path=TARGET)
        browser.close()
    print(f"Screenshot written to {TARGET}")


if __name__ == '__main__':
    main(Path(sys.argv[1]) if len(sys.argv) > 1
        else ROOT / '.demo' / 'db' / 'demo.sqlite')
