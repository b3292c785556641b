# This file is part of the lead trading suite. See README.rst for details.
"""The German translation covers every translatable string of the module.

The template is made the way a translator makes it in Tryton: the wizard
"Set Translations" registers the strings of the views and reports, "Update
Translations" creates the German rows and `translation_export` writes the
file for the module. Each of its entries must have a German text in
locale/de.po that is not fuzzy and keeps the placeholders of the English.
"""
import importlib
import re
import unittest
from collections import Counter
from pathlib import Path

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

LANGUAGE = 'de'

# Python %-format conversions, named or not; "%%" is a literal percent
PLACEHOLDER = re.compile(
    r'%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?'
    r'[diouxXeEfFgGcrsa%]')


def placeholders(text):
    """Return the placeholders of text: the set of the named ones and the
    number of each unnamed one, as both must match for formatting"""
    found = [p for p in PLACEHOLDER.findall(text or '') if p != '%%']
    named = frozenset(p for p in found if p.startswith('%('))
    unnamed = Counter(p for p in found if not p.startswith('%('))
    return named, unnamed


def describe(placeholders):
    named, unnamed = placeholders
    return sorted(named) + sorted(unnamed.elements())


def entry_key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or None)


def entry_name(key):
    msgctxt, msgid, _ = key
    return f'{msgctxt} {msgid!r}'


def translations(entry):
    "Return the translated texts of entry, one per plural form"
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


class TranslationTestMixin:
    """Test the German translation of `module`: `menu` is the XML id of one
    of its menus and `field` a (model, field name) it defines; `extras` are
    activated with it, as its other tests do (one database for them all),
    so that the strings of its optional parts are covered too"""
    module = None
    extras = ()
    menu = None
    field = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module([cls.module, *cls.extras])
        package = importlib.import_module(f'trytond.modules.{cls.module}')
        cls.po_path = Path(package.__file__).resolve().parent / 'locale' / (
            LANGUAGE + '.po')
        cls.po = polib.pofile(str(cls.po_path))
        cls.template = cls.export_template()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @classmethod
    @with_transaction()
    def export_template(cls):
        "Return the exported translation template of the module"
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        TranslationUpdate = pool.get('ir.translation.update', type='wizard')

        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        TranslationSet.delete(session_id)

        language, = Lang.search([('code', '=', LANGUAGE)])
        session_id, _, _ = TranslationUpdate.create()
        update = TranslationUpdate(session_id)
        update.start.language = language
        update.do_update({})
        TranslationUpdate.delete(session_id)

        content = Translation.translation_export(LANGUAGE, cls.module)
        return polib.pofile(content.decode('utf-8') if content else '')

    def entries(self):
        "Return the entries of the translation file by key"
        return {entry_key(e): e for e in self.po if not e.obsolete}

    @with_transaction()
    def test_import(self):
        "Tryton loads the file and shows the module in German"
        pool = Pool()
        Translation = pool.get('ir.translation')
        ModelData = pool.get('ir.model.data')
        Menu = pool.get('ir.ui.menu')
        model, field = self.field
        Model = pool.get(model)

        Translation.translation_import(
            LANGUAGE, self.module, [str(self.po_path)])

        def expected(msgctxt):
            entry, = (e for e in self.po if e.msgctxt == msgctxt)
            return entry.msgstr
        menu_id = ModelData.get_id(self.module, self.menu)
        with Transaction().set_context(language=LANGUAGE):
            self.assertEqual(Menu(menu_id).name,
                expected(f'model:ir.ui.menu,name:{self.menu}'))
            self.assertEqual(
                Model.fields_get([field])[field]['string'],
                expected(f'field:{model},{field}:'))

    def test_template_not_empty(self):
        "The exported template holds the strings of the module"
        keys = {entry_key(e) for e in self.template}
        self.assertIn(f'model:ir.ui.menu,name:{self.menu}',
            {msgctxt for msgctxt, _, _ in keys})
        self.assertTrue(
            any(k[0].startswith('view:') for k in keys),
            msg="No view string in the template")
        self.assertTrue(
            any(k[0].startswith('model:ir.message,text:') for k in keys),
            msg="No message in the template")

    def test_every_string_translated(self):
        "Each string of the module has a German translation"
        entries = self.entries()
        missing, untranslated, fuzzy = [], [], []
        for template_entry in self.template:
            key = entry_key(template_entry)
            entry = entries.get(key)
            if entry is None:
                missing.append(entry_name(key))
            elif not all(t.strip() for t in translations(entry)):
                untranslated.append(entry_name(key))
            elif entry.fuzzy:
                fuzzy.append(entry_name(key))
        problems = {
            "missing": missing,
            "without translation": untranslated,
            "fuzzy": fuzzy,
            }
        self.assertEqual({k: v for k, v in problems.items() if v}, {},
            msg=f"Strings of the module not translated in {self.po_path}")

    def test_no_stale_entry(self):
        "The translation file holds no string the module no longer has"
        keys = {entry_key(e) for e in self.template}
        stale = [entry_name(k) for k in self.entries() if k not in keys]
        self.assertEqual(stale, [],
            msg=f"Entries of {self.po_path} unknown to the module")

    def test_placeholders_kept(self):
        "Each translation has exactly the placeholders of its source"
        wrong = []
        for entry in self.po:
            if entry.obsolete:
                continue
            for i, text in enumerate(translations(entry)):
                source = placeholders(
                    entry.msgid_plural if i else entry.msgid)
                if text and placeholders(text) != source:
                    wrong.append(f'{entry_name(entry_key(entry))}: '
                        f'{describe(source)} != '
                        f'{describe(placeholders(text))}')
        self.assertEqual(wrong, [],
            msg=f"Placeholders changed in {self.po_path}")


class LeadBillingTranslationTestCase(TranslationTestMixin, unittest.TestCase):
    "Test the German translation of the Lead Billing module"
    module = 'lead_billing'
    menu = 'menu_lead_trading'
    field = ('lead.lead', 'supplier')
