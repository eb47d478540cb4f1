"""Logging filters for the settings' LOGGING."""

from __future__ import annotations

import logging


class WithoutTraceback(logging.Filter):
    """Log the record's message on one line, dropping its traceback.

    For events that are expected noise rather than faults (a scanner naming a host
    not in ALLOWED_HOSTS): worth a line in the log, not forty.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
