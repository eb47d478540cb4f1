"""Assemble one heatmap view: snapshot → filters → window → measured bars.

This is the read path behind the market page, the coin page, share links and
the frozen views of alerts. It reads stored data only and draws nothing: the
pages turn a view into chart JSON (``heatmaps/pages/charted.py``). The reduced
window is cached for a minute per (snapshot version, canonical query), so
repeated views cost a cache hit and a few small queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from grids.models import GridSnapshot
from heatmaps.viewing.grid_source import GridSource, Layers, layer_mask, stored_layers
from heatmaps.viewing.measured import fill_measured
from heatmaps.viewing.query import BadQuery, ViewQuery, format_leverage
from heatmaps.viewing.snapshots import MAX_COLUMNS, Choice, Target, choose_snapshot, target_snapshots
from heatmaps.viewing.window import EmptyGrid, HeatmapWindow, reduce_window, window_start
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms
from markets.models import Candle, Market

CACHE_SECONDS = 60


@dataclass
class HeatmapView:
    """What a heatmap page shows. ``window`` is None when nothing is computed yet."""

    target: Target
    query: ViewQuery
    choice: Choice | None = None
    window: HeatmapWindow | None = None
    layers: Layers | None = None
    markets: list[Market] = field(default_factory=list)  # markets in the view (a coin: its markets on enabled exchanges)
    cache_key: str = ""  # names this view's data (snapshot version, canonical query); "" when nothing is cached

    @property
    def filtered(self) -> bool:
        """A bucket or exchange filter is on (live and frozen views alike)."""
        return self.query.filtered

    @property
    def snapshot(self) -> GridSnapshot | None:
        return self.choice.snapshot if self.choice else None

    @property
    def analysis(self) -> dict:
        analysis = self.snapshot.analysis if self.snapshot else None
        return analysis if isinstance(analysis, dict) else {}

    @property
    def computed(self) -> bool:
        return self.window is not None


def heatmap_view(target: Target, query: ViewQuery) -> HeatmapView:
    """The view of ``target`` for ``query``; raises :class:`BadQuery` for what cannot be shown."""
    markets = _target_markets(target)
    snapshots = target_snapshots(target)
    if not snapshots:
        return HeatmapView(target, query, markets=markets)
    choice = choose_snapshot(snapshots, query)
    snapshot = choice.snapshot
    key = _cache_key(target, snapshot, choice.query)
    cached = cache.get(key)
    if cached is not None:
        layers, resolved, window = cached
        return HeatmapView(target, resolved, choice, window, layers, markets, key)

    source = GridSource(
        GridSnapshot.objects.values_list("arrays", flat=True).get(pk=snapshot.pk),
        layers=lambda: GridSnapshot.objects.values_list("layers", flat=True).get(pk=snapshot.pk),
    )
    try:
        layers = stored_layers(source)
        resolved, market_ids, included = _apply_filters(choice.query, layers, markets, snapshot)
        keep = layer_mask(source, market_ids=market_ids, buckets=resolved.buckets) if resolved.filtered else None
        try:
            window = reduce_window(
                source,
                interval=snapshot.interval,
                step_ms=INTERVAL_SECONDS[snapshot.interval] * 1000,
                span_ms=int(resolved.span.total_seconds() * 1000),
                max_columns=MAX_COLUMNS,
                max_bins=resolved.bins,
                layer_keep=keep,
                ohlc=_stored_candles(target, snapshot, source, resolved),
            )
        except EmptyGrid:
            return HeatmapView(target, resolved, choice, markets=markets)
    finally:
        source.close()
    fill_measured(window, included)
    cache.set(key, (layers, resolved, window), CACHE_SECONDS)
    return HeatmapView(target, resolved, choice, window, layers, markets, key)


def view_version(target: Target, query: ViewQuery) -> str:
    """Names the data a view would show now (snapshot version and canonical query), for a cheap "not modified".

    One query for the target's snapshots (without their arrays); raises
    :class:`BadQuery` like :func:`heatmap_view` for a choice that is not stored.
    """
    snapshots = target_snapshots(target)
    if not snapshots:
        return f"heatmap-view:v2:{target.key}:none"
    choice = choose_snapshot(snapshots, query)
    return _cache_key(target, choice.snapshot, choice.query)


def _cache_key(target: Target, snapshot: GridSnapshot, query: ViewQuery) -> str:
    version = f"{snapshot.pk}:{snapshot.input_digest}:{snapshot.computed_at.timestamp():.0f}"
    return f"heatmap-view:v2:{target.key}:{version}:{query.querystring()}"


def _target_markets(target: Target) -> list[Market]:
    # A coin's markets are those its grid sums (on enabled exchanges); a market of a disabled exchange
    # was listed as one of them.
    return target.markets()


def _apply_filters(query: ViewQuery, layers: Layers | None, markets: list[Market], snapshot: GridSnapshot):
    """Check the bucket and exchange filters against the stored layers.

    Returns the query with "everything selected" written as "no filter" (so
    such URLs are canonical), the market ids to keep (None = all) and the
    markets whose measured liquidations belong in the view.
    """
    included = _contributing_markets(layers, markets, snapshot)
    buckets, exchanges = query.buckets, query.exchanges
    if buckets:
        if layers is None or not layers.by_bucket:
            raise BadQuery("This grid was stored without per-bucket layers, so leverage buckets cannot be filtered here.")
        unknown = [b for b in buckets if not any(abs(b - s) < 1e-6 for s in layers.buckets)]
        if unknown:
            raise BadQuery(
                f"No {', '.join(format_leverage(b) + '×' for b in unknown)} leverage bucket is stored. "
                f"Stored buckets: {', '.join(format_leverage(b) + '×' for b in layers.buckets)}."
            )
        if len(buckets) == len(layers.buckets):
            buckets = ()
    market_ids = None
    if exchanges:
        if layers is None:
            raise BadQuery("This grid was stored without per-exchange layers, so exchanges cannot be filtered here.")
        keys = {market.exchange.plugin: market.exchange for market in markets if market.pk in layers.market_ids}
        unknown = [key for key in exchanges if key not in keys]
        if unknown:
            raise BadQuery(
                f"Exchange {', '.join(unknown)} is not part of this grid. Included: {', '.join(sorted(keys)) or 'none'}."
            )
        if set(exchanges) == set(keys):
            exchanges = ()
        else:
            market_ids = {m.pk for m in included if m.exchange.plugin in exchanges}
            included = [m for m in included if m.pk in market_ids]
    return query.with_(buckets=buckets, exchanges=exchanges), market_ids, included


def _contributing_markets(layers: Layers | None, markets: list[Market], snapshot: GridSnapshot) -> list[Market]:
    """Markets whose data went into the grid: from its layers, else ``params["markets"]``, else all."""
    if snapshot.market_id is not None:
        return [m for m in markets if m.pk == snapshot.market_id]
    if layers:
        ids = set(layers.market_ids)
    else:
        listed = (snapshot.params or {}).get("markets")
        ids = {m.get("id") for m in listed if isinstance(m, dict)} if isinstance(listed, list) else set()
    return [m for m in markets if m.pk in ids] if ids else markets


def _stored_candles(target: Target, snapshot: GridSnapshot, source: GridSource, query: ViewQuery):
    """Candles from the Candle table when the snapshot stores closes only (market pages)."""
    if all(name in source for name in ("open", "high", "low")) or target.is_coin:
        return None
    times = source["times"].astype(np.int64)
    first = window_start(times, int(query.span.total_seconds() * 1000))
    window_times = times[first:]
    rows = Candle.objects.filter(
        market=target.loaded().market,
        interval=snapshot.interval,
        time__gte=from_ms(window_times[0]),
        time__lte=from_ms(window_times[-1]),
    ).values_list("time", "open", "high", "low", "close")
    ohlc = {name: np.full(len(window_times), np.nan) for name in ("open", "high", "low", "close")}
    rows = list(rows)
    if rows:
        ms = np.array([int(row[0].timestamp() * 1000) for row in rows], dtype=np.int64)
        values = np.array([row[1:] for row in rows], dtype=np.float64)
        index = np.minimum(np.searchsorted(window_times, ms), len(window_times) - 1)
        aligned = window_times[index] == ms  # a candle with no grid step is left out
        for column, name in enumerate(("open", "high", "low", "close")):
            ohlc[name][index[aligned]] = values[aligned, column]
    if not np.isfinite(ohlc["open"]).any():
        return None
    # Steps without a candle row keep the stored close, so the line never breaks.
    missing = ~np.isfinite(ohlc["close"])
    ohlc["close"][missing] = source["close"].astype(np.float64)[first:][missing]
    return ohlc


def view_base(target: Target) -> str:
    """The asset open interest is counted in."""
    return target.coin if target.is_coin else target.loaded().market.base


def view_currency(markets: list[Market]) -> str:
    """The quote currency when every market in the view shares one, else USD."""
    quotes = {m.quote for m in markets if m.quote}
    return quotes.pop() if len(quotes) == 1 else "USD"
