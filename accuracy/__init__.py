"""Accuracy: score the liquidation map against what really happened, and publish the score.

Pure numpy modules (no Django): ``scores``, ``baselines``, ``maps``, ``variants``,
``backtest``. Django glue: ``service`` (load rows, run, store), ``selectors``
(read stored reports for pages), ``views``. See ``docs/accuracy.md``.
"""
