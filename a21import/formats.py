"""Pure conversions of the formats the apps write: amounts, dates, identifiers, addresses; and amounts as
shown to people (`money`), for the import's table and the read-only commands alike.

Every function either returns a value or raises ParseError with a whole sentence; no
input makes them crash otherwise. Amounts never pass through floats on the way to grosze.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from a21import.errors import ParseError
from a21import.i18n import N_, _

WARSAW = ZoneInfo("Europe/Warsaw")
NBSP = "\u00a0"

# "1 234,56 zł": U+00A0 groups thousands, decimal comma, two decimals, optional " zł".
_PL_AMOUNT = re.compile(r"^(-?)(\d{1,3}(?:\u00a0\d{3})*|\d+),(\d{2})(?: zł)?$")
_DOT_AMOUNT = re.compile(r"^(-?)(\d+)\.(\d{2})$")
_PL_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TYPED_PL_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_POSTAL = re.compile(r"^\d{2}-\d{3}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def pl_amount_to_gr(text: str | None) -> int:
    """`1 234,56 zł` (U+00A0 between thousands) or `389,00` → grosze."""
    if not isinstance(text, str):
        raise ParseError(_("The amount {text!r} is not text.").format(text=text))
    value = text.strip()
    match = _PL_AMOUNT.match(value)
    if not match:
        raise ParseError(_("The amount {text!r} is not in the form 1 234,56 zł.").format(text=text))
    sign, whole, cents = match.groups()
    grosze = int(whole.replace(NBSP, "")) * 100 + int(cents)
    return -grosze if sign else grosze


def optional_pl_amount_to_gr(text: str | None) -> int | None:
    if text is None or text.strip() == "":
        return None
    return pl_amount_to_gr(text)


def decimal_to_gr(text: str | None) -> int:
    """`"1234.56"` (dot, exactly two decimals) → grosze, by integer arithmetic."""
    if not isinstance(text, str):
        raise ParseError(_("The amount {text!r} is not a decimal string.").format(text=text))
    match = _DOT_AMOUNT.match(text.strip())
    if not match:
        raise ParseError(_("The amount {text!r} is not in the form 1234.56.").format(text=text))
    sign, whole, cents = match.groups()
    grosze = int(whole) * 100 + int(cents)
    return -grosze if sign else grosze


def optional_decimal_to_gr(text: str | None) -> int | None:
    return None if text is None else decimal_to_gr(text)


def json_number_to_gr(value: object) -> int:
    """A JSON number of złoty with at most two decimals (`1234.56`, `745.1`, `8400`) → grosze.

    The shortest decimal text of the float is exact (`19.99`), so going through it never
    truncates the way `int(19.99 * 100)` does.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(_("The amount {value!r} is not a number.").format(value=value))
    try:
        amount = Decimal(repr(value)) * 100
    except InvalidOperation as exc:
        raise ParseError(_("The amount {value!r} is not a number.").format(value=value)) from exc
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ParseError(_("The amount {value!r} has more than two decimals.").format(value=value))
    return int(amount)


def grosze_int(value: object) -> int:
    """An amount that the app already gives in integer grosze."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(_("The amount in grosze {value!r} is not a whole number.").format(value=value))
    return value


def _make_date(year: str, month: str, day: str, text: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ParseError(_("The date {text!r} does not exist.").format(text=text)) from exc


def pl_date(text: str | None) -> date:
    """`dd.mm.yyyy` → date."""
    match = _PL_DATE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ParseError(_("The date {text!r} is not in the form dd.mm.yyyy.").format(text=text))
    day, month, year = match.groups()
    return _make_date(year, month, day, text)


def iso_date(text: str | None) -> date:
    """`YYYY-MM-DD` → date."""
    match = _ISO_DATE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ParseError(_("The date {text!r} is not in the form YYYY-MM-DD.").format(text=text))
    year, month, day = match.groups()
    return _make_date(year, month, day, text)


def warsaw_date(text: str | None) -> date:
    """An ISO 8601 instant with an offset (`2026-11-15T23:30:00Z`) → its calendar date in Warsaw."""
    if not isinstance(text, str):
        raise ParseError(_("The time {text!r} is not text.").format(text=text))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParseError(_("The time {text!r} is not an ISO 8601 time.").format(text=text)) from exc
    if moment.tzinfo is None:
        raise ParseError(_("The time {text!r} has no offset.").format(text=text))
    return moment.astimezone(WARSAW).date()


def user_date(text: str) -> date:
    """A date typed by the user: `2026-11-01` or `01.11.2026`. Raises ParseError."""
    value = (text or "").strip()
    if _ISO_DATE.match(value):
        return iso_date(value)
    typed = _TYPED_PL_DATE.match(value)  # 1.11.2026 as well as 01.11.2026
    if typed:
        day, month, year = typed.groups()
        return _make_date(year, month, day, text)
    raise ParseError(_("The date {text!r} is not in the form 2026-11-01 or 01.11.2026.").format(text=text))


def fmt_pl_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def money(grosze: int | None) -> str:
    """Grosze as people read an amount: `1\u00a0234,56 zł` (no-break space between thousands)."""
    if grosze is None:
        return ""
    whole, cents = divmod(abs(grosze), 100)
    return ("-" if grosze < 0 else "") + f"{whole:,}".replace(",", NBSP) + f",{cents:02d} zł"


# Said under a table whose rows all have one insurer (its column is then dropped first).
ONE_INSURER = N_("Insurer of every row: {insurer}.")


def clean_registration(text: str | None) -> str | None:
    """`GD 4F218` → `GD4F218`; empty → None."""
    if text is None:
        return None
    value = "".join(text.split()).upper()
    return value or None


def clean_vin(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip().upper()
    return value or None


def vin_is_plausible(vin: str) -> bool:
    """17 characters of the VIN alphabet (no I, O, Q). The check digit is only binding in
    North America, so a European VIN is not rejected on it."""
    return bool(_VIN.match(vin))


def digits_or_none(text: str | None) -> str | None:
    """An identifier as digits only; empty → None."""
    if text is None:
        return None
    value = "".join(ch for ch in text if ch.isdigit())
    return value or None


def empty_to_none(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip()
    return value or None


def split_address(text: str | None) -> tuple[str | None, str | None, str | None]:
    """`ul. Długa 5/12, 80-827 Gdańsk` → (street, postal code, city), split at the last `, `."""
    value = empty_to_none(text)
    if value is None:
        return None, None, None
    street, sep, rest = value.rpartition(", ")
    postal, city = rest[:6], rest[7:]
    if not sep or not _POSTAL.match(postal) or rest[6:7] != " " or not city:
        raise ParseError(_("The address {text!r} is not in the form street, NN-NNN city.").format(text=text))
    return street, postal, city


def mask_identifier(value: str | None) -> str:
    """PESEL/NIP/REGON for logs and messages: only the first two and last two digits."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


# -- masking identifiers in messages and log lines ------------------------------------------------------
# Digits separated by single spaces or dashes form one run; an identifier is read only across groups
# joined by ONE kind of separator (`526-104-08-28`, `840312 33138`, `012 100 784`), so a timestamp
# (`2026-11-05 14:03`), which mixes them, never becomes a 10-digit number.
_SEPARATORS = " \t\r\n\u00a0\u2000-\u200a\u202f\u205f\u3000\\-\u2010-\u2015\u2212\ufe63\uff0d"
_RUN = re.compile(rf"(?<!\d)\d+(?:[{_SEPARATORS}]\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
_DECIMALS = re.compile(r"[.,]\d{1,2}(?!\d)")  # `100 000 000,00 zł` is an amount, not a REGON
# What a terminal shows as nothing, and what `text.clean` removes later (the same escape sequences):
# `840312\x1b[0m33138` and `840312\u200b33138` are read as the PESEL they look like.
_HIDDEN = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    "|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff]"
)
_ID_LENGTHS = frozenset((9, 10, 11, 14))  # REGON, NIP, PESEL, REGON of a local unit
_LONGEST_ID = 14
_FILLER = r"[\s:=#\"'„”“‘’«»(\[]{0,3}"
_ID_LABEL = re.compile(
    rf"\b(?:PESEL|NIP|REGON)(?:-?(?:u|em|ie))?(?:\s+(?:nr\.?|no\.|number|numer))?{_FILLER}(?:PL\s?)?(?=\d)",
    re.IGNORECASE)
_POLICY_LABEL = re.compile(
    r"\b(?:polic(?:y|ies)|polis[^\W\d_]*)"
    r"(?:\s+(?:(?:with\s+)?(?:the\s+)?number|no\.|nr\.?|(?:o|z|pod)\s+numer(?:ze|em)?|numer))?"
    rf"{_FILLER}(?=\d)", re.IGNORECASE)


@functools.cache
def _policy_key() -> re.Pattern[str]:
    """`INSURER:` of a policy key (`ERGO_HESTIA:9091234567`; `?:` while the insurer is not known)."""
    from a21import.model import INSURERS

    codes = "|".join(sorted(INSURERS, key=len, reverse=True))
    return re.compile(rf"(?<![\w?])(?:{codes}|\?):(?=\d)")


def _compact(value: str) -> str:
    from stdnum.pl import regon

    return regon.compact(value)  # also turns full-width digits and Unicode dashes and spaces to ASCII


def _visible(text: str) -> tuple[str, list[int] | None]:
    """`text` without what is invisible on a terminal, and where each of its characters stood in `text`."""
    if not _HIDDEN.search(text):
        return text, None
    parts: list[str] = []
    where: list[int] = []
    position = 0
    for match in _HIDDEN.finditer(text):
        parts.append(text[position:match.start()])
        where.extend(range(position, match.start()))
        position = match.end()
    parts.append(text[position:])
    where.extend(range(position, len(text)))
    return "".join(parts), where


def _groups(view: str, run: re.Match[str]) -> list[tuple[int, int, str]]:
    """The digit groups of a run as (start, end, ASCII digits); the two digits left standing at
    either end of an identifier masked before (`84*******38`) are not part of it."""
    groups = [(run.start() + g.start(), run.start() + g.end(), _compact(g.group()))
              for g in _GROUP.finditer(run.group())]
    if groups and len(groups[0][2]) <= 2 and view[groups[0][0] - 1:groups[0][0]] == "*":
        groups.pop(0)
    if groups and len(groups[-1][2]) <= 2 and view[groups[-1][1]:groups[-1][1] + 1] == "*":
        groups.pop()
    return groups


def _uniform_ends(view: str, groups: list[tuple[int, int, str]]) -> list[int]:
    """For each group, the last group reached from it over one kind of separator."""
    ends = list(range(1, len(groups))) + [len(groups) - 1]
    for index in range(len(groups) - 3, -1, -1):
        if view[groups[index][1]] == view[groups[index + 1][1]]:
            ends[index] = ends[index + 1]
    return ends


def _masked_ranges(groups: list[tuple[int, int, str]], ends: list[int], kept: set[str], fixed: list[bool],
                   forced: int) -> list[tuple[int, int]]:
    """The ranges (first, last) of a run's groups to mask: groups 0..`forced` (a labelled identifier;
    -1 for none), then every part of identifier length over one kind of separator that holds no group
    of a kept number and no `fixed` group."""
    count = len(groups)
    fixed = list(fixed)
    longest = max([len(number) for number in kept] + [_LONGEST_ID])
    for first in range(count):
        digits = ""
        for last in range(first, count):
            digits += groups[last][2]
            if len(digits) > longest:
                break
            if digits in kept:
                fixed[first:last + 1] = [True] * (last + 1 - first)
    ranges = [(0, forced)] if forced >= 0 else []
    for first in range(forced + 1, count):
        digits = ""
        for last in range(first, ends[first] + 1):
            digits += groups[last][2]
            if len(digits) > _LONGEST_ID:
                break
            if len(digits) in _ID_LENGTHS and not any(fixed[first:last + 1]):
                if ranges and first <= ranges[-1][1]:  # overlapping parts are masked as one
                    ranges[-1] = (ranges[-1][0], max(last, ranges[-1][1]))
                else:
                    ranges.append((first, last))
    return ranges


def mask_personal_ids(text: str | None, keep: tuple[str, ...] = ()) -> str:
    """`text` (a message, a reason, a log record) with every PESEL, NIP and REGON masked as
    `mask_identifier` does, and every policy number left as it stands.

    What is masked:
    - any number written right after PESEL, NIP or REGON (`PESEL: 84031233138`, `NIP PL 526-104-08-28`,
      `"pesel":"8403123313"`), whatever its length and checksum (a typo in a PESEL is still a PESEL),
      even when it is also in `keep`;
    - any other run of 9, 10, 11 or 14 digits (the lengths of REGON, NIP, PESEL and long REGON), checksum
      or not, also written in groups with one kind of separator (`840312 33138`, `526-104-08-28`,
      `123-45-67-890`, `012 100 784`), also when split by characters a terminal does not show; in a longer
      run of groups, every part of such a length. A 9-digit phone number is masked too: it has the shape
      of a REGON, and a client's phone is personal data as well.

    What is left as it stands (policy numbers, which are often 10 to 12 digits):
    - the numbers in `keep` (the number the user typed or the row's own number), written as given or with
      other separators (`5261040828` is also kept as `526-104-08-28`);
    - a number written right after a policy key's `INSURER:` (`ERGO_HESTIA:9091234567`) or after the word
      policy/polisa in any form, with an optional "number"/"nr"/"o numerze" (`policy 5600123456`,
      `Nie znaleziono polisy o numerze 1012345000`): its groups over one kind of separator, or only its
      first group when they hold more than 14 digits; and that number wherever else it stands in the text;
    - dates, times, amounts (`100 000 000,00`) and runs of other lengths (a 12-digit Hestia number).

    A kept number wins where its digits could also be read as part of an identifier written in groups.
    Masked text is masked again unchanged. The rule is about shapes, not intent: an app's text that
    calls a PESEL a policy number shows it, and an identifier split across a line break that the log
    escapes as `\\n` is not seen.
    """
    if not text:
        return text or ""
    masked = _mask(text, keep, hide=True)
    # Where control characters are escaped instead of removed (the log, JSON), what stood inside an
    # escape sequence is seen as well.
    return masked if _HIDDEN.search(masked) is None else _mask(masked, keep, hide=False)


def _mask(text: str, keep: tuple[str, ...], *, hide: bool) -> str:
    view, where = _visible(text) if hide else (text, None)
    id_labelled = {m.end() for m in _ID_LABEL.finditer(view)}
    named = {m.end() for m in _POLICY_LABEL.finditer(view)} | {m.end() for m in _policy_key().finditer(view)}
    kept = {digits for number in keep if number and (digits := _compact(number)).isascii() and digits.isdigit()}
    protected = [(m.start(), m.end()) for number in dict.fromkeys(keep) if number
                 for m in re.finditer(re.escape(number), view)]
    runs = []
    for run in _RUN.finditer(view):
        groups = _groups(view, run)
        if not groups:
            continue
        ends = _uniform_ends(view, groups)
        first = ends[0]  # the number a label names
        fixed = [any(a <= start and end <= b for a, b in protected) for start, end, _digits in groups]
        if _DECIMALS.match(view, groups[-1][1]):  # the integer part of an amount
            last = len(groups) - 1
            while last > 0 and ends[last - 1] == len(groups) - 1:
                last -= 1
            fixed[last:] = [True] * (len(groups) - last)
        forced = -1
        if groups[0][0] in id_labelled:
            forced = first
        elif groups[0][0] in named:
            digits = "".join(group[2] for group in groups[:first + 1])
            # Longer than any one number in groups: the label names the first group only.
            kept.add(digits if len(digits) <= _LONGEST_ID else groups[0][2])
        runs.append((groups, ends, fixed, forced))
    spans: list[tuple[int, int, str]] = []
    for groups, ends, fixed, forced in runs:
        for first, last in _masked_ranges(groups, ends, kept, fixed, forced):
            digits = "".join(group[2] for group in groups[first:last + 1])
            spans.append((groups[first][0], groups[last][1], mask_identifier(digits)))
    if not spans:
        return text
    pieces = []
    position = 0
    for start, end, masked in spans:
        if where is not None:
            start, end = where[start], where[end - 1] + 1
        pieces.append(text[position:start])
        pieces.append(masked)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
