"""Models of the alerts app, one module per job."""

from alerts.models.rules import Alert, AlertRule
from alerts.models.watchlists import WatchlistItem

__all__ = ["Alert", "AlertRule", "WatchlistItem"]
