# This file is part of the lead trading suite. See README.rst for details.
"""When the e-mail outbox tries a message again and when it gives up: plain
functions without database."""
import datetime as dt

PENDING = 'pending'
SENT = 'sent'
FAILED = 'failed'

FIRST_RETRY = dt.timedelta(minutes=5)
LONGEST_RETRY = dt.timedelta(hours=6)
# 5 min doubling up to 6 h: the twelfth attempt comes about 40 hours after
# the first, long enough to outlast a mail server down over a weekend night
MAX_ATTEMPTS = 12


def retry_delay(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY):
    """The wait before the next attempt after `attempts` failed ones:
    `first` after the first, twice as long after each further one, never
    longer than `longest`"""
    if attempts < 1:
        raise ValueError(f"no failed attempt to wait after: {attempts}")
    delay = first
    for _ in range(attempts - 1):
        if delay >= longest:
            break
        delay *= 2
    return min(delay, longest)


def permanent_refusal(codes):
    """Whether the SMTP reply codes of a refused message say that trying
    again cannot help: every recipient (or the message) refused with a 5xx
    code; a 4xx code or no code (server unreachable) is worth a retry"""
    return bool(codes) and all(500 <= code <= 599 for code in codes)


def delivery_outcome(attempts, refused_codes, max_attempts=MAX_ATTEMPTS):
    """The state of a message after its `attempts`-th attempt failed with
    `refused_codes`: failed for good when the refusal is permanent or no
    attempt is left, else pending for a retry"""
    if permanent_refusal(refused_codes) or attempts >= max_attempts:
        return FAILED
    return PENDING


def next_attempt(now, attempts, refused_codes, max_attempts=MAX_ATTEMPTS):
    """(state, when to try again) after the `attempts`-th attempt at `now`
    failed with `refused_codes`; no time when the message failed for good"""
    state = delivery_outcome(attempts, refused_codes, max_attempts)
    if state == FAILED:
        return state, None
    return state, now + retry_delay(attempts)
