"""What the person at the keyboard answers, read without any terminal code: which listed policies to
import, and yes or no. Every wrong answer is a BadInput whose sentence says what is expected."""

from __future__ import annotations

import re
from collections.abc import Sequence

from a21import.errors import BadInput
from a21import.i18n import _, language

ALL_WORDS = ("all", "wszystkie", "wszystko")
NONE_WORDS = ("none", "żadne", "zadne", "nic")
YES_WORDS = ("t", "tak", "y", "yes")
NO_WORDS = ("n", "nie", "no")
_PART = re.compile(r"(\d+)(?:\s*[-–]\s*(\d+))?")


def expected_answer() -> str:
    return _("Type row numbers to import only those (2,5-7), a minus before them to leave them out (-2,5-7), "
             "all or none; Enter imports every marked row.")


def parse_ranges(text: str, highest: int) -> set[int]:
    """`2, 5-7` → {2, 5, 6, 7}; a range may run either way (`7-5`). Raises BadInput on anything else."""
    chosen: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _PART.fullmatch(part)
        if not match:
            raise BadInput(_("{part!r} is not a row number or a range such as 5-7.").format(part=part) + " "
                           + expected_answer())
        first, last = sorted((int(match.group(1)), int(match.group(2) or match.group(1))))
        outside = [n for n in (first, last) if not 1 <= n <= highest]
        if outside:
            raise BadInput(_("Row {row} is outside the range 1–{highest}.").format(row=outside[0], highest=highest))
        chosen.update(range(first, last + 1))
    return chosen


def parse_choice(text: str, marked: Sequence[int], highest: int, unmarked: dict[int, str]) -> set[int]:
    """The rows to import for an answer at the selection prompt.

    `marked`: the rows that would be imported; `unmarked`: the other rows shown, each with the sentence
    that says why it cannot be chosen. Enter or `all` keeps every marked row, `none` none, `-2,5-7`
    leaves those out, `2,5-7` imports only those."""
    answer = text.strip().casefold()
    if answer in ("", *ALL_WORDS):
        return set(marked)
    if answer in NONE_WORDS:
        return set()
    leave_out = answer.startswith("-")
    rows = parse_ranges(answer[1:] if leave_out else answer, highest)
    if not rows:
        raise BadInput(expected_answer())
    for row in sorted(rows):
        if row in unmarked:
            raise BadInput(_("Row {row} cannot be chosen: {why}").format(row=row, why=unmarked[row]))
    return set(marked) - rows if leave_out else rows


def describe_rows(rows: Sequence[int]) -> str:
    """{1, 2, 3, 5} → `1–3, 5`."""
    parts: list[str] = []
    ordered = sorted(rows)
    start = prev = None
    for n in [*ordered, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = n
    return ", ".join(parts)


def yes_no_hint(default: bool) -> str:
    """`[T/n]` in Polish, `[Y/n]` in English: the default in capitals."""
    yes, no = ("t", "n") if language() == "pl" else ("y", "n")
    return f"[{yes.upper()}/{no}]" if default else f"[{yes}/{no.upper()}]"


def parse_yes_no(text: str, default: bool) -> bool:
    answer = text.strip().casefold()
    if not answer:
        return default
    if answer in YES_WORDS:
        return True
    if answer in NO_WORDS:
        return False
    raise BadInput(_("Answer y (yes) or n (no)."))
