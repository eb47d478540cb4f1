"""Models of the heatmaps app: the public share links of a view."""

from heatmaps.models.shares import ShareLink

__all__ = ["ShareLink"]
