"""A database made before the app split migrates to the new layout with every row kept.

The models of markets, grids, accuracy and the outbox used to live in the
heatmaps and alerts apps. This builds the schema as those older migrations
left it (the new apps' migrations unapplied), writes one row of every moved
model and of every model pointing at them through the old apps' historical
models, migrates forward, and reads each row back through today's models —
on SQLite and, in CI, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# The last migrations of the layout before the split, and the apps it did not have.
BEFORE_SPLIT = [
    ("heatmaps", "0007_accuracy_reports"),
    ("alerts", "0001_initial"),
    ("markets", None),
    ("grids", None),
    ("accuracy", None),
    ("outbox", None),
]
T0 = datetime(2024, 5, 9, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1] is not None]).apps


ADDED_SINCE_SPLIT = {"accuracy_readingsreport", "markets_liquidationimport", "markets_liquidationtotal"}


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _fill_old_layout(old) -> dict:
    """One row of each moved model (and of each model that points at one), written as the old apps saw them."""
    content_type = ContentType.objects.get_or_create(app_label="heatmaps", model="market")[0]
    permission = Permission.objects.get_or_create(
        codename="change_market", content_type=content_type, defaults={"name": "Can change market"}
    )[0]
    user = old.get_model("auth", "User").objects.create(username="satoshi", email="satoshi@example.com")
    exchange = old.get_model("heatmaps", "Exchange").objects.create(plugin="sample", settings={"max_backfill_days": 3})
    market = old.get_model("heatmaps", "Market").objects.create(
        exchange=exchange, symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["15m"], margin_tiers=[{"floor": 0}]
    )
    for name, values in {
        "Candle": {"interval": "15m", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 10},
        "OpenInterest": {"interval": "15m", "open_interest": 123.0},
        "LongShortRatio": {"interval": "15m", "long_share": 0.6},
        "FundingRate": {"rate": 0.0001},
    }.items():
        old.get_model("heatmaps", name).objects.create(market=market, time=T0, **values)
    old.get_model("heatmaps", "Liquidation").objects.create(
        market=market, time=T0, side="long", price=60000, quantity=0.5, usd=30000
    )
    old.get_model("heatmaps", "LiquidationCoverage").objects.create(exchange=exchange, stream="!forceOrder@arr", connected_at=T0)
    grid_fields = {
        "interval": "15m",
        "computed_at": T0,
        "input_digest": "d" * 64,
        "start": T0,
        "end": T0,
        "steps": 1,
        "bins": 2,
        "params": {"p": 1},
        "analysis": {"close": 1.5},
        "arrays": b"npz-bytes",
        "layers": b"layer-bytes",
    }
    old.get_model("heatmaps", "GridSnapshot").objects.create(market=market, **grid_fields)
    old.get_model("heatmaps", "GridSnapshot").objects.create(coin="BTC", **grid_fields)
    old.get_model("heatmaps", "AccuracyReport").objects.create(
        market=market,
        interval="15m",
        computed_at=T0,
        period_start=T0,
        period_end=T0,
        split_at=T0,
        held_out_steps=5,
        variant="reference",
        results={"site": {"spearman": 0.5}},
    )
    old.get_model("heatmaps", "ShareLink").objects.create(
        owner=user, market=market, token="t" * 32, title="BTC map", query={"range": "3d"}
    )
    message = old.get_model("alerts", "OutboxMessage").objects.create(
        kind="alert", to="satoshi@example.com", subject="s", text_body="b"
    )
    rule = old.get_model("alerts", "AlertRule").objects.create(user=user, market=market, interval="15m")
    old.get_model("alerts", "WatchlistItem").objects.create(user=user, coin="BTC")
    old.get_model("alerts", "Alert").objects.create(
        rule=rule,
        user=user,
        market=market,
        episode_key="band:1",
        fired_at=T0,
        kind="cluster",
        rule_text="r",
        summary="s",
        details={},
        heatmap_url="http://x/",
        message=message,
    )
    return {"user": user.pk, "market": market.pk, "exchange": exchange.pk, "message": message.pk, "permission": permission.pk}


def test_a_database_from_before_the_split_keeps_every_row():
    leaves = _leaves()
    old = _migrate(BEFORE_SPLIT)
    with connection.cursor() as cursor:
        tables_before = set(connection.introspection.table_names(cursor))
    ids = _fill_old_layout(old)

    _migrate(leaves)

    from accuracy.models import AccuracyReport
    from alerts.models import Alert, AlertRule, WatchlistItem
    from grids.models import GridSnapshot
    from heatmaps.models import ShareLink
    from liqsite.outbox.models import OutboxMessage
    from markets.models import (
        Candle,
        Exchange,
        FundingRate,
        Liquidation,
        LiquidationCoverage,
        LongShortRatio,
        Market,
        OpenInterest,
    )

    with connection.cursor() as cursor:
        # No table made, none dropped, but those of models added after the split (their own migrations).
        assert set(connection.introspection.table_names(cursor)) == tables_before | ADDED_SINCE_SPLIT
    market = Market.objects.select_related("exchange").get(pk=ids["market"])
    assert (market.symbol, market.exchange.pk, market.exchange.settings) == ("BTCUSDT", ids["exchange"], {"max_backfill_days": 3})
    assert market.margin_tiers == [{"floor": 0}] and Exchange.objects.count() == 1
    assert Candle.objects.get(market=market).close == 1.5
    assert OpenInterest.objects.get(market=market).open_interest == 123.0
    assert LongShortRatio.objects.get(market=market).long_share == 0.6
    assert FundingRate.objects.get(market=market).rate == 0.0001
    assert Liquidation.objects.get(market=market).usd == 30000
    assert LiquidationCoverage.objects.get(exchange=market.exchange).stream == "!forceOrder@arr"
    market_grid = GridSnapshot.objects.get(market=market)
    assert bytes(market_grid.arrays) == b"npz-bytes" and bytes(market_grid.layers) == b"layer-bytes"
    assert market_grid.target.key == f"m:{market.pk}"
    assert GridSnapshot.objects.get(market__isnull=True).target.key == "c:BTC"
    assert AccuracyReport.objects.get(market=market).results == {"site": {"spearman": 0.5}}
    assert ShareLink.objects.get(market=market).title == "BTC map"
    alert = Alert.objects.select_related("message").get()
    assert alert.message == OutboxMessage.objects.get(pk=ids["message"]) and alert.market_id == market.pk
    assert AlertRule.objects.get().market_id == market.pk
    assert WatchlistItem.objects.get().target.key == "c:BTC"
    # Permissions granted on a moved model follow it: its content type row moved with it.
    assert Permission.objects.get(pk=ids["permission"]).content_type.app_label == "markets"
    assert not ContentType.objects.filter(app_label="heatmaps", model="market").exists()
