"""The deciding table as plain text (the command) and as Markdown (docs/accuracy.md)."""

from __future__ import annotations

from liqsite.exchanges.http import from_ms
from liqsite.formatting import when

from .baselines import BASELINES


def pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def num(x) -> str:
    return "—" if x is None else f"{x:+.3f}"


def ci(pair) -> str:
    return "" if not pair else f" [{pair[0]:+.2f}, {pair[1]:+.2f}]"


def utc(ms) -> str:
    return "—" if ms is None else when(from_ms(ms))


# Short names of the rows a verdict compares with, for table headers.
SHORT_NAMES = {"reference": "ref", "volatility": "range", "swing": "swing", "bands": "bands"}


def verdict_cells(results: dict, key: str) -> list[str]:
    verdict = results.get("verdicts", {}).get(key)
    others = ["reference", *BASELINES]
    if verdict is None:
        return ["" for _ in others]
    marks = {True: "yes", False: "no", None: "—"}
    return [("" if o == key else marks[verdict["versus"].get(o)]) for o in others]


def bins_cell(row: dict) -> str:
    b = row.get("bins")
    if not b:
        return "—"
    return f"{pct(b['share'])} [{pct(b['low'])}, {pct(b['high'])}] of {b['records']}"


def describe_period(results: dict) -> str:
    info = results["info"]
    src = info["held_out_sources"]
    totals = f"{src['totals']} with imported totals, " if src.get("totals") else ""
    return (
        f"{utc(info['start'])} → {utc(info['end'])} UTC; fit on {info['fit_steps']} steps before "
        f"{utc(info['split'])}, scored on {info['held_out_steps']} held-out steps "
        f"({totals}{src.get('liquidations', 0)} with liquidation records, {src.get('oi_drop', 0)} with the OI drop)"
    )


def text_table(results: dict) -> str:
    """One market's rows as fixed-width text."""
    head = [
        "",
        "Spearman [95 % CI]",
        "top-decile steps",
        "liq. USD in top-decile bins",
        *(f"beats {SHORT_NAMES[o]}" for o in ("reference", *BASELINES)),
    ]
    scored, skipped = [], []
    for r in results["rows"]:
        label = r["key"] + (" (site default)" if r["key"] == results.get("site_variant", {}).get("key") else "")
        if r["skipped"]:
            skipped.append(f"{label}: not scored, {r['skipped']}")
            continue
        scored.append(
            [
                label,
                num(r["spearman"]) + ci(r.get("spearman_ci")),
                pct(r["top_decile"]),
                bins_cell(r),
                *verdict_cells(results, r["key"]),
            ]
        )
    widths = [max(len(row[i]) for row in [head, *scored]) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *scored]]
    return "\n".join(out + skipped)


def markdown_table(results: dict) -> str:
    versus = [f"beats {SHORT_NAMES[o]}" for o in ("reference", *BASELINES)]
    head = (
        "| variant / baseline | Spearman [95 % CI] | top-decile steps | liq. USD in top-decile bins | "
        + " | ".join(versus)
        + " |"
    )
    out = [head, "|---|---|---|---|" + "---|" * len(versus)]
    for r in results["rows"]:
        if r["skipped"]:
            out.append(f"| {r['label']} | not scored: {r['skipped']} |" + " |" * (2 + len(versus)))
            continue
        cells = verdict_cells(results, r["key"])
        out.append(
            f"| {r['label']} | {num(r['spearman'])}{ci(r.get('spearman_ci'))} | {pct(r['top_decile'])} | "
            f"{bins_cell(r)} | {' | '.join(c or '—' for c in cells)} |"
        )
    return "\n".join(out)


def pct_ci(pair) -> str:
    return "" if not pair else f" [{100 * pair[0]:.0f}, {100 * pair[1]:.0f}]"


SIDE_HEAD = [
    "",
    "Spearman longs",
    "Spearman shorts",
    "top-decile longs",
    "top-decile shorts",
    "together: Spearman / top-decile",
    "beats range",
    "beats swing",
]


def side_cells(results: dict, row: dict) -> list[str] | None:
    """One row of the per-side table (real liquidations), or None when the row has no per-side scores."""
    s = row.get("sides")
    if not s:
        return None
    verdict = results.get("verdicts", {}).get(row["key"], {}).get("versus", {})
    if not verdict and row["kind"] == "variant":
        # Aggregates carry no verdicts: compare here on the four per-side scores.
        verdict = {o: _side_beats(row, results, o) for o in ("volatility", "swing")}
    marks = {True: "yes", False: "no", None: "—"}
    return [
        row["label"],
        num(s["long"]["spearman"]) + ci(s["long"]["spearman_ci"]),
        num(s["short"]["spearman"]) + ci(s["short"]["spearman_ci"]),
        pct(s["long"]["top_decile"]) + pct_ci(s["long"]["top_decile_ci"]),
        pct(s["short"]["top_decile"]) + pct_ci(s["short"]["top_decile_ci"]),
        f"{num(s['together']['spearman'])} / {pct(s['together']['top_decile'])}",
        "" if row["kind"] == "baseline" else marks[verdict.get("volatility")],
        "" if row["kind"] == "baseline" else marks[verdict.get("swing")],
    ]


def _side_beats(row: dict, results: dict, other: str) -> bool | None:
    base = next((r for r in results["rows"] if r["key"] == other), None)
    if not base or not base.get("sides") or not row.get("sides"):
        return None
    return all(
        row["sides"][s][k] is not None and base["sides"][s][k] is not None and row["sides"][s][k] > base["sides"][s][k]
        for s in ("long", "short")
        for k in ("spearman", "top_decile")
    )


def _side_rows(results: dict) -> list[list[str]]:
    return [cells for r in results["rows"] if not r.get("skipped") and (cells := side_cells(results, r))]


def text_side_table(results: dict) -> str:
    """Per-side scores against real liquidations, as fixed-width text."""
    rows = _side_rows(results)
    if not rows:
        return "(no held-out step with real liquidations per side)"
    widths = [max(len(r[i]) for r in [SIDE_HEAD, *rows]) for i in range(len(SIDE_HEAD))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [SIDE_HEAD, *rows])


def markdown_side_table(results: dict) -> str:
    rows = _side_rows(results)
    out = ["| " + " | ".join(SIDE_HEAD) + " |", "|" + "---|" * len(SIDE_HEAD)]
    out += ["| " + " | ".join(c or "" for c in r) + " |" for r in rows]
    return "\n".join(out)
