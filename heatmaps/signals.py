"""Signals other apps listen to, so heatmaps never imports them."""

from django.dispatch import Signal

# Sent after a computation stored at least one new grid snapshot, once the
# transaction has committed. Arguments: ``market_id`` (int or None) and
# ``coin`` (str, "" for a single market). Alert evaluation listens to it.
grids_stored = Signal()
