"""Untrusted text made safe to show: what an app sends never reaches a terminal, a log line or a
JSON document as control.

Values are cleaned once where they enter the program (the model's constructors, so the database
never holds control characters), and every output path passes through the same function again as
a safety net for text that did not come through the model (an app's own error message, a row
written into the database by another program). Plain text, Polish letters, quotes, `&`, `<` and
`[` are kept exactly as typed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# Whole escape sequences go, not only their ESC: CSI (7- and 8-bit), OSC (window titles, OSC 8
# hyperlinks, OSC 52 clipboard writes) up to BEL or ST, DCS/SOS/PM/APC strings, and the two-byte
# ESC sequences. An unterminated string sequence is cut to the end of the text.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 and C1 controls, DEL, and the invisible marks that reorder text on the screen: bidirectional
# embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), LRM/RLM/ALM, and the Unicode
# line and paragraph separators.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_BREAKS = re.compile(r"[\t\n]")
_ESCAPED_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(value: str, *, lines: bool = False) -> str:
    """`value` without escape sequences and control characters. Tabs and line breaks become spaces,
    unless `lines` (a multi-line message), where line breaks stay."""
    text = _SEQUENCES.sub("", value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if lines:
        return text.replace("\t", " ")
    return _BREAKS.sub(" ", text)


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, the cut marked with …."""
    return value if len(value) <= limit else value[: max(0, limit - 1)] + "…"


def json_dumps(document: Any, **options: Any) -> str:
    """`json.dumps` that also writes C1 controls and bidirectional marks as \\u escapes (it escapes
    only C0 by itself), so that a JSON document printed on a terminal carries no control."""
    text = json.dumps(document, ensure_ascii=False, **options)
    return _ESCAPED_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_UNFOLDED = str.maketrans({"ł": "l", "ß": "ss", "đ": "d", "ø": "o"})


def fold(value: str) -> str:
    """For searching: case and Polish letters folded (`Łukasz Wójcik` → `lukasz wojcik`); the stored
    text keeps its letters. `ł` has no decomposition in Unicode, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_UNFOLDED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
