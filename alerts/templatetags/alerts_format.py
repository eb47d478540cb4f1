"""Template filters for figures: ``usd``, ``pct``, ``price``, ``when`` (ISO string or datetime, in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

from alerts import formatting

register = template.Library()


@register.filter
def usd(value):
    return formatting.usd(_number(value))


@register.filter
def pct(value):
    return formatting.pct(_number(value))


@register.filter
def price(value):
    return formatting.price(_number(value))


@register.filter
def when(value):
    """``2026-06-26T14:00:00+00:00`` → ``2026-06-26 14:00`` (UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def _number(value):
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
