"""The one error type plugins raise."""

from __future__ import annotations


class ExchangeError(Exception):
    """An exchange could not deliver what was asked.

    ``permanent=True`` means retrying will not help (unknown or delisted symbol,
    a request the exchange rejects): the core stops refreshing the market and
    shows the reason. ``permanent=False`` (timeouts, 5xx, rate limits) makes the
    task retry with backoff; ``retry_after`` (seconds) is honoured when the
    exchange says how long to wait. ``banned=True`` says the exchange refuses
    every request from this address for ``retry_after`` seconds (Binance's
    HTTP 418): the core then stops asking that exchange, from every worker,
    until the ban ends.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        exchange: str = "",
        endpoint: str = "",
        field: str = "",
        retry_after: float | None = None,
        banned: bool = False,
    ):
        self.message = message
        self.permanent = permanent
        self.exchange = exchange
        self.endpoint = endpoint
        self.field = field
        self.retry_after = retry_after
        self.banned = banned
        super().__init__(str(self))

    def __str__(self) -> str:
        where = " ".join(part for part in (self.exchange, self.endpoint) if part)
        field = f" (field {self.field})" if self.field else ""
        return f"{where}: {self.message}{field}" if where else f"{self.message}{field}"
