#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Run every test of the suite: each module's tests and tests/, once on
SQLite and once more on PostgreSQL when one is reachable.

Environment:
  LEAD_TEST_POSTGRESQL  URI of the PostgreSQL server for the second pass
                        (default postgresql://postgres@127.0.0.1:5432/);
                        "off" skips that pass.
  LEAD_TEST_BACKENDS    comma separated passes to run (sqlite,postgresql).
  LEAD_TEST_PARALLEL    "0" runs the passes one after the other; by
                        default they run at the same time, their output
                        prefixed with the backend.
Arguments are handed to pytest (e.g. -k intake, -x).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'


def suite_modules():
    return sorted(p.parent.name for p in ROOT.glob('*/tryton.cfg'))


def source_hash(modules):
    """Hash the module sources that shape a database, so that a database
    cache built from older sources is never reused."""
    digest = hashlib.sha256()
    for module in modules:
        for path in sorted((ROOT / module).rglob('*')):
            if (path.is_file() and 'tests' not in path.parts
                    and '__pycache__' not in path.parts):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(backend, modules):
    base = ROOT / '.cache' / 'db'
    current = base / f'{backend}-{source_hash(modules)}'
    if base.exists():
        for old in base.glob(f'{backend}-*'):
            if old != current:
                shutil.rmtree(old, ignore_errors=True)
    current.mkdir(parents=True, exist_ok=True)
    return current


def postgresql_problem(uri):
    "Return why PostgreSQL at uri cannot be used, or None"
    try:
        import psycopg
    except ImportError as e:
        return str(e)
    try:
        with psycopg.connect(
                uri.rstrip('/') + '/postgres', connect_timeout=3):
            pass
    except Exception as e:
        return str(e).strip().splitlines()[0]


def count_outcomes(root):
    """Count test outcomes of a JUnit report; the subtests of a test are
    reported as repetitions of it, its worst outcome counts once."""
    rank = {'passed': 0, 'skipped': 1, 'failed': 2}
    outcomes = {}
    for case in root.iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            outcome = 'failed'
        elif case.find('skipped') is not None:
            outcome = 'skipped'
        else:
            outcome = 'passed'
        key = (case.get('classname'), case.get('name'))
        if rank[outcome] >= rank[outcomes.get(key, 'passed')]:
            outcomes[key] = outcome
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    for outcome in outcomes.values():
        counts[outcome] += 1
    return counts


class Pass:
    """One pass of the tests on a backend, run by pytest in a process of
    its own that writes a JUnit report"""

    def __init__(self, backend, uri, modules, pytest_args):
        self.backend = backend
        env = os.environ.copy()
        env['TRYTOND_DATABASE_URI'] = uri
        env['DB_CACHE'] = str(cache_dir(backend, modules))
        env['LEAD_TEST_BACKEND'] = backend
        env.pop('DB_NAME', None)
        env.setdefault('TRYTOND_TZ', 'UTC')
        self.report = Path(tempfile.mkstemp(prefix=f'pytest-{backend}-',
                suffix='.xml')[1])
        targets = [f'trytond.modules.{m}.tests' for m in modules]
        self.command = [sys.executable, '-m', 'pytest', '-p',
            'no:cacheprovider', f'--junitxml={self.report}', '-o',
            f'junit_suite_name={backend}', '--pyargs', *targets,
            str(ROOT / 'tests'), *pytest_args]
        self.env = env
        self.title = f'=== {backend}: {uri} ==='

    def start(self, prefix=False):
        """Start pytest; with `prefix` its output is printed line by line
        under the backend's name, so that passes running at the same time
        can be told apart"""
        print(f'\n{self.title}', flush=True)
        if not prefix:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env)
            self.reader = None
            return
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)

        def relay():
            for line in self.process.stdout:
                print(f'[{self.backend}] {line}', end='', flush=True)
        self.reader = threading.Thread(target=relay)
        self.reader.start()

    def wait(self):
        "Wait for pytest to end; return the counts of its outcomes"
        code = self.process.wait()
        if self.reader:
            self.reader.join()
        counts = {'passed': 0, 'failed': 0, 'skipped': 0}
        try:
            counts.update(count_outcomes(ET.parse(self.report).getroot()))
        except (ET.ParseError, FileNotFoundError):
            counts['failed'] += 1
        finally:
            self.report.unlink(missing_ok=True)
        if code != 0 and not counts['failed']:
            counts['failed'] += 1
        return counts


def lint():
    "Check the style of the sources; return whether it is clean"
    print('=== ruff ===', flush=True)
    return subprocess.call([sys.executable, '-m', 'ruff', 'check',
            *suite_modules(), 'setup', 'tests'], cwd=ROOT) == 0


def main(pytest_args):
    modules = suite_modules()
    clean = lint()
    wanted = set(filter(None, os.environ.get(
                'LEAD_TEST_BACKENDS', 'sqlite,postgresql').split(',')))
    passes = []
    if 'sqlite' in wanted:
        passes.append(('sqlite', 'sqlite://'))
    if 'postgresql' in wanted:
        uri = os.environ.get('LEAD_TEST_POSTGRESQL', DEFAULT_POSTGRESQL)
        if uri == 'off':
            print('\nSKIPPED: the PostgreSQL pass (LEAD_TEST_POSTGRESQL=off)')
        elif problem := postgresql_problem(uri):
            print(f'\nSKIPPED: the PostgreSQL pass, no server at {uri}: '
                f'{problem}\n  Tests that need PostgreSQL (concurrency, '
                'locking) are skipped with this reason.')
        else:
            passes.append(('postgresql', uri))

    # The passes share nothing but the machine: on two cores they run at
    # the same time unless asked not to
    parallel = (len(passes) > 1
        and os.environ.get('LEAD_TEST_PARALLEL', '1') != '0')
    runs = [Pass(backend, uri, modules, pytest_args)
        for backend, uri in passes]
    counts = []
    if parallel:
        for run in runs:
            run.start(prefix=True)
        counts = [run.wait() for run in runs]
    else:
        for run in runs:
            run.start()
            counts.append(run.wait())

    total = {'passed': 0, 'failed': 0, 'skipped': 0}
    lines = []
    for run, count in zip(runs, counts):
        lines.append(f'{run.backend}: {count["passed"]} passed, '
            f'{count["failed"]} failed, {count["skipped"]} skipped')
        for key in total:
            total[key] += count[key]
    print('\n=== summary ===')
    for line in lines:
        print(line)
    print(f'suite: {total["passed"]} passed, {total["failed"]} failed, '
        f'{total["skipped"]} skipped')
    if not clean:
        print('style: ruff found problems (see above)')
    return 1 if total['failed'] or not total['passed'] or not clean else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
