"""Refresh one market: fetch each series from its exchange plugin and ingest it.

Each series resumes from its newest stored row (inclusive, so a step that was
still open when last fetched is updated), and each batch the plugin yields is
written in its own transaction: an interrupted backfill keeps what it stored
and the next run continues from there without duplicating anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.utils import timezone

from liqsite.exchanges import ExchangeError
from markets.ingest import IngestError, IngestResult, ingest_batch, last_stored_time
from markets.models import Market
from markets.series_kinds import SERIES

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class RefreshFailed(Exception):
    """A refresh that may succeed later (network, rate limit); the task retries it."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class RefreshReport:
    market_id: int
    results: dict[str, IngestResult] = field(default_factory=dict)
    error: str = ""
    deactivated: bool = False
    tiers_changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def changed(self) -> bool:
        """Whether anything the grids are computed from was written."""
        totals = self.totals
        return bool(totals.created or totals.updated or self.tiers_changed)

    @property
    def totals(self) -> IngestResult:
        total = IngestResult()
        for result in self.results.values():
            total.add(result)
        return total

    def summary(self) -> str:
        total = self.totals
        text = f"{total.created} new, {total.updated} updated, {total.unchanged} unchanged rows"
        return f"{text}; error: {self.error}" if self.error else text


def _series_plan(market: Market):
    for interval in market.ordered_intervals:
        for name in ("candles", "open_interest", "long_short"):
            yield SERIES[name], interval
    yield SERIES["funding"], None


def _store_margin_tiers(market: Market, tiers) -> bool:
    """Keep the exchange's current tiers on the market, for the engine's formulas; True when they changed."""
    rows = [asdict(tier) for tier in tiers]
    if rows == market.margin_tiers:
        return False
    market.margin_tiers = rows
    market.save(update_fields=["margin_tiers"])
    return True


def market_refresh(market_id: int, *, transport=None, progress: Progress | None = None) -> RefreshReport:
    """Fetch and store everything new for one market.

    A permanent exchange error deactivates the market with the reason shown;
    a transient one is recorded and re-raised as ``RefreshFailed`` for the task
    to retry; a rejected batch is recorded (earlier batches stay stored).
    """
    market = Market.objects.select_related("exchange").get(pk=market_id)
    report = RefreshReport(market_id)
    if not market.exchange.enabled:
        report.error = f"exchange {market.exchange.plugin} is disabled"
        return report
    banned_for = market.exchange.ban_remaining()
    if banned_for:
        # Asking during a ban only prolongs it (Binance escalates repeat offenders):
        # skip without a request; the next periodic refresh after the ban runs as usual.
        report.error = (
            f"{market.exchange.label} banned this server's address until "
            f"{market.exchange.banned_until.isoformat(timespec='seconds')}; not asked before then"
        )
        return report
    try:
        plugin = market.exchange.client(transport=transport)
    except (LookupError, ExchangeError) as error:
        # The exchange itself is unusable (plugin uninstalled, bad settings):
        # say so on the exchange, and leave its markets as they are.
        report.error = str(error)
        market.exchange.record_error(report.error)
        return report
    try:
        with plugin:
            for kind, interval in _series_plan(market):
                key = kind.name if interval is None else f"{kind.name} {interval}"
                result = report.results.setdefault(key, IngestResult())
                since = last_stored_time(kind.name, market, interval)
                for batch in kind.fetch(plugin, market.symbol, interval, since):
                    result.add(ingest_batch(market, kind.name, interval, batch))
                if progress and result.rows:
                    progress(f"  {key}: {result.created} new, {result.updated} updated, {result.unchanged} unchanged")
            report.tiers_changed = _store_margin_tiers(market, plugin.margin_tiers(market.symbol))
    except ExchangeError as error:
        report.error = str(error)
        report.deactivated = error.permanent
        if error.banned:
            market.exchange.record_ban(error.retry_after or 300.0, report.error)
        market.record_error(report.error, deactivate=error.permanent)
        if not error.permanent:
            raise RefreshFailed(report.error, retry_after=error.retry_after) from error
        log.warning("market %s deactivated: %s", market, report.error)
        return report
    except IngestError as error:
        # The exchange sent something we refuse to store. Keep the reason on
        # the market; the next scheduled run tries again with fresh data.
        report.error = str(error)
        market.record_error(report.error, deactivate=False)
        return report
    market.record_success()
    log.info("refreshed %s at %s: %s", market, timezone.now().isoformat(), report.summary())
    return report
