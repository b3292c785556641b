# This file is part of the lead trading suite. See README.rst for details.
"""The child process of `tools.kill_midway`: runs one operation of a test
in a committed transaction on the test database and pauses it in the
middle, where the parent kills it.

    python -m trytond.modules.lead_billing.tests.crash_child SPEC

SPEC is JSON: `operation` ("module:function"), its `args`, the `company`
of the context and `pause` [model, method, calls]. At the pause the child
writes the PostgreSQL backend pid of its transaction to stdout and waits;
it never goes on to commit, also when the parent goes away."""
import importlib
import json
import os
import sys

from trytond.pool import Pool
# the test pool (Pool.test) and the database name the parent gave
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import interrupted, run_committed


def main(spec):
    module, name = spec['operation'].split(':')
    operation = getattr(importlib.import_module(module), name)
    Pool(DB_NAME).init()

    def pause():
        connection = Transaction().connection
        print(json.dumps({'backend': connection.info.backend_pid}),
            flush=True)
        # the parent kills the process while it waits here; end of input
        # means the parent went away: end without committing
        sys.stdin.read()
        os._exit(1)

    def work():
        with Transaction().set_context(company=spec['company']):
            operation(*spec['args'])
    with interrupted(*spec['pause'], interrupt=pause):
        run_committed(DB_NAME, work)


if __name__ == '__main__':
    main(json.loads(sys.argv[1]))
