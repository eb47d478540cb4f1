"""A heatmap view with its chart: what the market, coin and share pages render.

The read side (``heatmaps/viewing/``) assembles the data of a view; this
module adds the ECharts payload. A live view's chart JSON is cached beside its
window, for as long and under the same name; a frozen share link's is drawn
from the window copied into the link.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.core.cache import cache
from django.http import QueryDict

from heatmaps import charts
from heatmaps.models import ShareLink
from heatmaps.share_links import share_target
from heatmaps.viewing.by_exchange import exchange_split
from heatmaps.viewing.heatmap_view import CACHE_SECONDS, HeatmapView, heatmap_view, view_base, view_currency
from heatmaps.viewing.query import ViewQuery, parse_view_query
from heatmaps.viewing.snapshots import Target
from heatmaps.viewing.window import HeatmapWindow


@dataclass
class ChartedView(HeatmapView):
    """A view and its chart JSON ("" when nothing is computed yet)."""

    chart_json: str = ""


def charted_view(target: Target, query: ViewQuery) -> ChartedView:
    """The view of ``target`` for ``query`` with its chart; raises ``BadQuery`` for what cannot be shown."""
    view = heatmap_view(target, query)
    if not view.computed:
        return _with_chart(view, "")
    key = f"{view.cache_key}:chart"
    chart_json = cache.get(key) if view.cache_key else None
    if chart_json is None:
        payload = charts.chart_payload(view.window, currency=view_currency(view.markets), base=view_base(target))
        split = exchange_split(view)
        if split is not None:
            charts.add_exchange_split(payload, split)
        chart_json = charts.dumps(payload)
        if view.cache_key:
            cache.set(key, chart_json, CACHE_SECONDS)
    return _with_chart(view, chart_json)


def shared_view(link: ShareLink) -> tuple[ChartedView, dict | None]:
    """The view a link shows, and (frozen links) the analysis and params copied with it."""
    target = share_target(link)
    query = parse_view_query(_query_dict(link.query), coin_page=target.is_coin)
    if not link.frozen:
        return charted_view(target, query), None
    window = HeatmapWindow.from_bytes(link.frozen_window)
    meta = link.frozen_meta or {}
    payload = charts.chart_payload(window, currency=meta.get("currency", "USD"), base=meta.get("base", ""))
    return ChartedView(target, query, window=window, chart_json=charts.dumps(payload)), meta


def _with_chart(view: HeatmapView, chart_json: str) -> ChartedView:
    return ChartedView(**{f.name: getattr(view, f.name) for f in fields(view)}, chart_json=chart_json)


def _query_dict(params: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        query[key] = str(value)
    return query
