"""The heatmap page's controls: plain links, each holding the whole next view in its URL.

Every control is an ``<a href>`` (works without JavaScript) that htmx also
fetches (``hx-get``) to swap the view in place and push the URL, so the address
bar always reproduces what is shown. Only choices that exist are offered:
intervals and methods with a stored grid, buckets and exchanges with stored
layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heatmaps.viewing.query import METHODS, RANGES, ViewQuery, format_leverage


@dataclass(frozen=True)
class ControlLink:
    label: str
    url: str = ""
    active: bool = False
    title: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass
class ControlGroup:
    key: str
    label: str
    links: list[ControlLink] = field(default_factory=list)
    note: str = ""


def view_controls(view, path: str) -> list[ControlGroup]:
    """The control groups of a computed view; ``path`` is the page's path without query."""
    query: ViewQuery = view.query
    choice = view.choice

    def link(label, next_query: ViewQuery, active: bool, title: str = "") -> ControlLink:
        return ControlLink(label, path + next_query.querystring(), active, title)

    groups = [
        ControlGroup("range", "Range", [link(r, query.with_(range=r), r == query.range) for r in RANGES]),
        ControlGroup(
            "interval",
            "Interval",
            [link(i, query.with_(interval=i), i == query.interval) for i in choice.intervals],
            note="" if len(choice.intervals) > 1 else "only this interval is computed",
        ),
        ControlGroup(
            "method",
            "Long share",
            [
                link(label, query.with_(method=m), m == query.method)
                if m in choice.methods
                else ControlLink(label, title="not computed for this market and interval")
                for m, label in METHODS.items()
            ],
        ),
    ]
    groups.append(_bucket_group(view, query, link))
    if view.target.is_coin:
        groups.append(_exchange_group(view, query, link))
    return groups


def _bucket_group(view, query: ViewQuery, link) -> ControlGroup:
    group = ControlGroup("buckets", "Leverage")
    layers = view.layers
    if layers is None or not layers.by_bucket:
        group.note = "all buckets (per-bucket grids not stored)"
        return group
    group.links.append(link("all", query.with_(buckets=()), not query.buckets))
    for bucket in layers.buckets:
        label = f"{format_leverage(bucket)}×"
        picked = _pick(query.buckets, bucket)
        if picked is None:  # the last bucket shown cannot be switched off
            group.links.append(ControlLink(label, active=True, title="at least one bucket is shown"))
        else:
            group.links.append(link(label, query.with_(buckets=picked), bucket in query.buckets))
    return group


def _pick(selected: tuple, item) -> tuple | None:
    """The selection after clicking ``item``: from "all" (nothing selected) only that item;
    otherwise the item is added or removed. None when that would empty the selection."""
    if not selected:
        return (item,)
    toggled = tuple(sorted(set(selected) ^ {item}))
    return toggled or None


def _exchange_group(view, query: ViewQuery, link) -> ControlGroup:
    group = ControlGroup("exchanges", "Exchanges")
    exchanges = {}
    for market in view.markets:
        exchanges.setdefault(market.exchange.plugin, market.exchange)
    layers = view.layers
    layered = {m.exchange.plugin for m in view.markets if layers and m.pk in layers.market_ids}
    if not layered:
        group.note = "all exchanges of the stored aggregate (per-exchange grids not stored)"
        group.links = [ControlLink(exchange.label, active=True) for exchange in exchanges.values()]
        return group
    group.links.append(link("all", query.with_(exchanges=()), not query.exchanges))
    for key in sorted(layered):
        label = exchanges[key].label
        picked = _pick(query.exchanges, key)
        if picked is None:
            group.links.append(ControlLink(label, active=True, title="at least one exchange is included"))
        else:
            group.links.append(link(label, query.with_(exchanges=picked), key in query.exchanges))
    return group
