# This file is part of the lead trading suite. See README.rst for details.
"""The demo script (setup/demo.py) as the tests use it: run it, load it as a
module, and serve a copy of a demo database with a server of its own."""
import contextlib
import dataclasses
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / 'setup' / 'demo.py'
# small enough to build in about three minutes
LEADS = 200
SERVER_START_TIMEOUT = 120

demo_marks = [
    pytest.mark.skipif(
        importlib.util.find_spec('trytond') is None,
        reason="trytond is not installed in this interpreter"),
    # The demo always runs on SQLite: once is enough when setup/run_tests.py
    # runs the suite once more on PostgreSQL
    pytest.mark.skipif(
        os.environ.get('LEAD_TEST_BACKEND', 'sqlite') != 'sqlite',
        reason="the demo runs on SQLite only; tested in the SQLite pass"),
    ]


def run_demo(*args, timeout=900, **kwargs):
    "Run setup/demo.py with `args`; return the completed process"
    return subprocess.run(
        [sys.executable, str(DEMO), *args], cwd=REPO, capture_output=True,
        text=True, timeout=timeout, **kwargs)


def load_demo_module():
    "setup/demo.py as a module, to call its functions"
    spec = importlib.util.spec_from_file_location('demo_script', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    "A TCP port on 127.0.0.1 that nothing listens on right now"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class DemoServer:
    "A Tryton server started by serve_copy()"
    url: str
    database: str
    log: Path

    def log_tail(self, lines=30):
        "The last lines of the server's log"
        text = self.log.read_text(errors='replace').splitlines()
        return '\n'.join(text[-lines:])


@contextlib.contextmanager
def serve_copy(database, directory):
    """Serve a copy of the demo database file `database` from `directory`
    with trytond on 127.0.0.1 and a free port, configured like `make demo`
    (setup/demo.py writes the configuration) with the web client of
    .build/www; yield the DemoServer and stop the server afterwards.

    The server logs requests and errors into directory/server.log."""
    demo = load_demo_module()
    paths = demo.Paths(directory)
    paths.db_dir.mkdir(parents=True)
    shutil.copyfile(database, paths.database)
    port = free_port()
    demo.write_config(paths, port)
    log = paths.base / 'server.log'
    with open(log, 'w') as output:
        proc = subprocess.Popen([demo.venv_script('trytond'),
                '-c', str(paths.config), '-d', demo.DATABASE, '-v'],
            cwd=paths.base, env=demo.child_env(paths),
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    server = DemoServer(f'http://127.0.0.1:{port}/', demo.DATABASE, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not demo.port_answers(port):
            if proc.poll() is not None:
                raise RuntimeError(f"trytond exited with code "
                    f"{proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"trytond did not answer within "
                    f"{SERVER_START_TIMEOUT}s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
