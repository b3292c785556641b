# This file is part of the lead trading suite. See README.rst for details.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('referral.payout|prepare_due', "Prepare Referral Payout"))


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        Referral = pool.get('referral.referral')
        context = super()._get_context(model_name)
        if context['lead_parties']:
            # a referrer knows the customers it recruited
            with without_check_access():
                referrals = Referral.search([
                        ('referrer', 'in', context['lead_parties']),
                        ])
            context['lead_visible_parties'] = [
                *context['lead_visible_parties'],
                *{r.referred.id for r in referrals}]
        return context
