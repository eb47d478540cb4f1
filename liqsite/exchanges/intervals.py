"""The fixed set of step intervals every plugin and page speaks."""

from datetime import timedelta

INTERVAL_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "8h": 28800,
    "1d": 86400,
}
INTERVALS: tuple[str, ...] = tuple(INTERVAL_SECONDS)
INTERVAL_CHOICES = [(name, name) for name in INTERVALS]


def interval_delta(interval: str) -> timedelta:
    """The length of one step of ``interval``; ``ValueError`` names the bad value."""
    try:
        return timedelta(seconds=INTERVAL_SECONDS[interval])
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}; expected one of {', '.join(INTERVALS)}") from None
