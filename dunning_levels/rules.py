# This file is part of the lead trading suite. See README.rst for details.
"""The dunning rules as plain functions: when a level is due, and the days a
customer took to pay after a level."""
import datetime as dt

DELAY_BASES = [
    ('due_date', "Due Date"),
    ('previous_level', "Previous Level"),
    ]


def level_due(delay_base, delay, today, due_date, previous_level_date):
    """Whether a level with `delay` (a timedelta, None: never by itself)
    applies on `today`.

    'due_date' counts from the due date of the line (Tryton's way);
    'previous_level' counts from the day the line reached the previous
    level, and falls back to the due date for a line that has not reached
    any level yet, so that a procedure may start with such a level."""
    if delay is None:
        return False
    if delay_base == 'previous_level' and previous_level_date is not None:
        start = previous_level_date
    else:
        start = due_date
    if start is None:
        return False
    return today - start >= delay


def days_to_pay(level_date, paid_date):
    """The whole days between reaching a level and the payment; a payment
    made before the level was processed counts as zero"""
    if level_date is None or paid_date is None:
        return None
    return max((paid_date - level_date).days, 0)


def overdue_days(due_date, today):
    if due_date is None:
        return 0
    return max((today - due_date).days, 0)


def unit_days(days):
    "A number of days as the timedelta Tryton's dunning levels hold"
    return dt.timedelta(days=days)
