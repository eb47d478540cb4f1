"""The stored analysis (see ``grids/analysis.py``) turned into rows a template can print.

The analysis is read as stored, never recomputed; anything missing or
malformed in it becomes an empty cell rather than an error, so an old or
partial snapshot still renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqsite.formatting import number, plain, usd

SQUEEZE_STEPS = ("1", "2", "5", "10")

# Plain-words labels for the thresholds the engine stores (AnalysisSettings and
# the row's band threshold); unknown keys are shown as they are.
THRESHOLD_LABELS = {
    "band_factor": "Band: bins at least this × the row's median non-empty bin",
    "band_threshold_usd": "…which at the latest step is, in USD",
    "lookback_hours": "Band and OI compared with this many hours earlier",
    "brightening_pct": "Brightening at ≥ +this %, fading at ≤ −this %",
    "oi_trend_pct": "OI rising at ≥ +this %, falling at ≤ −this %",
    "spike_hours": "A band younger than this many hours is a spike",
}


@dataclass(frozen=True)
class BandRow:
    side: str
    low: float | None
    high: float | None
    usd: float | None
    distance_pct: float | None
    trend: str
    change_pct: float | None
    oi_trend: str
    verdict: str
    persistence_hours: float | None
    spike: bool
    # (exchange label, USD) in the band at the latest step, largest first; coin pages only.
    by_exchange: tuple[tuple[str, float], ...] = ()


def band_rows(analysis: dict) -> list[BandRow]:
    bands = analysis.get("bands") if isinstance(analysis, dict) else None
    rows = []
    for band in bands if isinstance(bands, list) else ():
        if not isinstance(band, dict):
            continue
        rows.append(
            BandRow(
                side=str(band.get("side", "")),
                low=number(band.get("low")),
                high=number(band.get("high")),
                usd=number(band.get("usd")),
                distance_pct=number(band.get("distance_pct")),
                trend=str(band.get("trend", "")),
                change_pct=number(band.get("change_pct")),
                oi_trend=str(band.get("oi_trend", "")),
                verdict=str(band.get("verdict", "")),
                persistence_hours=number(band.get("persistence_hours")),
                spike=bool(band.get("spike", False)),
            )
        )
    return sorted(rows, key=lambda row: -(row.usd or 0))


@dataclass(frozen=True)
class SqueezeRow:
    percent: str
    long_usd: float | None  # longs liquidated if price falls this much
    short_usd: float | None  # shorts liquidated if price rises this much


def squeeze_rows(analysis: dict) -> tuple[list[SqueezeRow], str]:
    squeeze = analysis.get("squeeze") if isinstance(analysis, dict) else None
    if not isinstance(squeeze, dict):
        return [], ""
    down = squeeze.get("down") if isinstance(squeeze.get("down"), dict) else {}
    up = squeeze.get("up") if isinstance(squeeze.get("up"), dict) else {}
    rows = [SqueezeRow(step, number(down.get(step)), number(up.get(step))) for step in SQUEEZE_STEPS]
    heavier = squeeze.get("heavier")
    return rows, heavier if heavier in ("long", "short", "balanced") else ""


def threshold_rows(analysis: dict) -> list[tuple[str, str]]:
    thresholds = analysis.get("thresholds") if isinstance(analysis, dict) else None
    if not isinstance(thresholds, dict):
        return []
    return [
        (THRESHOLD_LABELS.get(key, key.replace("_", " ")), usd(value) if key.endswith("_usd") else plain(value))
        for key, value in thresholds.items()
    ]


def oi_reading(analysis: dict) -> dict:
    oi = analysis.get("oi") if isinstance(analysis, dict) else None
    return oi if isinstance(oi, dict) else {}
