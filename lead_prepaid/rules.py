# This file is part of the lead trading suite. See README.rst for details.
"""The arithmetic of prepaid balances, free of the database.

Every amount is a net `Decimal` in the company currency: lead prices are
net, and the deposit holds the net part of each prepayment (its VAT went to
the tax account when the prepayment invoice was posted)."""
from decimal import ROUND_FLOOR, Decimal
from typing import NamedTuple

SPEND_WINDOW_DAYS = 14


def available_balance(deposit, unbilled):
    """What the buyer may still receive: the money on deposit less the
    deliveries it will have to pay for at the next billing run"""
    return deposit - unbilled


def admit_deliveries(available, prices):
    """Return, for deliveries priced `prices` to one buyer considered in
    turn, whether each fits the balance left by the ones admitted before
    it; a delivery priced exactly the balance left still fits."""
    admitted = []
    for price in prices:
        fits = price <= available
        if fits:
            available -= price
        admitted.append(fits)
    return admitted


def runway_days(available, spent, window_days=SPEND_WINDOW_DAYS):
    """Whole days the available balance lasts at the average daily spend
    of the window; None when nothing was spent (no end in sight), 0 when
    nothing is left."""
    if available <= 0:
        return 0
    if spent <= 0:
        return None
    daily = spent / window_days
    return int((available / daily).to_integral_value(rounding=ROUND_FLOOR))


class ThresholdChange(NamedTuple):
    alert: list
    rearm: list


def threshold_changes(thresholds, available):
    """Split `thresholds` [(key, amount, crossed)] into the ones to alert
    (the balance fell below them since the last alert) and the ones to
    re-arm (the balance is back at or above them): one alert per
    crossing, however many deliveries follow."""
    alert, rearm = [], []
    for key, amount, crossed in thresholds:
        below = available < amount
        if below and not crossed:
            alert.append(key)
        elif not below and crossed:
            rearm.append(key)
    return ThresholdChange(alert, rearm)


def recall_amounts(deposit, invoice_amounts):
    """Spread the deposit over invoices of net amounts `invoice_amounts`
    in turn: each takes what it needs while the deposit lasts; return the
    amount recalled on each (positive)."""
    recalled = []
    for amount in invoice_amounts:
        take = max(min(deposit, amount), Decimal(0))
        deposit -= take
        recalled.append(take)
    return recalled


def refundable(deposit, unbilled):
    """The part of the deposit that can be paid back: what the unbilled
    deliveries do not need; never negative"""
    return max(available_balance(deposit, unbilled), Decimal(0))
