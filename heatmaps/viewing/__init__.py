"""The read side of a heatmap view, below the pages: what a view shows, never how it is drawn.

The view query (``query``), the stored snapshot it picks (``snapshots``), the
window cut from the stored grid (``grid_source``, ``window``), the measured
liquidation bars (``measured``), the stored analysis as rows
(``analysis_rows``) and their assembly into one view (``heatmap_view``). The
share-link service and the alerts build on it; the pages
(``heatmaps/pages``, ``heatmaps/charts.py``) draw it. Nothing here imports
the pages.
"""
