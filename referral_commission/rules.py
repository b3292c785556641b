# This file is part of the lead trading suite. See README.rst for details.
"""The rules of a referral payout as plain functions: the default period,
the commission of a revenue line, the three areas, the aggregation per
recipient with netting and the minimum, and the amount in words.

No database access, so that each rule is tested on its own. Amounts are
`Decimal` in the company currency; rates are percentages (5 for 5 %)."""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from num2words import CONVERTER_CLASSES, num2words

AREAS = ('new', 'difference', 'overpaid')
# Commission shares keep four decimals, as Tryton's commissions do; the
# amount of a voucher is rounded to the currency
SHARE_EXPONENT = Decimal('0.0001')

# What became of the open commission of one referral in one area
INCLUDED = 'included'
BELOW_MINIMUM = 'below_minimum'
NOT_POSITIVE = 'not_positive'
OUT_OF_SCOPE = 'out_of_scope'
BLOCKED = 'blocked'
NOT_APPROVED = 'not_approved'


def default_period(programme_start, today):
    """The period a payout covers unless told otherwise: from the start of
    the programme to the end of the month before `today`, leaving the
    current month for late returns. Without a programme start, the period
    starts with the year of its end."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = programme_start or end.replace(month=1, day=1)
    return min(start, end), end


def commission_share(base, rate, exponent=SHARE_EXPONENT):
    "The commission at `rate` percent of the revenue `base`"
    return (base * rate / 100).quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Referral:
    """A referral as a payout sees it: `kind` is 'standard' or
    'collector', `state` 'open', 'approved' or 'blocked', `paid_before`
    whether commission of the referral was paid out already."""
    id: int
    referrer: int
    branch: int | None
    kind: str
    state: str
    paid_before: bool


@dataclass(frozen=True)
class OpenLine:
    """A commission line not paid out yet.

    `base` is the revenue (negative for a credit note or a cancellation);
    `due` whether it may be paid now (its revenue settled within the
    period); `paid_rates` the (voucher, cash) rates at which the revenue
    it corrects was paid out, None when that revenue was never paid."""
    id: int
    referral: int
    base: Decimal
    due: bool
    paid_rates: tuple | None = None


@dataclass(frozen=True)
class Settings:
    """The settings of a payout run: rates in percent, the minimum of a
    voucher, the areas in `scope`, whether only approved referrals are
    paid and whether standard referrers get one voucher per referral
    (`per_referral`) instead of one for all"""
    voucher_rate: Decimal
    cash_rate: Decimal
    minimum: Decimal
    scope: frozenset = frozenset(AREAS)
    approved_only: bool = False
    per_referral: bool = False
    exponent: Decimal = Decimal('0.01')


@dataclass(frozen=True)
class Share:
    "The commission a payout computes for one open line"
    line: int
    referral: int
    area: str
    base: Decimal
    voucher: Decimal
    cash: Decimal


@dataclass
class Recipient:
    """One voucher to issue: the referrer, the branch whose letterhead it
    carries, the referral when the voucher is for one referral only, and
    the shares it pays"""
    referrer: int
    branch: int | None
    referral: int | None
    shares: list = field(default_factory=list)
    voucher: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    status: str = INCLUDED

    def area_total(self, area):
        return sum((s.voucher for s in self.shares if s.area == area),
            Decimal(0))


@dataclass
class PreviewRow:
    "What the payout does with the open commission of a referral in an area"
    referral: int
    area: str
    base: Decimal = Decimal(0)
    voucher: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    lines: int = 0
    status: str = INCLUDED


@dataclass
class PayoutPlan:
    rows: list
    recipients: list

    @property
    def included(self):
        return [r for r in self.recipients if r.status == INCLUDED]


def area_of(line, referral):
    """The area of an open line: commission paid on revenue that was later
    credited is overpaid; otherwise the first commission of a referral is
    new, further commission on a referral paid before is a difference."""
    if line.paid_rates is not None:
        return 'overpaid'
    if referral.paid_before:
        return 'difference'
    return 'new'


def share_of(line, referral, settings):
    """The commission of a due open line: at the rates of the run, and,
    for revenue credited after its commission was paid, at the rates it
    was paid at, so that netting takes back exactly what was paid."""
    voucher_rate, cash_rate = line.paid_rates or (
        settings.voucher_rate, settings.cash_rate)
    return Share(
        line=line.id, referral=referral.id, area=area_of(line, referral),
        base=line.base,
        voucher=commission_share(line.base, voucher_rate),
        cash=commission_share(line.base, cash_rate))


def recipient_key(referral, settings):
    """Which voucher a referral's commission goes to: one per referrer and
    branch (a branch sends its own letters); a standard referrer gets one
    per referral when the export variant asks for it, a collector always
    one for everything."""
    if settings.per_referral and referral.kind == 'standard':
        return (referral.referrer, referral.branch, referral.id)
    return (referral.referrer, referral.branch, None)


def referral_refusal(referral, settings):
    "Why a referral's commission is held back whatever its amount, or None"
    if referral.state == 'blocked':
        return BLOCKED
    if settings.approved_only and referral.state != 'approved':
        return NOT_APPROVED
    return None


def plan_payout(lines, referrals, settings):
    """Decide what a payout pays.

    `lines` are the open commission lines of the `referrals` (a mapping
    of id to Referral, already restricted to the run's branches and
    types). Only due lines count. Each gets its area; the areas in scope
    of the referrals that may be paid are summed per recipient, so that
    small amounts of several referrals add up and overpaid commission is
    subtracted from open commission when the overpaid area is in scope. A
    recipient whose voucher stays below the minimum, or is not positive,
    is left out: its lines stay open for the next run (carry-forward).

    Return a PayoutPlan with a PreviewRow per referral and area and the
    recipients, each with its status."""
    rows = {}
    recipients = {}
    for line in lines:
        if not line.due:
            continue
        referral = referrals[line.referral]
        share = share_of(line, referral, settings)
        row = rows.setdefault(
            (referral.id, share.area), PreviewRow(referral.id, share.area))
        row.base += share.base
        row.voucher += share.voucher
        row.cash += share.cash
        row.lines += 1
        refusal = referral_refusal(referral, settings)
        if refusal:
            row.status = refusal
        elif share.area not in settings.scope:
            row.status = OUT_OF_SCOPE
        else:
            key = recipient_key(referral, settings)
            recipient = recipients.setdefault(key, Recipient(*key))
            recipient.shares.append(share)
    for recipient in recipients.values():
        recipient.voucher = round_amount(
            sum((s.voucher for s in recipient.shares), Decimal(0)),
            settings.exponent)
        recipient.cash = round_amount(
            sum((s.cash for s in recipient.shares), Decimal(0)),
            settings.exponent)
        recipient.status = recipient_status(
            recipient.voucher, settings.minimum)
    status_of_row = defaultdict(set)
    for recipient in recipients.values():
        for share in recipient.shares:
            status_of_row[share.referral, share.area].add(recipient.status)
    for key, statuses in status_of_row.items():
        # a referral's area goes to one recipient only
        rows[key].status, = statuses
    return PayoutPlan(
        rows=sorted(rows.values(), key=lambda r: (
                AREAS.index(r.area), r.referral)),
        recipients=sorted(recipients.values(), key=lambda r: (
                r.referrer, r.branch or 0, r.referral or 0)))


def recipient_status(voucher, minimum):
    """Whether a voucher of `voucher` is issued: it must be positive and
    reach the minimum, else its commission waits for the next run"""
    if voucher <= 0:
        return NOT_POSITIVE
    if voucher < minimum:
        return BELOW_MINIMUM
    return INCLUDED


def round_amount(amount, exponent=Decimal('0.01')):
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def amount_in_words(amount, currency_code, language):
    """The amount written out, as a voucher states it: in German "dreißig
    Euro und fünfzig Cent", "ein Euro"; the cents are left out when there
    are none. `language` is a language code such as 'de' or 'en_US';
    languages num2words does not know are written in English."""
    lang = (language or 'en').split('_')[0]
    if lang not in CONVERTER_CLASSES:
        lang = 'en'
    amount = round_amount(Decimal(amount))
    if amount != amount.to_integral_value():
        return num2words(
            amount, lang=lang, to='currency', currency=currency_code)
    # num2words always adds the cents ("und null Cent"): cut them at a
    # separator that no number word contains
    words = num2words(amount, lang=lang, to='currency',
        currency=currency_code, separator=_CUT)
    return words.split(_CUT)[0]


_CUT = '\x00'
