"""The liquidation collector: public liquidation streams → ``Liquidation`` rows, with coverage recorded.

``store`` holds the (synchronous) database work, ``connection`` one
websocket connection's life, ``runner`` the set of streams to keep open.
Run it with ``manage.py collect_liquidations`` (see docs/collector.md).
"""
