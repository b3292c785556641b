#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Build the SQLite demo database of the lead trading suite (when missing or
out of date) and start a Tryton server on it.

`make demo` runs this script. Everything lives in .demo/ (git-ignored):

  .demo/trytond.conf        server configuration (rewritten on every run)
  .demo/db/demo.sqlite      the demo database
  .demo/db/demo.stamp       what the database was built from
  .demo/build.log           output of the last build
  .demo/server.log          log of the server (requests, errors)

The database is rebuilt when the module sources (every top-level directory
with a tryton.cfg, tests excepted), setup/demo_data.py, the installed Tryton
packages or --leads change; otherwise it is reused and the server starts at
once. A build happens in demo_build.sqlite and only replaces demo.sqlite when
it succeeded, so a failed build leaves the previous database in place.

The server listens on 127.0.0.1:$DEMO_PORT (default 8000, or the next free
port); log in as admin / admin.
"""
import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None

REPO = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO / 'setup' / 'demo_data.py'
WEB_ROOT = REPO / '.build' / 'www'
DATABASE = 'demo'
BUILD_DATABASE = 'demo_build'
LOGIN = 'admin'
PASSWORD = 'admin'
ADMIN_EMAIL = 'admin@example.com'
LANGUAGES = ['de']
DEFAULT_LEADS = 5000
DEFAULT_PORT = 8000
PORT_TRIES = 50
# Bump when the build steps change in a way the stamp cannot see
BUILD_FORMAT = 1
SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal']

CONFIG_TEMPLATE = """\
# Written by setup/demo.py on every start; edit demo.py instead.
[database]
uri = sqlite://
path = {db_dir}
list = True
language = en

[web]
listen = 127.0.0.1:{port}
root = {web_root}

[session]
# a demo stays logged in for a working day
timeout = 28800

[email]
# nothing sends e-mails while the demo is built; a local MTA would get them
uri = smtp://127.0.0.1:25
from = Leadhandel Demo <noreply@leadhandel-demo.example>
"""


# The server logs requests and details into server.log; the terminal only
# shows warnings and errors.
LOGGING_TEMPLATE = """\
# Written by setup/demo.py on every start.
[formatters]
keys = simple

[handlers]
keys = console, file

[loggers]
keys = root

[formatter_simple]
format = %(asctime)s %(levelname)s %(name)s: %(message)s

[handler_console]
class = StreamHandler
level = WARNING
formatter = simple
args = (sys.stderr,)

[handler_file]
class = FileHandler
level = INFO
formatter = simple
args = ({log!r}, 'a', 'utf-8')

[logger_root]
level = INFO
handlers = console, file
"""


class BuildError(Exception):
    pass


def say(message=''):
    print(message, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('--rebuild', action='store_true',
        help="rebuild the database even if it is up to date")
    parser.add_argument('--build-only', '--no-serve', dest='build_only',
        action='store_true',
        help="build the database if needed, then exit without serving")
    parser.add_argument('--leads', type=int, default=DEFAULT_LEADS,
        metavar='N', help="number of demo leads (default %(default)s)")
    parser.add_argument('--dir', type=Path, default=REPO / '.demo',
        metavar='PATH', help="demo directory (default .demo)")
    parser.add_argument('--port', type=int,
        default=int(os.environ.get('DEMO_PORT') or DEFAULT_PORT),
        help="port to listen on (default $DEMO_PORT or %d); the next free "
        "one is taken when it is busy" % DEFAULT_PORT)
    args = parser.parse_args(argv)
    if args.leads < 0:
        parser.error("--leads must not be negative")
    if not 0 < args.port < 65536:
        parser.error("invalid port %s" % args.port)
    return args


class Paths:
    def __init__(self, base):
        self.base = base.resolve()
        self.config = self.base / 'trytond.conf'
        self.db_dir = self.base / 'db'
        self.database = self.db_dir / f'{DATABASE}.sqlite'
        self.build = self.db_dir / f'{BUILD_DATABASE}.sqlite'
        self.stamp = self.db_dir / f'{DATABASE}.stamp'
        self.log = self.base / 'build.log'
        self.logging = self.base / 'logging.conf'
        self.server_log = self.base / 'server.log'
        self.password = self.base / 'admin.password'
        self.lock = self.base / '.lock'
        self.pidfile = self.base / 'trytond.pid'
        self.server = self.base / 'server.json'


# --- tools -----------------------------------------------------------------

def venv_script(name):
    "The console script `name` next to this interpreter, else from PATH"
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BuildError(f"{name} not found; run `make venv` first")
    return found


def suite_modules():
    "The suite's modules: top-level directories holding a tryton.cfg"
    return sorted(p.parent.name for p in REPO.glob('*/tryton.cfg'))


def source_files(module_dir):
    for root, dirs, files in os.walk(module_dir):
        dirs[:] = sorted(d for d in dirs
            if d not in {'tests', '__pycache__'} and not d.startswith('.'))
        for name in sorted(files):
            if name.endswith(('.pyc', '.pyo')) or name.startswith('.'):
                continue
            yield Path(root, name)


def tryton_versions():
    "Installed Tryton distributions: a patch release changes the data"
    versions = []
    for dist in metadata.distributions():
        name = (dist.metadata['Name'] or '').lower().replace('-', '_')
        if name == 'trytond' or name.startswith('trytond_'):
            versions.append(f'{name}=={dist.version}')
    return sorted(versions)


def build_inputs(modules, leads):
    """What the database is built from: settings and installed versions,
    then a digest of every module source file and of the demo data."""
    inputs = {
        'format': str(BUILD_FORMAT),
        'leads': str(leads),
        'languages': ','.join(LANGUAGES),
        'modules': ','.join(modules),
        'tryton': ' '.join(tryton_versions()),
        }
    files = [(path.relative_to(REPO).as_posix(), path)
        for module in modules for path in source_files(REPO / module)]
    files.append(('setup/demo_data.py', DEMO_DATA))
    for name, path in files:
        inputs[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return inputs


def build_hash(modules, leads, inputs=None):
    if inputs is None:
        inputs = build_inputs(modules, leads)
    return hashlib.sha256(
        json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def changed_inputs(old, new):
    "Names of the build inputs that differ between two stamps"
    return sorted(name for name in set(old) | set(new)
        if old.get(name) != new.get(name))


def read_stamp(paths):
    try:
        return json.loads(paths.stamp.read_text())
    except (OSError, ValueError):
        return None


def write_atomic(path, text, mode=0o644):
    tmp = path.with_name(path.name + '.tmp')
    with open(tmp, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def remove_database_files(path, side_files_only=False):
    for suffix in ([] if side_files_only else ['']) + SQLITE_SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f'{path}{suffix}')


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def port_answers(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


def choose_port(wanted):
    for port in range(wanted, min(wanted + PORT_TRIES, 65536)):
        if port_free(port):
            if port != wanted:
                say(f"Port {wanted} is in use, using port {port} instead "
                    "(set DEMO_PORT to choose another one).")
            return port
    raise BuildError(
        f"no free port in {wanted}–{wanted + PORT_TRIES - 1}; set DEMO_PORT")


def running_server(paths):
    "Return (pid, port) of a demo server started from this directory"
    try:
        info = json.loads(paths.server.read_text())
        pid, port = int(info['pid']), int(info['port'])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    with contextlib.suppress(OSError):
        cmdline = Path(f'/proc/{pid}/cmdline').read_bytes()
        if b'trytond' not in cmdline:
            return None
    return pid, port


@contextlib.contextmanager
def build_lock(paths):
    "Serialise concurrent runs on the same demo directory"
    if fcntl is None:
        yield
        return
    with open(paths.lock, 'w') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another demo build is running in this directory; waiting…")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_config(paths, port):
    write_atomic(paths.config, CONFIG_TEMPLATE.format(
            db_dir=paths.db_dir, port=port, web_root=WEB_ROOT))


def child_env(paths):
    "A clean environment: no TRYTOND_* settings of the caller leak in"
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k != 'TRYTONPASSFILE'}
    env['TRYTONPASSFILE'] = str(paths.password)
    env['PYTHONUNBUFFERED'] = '1'
    return env


# --- build -----------------------------------------------------------------

ADMIN_PROGRESS = re.compile(r' INFO trytond\.modules (\w+) load$')
LOG_LINE = re.compile(r'^\d+ \d+ \[[^]]+\] (\w+) ')


def run_step(name, cmd, paths, log, show):
    """Run one build step, its output into the log; `show(line)` tells
    which lines the user sees."""
    log.write(f'\n=== {name}: {" ".join(cmd)}\n')
    log.flush()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=paths.base, env=child_env(paths),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors='replace')
    try:
        for line in proc.stdout:
            log.write(line)
            shown = show(line.rstrip('\n'))
            if shown:
                say(f'    {shown}')
        returncode = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        log.flush()
    elapsed = time.monotonic() - started
    if returncode:
        raise BuildError(f"{name} failed (exit code {returncode})")
    say(f"  {name} done in {elapsed:.0f}s")


def show_admin(line):
    match = ADMIN_PROGRESS.search(line)
    if match:
        return f"module {match.group(1)}"
    level = LOG_LINE.match(line)
    if level and level.group(1) in {'ERROR', 'CRITICAL'}:
        return line


def show_data(line):
    level = LOG_LINE.match(line)
    if level and level.group(1) not in {'ERROR', 'CRITICAL'}:
        return None
    return line.removeprefix('demo data: ') or None


def finish_sqlite(path):
    "Fold the write-ahead log into the file so that it can be moved alone"
    conn = sqlite3.connect(path)
    try:
        conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        conn.execute('PRAGMA journal_mode=DELETE')
        (leads,), = conn.execute('SELECT COUNT(*) FROM lead_lead')
        (companies,), = conn.execute('SELECT COUNT(*) FROM company_company')
    finally:
        conn.close()
    if not companies:
        raise BuildError("the built database holds no company")
    return leads


def build(paths, modules, leads, digest, inputs):
    say(f"Building the demo database ({leads} leads, modules: "
        f"{', '.join(modules)}); log: {paths.log}")
    started = time.monotonic()
    remove_database_files(paths.build)
    paths.build.touch()  # the SQLite backend only opens existing files
    write_atomic(paths.password, PASSWORD + '\n', mode=0o600)
    try:
        with open(paths.log, 'w') as log:
            log.write(f'demo build started {dt.datetime.now():%c}\n')
            run_step("database and modules", [
                    venv_script('trytond-admin'),
                    '-c', str(paths.config), '-d', BUILD_DATABASE,
                    '-u', *modules, '--activate-dependencies',
                    '-l', *LANGUAGES, '--email', ADMIN_EMAIL, '-vv',
                    ], paths, log, show_admin)
            run_step("demo data", [
                    sys.executable, str(DEMO_DATA),
                    '-c', str(paths.config), '-d', BUILD_DATABASE,
                    '--leads', str(leads),
                    ], paths, log, show_data)
        count = finish_sqlite(paths.build)
        if count != leads:
            raise BuildError(f"expected {leads} leads, found {count}")
        # a stale write-ahead log must not be applied to the new file
        remove_database_files(paths.database, side_files_only=True)
        os.replace(paths.build, paths.database)
    except BaseException:
        remove_database_files(paths.build)
        raise
    elapsed = time.monotonic() - started
    write_atomic(paths.stamp, json.dumps({
                'hash': digest,
                'leads': leads,
                'modules': modules,
                'built_at': dt.datetime.now().isoformat(timespec='seconds'),
                'build_seconds': round(elapsed, 1),
                'inputs': inputs,
                }, indent=2) + '\n')
    say(f"Demo database built in {elapsed:.0f}s: {paths.database}")


def log_tail(paths, lines=25):
    try:
        text = paths.log.read_text(errors='replace').splitlines()
    except OSError:
        return ''
    return '\n'.join(text[-lines:])


def ensure_database(paths, args, modules):
    """Build the database when missing, stale or asked to; tell whether a
    build happened."""
    inputs = build_inputs(modules, args.leads)
    digest = build_hash(modules, args.leads, inputs)
    stamp = read_stamp(paths)
    if (not args.rebuild and paths.database.exists() and stamp
            and stamp.get('hash') == digest):
        say(f"Reusing the demo database {paths.database} (built "
            f"{stamp.get('built_at', '?')}, {stamp.get('leads', '?')} "
            "leads); --rebuild builds it again.")
        return False
    if paths.database.exists():
        if args.rebuild:
            reason = "--rebuild"
        elif stamp and isinstance(stamp.get('inputs'), dict):
            changed = changed_inputs(stamp['inputs'], inputs)
            reason = "changed: " + ", ".join(changed[:5]) + (
                f" and {len(changed) - 5} more" if len(changed) > 5 else '')
        elif stamp:
            reason = "built by an older setup/demo.py"
        else:
            reason = "no build stamp"
        say(f"Rebuilding the demo database ({reason}).")
    server = running_server(paths)
    if server:
        raise BuildError(
            f"the demo server (pid {server[0]}) still uses the database; "
            "stop it (Ctrl+C in its terminal) before rebuilding")
    try:
        build(paths, modules, args.leads, digest, inputs)
    except BuildError as e:
        tail = log_tail(paths)
        raise BuildError(
            f"{e}\n--- last lines of {paths.log} ---\n{tail}\n---\n"
            + ("The previous demo database is untouched."
                if paths.database.exists() else "")) from None
    return True


# --- serve -----------------------------------------------------------------

def serve(paths, port):
    url = f'http://127.0.0.1:{port}/'
    if not (WEB_ROOT / 'index.html').is_file():
        say(f"Note: the web client is missing ({WEB_ROOT / 'index.html'}); "
            "run `make webclient` (needs npm) to get it. The server starts "
            f"anyway: JSON-RPC answers on {url}{DATABASE}/rpc/.")
    # "%" would be interpolated by the logging configuration parser
    write_atomic(paths.logging, LOGGING_TEMPLATE.format(
            log=str(paths.server_log).replace('%', '%%')))
    cmd = [venv_script('trytond'), '-c', str(paths.config), '-d', DATABASE,
        '--pidfile', str(paths.pidfile), '--logconf', str(paths.logging)]
    say(f"Starting the Tryton server on {url} …")
    proc = subprocess.Popen(cmd, cwd=paths.base, env=child_env(paths),
        stdin=subprocess.DEVNULL)
    write_atomic(paths.server, json.dumps({'pid': proc.pid, 'port': port}))

    def stop(signum, frame):
        raise KeyboardInterrupt
    previous = {sig: signal.signal(sig, stop)
        for sig in [signal.SIGTERM, signal.SIGINT]}
    try:
        deadline = time.monotonic() + 120
        while not port_answers(port):
            if proc.poll() is not None:
                raise BuildError(
                    f"the server exited with code {proc.returncode} "
                    f"before it was ready; see {paths.server_log}")
            if time.monotonic() > deadline:
                raise BuildError("the server did not answer within 120s")
            time.sleep(0.2)
        say()
        say("=" * 64)
        say(" Lead trading demo ready")
        say(f"   URL:      {url}")
        say(f"   Database: {DATABASE}")
        say(f"   Login:    {LOGIN}")
        say(f"   Password: {PASSWORD}")
        say(f" Server log: {paths.server_log}")
        say(" Stop the server with Ctrl+C.")
        say("=" * 64)
        say()
        return proc.wait()
    except KeyboardInterrupt:
        say("\nStopping the demo server…")
        return 0
    finally:
        # On Ctrl+C the terminal interrupted the server too; give it a
        # moment to exit by itself before terminating it.
        for action, timeout in [
                (None, 2), (proc.terminate, 10), (proc.kill, None)]:
            if proc.poll() is not None:
                break
            if action:
                action()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for path in [paths.server, paths.pidfile]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def main(argv=None):
    args = parse_args(argv)
    paths = Paths(args.dir)
    paths.db_dir.mkdir(parents=True, exist_ok=True)
    modules = suite_modules()
    if not modules:
        say(f"error: no module (directory with tryton.cfg) in {REPO}")
        return 1
    try:
        server = running_server(paths)
        if server and not args.build_only and not args.rebuild:
            say(f"The demo server is already running (pid {server[0]}): "
                f"http://127.0.0.1:{server[1]}/ — login {LOGIN}, password "
                f"{PASSWORD}.")
            return 0
        port = args.port if args.build_only else choose_port(args.port)
        with build_lock(paths):
            write_config(paths, port)
            ensure_database(paths, args, modules)
        if args.build_only:
            return 0
        return serve(paths, port)
    except BuildError as e:
        say(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        say("\nInterrupted.")
        return 130


if __name__ == '__main__':
    sys.exit(main())
