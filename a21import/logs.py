"""The importer's log file: what was read, stored or failed, for the agent and for support.

One rotating file (`a21import.log` in the platformdirs user log folder, or `A21IMPORT_LOG`),
private to the user like the database. Every line passes through `mask_personal_ids`, so no
PESEL, NIP or REGON stands in it in full, tracebacks included.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from a21import.formats import mask_personal_ids

LOGGER_NAME = "a21import"
MAX_BYTES = 1_000_000
BACKUPS = 3

log = logging.getLogger(LOGGER_NAME)
log.addHandler(logging.NullHandler())  # no log file set up: nothing, not even warnings on stderr
log.propagate = False


class MaskingFormatter(logging.Formatter):
    """Formats the whole record (message, arguments, traceback), then masks identifiers in it."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_ids(super().format(record))


def default_path() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("a21import", appauthor=False)) / "a21import.log"


def log_path() -> Path | None:
    """The log file, or None when A21IMPORT_LOG is set to an empty value or `off`."""
    value = os.environ.get("A21IMPORT_LOG")
    if value is None:
        return default_path()
    if value.strip() in ("", "off", "-"):
        return None
    return Path(value).expanduser()


def setup() -> Path | None:
    """Sends the importer's log to its file. A log that cannot be written never stops an import."""
    path = log_path()
    if path is None or any(getattr(h, "a21import", False) for h in log.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
    except OSError:
        return None
    handler.a21import = True  # type: ignore[attr-defined]
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return path
