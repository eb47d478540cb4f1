"""Compute and store liquidation grids: stored series → engine → ``GridSnapshot``.

For each market and interval the newest ``STORED_STEPS`` steps are computed
(after a warm-up of up to 7 days before them, so levels opened earlier still
count) once per long-share method, and stored with their reading (bands, OI
confirmation, squeeze summary). A snapshot is rewritten only when its inputs
or parameters changed: the SHA-256 of both is kept beside it, so computing
again on the same data writes nothing. Each snapshot is written in its own
transaction; a failure leaves the previous one in place.

Per-coin aggregates run every market of one base asset with its own formula
and tiers and sum them on one bin grid and time index.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from heatmaps.analysis import analysis_from_reading
from heatmaps.engine import (
    DEFAULT_WARMUP_MS,
    LiquidationFormula,
    MarketSeries,
    ModelParams,
    ReadingSettings,
    TierTable,
    default_bin_edges,
    read_map,
    squeeze_summary,
    window_grid,
)
from heatmaps.grid_inputs import StepArrays, market_steps
from heatmaps.models import GridSnapshot, LongShareMethod, Market
from heatmaps.models.grids import pack_arrays, pack_layers
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms
from liqsite.exchanges.registry import plugin_class

log = logging.getLogger(__name__)

# Newest steps kept per snapshot: 14 days of 5m, 42 days of 15m, 168 days of 1h, 672 days of 4h.
STORED_STEPS = 4032
BINS = 400
# Bumped when the computation changes in a way stored digests cannot see.
COMPUTE_VERSION = 2
READING = ReadingSettings()


@dataclass(frozen=True)
class ComputeOutcome:
    """What happened to one snapshot: "stored", "unchanged" or "skipped" (with why)."""

    target: str
    interval: str
    method: str
    status: str
    detail: str = ""

    def line(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.target} {self.interval} {self.method}: {self.status}{detail}"


def liquidation_formula(market: Market) -> LiquidationFormula:
    """The market's exchange formula: linear or inverse, margin at liquidation or at entry."""
    try:
        bases = plugin_class(market.exchange.plugin).maintenance_basis
    except LookupError:  # plugin uninstalled: fall back to the model page's formulas
        bases = {}
    return LiquidationFormula(market.contract_type, bases.get(market.contract_type, "liquidation"))


def model_params(market: Market) -> ModelParams:
    """The reference model's parameters with this market's exchange formula and tiers."""
    formula = liquidation_formula(market)
    tiers = TierTable.from_records(market.margin_tiers) if market.margin_tiers else None
    return ModelParams(formula=formula, tiers=tiers)


def _series(steps: StepArrays, params: ModelParams, method: str) -> MarketSeries:
    """Engine input for one long-share method (fixed 50/50 is the model page's reference)."""
    long_share = steps.long_share if method == LongShareMethod.LONG_SHORT else None
    taker = method == LongShareMethod.TAKER
    return MarketSeries(
        high=steps.high, low=steps.low, close=steps.close, open_interest=steps.open_interest,
        open_time=steps.open_time, long_share=long_share,
        taker_buy_volume=steps.taker_buy_volume if taker else None, volume=steps.volume if taker else None,
        params=params,
    )


def _params_record(params: ModelParams, method: str, interval: str, markets: Sequence[Market]) -> dict:
    return {
        "version": COMPUTE_VERSION,
        "interval": interval,
        "long_share_method": method,
        "formula": {"contract": params.formula.contract, "maintenance_basis": params.formula.maintenance_basis},
        "leverage": list(params.leverage),
        "weights": list(params.weights),
        "mmr": list(params.mmr) if params.mmr is not None else None,
        "default_long_share": params.default_long_share,
        "markets": [
            {
                "id": m.pk, "symbol": m.symbol, "exchange": m.exchange.plugin, "contract_type": m.contract_type,
                "tiers": m.margin_tiers[:3],  # the tiers the default (first-tier) positions use, for the page
            }
            for m in markets
        ],
        "bins": BINS,
        "warmup_hours": DEFAULT_WARMUP_MS / 3_600_000,
        "reading": READING.to_dict(),
    }


def _digest(record: dict, series: Sequence[MarketSeries]) -> str:
    h = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode())
    for s in series:
        for name in ("open_time", "high", "low", "close", "open_interest", "long_share", "taker_buy_volume", "volume"):
            value = getattr(s, name)
            h.update(name.encode())
            if value is not None:
                h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


def _window(steps_list: Sequence[StepArrays], interval: str) -> tuple[int, int]:
    """[start, end) in ms: the newest STORED_STEPS steps of the union of the markets' steps."""
    times = np.unique(np.concatenate([s.open_time for s in steps_list]))
    start = int(times[max(0, len(times) - STORED_STEPS)])
    end = int(times[-1]) + INTERVAL_SECONDS[interval] * 1000
    return start, end


def _first_market_values(steps_list: Sequence[StepArrays], times: np.ndarray, field: str) -> np.ndarray:
    """``field`` at each time from the first market (in order) that has a step there, as the engine picks prices."""
    out = np.full(len(times), np.nan)
    for steps in reversed(steps_list):
        at = np.searchsorted(steps.open_time, times)
        found = (at < len(steps)) & (steps.open_time[np.minimum(at, len(steps) - 1)] == times)
        out[found] = getattr(steps, field)[at[found]]
    return out


def _store(
    *, markets: Sequence[Market], coin: str, interval: str, method: str, record: dict,
    series: Sequence[MarketSeries], steps_list: Sequence[StepArrays],
) -> ComputeOutcome:
    market = None if coin else markets[0]
    target = market.symbol if market else coin
    digest = _digest(record, series)
    scope = {"market": market, "coin": coin, "interval": interval, "long_share_method": method}
    current = GridSnapshot.objects.filter(**scope).values_list("input_digest", flat=True).first()
    if current == digest:
        return ComputeOutcome(target, interval, method, "unchanged")

    start, end = _window(steps_list, interval)
    shown = [s.window(s.open_time >= start) for s in steps_list]
    edges = default_bin_edges(np.concatenate([s.low for s in shown]), np.concatenate([s.high for s in shown]), BINS)
    reduced = window_grid(
        list(series), edges, start=start, end=end, max_columns=STORED_STEPS,
        interval_ms=INTERVAL_SECONDS[interval] * 1000, bucket_layers=True,
    )
    present = reduced.column_steps > 0
    long_grid = reduced.long_grid[present]
    short_grid = reduced.short_grid[present]
    times = reduced.column_open_time[present]
    close = reduced.close[present]
    open_interest = reduced.open_interest[present]
    reading = read_map(
        long_grid + short_grid, edges, close, open_interest,
        interval_seconds=INTERVAL_SECONDS[interval], open_time=times, settings=READING,
    )
    squeeze = squeeze_summary(long_grid[-1], short_grid[-1], edges, float(close[-1]))
    arrays = {
        "times": times,
        "bin_edges": edges,
        "long_grid": long_grid.astype(np.float32),
        "short_grid": short_grid.astype(np.float32),
        "realized_long": reduced.realized_long[present].astype(np.float32),
        "realized_short": reduced.realized_short[present].astype(np.float32),
        "pending_long": reduced.pending_long[present].astype(np.float32),
        "pending_short": reduced.pending_short[present].astype(np.float32),
        "open": _first_market_values(steps_list, times, "open"),
        "high": reduced.high[present],
        "low": reduced.low[present],
        "close": close,
        "open_interest": open_interest,
        # Index of the per (market, bucket) parts; the parts are in ``layers``.
        "layer_market_id": np.asarray([markets[layer.market_index].pk for layer in reduced.layers], dtype=np.int64),
        "layer_leverage": np.asarray([layer.leverage for layer in reduced.layers], dtype=np.float64),
    }
    layers = {
        f"layer_{name}": np.stack([getattr(layer, name)[present] for layer in reduced.layers]).astype(np.float32)
        for name in ("long_grid", "short_grid", "realized_long", "realized_short")
    }
    values = {
        "computed_at": timezone.now(),
        "input_digest": digest,
        "start": from_ms(times[0]),
        "end": from_ms(times[-1]),
        "steps": len(times),
        "bins": BINS,
        "params": record,
        "analysis": analysis_from_reading(reading, squeeze, times, interval),
        "arrays": pack_arrays(arrays),
        "layers": pack_layers(layers),
    }
    with transaction.atomic():
        GridSnapshot.objects.defer("arrays", "layers").update_or_create(**scope, defaults=values)
    return ComputeOutcome(target, interval, method, "stored", f"{len(times)} steps × {BINS} bins")


def market_compute(market_id: int) -> list[ComputeOutcome]:
    """Compute and store every (interval, long-share method) snapshot of one market."""
    market = Market.objects.select_related("exchange").get(pk=market_id)
    params = model_params(market)
    outcomes = []
    for interval in market.ordered_intervals:
        steps = market_steps(market, interval)
        for method in LongShareMethod.values:
            if len(steps) < 2:
                outcomes.append(ComputeOutcome(market.symbol, interval, method, "skipped", "fewer than 2 steps with open interest"))
                continue
            outcomes.append(_store(
                markets=[market], coin="", interval=interval, method=method,
                record=_params_record(params, method, interval, [market]),
                series=[_series(steps, params, method)], steps_list=[steps],
            ))
    return outcomes


def coin_markets(coin: str) -> list[Market]:
    """Markets of one base asset on enabled exchanges, aggregated into the coin's heatmap."""
    return list(Market.objects.filter(base=coin, exchange__enabled=True).select_related("exchange").order_by("pk"))


def coin_compute(coin: str) -> list[ComputeOutcome]:
    """Compute and store the aggregate snapshots of one coin across its markets."""
    markets = coin_markets(coin)
    intervals = sorted({i for m in markets for i in m.intervals}, key=INTERVAL_SECONDS.__getitem__)
    outcomes = []
    for interval in intervals:
        parts = [(m, market_steps(m, interval)) for m in markets if interval in m.intervals]
        parts = [(m, s) for m, s in parts if len(s) >= 2]
        # The market with the most open interest (in USD) comes first: its prices
        # are the aggregate's candles where several markets have a row.
        parts.sort(key=lambda ms: -float(ms[1].open_interest[-1] * ms[1].close[-1]))
        for method in LongShareMethod.values:
            if not parts:
                outcomes.append(ComputeOutcome(coin, interval, method, "skipped", "no market with open interest"))
                continue
            params = [model_params(m) for m, _ in parts]
            record = _params_record(params[0], method, interval, [m for m, _ in parts])
            series = [_series(s, p, method) for (_, s), p in zip(parts, params, strict=True)]
            outcomes.append(_store(
                markets=[m for m, _ in parts], coin=coin, interval=interval, method=method, record=record,
                series=series, steps_list=[s for _, s in parts],
            ))
    return outcomes
