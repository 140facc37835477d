"""Logging set-up for long-running processes: one line per record, JSON access lines."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Tortoise logs every query at DEBUG; keep it quiet unless asked for.
    logging.getLogger("tortoise").setLevel(max(logging.INFO, logging.getLevelName(level)))
