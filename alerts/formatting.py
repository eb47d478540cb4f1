"""Plain-text formatting of figures shared by pages and emails."""

from __future__ import annotations


def usd(value: float | None) -> str:
    """``3.1e6`` → ``$3.1M``: short enough for a table cell or a subject line."""
    if value is None:
        return "–"
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"${value / limit:,.{1 if magnitude < limit * 100 else 0}f}{suffix}"
    return f"${value:,.0f}"


def pct(value: float | None, *, signed: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f} %" if signed else f"{value:.2f} %"


def price(value: float | None) -> str:
    """A price with as many decimals as its size needs (BTC 64,123.5; a meme coin 0.000123)."""
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    if magnitude == 0:
        return "0"
    return f"{value:.4g}"
