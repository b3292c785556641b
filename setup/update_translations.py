#!/usr/bin/env python3
# This file is part of the lead trading suite. See README.rst for details.
"""Bring MODULE/locale/LANG.po in line with the module's strings, those of
its optional parts included.

    .venv/bin/python setup/update_translations.py MODULE [LANG]

Activates the module in a scratch SQLite database, exports its translation
template through Tryton's own wizards, keeps every existing translation of
an unchanged string and lists the strings that still need one (written with
an empty msgstr)."""
import configparser
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def extras(module):
    "The optional modules of `module` (extras_depend of its tryton.cfg)"
    parser = configparser.ConfigParser()
    parser.read(ROOT / module / 'tryton.cfg')
    return parser.get('tryton', 'extras_depend', fallback='').split()


def export_template(module, lang, workdir):
    conf = workdir / 'trytond.conf'
    conf.write_text(f'[database]\nuri = sqlite://\npath = {workdir}\n')
    (workdir / 'po.sqlite').touch()
    password = workdir / 'password'
    password.write_text('admin')
    env = dict(os.environ, TRYTONPASSFILE=str(password))
    admin = [str(Path(sys.executable).parent / 'trytond-admin'),
        '-c', str(conf), '-d', 'po']
    # with the optional modules it works with, so that the strings of its
    # optional parts are exported too
    for args in (['--all', '--email', 'admin@example.com'],
            ['-u', module, *extras(module), '--activate-dependencies']):
        subprocess.run(admin + args, env=env, check=True,
            stdout=subprocess.DEVNULL)

    from trytond import config
    config.update_etc(str(conf))
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool('po')
    pool.init()
    with Transaction().start('po', 0, context={'active_model': None}):
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        language, = Lang.search([('code', '=', lang)])
        set_wizard = pool.get('ir.translation.set', type='wizard')
        session, _, _ = set_wizard.create()
        set_wizard(session).transition_set_()
        update = pool.get('ir.translation.update', type='wizard')
        session, _, _ = update.create()
        wizard = update(session)
        wizard.start.language = language
        wizard.do_update({})
        return Translation.translation_export(lang, module)


def main(module, lang='de'):
    target = ROOT / module / 'locale' / f'{lang}.po'
    with tempfile.TemporaryDirectory() as tmp:
        template = polib.pofile(
            export_template(module, lang, Path(tmp)).decode('utf-8'),
            wrapwidth=78)
    known = {}
    if target.exists():
        known = {(e.msgctxt, e.msgid): e.msgstr
            for e in polib.pofile(str(target))
            if e.msgstr and 'fuzzy' not in e.flags}
    missing = []
    for entry in template:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid), '')
        if 'fuzzy' in entry.flags:
            entry.flags.remove('fuzzy')
        if not entry.msgstr:
            missing.append(entry)
    target.parent.mkdir(exist_ok=True)
    template.save(str(target))
    for entry in missing:
        print(f'untranslated: {entry.msgctxt}\n    {entry.msgid!r}')
    print(f'{target.relative_to(ROOT)}: {len(template)} entries, '
        f'{len(missing)} untranslated')


if __name__ == '__main__':
    main(*sys.argv[1:])
