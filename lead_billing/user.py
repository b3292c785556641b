# This file is part of the lead trading suite. See README.rst for details.
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        application = ('lead_intake', "Lead Intake")
        if application not in cls.application.selection:
            cls.application.selection.append(application)


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    lead_party = fields.Many2One(
        'party.party', "Lead Trading Party", ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The buyer or supplier this external user acts for: record "
        "rules show the user only this party's records.")
    _lead_parties_cache = Cache('res_user.get_lead_parties', context=False)

    @classmethod
    def get_lead_parties(cls):
        "The ids of the parties the user of the transaction acts for"
        user_id = Transaction().user
        parties = cls._lead_parties_cache.get(user_id)
        if parties is None:
            with Transaction().set_user(0):
                user = cls(user_id)
                parties = [user.lead_party.id] if user.lead_party else []
            cls._lead_parties_cache.set(user_id, parties)
        return parties

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._lead_parties_cache.clear()

    @classmethod
    def delete(cls, users):
        super().delete(users)
        cls._lead_parties_cache.clear()


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "lead_parties" as list of ids of the parties the user acts '
            'for'
            '\n- "lead_visible_parties" as list of ids of those parties and '
            'the parties of the user\'s companies')

    @classmethod
    def _get_cache_key(cls, model_names):
        User = Pool().get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, tuple(User.get_lead_parties()))

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        Company = pool.get('company.company')
        context = super()._get_context(model_name)
        context['lead_parties'] = User.get_lead_parties()
        with without_check_access():
            companies = Company.browse(context.get('companies', []))
            context['lead_visible_parties'] = list(context['lead_parties']) + [
                c.party.id for c in companies]
        return context
