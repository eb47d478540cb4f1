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
    return (
        f"{utc(info['start'])} → {utc(info['end'])} UTC; fit on {info['fit_steps']} steps before "
        f"{utc(info['split'])}, scored on {info['held_out_steps']} held-out steps "
        f"({src.get('liquidations', 0)} with liquidation records, {src.get('oi_drop', 0)} with the OI drop)"
    )


def text_table(results: dict) -> str:
    """One market's rows as fixed-width text."""
    head = ["", "Spearman [95 % CI]", "top-decile steps", "liq. USD in top-decile bins", "beats ref", "beats vol", "beats bands"]
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
    head = (
        "| variant / baseline | Spearman [95 % CI] | top-decile steps | liq. USD in top-decile bins "
        "| beats reference | beats volatility | beats bands |"
    )
    out = [head, "|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        if r["skipped"]:
            out.append(f"| {r['label']} | not scored: {r['skipped']} | | | | | |")
            continue
        cells = verdict_cells(results, r["key"])
        out.append(
            f"| {r['label']} | {num(r['spearman'])}{ci(r.get('spearman_ci'))} | {pct(r['top_decile'])} | "
            f"{bins_cell(r)} | {' | '.join(c or '—' for c in cells)} |"
        )
    return "\n".join(out)
