"""The importer's log file: what was read, stored or failed, for the agent and for support.

One rotating file (`a21import.log` in the platformdirs user log folder, or `A21IMPORT_LOG`),
private to the user like the database: created 0600 (also after a rotation), a wider one narrowed,
never opened through a symbolic link. Every line passes through `mask_personal_ids`, so no
PESEL, NIP or REGON stands in it in full, tracebacks included.

One record is one line (a traceback follows on its own lines): line breaks and other control
characters in a message, and in the message part of a traceback, are written as visible escapes
(`\\n`, `\\x1b`), so that an app's text can neither forge a record nor hide in the file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import traceback
from pathlib import Path

from a21import import files
from a21import.formats import mask_personal_ids
from a21import.i18n import _

LOGGER_NAME = "a21import"
MAX_BYTES = 1_000_000
BACKUPS = 3

log = logging.getLogger(LOGGER_NAME)
log.addHandler(logging.NullHandler())  # no log file set up: nothing, not even warnings on stderr
log.propagate = False


# Line breaks become `\n`/`\r` before masking (letters, so no digits run together and a PESEL after
# a break is still masked); every other control, C1 and bidi or invisible mark is escaped after it
# (masking reads digits across invisible marks, and the escapes carry hex digits of their own).
_BREAKS = {"\n": "\\n", "\r": "\\r"}
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")


def _one_line(text: str) -> str:
    return text.replace("\n", _BREAKS["\n"]).replace("\r", _BREAKS["\r"])


def _visible(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char == "\t":
            return "\\t"
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _UNSAFE.sub(escape, text)


class MaskingFormatter(logging.Formatter):
    """Formats the whole record (message, arguments, traceback), then masks identifiers in it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _one_line(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        exception = traceback.TracebackException(*ei)
        _one_line_messages(exception, set())
        return "".join(exception.format()).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another handler's traceback text is not escaped
        try:
            text = super().format(record)
        finally:
            record.exc_text = cached
        return _visible(mask_personal_ids(text, keep=getattr(record, "keep", ())))


def _one_line_messages(exception: traceback.TracebackException, seen: set[int]) -> None:
    """The message part of every exception in a traceback (causes, contexts, groups) on one line.
    TracebackException keeps the message it prints in `_str` (3.11 to 3.13) and offers no public way
    to change it; without it the message is printed as it is."""
    if id(exception) in seen:
        return
    seen.add(id(exception))
    if isinstance(getattr(exception, "_str", None), str):
        exception._str = _one_line(exception._str)
    notes = getattr(exception, "__notes__", None)
    if isinstance(notes, list):
        exception.__notes__ = [_one_line(str(note)) for note in notes]
    for other in (exception.__cause__, exception.__context__, *(getattr(exception, "exceptions", None) or ())):
        if other is not None:
            _one_line_messages(other, seen)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Opens the log (at the start and after every rotation) 0600 and never through a link."""

    def _open(self):
        handle = files.open_for_append(Path(self.baseFilename))
        return os.fdopen(handle, "a", encoding=self.encoding, errors=self.errors)


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
        files.make_folders(path.parent)
        handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except files.LinkRefused:
        _warn(_("The log file {path} is a symbolic link, so a21import does not write to it and keeps no log this "
                "time. Remove the link to have the log again.").format(path=path))
        return None
    except OSError:
        return None
    handler.a21import = True  # type: ignore[attr-defined]
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return path


def _warn(message: str) -> None:
    """On stderr, plainly: the log is set up before any console, and a --json document stays on stdout."""
    from a21import.text import clean

    print(clean(message, lines=True), file=sys.stderr)
