"""A text progress bar for the backtest command: redrawn in place on a terminal, a few lines otherwise."""

from __future__ import annotations

import time


class ProgressBar:
    """Call with ``(done, total, label)`` as work advances; :meth:`close` ends the line.

    On a terminal the bar is redrawn in place (``\\r``) at most every
    ``min_interval`` seconds and always at the end; in a log (not a terminal) it
    writes one line per quarter, so logs show progress without thousands of lines.
    """

    def __init__(self, write, *, prefix: str = "", width: int = 30, tty: bool = True, min_interval: float = 0.05):
        self.write = write
        self.prefix = prefix
        self.width = width
        self.tty = tty
        self.min_interval = min_interval
        self._last_draw = 0.0
        self._last_quarter = -1
        self._drawn = False

    def render(self, done: int, total: int, label: str) -> str:
        total = max(total, 1)
        filled = round(self.width * min(done, total) / total)
        bar = "#" * filled + "-" * (self.width - filled)
        return f"{self.prefix}[{bar}] {done}/{total} {label}"

    def __call__(self, done: int, total: int, label: str) -> None:
        finished = done >= total
        if self.tty:
            now = time.monotonic()
            if finished or now - self._last_draw >= self.min_interval:
                self.write("\r\033[K" + self.render(done, total, label))
                self._last_draw = now
                self._drawn = True
            return
        quarter = (4 * done) // max(total, 1)
        if quarter > self._last_quarter:
            self._last_quarter = quarter
            self.write(self.render(done, total, label) + "\n")

    def close(self) -> None:
        if self.tty and self._drawn:
            self.write("\n")
        self._drawn = False
