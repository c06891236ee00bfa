"""Pure conversions of the formats the apps write: amounts, dates, identifiers, addresses.

Every function either returns a value or raises ParseError with a whole sentence; no
input makes them crash otherwise. Amounts never pass through floats on the way to grosze.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from a21import.errors import ParseError
from a21import.i18n import _

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


def optional_json_number_to_gr(value: object) -> int | None:
    return None if value is None else json_number_to_gr(value)


def grosze_int(value: object) -> int:
    """An amount that the app already gives in integer grosze."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(_("The amount in grosze {value!r} is not a whole number.").format(value=value))
    return value


def optional_grosze_int(value: object) -> int | None:
    return None if value is None else grosze_int(value)


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


# Identifier-shaped digits: a run of 9 to 14 digits, or a NIP written in groups (`526-104-08-28`).
_ID_SHAPED = re.compile(r"(?<![0-9])(?:\d{3}([- ])\d{3}\1\d{2}\1\d{2}|\d{3}([- ])\d{2}\2\d{2}\2\d{3}|\d{9,14})(?![0-9])")


def mask_personal_ids(text: str | None, keep: tuple[str, ...] = ()) -> str:
    """Masks every PESEL, NIP or REGON standing in a message or log line (see `mask_identifier`).

    Masked: any run of exactly 11 digits (the shape of a PESEL, even with a wrong checksum) and
    any valid NIP or REGON. `keep` lists strings known to be safe, such as the policy's own number.
    """
    from stdnum.pl import nip, regon

    if not text:
        return text or ""
    kept = [k for k in dict.fromkeys(keep) if k]
    for i, safe in enumerate(kept):
        text = text.replace(safe, f"\x00{i}\x00")

    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"[- ]", "", match.group(0))
        if len(digits) == 11 or nip.is_valid(digits) or regon.is_valid(digits):
            return mask_identifier(digits)
        return match.group(0)

    text = _ID_SHAPED.sub(replace, text)
    for i, safe in enumerate(kept):
        text = text.replace(f"\x00{i}\x00", safe)
    return text
