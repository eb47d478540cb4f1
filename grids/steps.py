"""One market's steps as arrays: the one shape every consumer of stored series takes.

The grid computation (:mod:`grids.computation`) and the backtest
(:mod:`accuracy.backtest`) both read them; :func:`grids.inputs.market_steps`
builds them from the database. Pure numpy (no Django), so the backtest stays
testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["StepArrays", "STEP_FIELDS"]


@dataclass(frozen=True)
class StepArrays:
    """One market's steps: candles plus as-of open interest and long share."""

    open_time: np.ndarray  # int64 ms, strictly increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    taker_buy_volume: np.ndarray  # NaN where the exchange gives none
    open_interest: np.ndarray  # base units at the end of each step
    long_share: np.ndarray  # NaN where no reading is known

    def __len__(self) -> int:
        return len(self.open_time)

    def window(self, mask) -> StepArrays:
        """The steps picked by ``mask`` (a bool array, an index array or a slice)."""
        return StepArrays(*(getattr(self, name)[mask] for name in STEP_FIELDS))


STEP_FIELDS = tuple(f.name for f in fields(StepArrays))
