# This file is part of the lead trading suite. See README.rst for details.
"""The business rules of complaints as plain functions: the complaint
window, the return cap, the supplier's share of a returned delivery and the
netting of those shares on self-billing statements.

No database access, so that each rule is tested on its own."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_WINDOW_DAYS = 7
# Return rates are kept to a hundredth of a percent
RATE_EXPONENT = Decimal('0.0001')


def complaint_deadline(delivered_on, window_days):
    """The last calendar day on which a delivery made on `delivered_on`
    (local date) may be complained about: the window counts whole days
    after the day of delivery, so a 7 day window of a delivery on Monday
    ends on the following Monday, at midnight local time."""
    if window_days is None or window_days < 0:
        raise ValueError(f"invalid complaint window: {window_days!r}")
    return delivered_on + dt.timedelta(days=window_days)


def within_window(complained_on, deadline):
    "Whether a complaint made on local day `complained_on` is in time"
    return complained_on <= deadline


def window_days(category_days, buyer_days):
    "The buyer's own window wins over the category's; neither: the default"
    if buyer_days is not None:
        return buyer_days
    if category_days is not None:
        return category_days
    return DEFAULT_WINDOW_DAYS


def return_rate(returned, delivered):
    """The share of `delivered` leads that were returned, as a Decimal
    ratio (0.15 for 15 %); no delivery, no rate"""
    if not delivered:
        return Decimal(0)
    return Decimal(returned) / Decimal(delivered)


def exceeds_cap(returned, delivered, cap):
    """Whether `returned` of `delivered` leads of one billing period is more
    than the `cap` ratio allows (a cap of None allows everything). The
    complaint being judged counts as returned."""
    if cap is None:
        return False
    return return_rate(returned, delivered) > Decimal(cap)


def supplier_share(purchase_price, already_reversed, open_deliveries,
        exponent=Decimal('0.01')):
    """What the supplier was paid for one returned delivery of a lead.

    The supplier is paid once per lead, whatever number of buyers it is
    sold to; that price is split equally over the lead's deliveries that are
    not returned. `open_deliveries` counts them including the one returned
    now, `already_reversed` is what earlier returns of the lead took back.
    The last delivery returned takes back the rest, so a lead that every
    buyer returned reverses exactly its price, never a cent more."""
    if purchase_price is None:
        return Decimal(0)
    if open_deliveries < 1:
        raise ValueError("a returned delivery is one of the open ones")
    remaining = purchase_price - already_reversed
    if remaining <= 0:
        return Decimal(0)
    if open_deliveries == 1:
        return remaining
    share = (remaining / open_deliveries).quantize(
        exponent, rounding=ROUND_HALF_UP)
    return min(share, remaining)


def select_clawbacks(available, amounts):
    """Choose which reversals (in `amounts`, oldest first) a self-billing
    statement of `available` net amount takes: each in turn, oldest first,
    when the statement stays at zero or above with it, so that netting
    never turns a statement into a payment demand; the others wait for the
    next statement.

    Return the indexes of the chosen amounts."""
    chosen = []
    left = available
    for index, amount in enumerate(amounts):
        if amount <= left:
            chosen.append(index)
            left -= amount
    return chosen
