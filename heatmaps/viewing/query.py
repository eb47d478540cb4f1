"""The heatmap page's query string: parsed strictly, written back canonically.

Every control on the page is a link whose URL holds the whole view, so the
same URL always reproduces the same view. Anything malformed raises
:class:`BadQuery` with a sentence a person can act on; the view answers it
with a 400 page, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlencode

from grids.models import LongShareMethod
from liqsite.exchanges import INTERVALS

RANGES: dict[str, timedelta] = {
    "12h": timedelta(hours=12),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "2w": timedelta(days=14),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "6m": timedelta(days=182),
    "1y": timedelta(days=365),
}
DEFAULT_RANGE = "7d"

# How σ (the share of new positions that are long) was chosen when the grid
# was computed. Each method is its own stored snapshot; pages only pick one.
METHODS: dict[str, str] = {
    LongShareMethod.FIXED.value: "Fixed 50/50",
    LongShareMethod.LONG_SHORT.value: "Long/short ratio",
    LongShareMethod.TAKER.value: "Taker ratio",
}
DEFAULT_METHOD = LongShareMethod.FIXED.value

MIN_BINS, MAX_BINS = 20, 400
DEFAULT_BINS = 400


class BadQuery(ValueError):
    """A query value the page cannot serve; its message is shown to the visitor."""

    status = 400


class UnknownTarget(BadQuery):
    """The market or coin itself does not exist: the page is "not found", not a bad request."""

    status = 404


@dataclass(frozen=True)
class ViewQuery:
    """One view of a heatmap. ``None`` / empty means "the default" or "all"."""

    range: str = DEFAULT_RANGE
    interval: str | None = None
    method: str | None = None
    bins: int = DEFAULT_BINS
    buckets: tuple[float, ...] = ()  # leverage buckets shown; () = all
    exchanges: tuple[str, ...] = ()  # exchange plugin keys included (coin pages); () = all

    @property
    def span(self) -> timedelta:
        return RANGES[self.range]

    @property
    def filtered(self) -> bool:
        """Only some leverage buckets or exchanges are drawn."""
        return bool(self.buckets or self.exchanges)

    def with_(self, **changes) -> ViewQuery:
        return replace(self, **changes)

    def params(self) -> dict[str, str]:
        """The canonical query parameters: the resolved choices always, filters only when set."""
        params = {"range": self.range}
        if self.interval:
            params["interval"] = self.interval
        if self.method:
            params["method"] = self.method
        if self.bins != DEFAULT_BINS:
            params["bins"] = str(self.bins)
        if self.buckets:
            params["buckets"] = ",".join(format_leverage(b) for b in self.buckets)
        if self.exchanges:
            params["exchanges"] = ",".join(self.exchanges)
        return params

    def querystring(self) -> str:
        return "?" + urlencode(self.params(), safe=",")


def format_leverage(value: float) -> str:
    return f"{value:g}"


def parse_view_query(get, *, coin_page: bool) -> ViewQuery:
    """Parse ``request.GET`` into a :class:`ViewQuery`; unknown parameters are ignored."""
    query = ViewQuery()
    range_ = _single(get, "range")
    if range_ is not None:
        if range_ not in RANGES:
            raise BadQuery(f"Unknown range {range_!r}. Choose one of: {', '.join(RANGES)}.")
        query = query.with_(range=range_)
    interval = _single(get, "interval")
    if interval is not None:
        if interval not in INTERVALS:
            raise BadQuery(f"Unknown interval {interval!r}. Intervals are: {', '.join(INTERVALS)}.")
        query = query.with_(interval=interval)
    method = _single(get, "method")
    if method is not None:
        if method not in METHODS:
            raise BadQuery(f"Unknown long-share method {method!r}. Methods are: {', '.join(METHODS)}.")
        query = query.with_(method=method)
    bins = _single(get, "bins")
    if bins is not None:
        try:
            value = int(bins)
        except ValueError:
            value = None
        if value is None or not MIN_BINS <= value <= MAX_BINS:
            raise BadQuery(f"bins must be a whole number from {MIN_BINS} to {MAX_BINS}, not {bins!r}.")
        query = query.with_(bins=value)
    buckets = _single(get, "buckets")
    if buckets:
        query = query.with_(buckets=_parse_buckets(buckets))
    exchanges = _single(get, "exchanges")
    if exchanges:
        if not coin_page:
            raise BadQuery("exchanges applies to coin pages only; a market page shows one exchange.")
        keys = tuple(sorted({key.strip() for key in exchanges.split(",") if key.strip()}))
        query = query.with_(exchanges=keys)
    return query


def _single(get, name: str) -> str | None:
    values = get.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadQuery(f"{name} was given {len(values)} times; give it once.")
    return values[0].strip()


def _parse_buckets(text: str) -> tuple[float, ...]:
    values = set()
    for part in text.split(","):
        part = part.strip().rstrip("x×")
        try:
            value = float(part)
        except ValueError:
            raise BadQuery(f"buckets must be leverages separated by commas, e.g. 5,10,25; {part!r} is not a number.") from None
        if not 1 <= value <= 1000:
            raise BadQuery(f"Leverage bucket {part} is outside 1–1000.")
        values.add(value)
    return tuple(sorted(values))
