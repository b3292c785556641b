# This file is part of the lead trading suite. See README.rst for details.
"""Checks of the access rights a module of the suite declares: every model
it stores records of has model access entries, nothing of it is open to
every user, and what external buyers and suppliers may read is bound to
their own party by record rules."""
from trytond.model import ModelStorage, fields
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

SUITE_MODULES = {
    'lead_billing', 'lead_complaints', 'lead_prepaid', 'dunning_levels',
    'referral_commission', 'lead_reporting'}
# models linked to a party that is not a buyer's or supplier's
NOT_PARTY_DATA = {'company.company', 'company.employee', 'res.user'}
EXTERNAL_GROUPS = [
    'group_lead_buyer_external', 'group_lead_supplier_external']


def access_models(Model):
    """The names of `Model` and of the models it takes its access from
    (Tryton's __access__), as ir.model.access and ir.rule follow them"""
    names, todo = [], [Model]
    while todo:
        Model = todo.pop()
        if Model.__name__ in names:
            continue
        names.append(Model.__name__)
        todo.extend(
            getattr(Model, n).get_target() for n in Model.__access__)
    return names


def holds_party_data(Model, depth=2):
    """Whether records of `Model` belong to a party: a link to party.party,
    directly or through the records they belong to (`depth` links), not
    counting the company's party"""
    for field in Model._fields.values():
        field = getattr(field, '_field', field)
        if not isinstance(field, fields.Many2One):
            continue
        Target = field.get_target()
        if Target.__name__ == 'party.party':
            return True
        if (depth > 1 and Target.__name__ not in NOT_PARTY_DATA
                and holds_party_data(Target, depth - 1)):
            return True
    return False


def group_ids(xml_ids, module='lead_billing'):
    "The ids of the groups of `xml_ids` and of the groups they inherit"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Group = pool.get('res.group')
    groups = set()
    todo = [Group(ModelData.get_id(module, x)) for x in xml_ids]
    while todo:
        group = todo.pop()
        if group.id not in groups:
            groups.add(group.id)
            if group.parent:
                todo.append(group.parent)
    return tuple(sorted(groups))


class ModelAccessMixin:
    "Checks of the access rights of the module's models"

    def suite_models(self):
        """The models of the module's own that store records: the pool's
        models registered by the module, without the wizards' views"""
        pool = Pool()
        IrModel = pool.get('ir.model')
        result = []
        for model in IrModel.search([('module', '=', self.module)]):
            Model = pool.get(model.name)
            if issubclass(Model, ModelStorage):
                result.append(Model)
        return result

    def external_models(self):
        """The models the module opens to external users, by access
        entries for their groups"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Access = pool.get('ir.model.access')
        records = ModelData.search([
                ('module', '=', self.module),
                ('model', '=', 'ir.model.access'),
                ])
        accesses = Access.browse([r.db_id for r in records])
        groups = group_ids(EXTERNAL_GROUPS)
        return {pool.get(a.model) for a in accesses
            if a.group and a.group.id in groups and a.perm_read}

    def readable(self, Model, groups):
        "Whether users of `groups` (and nothing more) may read `Model`"
        Access = Pool().get('ir.model.access')
        with Transaction().set_context(_groups=groups):
            return Access.get_access([Model.__name__])[Model.__name__]['read']

    def has_rules(self, Model, groups):
        """Whether record rules of `groups` bind reading `Model`: the rules
        of all users (the company's) do not keep one party from the next"""
        RuleGroup = Pool().get('ir.rule.group')
        return bool(RuleGroup.search([
                    ('model', 'in', access_models(Model)),
                    ('perm_read', '=', True),
                    ('groups', 'in', list(groups)),
                    ]))

    @with_transaction()
    def test_model_access(self):
        "Every model of the module has access rights"
        Access = Pool().get('ir.model.access')
        for Model in self.suite_models():
            with self.subTest(model=Model.__name__):
                self.assertTrue(Access.search([
                            ('model', 'in', access_models(Model)),
                            ]), msg="no access rights")
                # records are for the groups of the suite, not for every
                # user of the company
                self.assertFalse(Access.search([
                            ('model', '=', Model.__name__),
                            ('group', '=', None),
                            ['OR',
                                ('perm_write', '=', True),
                                ('perm_create', '=', True),
                                ('perm_delete', '=', True),
                                ],
                            ]), msg="writable by every user")
                if holds_party_data(Model):
                    self.assertFalse(self.readable(Model, ()),
                        msg="a party's records readable by every user")

    @with_transaction()
    def test_external_record_rules(self):
        """What external buyers and suppliers may read of the module is
        bound to their party by record rules"""
        opened = self.external_models()
        models = sorted({*self.suite_models(), *opened},
            key=lambda m: m.__name__)
        for xml_id in EXTERNAL_GROUPS:
            groups = group_ids([xml_id])
            for Model in models:
                if not (self.readable(Model, groups)
                        and holds_party_data(Model)):
                    continue
                with self.subTest(group=xml_id, model=Model.__name__):
                    self.assertTrue(self.has_rules(Model, groups),
                        msg="readable without record rules")
