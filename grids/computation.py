"""Compute and store liquidation grids: stored series → engine → ``GridSnapshot``.

For each market and interval the newest ``STORED_STEPS`` steps are computed
(after a warm-up of up to 7 days before them, so levels opened earlier still
count) once per long-share method, and stored with their analysis (bands, OI
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
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from grids.analysis import analysis_to_json
from grids.codec import pack_arrays, pack_layers
from grids.inputs import StepArrays, market_steps
from grids.models import GridSnapshot, LongShareMethod
from grids.signals import grids_stored
from grids.targets import Target
from liqengine import (
    DEFAULT_WARMUP_MS,
    AnalysisSettings,
    LiquidationFormula,
    MarketSeries,
    ModelParams,
    ReadingSettings,
    TierTable,
    analyse_map,
    default_bin_edges,
    read_map,
    squeeze_summary,
    window_grid,
)
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms
from liqsite.exchanges.registry import plugin_class
from markets.models import Market

log = logging.getLogger(__name__)

# Newest steps kept per snapshot: 14 days of 5m, 42 days of 15m, 168 days of 1h, 672 days of 4h.
STORED_STEPS = 4032
BINS = 400
# Bumped when the computation changes in a way stored digests cannot see. 3: blobs are written with
# Zstandard (grids/codec.py); the new version makes an older release that is rolled back to recompute
# (and rewrite in deflate, which it can read) instead of taking these grids as unchanged.
COMPUTE_VERSION = 3
ANALYSIS = AnalysisSettings()
READINGS = ReadingSettings()


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
        high=steps.high,
        low=steps.low,
        close=steps.close,
        open_interest=steps.open_interest,
        open_time=steps.open_time,
        long_share=long_share,
        taker_buy_volume=steps.taker_buy_volume if taker else None,
        volume=steps.volume if taker else None,
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
                "id": m.pk,
                "symbol": m.symbol,
                "exchange": m.exchange.plugin,
                "contract_type": m.contract_type,
                "tiers": m.margin_tiers[:3],  # the tiers the default (first-tier) positions use, for the page
            }
            for m in markets
        ],
        "bins": BINS,
        "warmup_hours": DEFAULT_WARMUP_MS / 3_600_000,
        # Stored and digested under its old name: renaming the key would change every
        # snapshot's input digest and recompute grids whose inputs did not move.
        "reading": ANALYSIS.to_dict(),
        "readings": READINGS.to_dict(),
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


def _exchange_split_arrays(markets, steps_list, layers, times, keep) -> dict[str, np.ndarray]:
    """Small arrays that let a coin page say where its latest bands come from, without the big layer grids.

    Each layer's pending long and short USD per bin at the latest step, and each
    market's own open interest (base units, NaN where it has no step) at every stored step.
    """
    return {
        "layer_last_long": np.stack([layer.long_grid[keep][-1] for layer in layers]).astype(np.float32),
        "layer_last_short": np.stack([layer.short_grid[keep][-1] for layer in layers]).astype(np.float32),
        "market_ids": np.asarray([m.pk for m in markets], dtype=np.int64),
        "market_open_interest": np.stack([_first_market_values([steps], times, "open_interest") for steps in steps_list]),
    }


COPIED_FIELDS = ("input_digest", "start", "end", "steps", "bins", "params", "analysis", "arrays", "layers")


def _copy_snapshot(source_pk: int, scope: dict) -> bool:
    """Make the snapshot at ``scope`` a copy of snapshot ``source_pk``, its blobs copied by the database.

    The blobs are half a megabyte or more per grid: copied in one UPDATE they
    never travel to this process and back (a coin grid copied from its market's
    took ~9 ms through Python on SQLite, mostly that round trip). False when the
    source is gone by now (its market was recomputed or deleted meanwhile).
    Run inside a transaction.
    """
    source = GridSnapshot.objects.filter(pk=source_pk).order_by()
    copied = {name: Subquery(source.values(name)[:1]) for name in COPIED_FIELDS}
    target = GridSnapshot.objects.filter(**scope)
    if target.update(computed_at=timezone.now(), **copied):
        return True
    twin = source.first()
    if twin is None:
        return False
    fields = {key: value for key, value in scope.items() if "__" not in key}  # as update_or_create would create it
    try:
        with transaction.atomic():
            GridSnapshot.objects.create(**fields, computed_at=timezone.now(), **{n: getattr(twin, n) for n in COPIED_FIELDS})
    except IntegrityError:
        # Another worker created this snapshot since the UPDATE found none (PostgreSQL): copy over it.
        return bool(target.update(computed_at=timezone.now(), **copied))
    return True


@dataclass
class _Computed:
    """One method's engine result as stored, kept while the target's other methods of that interval are computed."""

    method: str
    long_shares: list[np.ndarray]  # σ per step of each market: the only engine input that differs by method
    values: dict


def _same_engine_inputs(computed: Sequence[_Computed], long_shares: list[np.ndarray]) -> _Computed | None:
    """An earlier method whose engine ran on the very same inputs (every market's σ equal), if any.

    A method that has no data to use falls back to the fixed share on every step:
    the taker method on an exchange whose candles carry no taker volume (Bybit, OKX
    below 1h), the long/short method where no ratio is published. Its grid is then
    the fixed grid, bit for bit, and running the engine again would only repeat it.
    """
    for earlier in computed:
        if all(np.array_equal(a, b) for a, b in zip(earlier.long_shares, long_shares, strict=True)):
            return earlier
    return None


def _store(
    *,
    target: Target,
    markets: Sequence[Market],
    interval: str,
    method: str,
    record: dict,
    series: Sequence[MarketSeries],
    steps_list: Sequence[StepArrays],
    computed: list[_Computed],
) -> ComputeOutcome:
    name = target.coin or markets[0].symbol
    digest = _digest(record, series)
    scope = {**target.lookup(), "interval": interval, "long_share_method": method}
    # order_by(): the model's default ordering (by market, then coin) joins the market table into
    # every lookup, and building that query cost more than running it; one row matches anyway.
    snapshots = GridSnapshot.objects.order_by()
    current = snapshots.filter(**scope).values_list("input_digest", flat=True).first()
    if current == digest:
        return ComputeOutcome(name, interval, method, "unchanged")
    twin = snapshots.filter(input_digest=digest).exclude(**scope).only("pk", "market_id", "coin").first()
    if twin is not None:
        # Same inputs and parameters, same grid: a coin traded on one market is that market's grid.
        with transaction.atomic():
            copied = _copy_snapshot(twin.pk, scope)
        if copied:
            return ComputeOutcome(name, interval, method, "stored", f"same inputs as the {twin.target.key} grid: copied")
    long_shares = [s.long_share_series() for s in series]
    same = _same_engine_inputs(computed, long_shares)
    if same is not None:
        values = {**same.values, "computed_at": timezone.now(), "input_digest": digest, "params": record}
        with transaction.atomic():
            GridSnapshot.objects.defer("arrays", "layers").update_or_create(**scope, defaults=values)
        return ComputeOutcome(name, interval, method, "stored", f"the same long share as {same.method} at every step: its grid")

    start, end = _window(steps_list, interval)
    shown = [s.window(s.open_time >= start) for s in steps_list]
    edges = default_bin_edges(np.concatenate([s.low for s in shown]), np.concatenate([s.high for s in shown]), BINS)
    reduced = window_grid(
        list(series),
        edges,
        start=start,
        end=end,
        max_columns=STORED_STEPS,
        interval_ms=INTERVAL_SECONDS[interval] * 1000,
        bucket_layers=True,
    )
    present = reduced.column_steps > 0
    # Gap columns (no step) are left out; without gaps nothing is copied.
    keep = slice(None) if present.all() else present
    long_grid = reduced.long_grid[keep]
    short_grid = reduced.short_grid[keep]
    times = reduced.column_open_time[keep]
    close = reduced.close[keep]
    open_interest = reduced.open_interest[keep]
    analysis = analyse_map(
        long_grid + short_grid,
        edges,
        close,
        open_interest,
        interval_seconds=INTERVAL_SECONDS[interval],
        open_time=times,
        settings=ANALYSIS,
    )
    squeeze = squeeze_summary(long_grid[-1], short_grid[-1], edges, float(close[-1]))
    readings = read_map(long_grid, short_grid, edges, close, times, READINGS)
    arrays = {
        "times": times,
        "bin_edges": edges,
        "long_grid": long_grid,  # float32 when stored (grids.codec)
        "short_grid": short_grid,  # float32 when stored (grids.codec)
        "realized_long": reduced.realized_long[keep],
        "realized_short": reduced.realized_short[keep],
        "pending_long": reduced.pending_long[keep],
        "pending_short": reduced.pending_short[keep],
        "open": _first_market_values(steps_list, times, "open"),
        "high": reduced.high[keep],
        "low": reduced.low[keep],
        "close": close,
        "open_interest": open_interest,
        # Index of the per (market, bucket) parts; the parts are in ``layers``.
        "layer_market_id": np.asarray([markets[layer.market_index].pk for layer in reduced.layers], dtype=np.int64),
        "layer_leverage": np.asarray([layer.leverage for layer in reduced.layers], dtype=np.float64),
    }
    if target.is_coin:
        arrays |= _exchange_split_arrays(markets, steps_list, reduced.layers, times, keep)
    # One part per layer, stacked by the codec as it writes (never in memory at once).
    layers = {
        f"layer_{name}": [getattr(layer, name)[keep] for layer in reduced.layers]
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
        "analysis": analysis_to_json(analysis, squeeze, times, interval, readings),
        "arrays": pack_arrays(arrays),
        "layers": pack_layers(layers),
    }
    with transaction.atomic():
        GridSnapshot.objects.defer("arrays", "layers").update_or_create(**scope, defaults=values)
    computed.append(_Computed(method, long_shares, values))
    return ComputeOutcome(name, interval, method, "stored", f"{len(times)} steps × {BINS} bins")


def grids_compute(target: Target) -> list[ComputeOutcome]:
    """Compute and store every (interval, long-share method) snapshot of one market or one coin.

    A coin runs each of its markets with its own formula and tiers and sums them;
    Market.DoesNotExist when a market target is gone.

    Whoever calls it (the task, ``manage.py compute``, the admin, a test) the
    target's grids are announced once, after commit, with ``grids_stored`` when
    at least one snapshot is current (stored now or unchanged): alert rules are
    checked by every path that computes, not only by the periodic task.
    """
    markets = target.markets()
    params = {market.pk: model_params(market) for market in markets}
    intervals = sorted({i for m in markets for i in m.intervals}, key=INTERVAL_SECONDS.__getitem__)
    name = target.coin or markets[0].symbol
    outcomes = []
    for interval in intervals:
        newest = STORED_STEPS + DEFAULT_WARMUP_MS // (INTERVAL_SECONDS[interval] * 1000)
        parts = [(m, market_steps(m, interval, newest=newest)) for m in markets if interval in m.intervals]
        parts = [(m, s) for m, s in parts if len(s) >= 2]
        # The market with the most open interest (in USD) comes first: its prices
        # are the aggregate's candles where several markets have a row.
        parts.sort(key=lambda ms: -float(ms[1].open_interest[-1] * ms[1].close[-1]))
        computed: list[_Computed] = []  # this interval's engine results, for methods that turn out the same
        for method in LongShareMethod.values:
            if not parts:
                why = "no market with open interest" if target.is_coin else "fewer than 2 steps with open interest"
                outcomes.append(ComputeOutcome(name, interval, method, "skipped", why))
                continue
            used = [m for m, _ in parts]
            outcomes.append(
                _store(
                    target=target,
                    markets=used,
                    interval=interval,
                    method=method,
                    record=_params_record(params[used[0].pk], method, interval, used),
                    series=[_series(s, params[m.pk], method) for m, s in parts],
                    steps_list=[s for _, s in parts],
                    computed=computed,
                )
            )
    if target.is_coin:
        # An aggregate at an interval none of the coin's markets has any more (its exchange was disabled,
        # another sample loaded) sums markets that are no longer part of the coin: the page would
        # show it as the coin's finest grid, so it goes.
        GridSnapshot.objects.filter(coin=target.coin).exclude(interval__in=intervals).delete()
    _announce(target, outcomes)
    return outcomes


def _announce(target: Target, outcomes: Sequence[ComputeOutcome]) -> None:
    """Send ``grids_stored`` once for the target when it has current grids, after the writes commit."""
    if all(outcome.status == "skipped" for outcome in outcomes):
        return
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    # Listeners (alert evaluation) read the new rows: tell them once they are committed.
    transaction.on_commit(lambda: grids_stored.send(sender=GridSnapshot, target=target, stored=stored))
