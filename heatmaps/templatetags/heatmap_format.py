"""Number formats for the heatmap pages: USD, prices, signed percentages, times."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def usd(value) -> str:
    """``$1.23M``; an em dash for a missing value."""
    number = _number(value)
    if number is None:
        return "—"
    sign = "−" if number < 0 else ""
    number = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if number >= limit:
            return f"{sign}${number / limit:.3g}{suffix}"
    return f"{sign}${number:.0f}"


@register.filter
def price(value) -> str:
    number = _number(value)
    if number is None:
        return "—"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:,.{max(0, 4 - len(str(int(abs(number)))))}f}"
    return f"{number:.4g}"


@register.filter
def signed_pct(value) -> str:
    number = _number(value)
    if number is None:
        return "—"
    return f"{'+' if number > 0 else '−' if number < 0 else ''}{abs(number):.2f} %"


@register.filter
def hours(value) -> str:
    number = _number(value)
    if number is None:
        return "—"
    if number < 1:
        return f"{number * 60:.0f} min"
    if number < 48:
        return f"{number:.1f} h"
    return f"{number / 24:.1f} d"


@register.filter
def utc_ms(value) -> str:
    """Milliseconds since the epoch as ``2024-05-10 14:00 UTC``."""
    number = _number(value)
    if number is None:
        return "—"
    return datetime.fromtimestamp(number / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
