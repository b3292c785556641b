# This file is part of the lead trading suite. See README.rst for details.
"""Staged dunning on Tryton's dunning: a daily job that creates and sends
the dunnings of automatic levels once per level, the log of every level
reached (the base of the statistics), exceptions, and the e-mail of a level
built from its editable text with the invoice and the letter attached."""
import logging
import mimetypes
from decimal import Decimal
from email.message import EmailMessage

import trytond.config as config
from trytond import backend
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import slugify
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, check_access
from trytond.wizard import StateReport

logger = logging.getLogger(__name__)

# The advisory lock that lets one dunning job at a time work on a database
JOB_LOCK = 0x44554e4e


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.dunning'

    invoice = fields.Function(
        fields.Many2One('account.invoice', "Invoice"),
        'get_invoice', searcher='search_invoice')
    block_reason = fields.Char(
        "Block Reason", readonly=True,
        states={'invisible': ~Eval('blocked')},
        help="Why the dunning was blocked automatically.")
    logs = fields.One2Many(
        'account.dunning.log', 'dunning', "Levels Reached", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.blocked.help = (
            "Check to block further levels of the procedure; the job blocks "
            "dunnings of invoices under an open complaint by itself.")

    def get_invoice(self, name):
        Invoice = Pool().get('account.invoice')
        origin = self.line.move.origin
        if isinstance(origin, Invoice):
            return origin.id

    @classmethod
    def search_invoice(cls, name, clause):
        nested = clause[0][len(name):]
        _, operator, value = clause[:3]
        if nested:
            return [('line.move.origin' + nested, operator, value,
                    'account.invoice')]
        if operator in {'=', '!='} and isinstance(value, int):
            return [('line.move.origin', operator,
                    f'account.invoice,{value}')]
        if operator in {'in', 'not in'}:
            return [('line.move.origin', operator,
                    [f'account.invoice,{v}' for v in value])]
        return [('line.move.origin.rec_name', operator, value,
                'account.invoice')]

    @classmethod
    def _overdue_line_domain(cls, date):
        # internal accounts are never billed; should a line exist, it is
        # not dunned
        return super()._overdue_line_domain(date) + [
            ('party.lead_internal', '!=', True),
            ]

    @classmethod
    def generate_dunnings(cls, date=None):
        super().generate_dunnings(date=date)
        with check_access():
            dunnings = cls.search([('state', 'in', ['draft', 'waiting'])])
        cls.apply_blocks(cls.browse(dunnings))

    @classmethod
    def apply_blocks(cls, dunnings):
        """Block the dunnings that must not go on, with the reason, and
        release those blocked automatically whose reason is gone"""
        reasons = cls.block_reasons(dunnings)
        to_write = []
        for dunning in dunnings:
            reason = reasons.get(dunning.id)
            if reason and (not dunning.blocked
                    or dunning.block_reason != reason):
                to_write.extend(([dunning], {
                            'blocked': True, 'block_reason': reason}))
            elif not reason and dunning.blocked and dunning.block_reason:
                to_write.extend(([dunning], {
                            'blocked': False, 'block_reason': None}))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def block_reasons(cls, dunnings):
        "{dunning id: why it is blocked} for the dunnings that must wait"
        return {}

    @classmethod
    def process(cls, dunnings):
        "Log the level each dunning reaches when it is sent"
        Log = Pool().get('account.dunning.log')
        reached = [d for d in dunnings
            if not d.blocked and d.state == 'draft']
        super().process(dunnings)
        Log.record(cls.browse(reached))

    @classmethod
    def run_job(cls):
        """The daily dunning job: create the dunnings due today and process
        and send those of automatic levels, for the company of the context
        or every company. One job at a time: a second one started while the
        first works finds the lock taken and leaves the work to it."""
        pool = Pool()
        Company = pool.get('company.company')
        transaction = Transaction()
        if backend.name == 'postgresql':
            cursor = transaction.connection.cursor()
            cursor.execute('SELECT pg_try_advisory_xact_lock(%s)',
                (JOB_LOCK,))
            if not cursor.fetchone()[0]:
                logger.info("dunning job already running, skipped")
                return
        company_id = transaction.context.get('company')
        companies = ([Company(company_id)] if company_id is not None
            else Company.search([]))
        for company in companies:
            with transaction.set_context(company=company.id):
                cls._run_company_job(company)

    @classmethod
    def _run_company_job(cls, company):
        pool = Pool()
        Date = pool.get('ir.date')
        Email = pool.get('ir.email')
        cls.generate_dunnings(Date.today())
        with check_access():
            dunnings = cls.browse(cls.search([
                        ('company', '=', company.id),
                        ('state', '=', 'draft'),
                        ('blocked', '=', False),
                        ('level.automatic', '=', True),
                        ]))
        cls.process(dunnings)
        emails = [e for e in (
                d.send_email() for d in cls.browse(dunnings)
                if d.level.send_email) if e]
        Email.save(emails)

    def send_email(self, datamanager=None):
        """Send the e-mail of the level once; the text of the level and the
        invoice and letter attached when the level says so"""
        if self._level_email_sent():
            return
        if not self.level.email_text:
            return super().send_email(datamanager=datamanager)
        return self.send_level_email()

    def _level_email_sent(self):
        Email = Pool().get('ir.email')
        return bool(Email.search([
                    ('resource', '=', str(self)),
                    ('dunning_level', '=', self.level.id),
                    ], limit=1))

    def send_level_email(self):
        pool = Pool()
        Email = pool.get('ir.email')
        party = self.party
        to = self._recipient()
        if not to:
            logger.warning("no e-mail address for %s, %s not sent",
                party.rec_name, self.rec_name)
            return
        language = party.lang.code if party.lang else None
        with Transaction().set_context(language=language):
            dunning = self.__class__(self.id)
            values = dunning.level.email_text.get(dunning)
            files = dunning._level_files()
        msg = EmailMessage()
        msg.set_content(values.get('body', ''))
        for name, content in files:
            ctype = mimetypes.guess_type(name)[0] or 'application/octet-stream'
            maintype, subtype = ctype.split('/', 1)
            msg.add_attachment(content, maintype=maintype, subtype=subtype,
                filename=name)
        from_ = config.get('email', 'from')
        set_from_header(msg, from_,
            self.level.email_from or self.company.party.email or from_)
        msg['To'] = to
        msg['Subject'] = values.get('subject', '')
        msg['Auto-Submitted'] = 'auto-generated'
        # Through the outbox of lead_billing, not the data manager of the
        # wizard: the dunning is processed whatever the mail server does and
        # a message it does not take now is sent later, once
        return Email.put_in_outbox(msg, body=values.get('body'),
            resource=self, dunning_level=self.level)

    def _recipient(self):
        "The buyer's address for documents, else its e-mail contact"
        party = self.party
        if party.lead_document_email:
            return party.lead_document_email
        contact = party.contact_mechanism_get(
            'email', usage=self.level.email_contact_mechanism)
        if contact and contact.email:
            return contact.email

    def _level_files(self):
        "(file name, content) of the attachments"
        pool = Pool()
        files = []
        if self.level.attach_invoice and self.invoice:
            InvoiceReport = pool.get('account.invoice', type='report')
            ext, content, _, title = InvoiceReport.execute(
                [self.invoice.id], {})
            files.append((
                    f'{slugify(title)}-{slugify(self.invoice.number or "")}'
                    f'.{ext}', bytes(content)))
        if self.level.attach_letter:
            Letter = pool.get('dunning_levels.letter', type='report')
            ext, content, _, _ = Letter.execute([self.id], {})
            name = ' '.join(filter(None, [
                        self.level.name or self.level.rec_name,
                        self.invoice.number if self.invoice else None]))
            files.append((f'{slugify(name)}.{ext}', bytes(content)))
        return files

    def get_email_context(self):
        "What the level's e-mail text may use besides `record`"
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        fee = sum((f.amount for f in self.fees if f.level == self.level),
            Decimal(0))
        return {
            'today': today,
            'fee': fee,
            'format_date': Report.format_date,
            'format_currency': Report.format_currency,
            }


class EmailTemplate(metaclass=PoolMeta):
    __name__ = 'ir.email.template'

    def get_context(self, record):
        context = super().get_context(record)
        if self.model.name == 'account.dunning':
            context.update(record.get_email_context())
        return context


class Log(ModelSQL, ModelView):
    "The level a dunning reached, and when"
    __name__ = 'account.dunning.log'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    dunning = fields.Many2One(
        'account.dunning', "Dunning", required=True, readonly=True,
        ondelete='CASCADE')
    line = fields.Many2One(
        'account.move.line', "Line", required=True, readonly=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    procedure = fields.Many2One(
        'account.dunning.procedure', "Procedure", required=True,
        readonly=True)
    level = fields.Many2One(
        'account.dunning.level', "Level", required=True, readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('dunning_level_unique', Unique(t, t.dunning, t.level),
                'dunning_levels.msg_log_dunning_level_unique'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def record(cls, dunnings):
        "Log the level the dunnings reached now, once per level"
        existing = {(log.dunning.id, log.level.id) for log in cls.search([
                    ('dunning', 'in', [d.id for d in dunnings]),
                    ])}
        cls.save([cls(
                    company=d.company, dunning=d, line=d.line,
                    party=d.party, procedure=d.procedure, level=d.level,
                    date=d.date, amount=d.amount, currency=d.currency)
                for d in dunnings
                if (d.id, d.level.id) not in existing and d.date])


class ProcessDunning(metaclass=PoolMeta):
    __name__ = 'account.dunning.process'
    # the letter of the levels that print one is this module's PDF
    print_letter = StateReport('dunning_levels.letter')
