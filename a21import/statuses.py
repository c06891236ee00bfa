"""A policy's status as each app words it (`ANULOWANA`, `Rozwiązana`, `cancelled`, `W_MOCY`, …), read
as one of a few kinds: for a label people understand, and to leave cancelled and ended policies out
of what is coming (renewals, installments due). The stored status stays as the app gave it."""

from __future__ import annotations

import re

from a21import.i18n import N_, _
from a21import.text import fold

LABELS = {
    "active": N_("Active"),
    "issued": N_("Issued, not yet in force"),
    "pending": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "cancelled": N_("Cancelled"),
    "terminated": N_("Terminated"),
    "expired": N_("Expired"),
}
ENDED = frozenset({"cancelled", "terminated", "expired"})
# The beginning of the folded word(s) each app uses, in Polish or English (docs/portals).
_STEMS = (
    ("anul", "cancelled"), ("cancel", "cancelled"), ("annul", "cancelled"), ("storn", "cancelled"),
    ("rozwiaz", "terminated"), ("wypowiedz", "terminated"), ("terminat", "terminated"),
    ("wygas", "expired"), ("expir", "expired"), ("lapsed", "expired"),
    ("aktywn", "active"), ("active", "active"), ("wmocy", "active"), ("inforce", "active"),
    ("wystawion", "issued"), ("issued", "issued"),
    ("oczekuj", "pending"), ("pending", "pending"), ("oplacon", "paid"),
)


def kind(status: str | None) -> str | None:
    """`ROZWIAZANA` → `terminated`; None for a status no app documents."""
    if not status:
        return None
    word = re.sub(r"[^a-z]", "", fold(status))
    return next((found for stem, found in _STEMS if word.startswith(stem)), None)


def is_ended(status: str | None) -> bool:
    """Cancelled, terminated or expired, in any app's wording."""
    return kind(status) in ENDED


def label(status: str | None) -> str:
    """The status as people read it in their language; one no app documents is shown as given."""
    found = kind(status)
    return _(LABELS[found]) if found else (status or "")
