"""The share-link service: make a live or frozen link to one view, and find the target a link shows.

Below the pages: the pages and the alerts (a frozen view of what fired) both
call it, and it draws nothing. Showing a link is the pages' job
(``heatmaps/pages/charted.py``).
"""

from __future__ import annotations

from heatmaps.models import ShareLink
from heatmaps.viewing.analysis_rows import squeeze_rows
from heatmaps.viewing.heatmap_view import HeatmapView, heatmap_view, view_base, view_currency
from heatmaps.viewing.query import BadQuery, ViewQuery
from heatmaps.viewing.snapshots import Target, coin_target
from liqsite.formatting import usd


def create_share_link(*, owner, target: Target, query: ViewQuery, frozen: bool) -> ShareLink:
    """A new link to ``target`` seen through ``query``; frozen links copy the data shown now.

    Raises :class:`BadQuery` when the view cannot be shown (then no link is made).
    """
    view = heatmap_view(target, query)
    if not view.computed:
        raise BadQuery("This heatmap is not computed yet, so there is nothing to share.")
    link = ShareLink(
        owner=owner,
        market_id=target.market_id,
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
    return Target.of_market(link.market) if link.market_id else coin_target(link.coin)


def share_title(view: HeatmapView) -> str:
    query = view.query
    return f"{view.target.title}: liquidation heatmap, {query.range} of {query.interval}"


def share_description(analysis: dict) -> str:
    """One line for link previews: the squeeze summary at ±5 %, marked as an estimate."""
    rows, _ = squeeze_rows(analysis)
    five = next((row for row in rows if row.percent == "5"), None)
    if five is None:
        return "Estimated pending liquidations by price (model estimate)."
    # The side of the figures quoted, at 5 %: the stored verdict is judged on the widest move (10 %)
    # and can be the other way, which a preview quoting the 5 % figures would contradict.
    side = ""
    if five.long_usd is not None and five.short_usd is not None:
        longs, shorts = five.long_usd, five.short_usd
        side = "longs heavier" if longs > shorts else "shorts heavier" if shorts > longs else "balanced"
    text = (
        f"Model estimate: {usd(five.long_usd)} of longs liquidate if price falls 5 %, "
        f"{usd(five.short_usd)} of shorts if it rises 5 %"
    )
    return f"{text}; {side}." if side else f"{text}."
