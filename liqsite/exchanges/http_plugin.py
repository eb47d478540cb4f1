"""A base for exchange plugins that speak HTTP: one client, a base URL, a backfill cap.

The bundled Binance, Bybit and OKX plugins build on it, and so can third-party
ones: subclass, set ``label``, the envelope check ``unwrap`` and the default
``base_url``, and answer ``listed_ms`` so a new market's backfill starts at its
listing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from liqsite.exchanges import http
from liqsite.exchanges.base import ExchangePlugin

# How far back a new market's backfill reaches when the exchange does not say when it was listed.
DEFAULT_BACKFILL = timedelta(days=365)


class HttpExchangePlugin(ExchangePlugin):
    """An exchange reached through one :class:`~liqsite.exchanges.http.ExchangeHttp` client."""

    default_settings: ClassVar[Mapping[str, Any]] = {
        "base_url": "",
        # 0 backfills as far as each endpoint allows; a positive number caps a new market's backfill.
        "max_backfill_days": 0,
    }
    # The exchange's envelope check: (body, reader) -> payload, raising ExchangeError for error bodies.
    unwrap: ClassVar[Callable | None] = None

    def __init__(self, settings=None, *, transport=None):
        super().__init__(settings, transport=transport)
        unwrap = type(self).unwrap
        self.http = http.ExchangeHttp(
            self.label,
            self.settings["base_url"],
            transport=transport,
            **({"unwrap": unwrap} if unwrap else {}),
        )

    def close(self) -> None:
        self.http.close()

    def listed_ms(self, symbol: str) -> int | None:
        """When ``symbol`` was listed (ms since the epoch), if the exchange says; looks the symbol up."""
        self.instrument(symbol)
        return None

    def start_ms(self, symbol: str, since: datetime | None, earliest_ms: int | None = None) -> int:
        """Where a fetch starts: ``since``, or for a new market its listing time (a year back when
        unknown); never before ``earliest_ms`` (what the endpoint keeps) nor the backfill cap.

        For a new market an unknown symbol fails here, as a permanent error, before any paging.
        """
        now = http.utc_now()
        if since is not None:
            start = http.to_ms(since)
        else:
            start = self.listed_ms(symbol) or http.to_ms(now - DEFAULT_BACKFILL)
        floors = [earliest_ms] if earliest_ms is not None else []
        if self.settings["max_backfill_days"]:
            floors.append(http.to_ms(now - timedelta(days=self.settings["max_backfill_days"])))
        return max([start, *floors])
