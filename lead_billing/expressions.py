# This file is part of the lead trading suite. See README.rst for details.
"SQL expressions the reports of the suite share"
from sql import Literal
from sql.conditionals import Case
from sql.functions import Function

from trytond import backend


class JulianDay(Function):
    "SQLite's day number of a date, to subtract dates"
    __slots__ = ()
    _function = 'JULIANDAY'


def days_between(start, end):
    "Return the SQL expression of the days from the date `start` to `end`"
    if backend.name == 'sqlite':
        # SQLite stores dates as text
        return JulianDay(end) - JulianDay(start)
    return end - start


def bisect(column, bounds):
    """Return the expression of the key of the bound that `column` falls
    in: `bounds` are pairs (key, start) sorted by start, each running up to
    the next start. The search halves the bounds at each step, so that a
    row is compared a few times and not once per period."""
    if len(bounds) == 1:
        key, _ = bounds[0]
        return Literal(key)
    middle = len(bounds) // 2
    _, start = bounds[middle]
    return Case(
        (column < start, bisect(column, bounds[:middle])),
        else_=bisect(column, bounds[middle:]))
