"""How figures read, the same on pages, in emails and in subject lines.

Each function takes a number (or anything that converts to one) and returns
text; a missing or non-finite value reads as an em dash.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from liqsite.exchanges.http import from_ms

MISSING = "—"


def number(value) -> float | None:
    """``value`` as a finite float, or None."""
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def plain(value) -> str:
    """A setting as written: ``0.004``, ``5, 10, 25`` (lists joined), anything else as text."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value)
    return str(value)


def usd(value) -> str:
    """``3.1e6`` → ``$3.1M``: short enough for a table cell or a subject line."""
    amount = number(value)
    if amount is None:
        return MISSING
    sign = "−" if amount < 0 else ""
    magnitude = abs(amount)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{sign}${magnitude / limit:,.{1 if magnitude < limit * 100 else 0}f}{suffix}"
    return f"{sign}${magnitude:,.0f}"


def price(value) -> str:
    """A price with as many decimals as its size needs (BTC 64,123.5; SOL 142.31; a meme coin 0.000123)."""
    amount = number(value)
    if amount is None:
        return MISSING
    magnitude = abs(amount)
    if magnitude >= 1000:
        return f"{amount:,.1f}"
    if magnitude >= 1:
        return f"{amount:,.2f}"
    if magnitude == 0:
        return "0"
    return f"{amount:.4g}"


def pct(value, *, signed: bool = True) -> str:
    """``1.954`` → ``+1.95 %`` (``−`` for a fall)."""
    amount = number(value)
    if amount is None:
        return MISSING
    if not signed:
        return f"{amount:.2f} %"
    return f"{'+' if amount > 0 else '−' if amount < 0 else ''}{abs(amount):.2f} %"


def hours(value) -> str:
    """A duration in hours: ``45 min``, ``6.5 h``, ``2.1 d``."""
    amount = number(value)
    if amount is None:
        return MISSING
    if amount < 1:
        return f"{amount * 60:.0f} min"
    if amount < 48:
        return f"{amount:.1f} h"
    return f"{amount / 24:.1f} d"


def utc_ms(value) -> str:
    """Milliseconds since the epoch as ``2024-05-10 14:00 UTC``."""
    amount = number(value)
    if amount is None:
        return MISSING
    return f"{when(from_ms(amount))} UTC"


def when(value) -> str:
    """A datetime or ISO string as ``2026-06-26 14:00`` (UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return MISSING
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")
