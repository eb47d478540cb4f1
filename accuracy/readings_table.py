"""The readings backtest in words and as a table: the command, the accuracy pages, the heatmap page, the bench."""

from __future__ import annotations

from liqsite.formatting import usd

TITLES = {
    "fakeout": "Fakeout risk",
    "volatility": "Volatility ahead",
    "lean": "Squeeze lean",
    "magnet": "Magnet",
}
CLAIMS = {
    "fakeout": "A breakout into a thin zone (no dense cluster within the thin distance ahead) snaps back more often "
    "than one into a dense cluster.",
    "volatility": "When pressure near price is in its top decile, the next hours move more than usual.",
    "lean": "Price moves toward the side with more pending fuel near price first.",
    "magnet": "Price travels to the nearest big band more often than to a level as far on the other side.",
}
VERDICT_WORDS = {
    "beats": "beats its baseline",
    "worse": "does worse than its baseline",
    "no_better": "does not beat its baseline (the difference is within the noise)",
    "not_enough": "not enough history yet",
}


def _pc(x) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def rate_text(r: dict | None) -> str:
    """``41 % [24, 61] of 22``."""
    if not r or not r.get("events"):
        return "no events"
    return f"{_pc(r['rate'])} [{_pc(r['low'])}, {_pc(r['high'])}] of {r['events']}"


def _horizon(p: dict) -> str:
    return f"{p['horizon_hours']:g} h" if "horizon_hours" in p else f"{p.get('wait_hours', 0):g} h"


def hit_sentence(reading: dict) -> str:
    """What was measured for one reading, in one sentence (held-out events only)."""
    key, p, r, b = reading["key"], reading["params"], reading["reading"], reading["baseline"]
    if key == "fakeout":
        return (
            f"Breakouts (beyond the last {p['lookback_hours']:g} h) into a thin zone failed within "
            f"{p['horizon_hours']:g} h {rate_text(r)} times; into a dense zone {rate_text(b)}."
        )
    if key == "volatility":
        return (
            f"After high pressure the next {p['horizon_hours']:g} h moved more than usual {rate_text(r)} times; "
            f"after the other steps {rate_text(b)}."
        )
    if key == "lean":
        return (
            f"Price moved {p['move_pct']:g} % toward the heavier side first (within {p['wait_hours']:g} h) "
            f"{rate_text(r)} times, against 50 % by chance."
        )
    return (
        f"Price reached the nearest big band within {p['horizon_hours']:g} h {rate_text(r)} times; "
        f"a level as far on the other side {rate_text(b)}."
    )


def short_record(reading: dict | None) -> str:
    """The record shown beside a reading on the heatmap page."""
    if not reading or reading.get("verdict") == "not_enough":
        return "not enough history yet"
    r = reading["reading"]
    b = reading["baseline"]
    base = "50 %" if b.get("fixed") is not None else _pc(b.get("rate"))
    return f"came true {_pc(r['rate'])} of {r['events']} times (baseline {base}): {VERDICT_WORDS[reading['verdict']]}"


def text_table(results: dict) -> str:
    """The four readings as fixed-width text."""
    head = ["reading", "hit rate [95 %]", "baseline [95 %]", "verdict", "fitted on the first part"]
    rows = []
    for key, reading in results["readings"].items():
        b = reading["baseline"]
        base = "50 % (fixed)" if b.get("fixed") is not None else rate_text(b)
        params = ", ".join(f"{k}={v:g}" for k, v in reading["params"].items())
        rows.append(
            [
                TITLES[key],
                rate_text(reading["reading"]),
                base,
                VERDICT_WORDS[reading["verdict"]].split(" (")[0],
                params + ("" if reading["fitted"] else " (default: too few fit events)"),
            ]
        )
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    vol = results["readings"].get("volatility", {})
    extra = []
    if vol:
        naive = vol.get("naive")
        extra.append(
            f"  volatility: rank correlation of pressure with the next range {_num(vol.get('spearman_range'))}; "
            f"naive 'recent range in its top decile' flag: {rate_text(naive)}"
        )
        liq = vol.get("liquidations")
        if liq:
            extra.append(
                f"  volatility: real liquidations in the next hours, mean after high pressure "
                f"{usd(liq['mean_top'])} vs {usd(liq['mean_rest'])} otherwise; rank correlation "
                f"{_num(liq['spearman'])} over {liq['events']} windows"
            )
    lean = results["readings"].get("lean")
    if lean:
        extra.append(
            f"  lean: {lean.get('undecided', 0)} races undecided (neither side reached, or both in one step); "
            f"down first {rate_text(lean.get('down_first'))} of all decided races"
        )
    return "\n".join(lines + extra)


def _num(x) -> str:
    return "—" if x is None else f"{x:+.2f}"


def markdown_table(results: dict) -> str:
    out = [
        "| reading | hit rate [95 %] | baseline [95 %] | verdict | parameters (fitted on the first part) |",
        "|---|---|---|---|---|",
    ]
    for key, reading in results["readings"].items():
        b = reading["baseline"]
        base = "50 % (fixed)" if b.get("fixed") is not None else f"{rate_text(b)} ({b.get('label', '')})"
        params = ", ".join(f"{k}={v:g}" for k, v in reading["params"].items())
        out.append(
            f"| {TITLES[key]} | {rate_text(reading['reading'])} | {base} | {VERDICT_WORDS[reading['verdict']]} | {params} |"
        )
    return "\n".join(out)
