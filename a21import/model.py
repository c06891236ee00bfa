"""The normalised policy every adapter produces, whatever app it reads.

Amounts are integer grosze, dates are `datetime.date` (Warsaw calendar). Objects are
immutable: parse functions build them, db.py writes them, nothing mutates them on the way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.pl import nip as stdnum_nip
from stdnum.pl import pesel as stdnum_pesel
from stdnum.pl import regon as stdnum_regon

PRODUCT_LINES = ("motor", "property", "life", "travel", "other")

INSURERS = (
    "ERGO_HESTIA", "MTU", "YCD", "GENERALI", "PROAMA", "TUZ", "WARTA", "WARTA_ZYCIE", "PZU",
    "PZU_ZYCIE", "ALLIANZ", "LINK4", "UNIQA", "COMPENSA", "INTERRISK", "WIENER", "TRASTI",
    "BALCIA", "BEESAFE", "GOTHAER", "AVIVA", "HDI", "EUROINS", "SALTUS", "BENEFIA", "AXA",
)

CLIENT_FIELDS = ("kind", "name", "pesel", "nip", "regon", "street", "postal_code", "city", "phone", "email")

_CHECKERS = {"pesel": stdnum_pesel, "nip": stdnum_nip, "regon": stdnum_regon}


@dataclass(frozen=True)
class Client:
    """A policyholder or insured person.

    `carried` names the fields the source actually carries; a write updates only those, so a
    list holding only name and PESEL leaves a stored address alone (DATABASE.md).
    """

    kind: str  # "person" or "company"
    name: str
    pesel: str | None = None
    nip: str | None = None
    regon: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None
    carried: frozenset[str] | None = None  # None: every field of CLIENT_FIELDS

    @property
    def id(self) -> str:
        for label, value in (("PESEL", self.pesel), ("NIP", self.nip), ("REGON", self.regon)):
            if value:
                return f"{label}:{value}"
        # The recipe is ours alone (DATABASE.md): stable over runs, blind to case and spacing.
        parts = [self.kind, self.name, self.street or "", self.postal_code or "", self.city or ""]
        text = "\x1f".join(" ".join(p.split()).casefold() for p in parts)
        return "HASH:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    @property
    def invalid_ids(self) -> tuple[str, ...]:
        """Identifiers present whose checksum fails (kept and flagged, never dropped)."""
        return tuple(
            label.upper()
            for label, checker in _CHECKERS.items()
            if getattr(self, label) and not checker.is_valid(getattr(self, label))
        )

    def row(self) -> dict[str, Any]:
        fields = CLIENT_FIELDS if self.carried is None else [f for f in CLIENT_FIELDS if f in self.carried]
        row = {"id": self.id, **{f: getattr(self, f) for f in fields}}
        if self.carried is None or {"pesel", "nip", "regon"} & self.carried:
            row["ids_invalid"] = ",".join(self.invalid_ids) or None
        return row


@dataclass(frozen=True)
class Vehicle:
    registration: str | None = None  # without spaces, upper case
    vin: str | None = None  # upper case
    make: str | None = None
    model: str | None = None
    production_year: int | None = None

    @property
    def id(self) -> str | None:
        if self.vin:
            return f"VIN:{self.vin}"
        if self.registration:
            return f"REG:{self.registration}"
        return None

    def row(self) -> dict[str, Any]:
        from a21import.formats import vin_is_plausible

        return {
            "id": self.id,
            "registration": self.registration,
            "vin": self.vin,
            "make": self.make,
            "model": self.model,
            "production_year": self.production_year,
            "vin_invalid": None if not self.vin else int(not vin_is_plausible(self.vin)),
        }


@dataclass(frozen=True)
class Installment:
    seq: int
    due_date: date
    amount_gr: int
    paid: bool


@dataclass(frozen=True)
class Coverage:
    code: str
    name: str | None
    sum_insured_gr: int | None
    premium_gr: int | None


@dataclass(frozen=True)
class Policy:
    number: str
    insurer: str  # canonical code, see INSURERS
    source_app: str
    source_system: str | None
    product_line: str  # see PRODUCT_LINES
    product: str
    status: str | None
    issue_date: date
    start_date: date
    end_date: date
    premium_gr: int
    holder: Client
    currency: str = "PLN"
    vehicle: Vehicle | None = None
    insured: Client | None = None
    installments: tuple[Installment, ...] = ()
    coverages: tuple[Coverage, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.insurer}:{self.number}"


@dataclass(frozen=True)
class ListedPolicy:
    """One row of an app's list (or of a look-up by number), before its detail is read.

    `skip_reason`: listed but outside what is imported (the reason is shown, nothing is read).
    `error`: the app already tells, in the list, that this policy cannot be read (it is red).
    `ref`: the adapter's own handle for reading the detail (an id, a whole record, ...).
    """

    number: str
    insurer: str | None
    product: str | None = None
    holder_name: str | None = None
    issue_date: date | None = None
    premium_gr: int | None = None
    skip_reason: str | None = None
    error: str | None = None
    ref: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The policies.id this row would be stored under."""
        return f"{self.insurer or '?'}:{self.number}"


@dataclass(frozen=True)
class AppContext:
    """What the tab shows about who is logged in, read before anything else.

    `identity` is the code the user must confirm (Hestia: ERGO_HESTIA/MTU/YCD; Warta: MAJATEK/ZYCIE),
    None for apps without one. `description` is one whole sentence for the confirmation prompt.
    """

    app_id: str
    user: str | None
    description: str
    identity: str | None = None
    identity_label: str | None = None
