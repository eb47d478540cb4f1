"""Signals other apps listen to, so the markets app never imports them."""

from django.dispatch import Signal

# Sent by a successful refresh, inside the refresh task. Arguments:
# ``market_id`` (int) and ``changed`` (bool: whether anything new was stored).
# The grids app listens to compute the market's grids when they may have moved.
market_refreshed = Signal()
