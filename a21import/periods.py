"""The import period: dates typed by the user, checked, and cut into windows of at most 16 days.

The 16-day window is the importer's own rule (not the insurers'): it keeps every list request
small and gentle on the app.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from a21import.errors import BadInput, ParseError
from a21import.formats import WARSAW, user_date

WINDOW_DAYS = 16


def today_in_poland() -> date:
    return datetime.now(WARSAW).date()


def parse_period(date_from: str, date_to: str, *, today: date | None = None) -> tuple[date, date, str | None]:
    """Checks --from/--to; returns (from, to, note). A --to after today is cut to today, with a note."""
    today = today or today_in_poland()
    try:
        start = user_date(date_from)
    except ParseError as exc:
        raise BadInput(f"--from: {exc.reason}") from exc
    try:
        end = user_date(date_to)
    except ParseError as exc:
        raise BadInput(f"--to: {exc.reason}") from exc
    if start > today:
        raise BadInput(f"--from {start.isoformat()} is later than today ({today.isoformat()}); no policy can be issued then.")
    if start > end:
        raise BadInput(f"--from {start.isoformat()} is after --to {end.isoformat()}. Give the earlier date as --from.")
    note = None
    if end > today:
        note = f"--to {end.isoformat()} is later than today, so the period ends today, {today.isoformat()}."
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
