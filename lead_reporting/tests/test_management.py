# This file is part of the lead trading suite. See README.rst for details.
"""The monthly management report: its figures, its PDF and the scheduled
job that e-mails it once a month"""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.model.exceptions import ValidationError
from trytond.modules.lead_billing.tests.test_billing_committed import (
    serve_mail)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module

from .tools import today, trade, with_lead_trading

APRIL = dt.date(2026, 4, 5)


class ManagementTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module(
            ['lead_reporting', 'lead_complaints', 'lead_prepaid',
                'dunning_levels'])
        cls.mailbox = serve_mail(cls.addClassCleanup)

    def setUp(self):
        self.mailbox.messages.clear()

    @with_lead_trading
    def test_sent_once_a_month_to_the_recipients(self, fixture):
        pool = Pool()
        Configuration = pool.get('lead.configuration')
        Management = pool.get('lead.reporting.management')
        trade(fixture)
        config = Configuration(1)
        config.reporting_recipients = (
            'chef@leadhandel.example; controlling@leadhandel.example')
        config.save()

        with today(APRIL):
            Management.send_due()
            Management.send_due()
        report, = Management.search([])
        self.assertEqual(report.month, dt.date(2026, 3, 1))
        self.assertIn('March', report.rec_name)
        email = report.email
        self.assertEqual(email.recipients,
            'chef@leadhandel.example, controlling@leadhandel.example')
        self.assertEqual(email.subject, report.rec_name)
        # the message leaves when the transaction commits: its attachment
        Document = pool.get('lead.reporting.management.document',
            type='report')
        ext, content, _, _ = Document.execute([report.id], {})
        self.assertEqual(ext, 'pdf')
        self.assertTrue(bytes(content).startswith(b'%PDF'))

        config = Configuration(1)
        with self.assertRaises(ValidationError) as raised:
            config.reporting_recipients = 'chef@example.com, nobody'
            config.save()
        self.assertIn('"nobody"', str(raised.exception))

    @with_lead_trading
    def test_figures_of_the_month(self, fixture):
        pool = Pool()
        Management = pool.get('lead.reporting.management')
        Document = pool.get('lead.reporting.management.document',
            type='report')
        trade(fixture)
        report, = Management.create([{'month': dt.date(2026, 3, 17)}])
        self.assertEqual(report.month, dt.date(2026, 3, 1))
        with today(APRIL):
            figures = Document.get_context([report], {}, {})['figures'][
                report.id]
        rows = {row.label: row for row in figures.rows}
        revenue = rows['Revenue']
        self.assertEqual((revenue.now, revenue.before, revenue.change),
            (D('110.00'), D('0.00'), None))
        self.assertEqual(rows['Purchase Cost'].now, D('40.00'))
        self.assertEqual(rows['Margin'].now, D('70.00'))
        self.assertEqual(rows['Deliveries'].now, 5)
        self.assertEqual(rows['Sell-through'].now, D('1.2500'))
        self.assertEqual(figures.margin_rate, D('0.6364'))
        self.assertEqual((figures.open, figures.overdue),
            (D('0.00'), D('72.00')))
        self.assertEqual([b.buyer.code for b in figures.buyers], ['B2', 'B1'])
        self.assertEqual(len(figures.charts), 3)
        for picture in figures.charts:
            self.assertIn('<svg ', picture.render())
