"""The import period: dates typed by the user, checked, and cut into windows of at most 16 days.

The 16-day window is the importer's own rule (not the insurers'): it keeps every list request
small and gentle on the app.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from a21import.errors import BadInput, ParseError
from a21import.formats import WARSAW, fmt_pl_date, user_date
from a21import.i18n import _

WINDOW_DAYS = 16


def today_in_poland() -> date:
    return datetime.now(WARSAW).date()


def parse_period(date_from: str, date_to: str, *, today: date | None = None) -> tuple[date, date, str | None]:
    """Checks --from/--to; returns (from, to, note). A --to after today is cut to today, with a note."""
    today = today or today_in_poland()
    try:
        start = user_date(date_from)
    except ParseError as exc:
        raise BadInput(_("--from: {reason}").format(reason=exc.reason)) from exc
    try:
        end = user_date(date_to)
    except ParseError as exc:
        raise BadInput(_("--to: {reason}").format(reason=exc.reason)) from exc
    if start > today:
        raise BadInput(_("--from {start} is later than today ({today}); no policy can be issued then.").format(
            start=fmt_pl_date(start), today=fmt_pl_date(today)))
    if start > end:
        raise BadInput(_("--from {start} is after --to {end}. Give the earlier date as --from.").format(
            start=fmt_pl_date(start), end=fmt_pl_date(end)))
    note = None
    if end > today:
        note = _("--to {end} is later than today, so the period ends today, {today}.").format(
            end=fmt_pl_date(end), today=fmt_pl_date(today))
        end = today
    return start, end, note


def windows(start: date, end: date, days: int = WINDOW_DAYS) -> list[tuple[date, date]]:
    """Consecutive windows of at most `days` days covering [start, end]."""
    result = []
    while start <= end:
        last = min(end, start + timedelta(days=days - 1))
        result.append((start, last))
        start = last + timedelta(days=1)
    return result
