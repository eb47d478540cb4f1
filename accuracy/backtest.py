"""Replay the model on a market's history and score it against what really happened.

Pure numpy (no Django): :mod:`.service` loads the rows and stores the result.

**Observed.** At every step the USD that was really liquidated, per side: an
imported total for the step when there is one, else the sum of the
liquidation records when the whole step lay inside a collector connection or
an imported file's span; elsewhere the fall of open interest over the step
(``max(0, OI_{t−1} − OI_t) × close_t``), which liquidations cause together
with voluntary closes and which has no side. A step nobody listened to is
never read as "no liquidations". The first step has no earlier open interest
and is not scored.

**Replay.** Each variant runs the engine over the whole period. The model is
causal (a step's realised liquidations use the levels opened before it and
that step's own price range), so the value at step ``t`` is what the model
said with the data known at the end of ``t``; bins come from a fixed lattice
(:mod:`.maps`) and the baselines read only the step before
(:mod:`.baselines`). Tests change every input after ``t`` and check that
nothing scored at or before ``t`` moves.

**Split.** Steps before ``split_time`` are the fit part, the others the
held-out part. Fitted parameters are chosen by running the engine on the fit
part's rows only (nothing after ``split_time`` is passed in) and scoring its
fit steps; every score reported is on the held-out steps only, for every
variant and baseline alike. The fit part also serves as the held-out part's
warm-up.

**Scores** (:mod:`.scores`): Spearman correlation of predicted and observed
per step, the share of observed USD in the top-decile steps, and, for
liquidation records, the share of their USD whose price lay in the map's
top-decile bins in the hour before, with Wilson 95 % bounds. Where real
liquidations are known with their side, the first two are also computed for
longs, for shorts and for both together on those steps alone, with
block-bootstrap 95 % intervals; a row then *beats* another on those four
per-side scores.

**Aggregates** (:func:`run_aggregate_backtest`): several markets of one coin,
each replayed on its own rows, summed over the steps they all have, scored
against liquidations of the markets together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from grids.steps import StepArrays
from liqengine import MarketRun, MarketSeries, ModelParams
from liqengine.model import build_ledger
from liqengine.options import intrabar_order

from . import baselines
from .maps import MapPlan, lattice_edges, map_credits, map_plan, model_rows
from .scores import block_bootstrap_intervals, spearman, spearman_interval, top_decile_share, weighted_hit_share
from .variants import (
    AGEING_HOURS,
    DIRECTION_LONG_SHARE,
    MAX_LEVERAGE_MIX,
    REFERENCE_MIX,
    VARIANTS,
    Mix,
    Variant,
    mix_candidates,
)

__all__ = [
    "BacktestInput",
    "FineCandles",
    "Records",
    "StepTotals",
    "Observed",
    "observed_sides",
    "run_aggregate_backtest",
    "SOURCE_TOTALS",
    "ScoreRow",
    "BacktestResult",
    "observed_per_step",
    "run_backtest",
    "plan_units",
    "SOURCE_NONE",
    "SOURCE_RECORDS",
    "SOURCE_OI_DROP",
]

SOURCE_NONE = 0
SOURCE_RECORDS = 1
SOURCE_OI_DROP = 2
SOURCE_TOTALS = 3
SOURCE_NAMES = {SOURCE_RECORDS: "liquidations", SOURCE_TOTALS: "totals", SOURCE_OI_DROP: "oi_drop"}
SIDES = ("long", "short", "together")

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FineCandles:
    """Candles finer than the backtest's steps (for the intrabar order), ms open times."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    interval: str = ""

    def before(self, time_ms: int) -> FineCandles:
        keep = self.open_time < time_ms
        return FineCandles(
            *(getattr(self, n)[keep] for n in ("open_time", "open", "high", "low", "close")), interval=self.interval
        )


@dataclass(frozen=True)
class Records:
    """Liquidation records: time in ms, price, USD and, when known, the side (True: a long was liquidated)."""

    time: np.ndarray
    price: np.ndarray
    usd: np.ndarray
    long: np.ndarray | None = None

    @classmethod
    def empty(cls) -> Records:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))

    def before(self, time_ms: int) -> Records:
        keep = self.time < time_ms
        return Records(self.time[keep], self.price[keep], self.usd[keep], None if self.long is None else self.long[keep])


@dataclass(frozen=True)
class StepTotals:
    """Imported USD liquidated per step and side (NaN where a step has no total)."""

    long_usd: np.ndarray
    short_usd: np.ndarray

    def head(self, stop: int) -> StepTotals:
        return StepTotals(self.long_usd[:stop], self.short_usd[:stop])


@dataclass(frozen=True)
class Observed:
    """What really happened per step: USD in all, per side (NaN where the side is unknown) and its source."""

    total: np.ndarray
    long: np.ndarray
    short: np.ndarray
    source: np.ndarray

    @property
    def sided(self) -> np.ndarray:
        """Steps with real liquidations known per side."""
        return np.isfinite(self.long) & np.isfinite(self.short)


class _StepField:
    """``inp.close`` reads ``inp.steps.close``: the step arrays have one home, :class:`StepArrays`."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj.steps, self.name)


@dataclass(frozen=True)
class BacktestInput:
    """One market's steps over the period, what the collector saw, and the split."""

    steps: StepArrays  # NaN taker volume / long share where none
    step_ms: int
    split_time: int  # first held-out step starts at or after this (ms)
    covered: np.ndarray  # bool per step: the whole step inside a collector connection
    records: Records = field(default_factory=Records.empty)
    params: ModelParams = field(default_factory=ModelParams)  # the market's formula and tiers
    exchange_mix: Mix | None = None
    fine: FineCandles | None = None
    totals: StepTotals | None = None

    open_time = _StepField()
    open = _StepField()
    high = _StepField()
    low = _StepField()
    close = _StepField()
    volume = _StepField()
    taker_buy_volume = _StepField()
    open_interest = _StepField()
    long_share = _StepField()

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def fit_stop(self) -> int:
        """Index of the first held-out step."""
        return int(np.searchsorted(self.open_time, self.split_time, side="left"))

    def head(self, stop: int) -> BacktestInput:
        """The first ``stop`` steps and only what was known before the step ``stop`` starts."""
        until = int(self.open_time[stop]) if stop < len(self) else int(self.open_time[-1]) + self.step_ms
        return replace(
            self,
            steps=self.steps.window(slice(None, stop)),
            covered=self.covered[:stop],
            records=self.records.before(until),
            fine=None if self.fine is None else self.fine.before(until),
            totals=None if self.totals is None else self.totals.head(stop),
        )


def observed_sides(inp: BacktestInput) -> Observed:
    """What really happened at each step, per side where known; NaN / SOURCE_NONE where nothing can be scored.

    An imported total wins over records for its step (it is a complete
    measurement; a stream's records are a lower bound). The first step is
    never scored: the open-interest fall needs the step before.
    """
    n = len(inp)
    total, long_usd, short_usd = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    source = np.full(n, SOURCE_NONE, dtype=np.int8)
    if n < 2:
        return Observed(total, long_usd, short_usd, source)
    drop = np.maximum(0.0, inp.open_interest[:-1] - inp.open_interest[1:]) * inp.close[1:]
    rec = inp.records
    step = np.searchsorted(inp.open_time, rec.time, side="right") - 1
    inside = (step >= 0) & (rec.time < inp.open_time[np.maximum(step, 0)] + inp.step_ms)
    liq = np.bincount(step[inside], weights=rec.usd[inside], minlength=n)[:n]
    covered = np.asarray(inp.covered, dtype=bool).copy()
    covered[0] = False
    total[1:] = np.where(covered[1:], liq[1:], drop)
    source[1:] = np.where(covered[1:], SOURCE_RECORDS, SOURCE_OI_DROP)
    if rec.long is not None:
        is_long = inside & rec.long
        liq_long = np.bincount(step[is_long], weights=rec.usd[is_long], minlength=n)[:n]
        long_usd[covered] = liq_long[covered]
        short_usd[covered] = (liq - liq_long)[covered]
    if inp.totals is not None:
        known = np.isfinite(inp.totals.long_usd) & np.isfinite(inp.totals.short_usd)
        known[0] = False
        long_usd[known], short_usd[known] = inp.totals.long_usd[known], inp.totals.short_usd[known]
        total[known] = long_usd[known] + short_usd[known]
        source[known] = SOURCE_TOTALS
    return Observed(total, long_usd, short_usd, source)


def observed_per_step(inp: BacktestInput) -> tuple[np.ndarray, np.ndarray]:
    """(observed USD per step, its source per step); NaN / SOURCE_NONE where nothing can be scored."""
    observed = observed_sides(inp)
    return observed.total, observed.source


@dataclass
class ScoreRow:
    """One variant's or baseline's scores on the held-out steps, with what it predicted."""

    key: str
    label: str
    kind: str  # "variant" or "baseline"
    description: str = ""
    params: dict = field(default_factory=dict)
    fit: dict | None = None
    spearman: float | None = None
    spearman_ci: tuple[float, float] | None = None
    top_decile: float | None = None
    bins: dict | None = None  # weighted_hit_share(...) of the liquidation records
    by_source: dict = field(default_factory=dict)
    # Against real liquidations per side (held-out steps where they are known):
    # {"steps": n, "long": {...}, "short": {...}, "together": {...}}, each with
    # spearman, spearman_ci, top_decile, top_decile_ci.
    sides: dict | None = None
    skipped: str = ""  # why the row has no scores
    predicted: np.ndarray | None = None  # per step, both sides, over the whole period (not stored)
    predicted_long: np.ndarray | None = None  # per step (not stored)
    predicted_short: np.ndarray | None = None
    credits: np.ndarray | None = None  # per scored liquidation record (not stored)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "description": self.description,
            "params": self.params,
            "fit": self.fit,
            "spearman": self.spearman,
            "spearman_ci": None if self.spearman_ci is None else list(self.spearman_ci),
            "top_decile": self.top_decile,
            "bins": self.bins,
            "by_source": self.by_source,
            "sides": self.sides,
            "skipped": self.skipped,
        }


def score_pairs(a: ScoreRow, b: ScoreRow) -> list[tuple[float, float]]:
    """The scores two rows are compared on: per side where both have real liquidations per side, else per step."""
    if a.sides and b.sides:
        pairs = [(a.sides[s][k], b.sides[s][k]) for s in ("long", "short") for k in ("spearman", "top_decile")]
    else:
        pairs = [(a.spearman, b.spearman), (a.top_decile, b.top_decile)]
    if a.bins and b.bins:
        pairs.append((a.bins["share"], b.bins["share"]))
    return [(x, y) for x, y in pairs if x is not None and y is not None]


@dataclass
class BacktestResult:
    rows: list[ScoreRow]
    info: dict
    record_index: np.ndarray | None = None  # the liquidation records the map score used (rows' credits follow it)

    def row(self, key: str) -> ScoreRow:
        return next(r for r in self.rows if r.key == key)

    def beats(self, key: str, other: str) -> bool | None:
        """Whether ``key`` scores higher than ``other`` on every score both have (None if either has none)."""
        a, b = self.row(key), self.row(other)
        if a.skipped or b.skipped:
            return None
        pairs = score_pairs(a, b)
        if not pairs:
            return None
        return all(x > y for x, y in pairs)

    def verdicts(self) -> dict[str, dict]:
        """For every scored variant: does it beat the reference and each baseline?"""
        out = {}
        keys = {r.key for r in self.rows}
        for r in self.rows:
            if r.kind != "variant" or r.skipped:
                continue
            others = [o for o in ("reference", *baselines.BASELINES) if o != r.key and o in keys]
            versus = {other: self.beats(r.key, other) for other in others}
            out[r.key] = {
                "versus": versus,
                "beats_all": r.key != "reference" and all(v is True for v in versus.values()),
                "beats_baselines": all(v is True for o, v in versus.items() if o in baselines.BASELINES),
            }
        return out

    def to_dict(self) -> dict:
        return {"rows": [r.to_dict() for r in self.rows], "info": self.info, "verdicts": self.verdicts()}


# -- running the model ----------------------------------------------------------


def _mix(inp: BacktestInput, variant: Variant) -> Mix:
    if variant.mix == "exchange":
        return inp.exchange_mix
    return MAX_LEVERAGE_MIX if variant.mix == "max_leverage" else REFERENCE_MIX


def _long_share(inp: BacktestInput, variant: Variant) -> np.ndarray | None:
    if variant.long_share == "long_short":
        return inp.long_share
    if variant.long_share == "direction":
        rising, falling = DIRECTION_LONG_SHARE
        return np.where(inp.close > inp.open, rising, np.where(inp.close < inp.open, falling, np.nan))
    return None


def _series(inp: BacktestInput, variant: Variant, mix: Mix, half_life_hours: float | None) -> MarketSeries:
    params = ModelParams(
        leverage=mix.leverage,
        weights=mix.weights,
        formula=inp.params.formula,
        tiers=inp.params.tiers,
        position_notional=inp.params.position_notional,
        mmr=None if inp.params.tiers is not None else inp.params.mmr,
        default_long_share=inp.params.default_long_share,
        half_life_steps=None if half_life_hours is None else half_life_hours * 3_600_000 / inp.step_ms,
        turnover=variant.turnover,
        entry_points=variant.entry_points,
    )
    high_first = None
    if variant.intrabar:
        fine = inp.fine
        high_first = intrabar_order(
            inp.open,
            inp.close,
            open_time=inp.open_time,
            step_ms=inp.step_ms,
            **(
                {}
                if fine is None
                else {
                    "fine_open_time": fine.open_time,
                    "fine_open": fine.open,
                    "fine_high": fine.high,
                    "fine_low": fine.low,
                    "fine_close": fine.close,
                }
            ),
        )
    return MarketSeries(
        high=inp.high,
        low=inp.low,
        close=inp.close,
        open_interest=inp.open_interest,
        open_time=inp.open_time,
        long_share=_long_share(inp, variant),
        taker_buy_volume=inp.taker_buy_volume if variant.long_share == "taker" else None,
        volume=inp.volume if variant.long_share == "taker" else None,
        params=params,
        high_first=high_first,
    ).checked()


def _realized(series: MarketSeries) -> tuple[np.ndarray, np.ndarray]:
    """The model's liquidations per step, (longs, shorts)."""
    ledger = build_ledger(series)
    return ledger.realized_long, ledger.realized_short


def _bins_score(plan: MapPlan | None, inp: BacktestInput, credits: np.ndarray | None) -> dict | None:
    if plan is None or credits is None or len(credits) == 0:
        return None
    out = weighted_hit_share(credits, inp.records.usd[plan.record_index])
    if out is not None:
        out["unscorable_records"] = plan.unscorable
    return out


def _step_scores(predicted: np.ndarray, observed: np.ndarray, source: np.ndarray, mask: np.ndarray) -> dict:
    rho = spearman(predicted[mask], observed[mask])
    out = {
        "spearman": rho,
        "spearman_ci": spearman_interval(rho, int(mask.sum())),
        "top_decile": top_decile_share(predicted[mask], observed[mask]),
    }
    by_source = {}
    present = [s for s in SOURCE_NAMES if (mask & (source == s)).any()]
    if len(present) > 1:
        for s in present:
            m = mask & (source == s)
            by_source[SOURCE_NAMES[s]] = {
                "steps": int(m.sum()),
                "spearman": spearman(predicted[m], observed[m]),
                "top_decile": top_decile_share(predicted[m], observed[m]),
            }
    out["by_source"] = by_source
    return out


def side_scores(predicted_long, predicted_short, observed: Observed, mask: np.ndarray) -> dict | None:
    """Spearman and top-decile share for longs, shorts and both together, with block-bootstrap intervals.

    ``mask`` picks the steps to score; only those with real liquidations per
    side count. None when fewer than 10 such steps remain.
    """
    m = mask & observed.sided
    steps = int(m.sum())
    if steps < 10:
        return None
    pairs = {
        "long": (predicted_long[m], observed.long[m]),
        "short": (predicted_short[m], observed.short[m]),
        "together": (predicted_long[m] + predicted_short[m], observed.long[m] + observed.short[m]),
    }
    out = {"steps": steps}
    for side, (p, o) in pairs.items():
        ci = block_bootstrap_intervals(p, o)
        out[side] = {
            "spearman": spearman(p, o),
            "spearman_ci": None if ci["spearman"] is None else list(ci["spearman"]),
            "top_decile": top_decile_share(p, o),
            "top_decile_ci": None if ci["top_decile"] is None else list(ci["top_decile"]),
        }
    return out


def _fit(v: Variant, inp: BacktestInput, head: BacktestInput, head_observed, head_source, head_mask, tick):
    """Choose a fitted variant's parameter on the fit part alone: ``((mix, half_life_hours), fit record)``."""
    if v.mix == "fitted":
        choices = [(m, None) for m in mix_candidates(inp.exchange_mix)]
    else:
        choices = [(REFERENCE_MIX, h) for h in AGEING_HOURS]
    fit = {"steps": int(head_mask.sum()), "until": int(inp.split_time), "candidates": []}
    best, best_key, best_scores = None, None, None
    for m, h in choices:
        # ``head`` holds the fit part's rows only: nothing at or after split_time is passed in.
        s = _step_scores(sum(_realized(_series(head, v, m, h))), head_observed, head_source, head_mask)
        key = _fit_key(s)
        if best_key is None or key > best_key:
            best, best_key, best_scores = (m, h), key, s
        if v.ageing == "fitted":
            fit["candidates"].append({"half_life_hours": h, "spearman": s["spearman"], "top_decile": s["top_decile"]})
        tick(f"{v.key}: fitting")
    fit["spearman"], fit["top_decile"] = best_scores["spearman"], best_scores["top_decile"]
    if v.mix == "fitted":
        fit["candidates"] = len(choices)
    return best, fit


def _fit_key(scores: dict) -> tuple:
    def val(x):
        return -math.inf if x is None else x

    return (val(scores["spearman"]), val(scores["top_decile"]))


# -- the whole backtest -----------------------------------------------------------


def _available(inp: BacktestInput, variant: Variant) -> str:
    """Why a variant cannot be scored on this market ("" when it can)."""
    if variant.long_share == "long_short" and not np.isfinite(inp.long_share).any():
        return "no long/short account ratio stored for this market and interval"
    if variant.long_share == "taker" and not (np.isfinite(inp.taker_buy_volume) & (inp.volume > 0)).any():
        return "no taker buy volume stored for this market and interval"
    if variant.mix == "exchange" and inp.exchange_mix is None:
        return "no leverage mix written down for this exchange (it would be the reference mix)"
    return ""


def plan_units(inp: BacktestInput, variants=VARIANTS) -> int:
    """How many progress units :func:`run_backtest` will report (engine runs and baseline passes)."""
    units = len(baselines.BASELINES)
    for v in variants:
        if _available(inp, v):
            continue
        units += 1
        if v.mix == "fitted":
            units += len(mix_candidates(inp.exchange_mix))
        if v.ageing == "fitted":
            units += len(AGEING_HOURS)
    return units


@dataclass(frozen=True)
class _Frame:
    """What every row of one backtest is scored against: the observed USD per step and the split."""

    observed: Observed  # per step, per side where known
    held_out: np.ndarray  # bool: scored held-out steps
    fit_mask: np.ndarray  # bool: scored fit steps
    fit_stop: int
    plan: MapPlan | None  # price maps of the held-out liquidation records, if any
    head: BacktestInput  # the fit part's rows only, for fitting
    head_observed: np.ndarray  # observed USD per step of ``head``


class _Ticker:
    """Counts the units of work done and reports them to ``progress`` (when given)."""

    def __init__(self, total: int, progress: Progress | None):
        self.done, self.total, self.progress = 0, total, progress

    def __call__(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, label)


def run_backtest(inp: BacktestInput, *, variants=VARIANTS, progress: Progress | None = None) -> BacktestResult:
    """Score every variant and every baseline on the held-out steps of ``inp``."""
    frame = _frame(inp)
    tick = _Ticker(plan_units(inp, variants), progress)
    rows = [_variant_row(v, inp, frame, tick) for v in variants]
    for key, label in baselines.BASELINES.items():
        rows.append(_baseline_row(key, label, inp, frame))
        tick(f"baseline {key}")
    plan = frame.plan
    return BacktestResult(rows, _info(inp, frame), None if plan is None else plan.record_index)


def _frame(inp: BacktestInput) -> _Frame:
    """Observed USD per step, the fit and held-out steps, and the price maps; ValueError when nothing can be scored."""
    n = len(inp)
    if n < 4:
        raise ValueError(f"a backtest needs at least 4 steps with open interest, got {n}")
    observed = observed_sides(inp)
    index = np.arange(n)
    fit_stop = inp.fit_stop
    scorable = np.isfinite(observed.total)
    held_out = scorable & (index >= fit_stop)
    fit_mask = scorable & (index < fit_stop)
    if not held_out.any():
        raise ValueError("the split leaves no held-out step to score")
    plan = map_plan(
        inp.open_time,
        inp.step_ms,
        inp.records.time,
        held_out & (observed.source == SOURCE_RECORDS),
        lattice_edges(float(inp.low.min()), float(inp.high.max())),
    )
    head = inp.head(fit_stop)
    head_observed, _ = observed_per_step(head)
    return _Frame(observed, held_out, fit_mask, fit_stop, plan, head, head_observed)


def _score_row(row: ScoreRow, predicted_long: np.ndarray, predicted_short: np.ndarray, frame: _Frame) -> None:
    """Fill ``row``'s per-step and per-side scores from its predictions."""
    row.predicted_long, row.predicted_short = predicted_long, predicted_short
    row.predicted = predicted_long + predicted_short
    s = _step_scores(row.predicted, frame.observed.total, frame.observed.source, frame.held_out)
    row.spearman, row.spearman_ci = s["spearman"], s["spearman_ci"]
    row.top_decile, row.by_source = s["top_decile"], s["by_source"]
    row.sides = side_scores(predicted_long, predicted_short, frame.observed, frame.held_out)


def _variant_row(v: Variant, inp: BacktestInput, frame: _Frame, tick: _Ticker) -> ScoreRow:
    """One variant: fitted on the fit part when it is fitted, then replayed and scored on the held-out steps."""
    row = ScoreRow(v.key, v.label, "variant", v.description, skipped=_available(inp, v))
    if row.skipped:
        return row
    mix = _mix(inp, v)
    half_life = None
    fit = None
    if v.fitted:
        head_mask = frame.fit_mask[: frame.fit_stop]
        if not head_mask.any():
            row.skipped = "the fit part has no step to fit on"
            return row
        head_source = frame.observed.source[: frame.fit_stop]
        (mix, half_life), fit = _fit(v, inp, frame.head, frame.head_observed, head_source, head_mask, tick)
    series = _series(inp, v, mix, half_life)
    plan = frame.plan
    # One model run serves both the per-step score and, with records, the price maps.
    run = MarketRun(series, plan.edges) if plan is not None and len(plan.rows) else None
    if run is not None:
        _score_row(row, run.realized("long"), run.realized("short"), frame)
    else:
        _score_row(row, *_realized(series), frame)
    row.params = {
        "leverage": mix.to_dict(),
        "long_share": v.long_share,
        "intrabar": v.intrabar,
        "half_life_hours": half_life,
        "turnover": v.turnover,
        "entry_points": v.entry_points,
        "intrabar_source": (
            inp.fine.interval if v.intrabar and inp.fine is not None else "candle direction" if v.intrabar else None
        ),
    }
    row.fit = fit
    if run is not None:
        values = model_rows(run, plan.rows)
        row.credits = map_credits(plan, inp.close, inp.records.price, values)
        row.bins = _bins_score(plan, inp, row.credits)
    tick(f"{v.key}: scored")
    return row


def baseline_sides(key: str, inp: BacktestInput) -> tuple[np.ndarray, np.ndarray]:
    """A baseline's liquidations per step, (longs, shorts); the range baseline is the same for both."""
    if key == "volatility":
        both = baselines.volatility_per_step(inp.high, inp.low, inp.open_interest)
        return both, both
    if key == "swing":
        return baselines.swing_per_side(inp.high, inp.low, inp.close, inp.open_interest)
    ref = REFERENCE_MIX
    return baselines.bands_per_side(inp.high, inp.low, inp.close, inp.open_interest, ref.leverage, ref.weights)


def _baseline_row(key: str, label: str, inp: BacktestInput, frame: _Frame) -> ScoreRow:
    """One baseline (range, swing or bands with the reference mix), scored like the variants."""
    row = ScoreRow(key, label, "baseline", baselines.DESCRIPTIONS[key])
    longs, shorts = baseline_sides(key, inp)
    _score_row(row, longs, shorts, frame)
    if key == "volatility":
        # One value per step, not one per side: the step scores read it once.
        row.predicted = longs
        s = _step_scores(longs, frame.observed.total, frame.observed.source, frame.held_out)
        row.spearman, row.spearman_ci, row.top_decile, row.by_source = (
            s["spearman"],
            s["spearman_ci"],
            s["top_decile"],
            s["by_source"],
        )
    plan = frame.plan
    if plan is not None and len(plan.rows):
        ref = REFERENCE_MIX
        if key == "volatility":
            values = baselines.volatility_rows(plan.rows, inp.high, inp.low, inp.close, inp.open_interest, plan.edges)
        elif key == "swing":
            values = baselines.swing_rows(plan.rows, inp.high, inp.low, inp.close, inp.open_interest, plan.edges)
        else:
            values = baselines.bands_rows(plan.rows, inp.close, inp.open_interest, plan.edges, ref.leverage, ref.weights)
        row.credits = map_credits(plan, inp.close, inp.records.price, values)
        row.bins = _bins_score(plan, inp, row.credits)
    return row


def _info(inp: BacktestInput, frame: _Frame) -> dict:
    """What the backtest covered: the period, the split, the observed USD and the data behind it."""
    n, plan, held_out, source = len(inp), frame.plan, frame.held_out, frame.observed.source
    sided = held_out & frame.observed.sided
    return {
        "steps": n,
        "step_ms": int(inp.step_ms),
        "start": int(inp.open_time[0]),
        "end": int(inp.open_time[-1]) + int(inp.step_ms),
        "split": int(inp.split_time),
        "fit_steps": int(frame.fit_mask.sum()),
        "held_out_steps": int(held_out.sum()),
        "held_out_from": int(inp.open_time[frame.fit_stop]) if frame.fit_stop < n else None,
        "held_out_sources": {name: int((held_out & (source == s)).sum()) for s, name in SOURCE_NAMES.items()},
        "held_out_sided_steps": int(sided.sum()),
        "observed_usd": float(np.nansum(frame.observed.total[held_out])),
        "observed_long_usd": float(np.nansum(frame.observed.long[sided])),
        "observed_short_usd": float(np.nansum(frame.observed.short[sided])),
        "records": {
            "total": int(len(inp.records.time)),
            "scored": 0 if plan is None else int(len(plan.record_index)),
            "unscorable": 0 if plan is None else plan.unscorable,
        },
        "fine_candles": None if inp.fine is None else inp.fine.interval,
        "long_share_steps": int(np.isfinite(inp.long_share).sum()),
        "taker_steps": int((np.isfinite(inp.taker_buy_volume) & (inp.volume > 0)).sum()),
    }


# -- several markets of one coin ---------------------------------------------------


def aggregate_variants(variants=VARIANTS) -> tuple[Variant, ...]:
    """The variants an aggregate scores: those with nothing fitted and nothing exchange-specific.

    A fitted variant would need one fit per market against liquidations of the
    markets together; an exchange's leverage prior is one exchange's.
    """
    return tuple(v for v in variants if not v.fitted and v.mix != "exchange")


def run_aggregate_backtest(
    inputs,
    observed: Observed,
    open_time: np.ndarray,
    split_time: int,
    *,
    variants=None,
) -> BacktestResult:
    """Score the sum of several markets' maps against liquidations of those markets together.

    Each input is one market over its own rows (its whole history warms the
    model up); ``open_time`` are the steps scored, which every market must
    have (the common hours), ``observed`` what was liquidated on all of them
    together at those steps (per side), ``split_time`` the first held-out step.
    Only per-side scores are computed (no price map: the markets' bins differ).
    """
    variants = aggregate_variants() if variants is None else variants
    open_time = np.asarray(open_time, dtype=np.int64)
    positions = []
    for inp in inputs:
        at = np.searchsorted(inp.open_time, open_time)
        if np.any(at >= len(inp)) or np.any(inp.open_time[np.minimum(at, len(inp) - 1)] != open_time):
            raise ValueError("every market of an aggregate must have a row at every scored step")
        positions.append(at)
    held_out = (open_time >= split_time) & observed.sided
    if held_out.sum() < 10:
        raise ValueError("an aggregate needs at least 10 held-out steps with liquidations per side")
    frame_mask = held_out

    def summed(per_market):
        long_total, short_total = np.zeros(len(open_time)), np.zeros(len(open_time))
        for at, (longs, shorts) in zip(positions, per_market):
            long_total += longs[at]
            short_total += shorts[at]
        return long_total, short_total

    rows = []
    for v in variants:
        longs, shorts = summed([_realized(_series(inp, v, _mix(inp, v), None)) for inp in inputs])
        row = ScoreRow(v.key, v.label, "variant", v.description, params={"turnover": v.turnover, "entry_points": v.entry_points})
        row.predicted_long, row.predicted_short, row.predicted = longs, shorts, longs + shorts
        row.sides = side_scores(longs, shorts, observed, frame_mask)
        rows.append(row)
    for key, label in baselines.BASELINES.items():
        longs, shorts = summed([baseline_sides(key, inp) for inp in inputs])
        row = ScoreRow(key, label, "baseline", baselines.DESCRIPTIONS[key])
        row.predicted_long, row.predicted_short, row.predicted = longs, shorts, longs + shorts
        row.sides = side_scores(longs, shorts, observed, frame_mask)
        rows.append(row)
    info = {
        "markets": len(inputs),
        "steps": int(len(open_time)),
        "start": int(open_time[0]),
        "split": int(split_time),
        "held_out_sided_steps": int(held_out.sum()),
    }
    return BacktestResult(rows, info)
