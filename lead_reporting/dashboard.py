# This file is part of the lead trading suite. See README.rst for details.
"""The Lead Trading Dashboard: the key charts of the last twelve months on
one board, with the charts of the optional modules that are activated."""
from lxml import etree

from trytond.pool import Pool, PoolMeta

# The dashboard actions of the optional modules, defined with them
OPTIONAL_CHARTS = [
    'act_dashboard_complaints', 'act_dashboard_dunning',
    'act_dashboard_prepaid']


class View(metaclass=PoolMeta):
    __name__ = 'ir.ui.view'

    def view_get(self, model=None):
        # A board cannot be extended by a view of an optional module as a
        # form can: its extensions would need a model
        result = super().view_get(model=model)
        if (self.module, self.name) == ('lead_reporting', 'dashboard_board'):
            result = dict(result,
                arch=with_optional_charts(result['arch']))
        return result


def with_optional_charts(arch):
    "The board `arch` with the charts of the activated optional modules"
    ModelData = Pool().get('ir.model.data')
    board = etree.fromstring(arch.encode('utf-8'))
    for name in OPTIONAL_CHARTS:
        try:
            ModelData.get_id('lead_reporting', name)
        except KeyError:
            continue
        etree.SubElement(board, 'action', name=f'lead_reporting.{name}')
    return etree.tostring(board, encoding='unicode')
