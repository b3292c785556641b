# This file is part of the lead trading suite. See README.rst for details.
"""The e-mail outbox: Tryton's e-mail archive (`ir.email`) keeps the whole
message of the documents it sends, committed with the work that sends them,
and delivers it after the commit; a message the mail server refuses or
cannot take stays pending and the outbox job tries it again later.

Delivery is exactly once in normal operation: each message is sent in its
own transaction that first takes its row (SELECT ... FOR UPDATE SKIP LOCKED
on PostgreSQL, the write lock of the database on SQLite) and only while it
is pending, and marks it sent in the same transaction, so a second job or
a retry never sends a message marked sent.

What remains at least once: the server accepted the message but the
transaction marking it sent did not commit (the process died, the database
connection broke). The message is then still pending and is sent a second
time by the next attempt. It carries the same Message-ID, fixed when it was
put in the outbox, so the receiving side recognises the duplicate."""
import datetime as dt
import email
import email.policy
import logging
import smtplib
from email.utils import formatdate, make_msgid

from sql import Null
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.sendmail import get_smtp_server, send_message
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.url import host

from .outbox_rules import FAILED, PENDING, SENT, next_attempt

logger = logging.getLogger(__name__)

STATES = [
    (None, ""),
    (PENDING, "Pending"),
    (SENT, "Sent"),
    (FAILED, "Failed"),
    ]
# The longest error text kept of a refusal
ERROR_LENGTH = 1000


class Email(metaclass=PoolMeta):
    __name__ = 'ir.email'

    outbox_state = fields.Selection(
        STATES, "Delivery", readonly=True,
        help="Pending: waits for the mail server, tried again later.\n"
        "Sent: the mail server accepted it.\n"
        "Failed: refused for good or too many attempts.\n"
        "Empty: sent directly, not through the outbox.")
    outbox_message = fields.Binary(
        "Message", readonly=True,
        states={'invisible': ~Eval('outbox_state')},
        help="The message as it is sent, with its attachments.")
    outbox_attempts = fields.Integer(
        "Attempts", readonly=True,
        states={'invisible': ~Eval('outbox_state')})
    outbox_next_attempt = fields.DateTime(
        "Next Attempt", readonly=True,
        states={'invisible': Eval('outbox_state') != PENDING})
    outbox_sent_at = fields.DateTime(
        "Delivered At", readonly=True,
        states={'invisible': Eval('outbox_state') != SENT})
    outbox_error = fields.Text(
        "Last Error", readonly=True,
        states={'invisible': ~Eval('outbox_error')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The job looks up the few pending messages among all e-mails
        cls._sql_indexes.add(
            Index(t, (t.outbox_next_attempt, Index.Range()),
                where=t.outbox_state == PENDING))
        cls._buttons.update({
                'outbox_retry': {
                    'invisible': ~Eval('outbox_state').in_(
                        [PENDING, FAILED]),
                    'depends': ['outbox_state'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//group[@id="outbox"]', 'states', {
                    'invisible': ~Eval('outbox_state'),
                    }),
            ]

    @classmethod
    def put_in_outbox(cls, msg, **values):
        """Return the unsaved e-mail that archives `msg` and sends it once
        saved and committed. The message gets its Message-ID and date now,
        so that every attempt sends the very same message."""
        if not msg['Message-ID']:
            msg['Message-ID'] = make_msgid(domain=host())
        if not msg['Date']:
            msg['Date'] = formatdate()
        return cls.from_message(msg,
            outbox_state=PENDING, outbox_message=msg.as_bytes(),
            outbox_attempts=0, outbox_next_attempt=None, **values)

    @classmethod
    def create(cls, vlist):
        emails = super().create(vlist)
        cls._deliver_after_commit([e for e in emails
                if e.outbox_state == PENDING])
        return emails

    @classmethod
    def _deliver_after_commit(cls, emails):
        if emails:
            manager = Transaction().join(OutboxDataManager())
            manager.put([e.id for e in emails])

    @classmethod
    @ModelView.button
    def outbox_retry(cls, emails):
        "Try the pending and failed messages again once this commits"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [e.id for e in emails if e.outbox_state in {PENDING, FAILED}]
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.outbox_state, table.outbox_next_attempt],
                    [PENDING, None],
                    where=reduce_ids(table.id, sub_ids)
                    & table.outbox_state.in_([PENDING, FAILED])))
        cls._deliver_after_commit(cls.browse(ids))

    @classmethod
    def deliver_due(cls):
        "The outbox job: send the pending messages whose retry time came"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=(table.outbox_state == PENDING)
                & ((table.outbox_next_attempt == Null)
                    | (table.outbox_next_attempt <= dt.datetime.now())),
                order_by=[table.outbox_next_attempt.nulls_first,
                    table.id.asc]))
        cls.deliver([i for i, in cursor])

    @classmethod
    def deliver(cls, email_ids):
        """Send the pending messages of `email_ids`, each in its own
        committed transaction; return the ids of those delivered now.

        One connection to the mail server serves them all; when it cannot
        be opened, the attempt of every message is recorded as failed
        without asking the server again."""
        delivered = []
        outbox = Outbox()
        try:
            for email_id in email_ids:
                with Transaction().new_transaction() as transaction:
                    try:
                        if cls._deliver_one(email_id, outbox):
                            delivered.append(email_id)
                        transaction.commit()
                    except backend.DatabaseOperationalError:
                        # another job took or changed the message meanwhile
                        transaction.rollback()
        finally:
            outbox.close()
        return delivered

    @classmethod
    def _deliver_one(cls, email_id, outbox):
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        where = (table.id == email_id) & (table.outbox_state == PENDING)
        query = table.select(
            table.outbox_message, table.outbox_attempts, where=where)
        if database.has_select_for():
            # A message another job is sending is left to it
            query.for_ = database.get_select_for_skip_locked()('UPDATE')
        else:
            # SQLite has no row lock: writing the row takes the write lock
            # of the database, a second job waits here and then finds the
            # message sent
            cursor.execute(*table.update(
                    [table.outbox_attempts], [table.outbox_attempts],
                    where=where))
        cursor.execute(*query)
        row = cursor.fetchone()
        if not row:
            return False
        message, attempts = row
        msg = email.message_from_bytes(
            bytes(message), policy=email.policy.default)
        refused_codes, error = outbox.send(msg)
        attempts = (attempts or 0) + 1
        now = dt.datetime.now()
        columns = [table.outbox_attempts, table.outbox_error,
            table.write_uid, table.write_date]
        values = [attempts, error, transaction.user, CurrentTimestamp()]
        if error is None:
            columns += [table.outbox_state, table.outbox_sent_at,
                table.outbox_next_attempt]
            values += [SENT, now, None]
        else:
            state, retry_at = next_attempt(now, attempts, refused_codes)
            columns += [table.outbox_state, table.outbox_next_attempt]
            values += [state, retry_at]
            logger.warning("e-mail %s %s (attempt %s): %s",
                email_id, state, attempts, error)
        cursor.execute(*table.update(columns, values,
                where=table.id == email_id))
        return error is None


class Outbox:
    """The connection to the mail server used by one delivery run, opened
    at the first message; once it cannot be opened, the next messages of
    the run fail with the same error."""

    def __init__(self):
        self.server = None
        self.unreachable = None

    def send(self, msg):
        """Send `msg`; return (SMTP reply codes of a refusal, error text),
        (None, None) when the server accepted it"""
        if self.unreachable is not None:
            return [], self.unreachable
        try:
            if self.server is None:
                self.server = get_smtp_server(strict=True)
        except (smtplib.SMTPException, OSError) as exception:
            self.unreachable = describe(exception)
            return [], self.unreachable
        try:
            self.server = send_message(
                msg, server=self.server, strict=True) or self.server
        except smtplib.SMTPRecipientsRefused as exception:
            return ([code for code, _ in exception.recipients.values()],
                describe(exception))
        except smtplib.SMTPResponseException as exception:
            self.close()
            return [exception.smtp_code], describe(exception)
        except (smtplib.SMTPException, OSError) as exception:
            # the connection broke: the next message opens another one
            self.close()
            return [], describe(exception)
        return None, None

    def close(self):
        if self.server is not None:
            try:
                self.server.quit()
            except (smtplib.SMTPException, OSError):
                self.server.close()
            self.server = None


def describe(exception):
    return f'{type(exception).__name__}: {exception}'[:ERROR_LENGTH]


class OutboxDataManager:
    """Deliver the messages a transaction put in the outbox once it has
    committed; what fails stays pending for the outbox job"""

    def __init__(self):
        self.ids = []

    def put(self, ids):
        self.ids.extend(i for i in ids if i not in self.ids)

    def __eq__(self, other):
        if not isinstance(other, OutboxDataManager):
            return NotImplemented
        return True

    def abort(self, trans):
        self.ids = []

    def tpc_begin(self, trans):
        pass

    def commit(self, trans):
        pass

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        ids, self.ids = self.ids, []
        if not ids:
            return
        Email = Pool().get('ir.email')
        try:
            Email.deliver(ids)
        except Exception:
            # the work is committed whatever the delivery does; the job
            # sends what is still pending
            logger.exception("e-mail outbox delivery after commit failed")

    def tpc_abort(self, trans):
        self.ids = []
