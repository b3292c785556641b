# This file is part of the lead trading suite. See README.rst for details.
"""Charts of the management report as SVG pictures, which WeasyPrint draws
in the PDF: grouped bars and lines over labelled periods or categories.

No Tryton import, so that a chart is tested on its own."""
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 28, 52
COLORS = ['#1f5fa8', '#e08a1e', '#3b9a4b', '#b23a48', '#6b4fa0']
# About as many grid lines, in round steps
GRID_LINES = 4


def _nice_ceiling(value):
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least
    `value`, so that the axis reads in round steps"""
    if value <= 0:
        return Decimal(1)
    value = Decimal(value)
    power = Decimal(10) ** (value.adjusted())
    for step in (1, 2, Decimal('2.5'), 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _axis(values):
    """The lowest and highest value of the axis and its step: round steps
    with zero on a grid line"""
    low = min([Decimal(0), *values])
    high = max([Decimal(0), *values])
    if low == high:
        high = Decimal(1)
    step = _nice_ceiling((high - low) / GRID_LINES)
    bottom = (low / step).to_integral_value(ROUND_FLOOR) * step
    top = (high / step).to_integral_value(ROUND_CEILING) * step
    return bottom, top, step


def _number(value):
    "A value of the axis, short: 12500 is 12.5k"
    value = Decimal(value)
    for limit, suffix in ((Decimal(1000000), 'M'), (Decimal(1000), 'k')):
        if abs(value) >= limit:
            return f'{(value / limit).normalize():f}{suffix}'
    return f'{value.normalize():f}'


def chart(title, labels, series, kind='bar'):
    """Return the SVG of a chart titled `title` over `labels` (the x axis)
    with `series`: (name, values) pairs, one value per label, None for
    none. `kind` is 'bar' (groups of bars) or 'line'."""
    if kind not in {'bar', 'line'}:
        raise ValueError(f"Unknown chart kind: {kind!r}")
    values = [Decimal(v) for _, vs in series for v in vs if v is not None]
    bottom, top, step = _axis(values)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def y(value):
        share = (Decimal(value) - bottom) / (top - bottom)
        return MARGIN_TOP + plot_height * (1 - float(share))

    slot = plot_width / max(len(labels), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="DejaVu Sans, sans-serif" font-size="9">',
        f'<text x="{MARGIN_LEFT}" y="16" font-size="11" '
        f'font-weight="bold">{escape(title)}</text>',
        ]
    value = bottom
    while value <= top:
        position = y(value)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{position:.1f}" '
            f'x2="{WIDTH - MARGIN_RIGHT}" y2="{position:.1f}" '
            f'stroke="{"#888" if value == 0 else "#ddd"}" '
            'stroke-width="0.8"/>')
        parts.append(
            f'<text x="{MARGIN_LEFT - 4}" y="{position + 3:.1f}" '
            f'text-anchor="end" fill="#555">{_number(value)}</text>')
        value += step
    every = max(1, len(labels) // 12)
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = MARGIN_LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 12}" '
            f'text-anchor="end" fill="#333" '
            f'transform="rotate(-35 {x:.1f} {HEIGHT - MARGIN_BOTTOM + 12})"'
            f'>{escape(str(label))}</text>')
    width = slot * 0.8 / max(len(series), 1)
    for number, (name, series_values) in enumerate(series):
        color = COLORS[number % len(COLORS)]
        if kind == 'bar':
            for index, value in enumerate(series_values):
                if value is None:
                    continue
                x = MARGIN_LEFT + slot * (index + 0.1) + width * number
                top_y, zero_y = y(value), y(0)
                parts.append(
                    f'<rect x="{x:.1f}" y="{min(top_y, zero_y):.1f}" '
                    f'width="{width:.1f}" '
                    f'height="{abs(zero_y - top_y):.1f}" fill="{color}"/>')
        else:
            points = ' '.join(
                f'{MARGIN_LEFT + slot * (index + 0.5):.1f},{y(value):.1f}'
                for index, value in enumerate(series_values)
                if value is not None)
            parts.append(
                f'<polyline points="{points}" fill="none" '
                f'stroke="{color}" stroke-width="2"/>')
        legend_x = MARGIN_LEFT + 150 * number
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" '
            f'height="10" fill="{color}"/>')
        parts.append(
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}">'
            f'{escape(name)}</text>')
    parts.append('</svg>')
    return '\n'.join(parts)
