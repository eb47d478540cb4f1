"""Share links: making one from a view, and rebuilding the view a link shows."""

from __future__ import annotations

from django.http import QueryDict

from heatmaps import charts
from heatmaps.formatting import usd
from heatmaps.models import ShareLink
from heatmaps.pages.heatmap_view import HeatmapView, heatmap_view, view_base, view_currency
from heatmaps.pages.query import BadQuery, ViewQuery, parse_view_query
from heatmaps.pages.readings import squeeze_rows
from heatmaps.pages.snapshots import Target, coin_target
from heatmaps.pages.window import HeatmapWindow


def create_share_link(*, owner, target: Target, query: ViewQuery, frozen: bool) -> ShareLink:
    """A new link to ``target`` seen through ``query``; frozen links copy the data shown now.

    Raises :class:`BadQuery` when the view cannot be shown (then no link is made).
    """
    view = heatmap_view(target, query)
    if not view.computed:
        raise BadQuery("This heatmap is not computed yet, so there is nothing to share.")
    link = ShareLink(
        owner=owner,
        market=target.market,
        coin=target.coin,
        query=view.query.params(),
        title=share_title(view),
        description=share_description(view.analysis),
        frozen=frozen,
    )
    if frozen:
        link.frozen_window = view.window.to_bytes()
        link.frozen_meta = {
            "analysis": view.analysis,
            "params": view.snapshot.params,
            "currency": view_currency(view.markets),
            "base": view_base(target),
        }
    link.save()
    return link


def share_target(link: ShareLink) -> Target:
    # The link's market is already loaded (select_related by the view); no need to fetch it again.
    return Target(market=link.market) if link.market_id else coin_target(link.coin)


def shared_view(link: ShareLink) -> tuple[HeatmapView, dict | None]:
    """The view a link shows, and (frozen links) the analysis and params copied with it."""
    target = share_target(link)
    query = parse_view_query(_query_dict(link.query), coin_page=target.is_coin)
    if not link.frozen:
        return heatmap_view(target, query), None
    window = HeatmapWindow.from_bytes(link.frozen_window)
    meta = link.frozen_meta or {}
    payload = charts.chart_payload(window, currency=meta.get("currency", "USD"), base=meta.get("base", ""))
    view = HeatmapView(target, query, window=window, chart_json=charts.dumps(payload))
    return view, meta


def share_title(view: HeatmapView) -> str:
    query = view.query
    return f"{view.target.title}: liquidation heatmap, {query.range} of {query.interval}"


def share_description(analysis: dict) -> str:
    """One line for link previews: the squeeze summary at ±5 %, marked as an estimate."""
    rows, heavier = squeeze_rows(analysis)
    five = next((row for row in rows if row.percent == "5"), None)
    if five is None:
        return "Estimated pending liquidations by price (model estimate)."
    side = {"long": "longs heavier", "short": "shorts heavier", "balanced": "balanced"}.get(heavier, "")
    text = f"Model estimate: {usd(five.long_usd)} of longs liquidate if price falls 5 %, {usd(five.short_usd)} of shorts if it rises 5 %"
    return f"{text}; {side}." if side else f"{text}."


def _query_dict(params: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        query[key] = str(value)
    return query
