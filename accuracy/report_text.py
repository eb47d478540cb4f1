"""Plain words for a stored accuracy report: what its numbers mean, and what they do not.

Works on the stored ``AccuracyReport.results`` dict only (the pages never
compute a score), so it is cheap and testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass

from .baselines import BASELINES
from .table import bins_cell, ci, num, pct, pct_ci, utc

SOURCE_LABELS = {"liquidations": "liquidation records", "totals": "imported liquidation totals", "oi_drop": "open-interest drop"}
SIDE_LABELS = {"long": "longs", "short": "shorts", "together": "together"}


@dataclass(frozen=True)
class SideView:
    side: str  # "longs", "shorts", "together"
    spearman: str
    spearman_ci: str
    top_decile: str
    top_decile_ci: str


@dataclass(frozen=True)
class RowView:
    key: str
    label: str
    kind: str
    description: str
    spearman: str
    spearman_ci: str
    top_decile: str
    bins: str
    skipped: str
    is_site_variant: bool
    versus: list[tuple[str, str]]  # (other label, "yes" / "no" / "—")
    params: str
    sides: list[SideView]  # against real liquidations per side; empty when none were known


def side_views(row: dict) -> list[SideView]:
    sides = row.get("sides") or {}
    return [
        SideView(
            SIDE_LABELS[key],
            num(sides[key]["spearman"]),
            ci(sides[key]["spearman_ci"]).strip(),
            pct(sides[key]["top_decile"]),
            pct_ci(sides[key]["top_decile_ci"]).strip(),
        )
        for key in SIDE_LABELS
        if key in sides
    ]


def _params_text(row: dict) -> str:
    p = row.get("params") or {}
    if not p:
        return ""
    parts = []
    lev = p.get("leverage") or {}
    if lev:
        buckets = ", ".join(f"{x:g}× {100 * w:.0f} %" for x, w in zip(lev["leverage"], lev["weights"]))
        parts.append(f"leverage {buckets}")
    parts.append(
        {
            "fixed": "long share 50 %",
            "long_short": "long share from the account ratio",
            "taker": "long share from taker volume",
            "direction": "long share 60 % in rising candles, 40 % in falling ones",
        }.get(p.get("long_share"), "")
    )
    if p.get("turnover") is not None:
        parts.append(f"turnover κ = {p['turnover']:g}")
    if (p.get("entry_points") or 1) > 1:
        parts.append(f"{p['entry_points']} entry prices from low to high")
    if p.get("intrabar"):
        parts.append(f"intrabar order from {p.get('intrabar_source')}")
    if p.get("half_life_hours"):
        parts.append(f"half-life {p['half_life_hours']:g} h")
    if row.get("fit"):
        parts.append(f"fitted on {row['fit']['steps']} steps before the split")
    return "; ".join(x for x in parts if x)


def row_views(results: dict) -> list[RowView]:
    site = results.get("site_variant", {}).get("key")
    labels = {"reference": "reference rules", "volatility": "range", "swing": "swing", "bands": "fixed bands"}
    out = []
    for r in results["rows"]:
        verdict = results.get("verdicts", {}).get(r["key"])
        versus = []
        if verdict:
            for other, beat in verdict["versus"].items():
                versus.append((labels.get(other, other), {True: "yes", False: "no", None: "—"}[beat]))
        out.append(
            RowView(
                key=r["key"],
                label=r["label"],
                kind=r["kind"],
                description=r.get("description", ""),
                spearman=num(r["spearman"]),
                spearman_ci=ci(r.get("spearman_ci")).strip(),
                top_decile=pct(r["top_decile"]),
                bins=bins_cell(r),
                skipped=r["skipped"],
                is_site_variant=r["key"] == site,
                versus=versus,
                params=_params_text(r),
                sides=side_views(r),
            )
        )
    return out


def _compare(others: dict[str, float | None], fmt) -> str:
    parts = [f"{BASELINES[k].split(' (')[0].lower()} {fmt(v)}" for k, v in others.items() if v is not None]
    return "; ".join(parts)


def report_sentences(results: dict) -> list[str]:
    """A few sentences in plain words about one report."""
    info = results["info"]
    rows = {r["key"]: r for r in results["rows"]}
    site = rows.get(results.get("site_variant", {}).get("key", "reference"))
    base = {k: rows.get(k) for k in BASELINES}
    out = []
    sources = info.get("held_out_sources", {})
    what = " and ".join(f"{n} step(s) measured by {SOURCE_LABELS[k]}" for k, n in sources.items() if n)
    out.append(
        f"The model was replayed over {utc(info['start'])} → {utc(info['end'])} UTC using, at every step, only "
        f"what was known by then. Scores are on the {info['held_out_steps']} steps after {utc(info['split'])} "
        f"({what}); nothing was fitted on them."
    )
    if site and not site["skipped"] and site["spearman"] is not None:
        base_sp = {k: (b["spearman"] if b else None) for k, b in base.items()}
        base_top = {k: (b["top_decile"] if b else None) for k, b in base.items()}
        out.append(
            f"Ranking: the steps where the map expected more liquidations had more, with a Spearman correlation "
            f"of {num(site['spearman'])} (0 is no relation, 1 the same order; baselines: "
            f"{_compare(base_sp, num)})."
        )
        out.append(
            f"Concentration: the 10 % of steps the map ranked highest held {pct(site['top_decile'])} of the observed "
            f"USD; a map with no skill holds about 10 % (baselines: {_compare(base_top, pct)})."
        )
        verdict = results.get("verdicts", {}).get(site["key"], {}).get("versus", {})
        lost = [BASELINES[k].split(" (")[0].lower() for k, v in verdict.items() if v is False and k in BASELINES]
        if lost:
            out.append(
                f"So here the map does not beat the {' nor the '.join(lost)} on every score: "
                "on this period it adds little to knowing how much the price moved."
            )
        elif verdict:
            out.append("Here the map beats both naive baselines on every score.")
    sides = (site or {}).get("sides")
    if sides:
        swing = (base.get("swing") or {}).get("sides")
        text = "; ".join(
            f"{SIDE_LABELS[k]} Spearman {num(sides[k]['spearman'])}, top-decile {pct(sides[k]['top_decile'])}"
            + (f" (swing baseline {num(swing[k]['spearman'])}, {pct(swing[k]['top_decile'])})" if swing else "")
            for k in ("long", "short")
        )
        out.append(
            f"Against real liquidations, side by side ({sides['steps']} held-out steps where they are known per side): "
            f"{text}. The swing baseline knows how far the price moved each way; the map has to beat it to add anything."
        )
    if site and site.get("bins"):
        b = site["bins"]
        out.append(
            f"Prices: {pct(b['share'])} of the liquidated USD (Wilson 95 %: {pct(b['low'])} to {pct(b['high'])}, "
            f"{b['records']} records) happened at prices the map had among its brightest 10 % of bins in the hour before."
        )
    else:
        out.append(
            "Prices: no liquidation records were collected in the scored steps, so whether the map puts "
            "levels at the right prices is not tested here; the step scores only test when, not where."
        )
    best = results.get("best_variant") or next((k for k, v in results.get("verdicts", {}).items() if v.get("beats_all")), "")
    if best:
        out.append(
            f"The variant “{rows[best]['label']}” beat the reference and every baseline on this market; it "
            "becomes the site's default only if it does so on every real data set."
        )
    return out


LIMITS = [
    "The open-interest drop counts voluntary closes as well as liquidations, and open interest nets longs against "
    "shorts; it is a proxy, used only where no liquidation records exist.",
    "Exchanges' liquidation feeds are incomplete (Binance sends at most one per symbol per second), so records "
    "undercount large cascades.",
    "Steps are not independent (volatile hours cluster), so the intervals shown are optimistic and small "
    "differences between rows mean little.",
    "A score on one period says nothing certain about the next; scores are recomputed daily on the newest data.",
]
