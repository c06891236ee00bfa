"""The normalised policy every adapter produces, whatever app it reads.

Amounts are integer grosze, dates are `datetime.date` (Warsaw calendar). Objects are
immutable: parse functions build them, db.py writes them, nothing mutates them on the way.
Each object's `row()` is its database row, keyed by the columns of db.SCHEMA (the one mapping).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.pl import nip as stdnum_nip
from stdnum.pl import pesel as stdnum_pesel
from stdnum.pl import regon as stdnum_regon

from a21import.errors import ParseError
from a21import.i18n import N_, _
from a21import.text import clean, shorten

PRODUCT_LINES = ("motor", "property", "life", "travel", "other")

INSURERS = (
    "ERGO_HESTIA", "MTU", "YCD", "GENERALI", "PROAMA", "TUZ", "WARTA", "WARTA_ZYCIE", "PZU",
    "PZU_ZYCIE", "ALLIANZ", "LINK4", "UNIQA", "COMPENSA", "INTERRISK", "WIENER", "TRASTI",
    "BALCIA", "BEESAFE", "GOTHAER", "AVIVA", "HDI", "EUROINS", "SALTUS", "BENEFIA", "AXA",
)

# The insurers as people name them (brand names: the same in every language).
INSURER_NAMES = {
    "ERGO_HESTIA": "ERGO Hestia", "MTU": "MTU", "YCD": "YCD", "GENERALI": "Generali", "PROAMA": "Proama",
    "TUZ": "TUZ", "WARTA": "Warta", "WARTA_ZYCIE": "Warta Życie", "PZU": "PZU", "PZU_ZYCIE": "PZU Życie",
    "ALLIANZ": "Allianz", "LINK4": "LINK4", "UNIQA": "UNIQA", "COMPENSA": "Compensa", "INTERRISK": "InterRisk",
    "WIENER": "Wiener", "TRASTI": "Trasti", "BALCIA": "Balcia", "BEESAFE": "Beesafe", "GOTHAER": "Gothaer",
    "AVIVA": "Aviva", "HDI": "HDI", "EUROINS": "Euroins", "SALTUS": "Saltus", "BENEFIA": "Benefia", "AXA": "AXA",
}


def insurer_name(code: str | None) -> str:
    """`ERGO_HESTIA` → `ERGO Hestia`; an unknown code is shown as it is, none as nothing."""
    return INSURER_NAMES.get(code or "", code or "")


def policy_name(number: str, insurer: str | None) -> str:
    """A policy as people name it: `909123456789 (ERGO Hestia)`, never an internal id."""
    name = insurer_name(insurer)
    return f"{number} ({name})" if name else number


CLIENT_FIELDS = ("kind", "name", "pesel", "nip", "regon", "street", "postal_code", "city", "phone", "email")

_CHECKERS = {"pesel": stdnum_pesel, "nip": stdnum_nip, "regon": stdnum_regon}

# Bounds on what one answer can make the tool store or show (issue: untrusted content). A stored text
# longer than MAX_TEXT is refused (that policy is red), so that a megabyte "name" is never printed;
# amounts are grosze that fit the database with room to add them up, and never negative (no app
# documents a negative premium, installment or sum insured).
MAX_TEXT = 500
MAX_NUMBER = 64  # a policy number, stored and put into the apps' URLs
MAX_SHOWN = 200  # a listed row's texts are only shown: cut, not refused
MAX_MESSAGE = 1000  # a sentence that may quote the app
MAX_AMOUNT_GR = 10**15  # 10 000 000 000 000 zł
MAX_AGENT = 100  # the agent's number, login or name in an agent id `APP:ID` (longer: no agent id)
FIRST_YEAR, LAST_YEAR = 1886, 2200  # a vehicle's production year


# How a field is named in a red reason (labels, not codes).
FIELD_LABELS = {
    "kind": N_("the kind of client"), "name": N_("the name"), "pesel": "PESEL", "nip": "NIP", "regon": "REGON",
    "street": N_("the street"), "postal_code": N_("the postal code"), "city": N_("the city"),
    "phone": N_("the phone number"), "email": N_("the e-mail address"), "registration": N_("the registration"),
    "vin": "VIN", "make": N_("the make"), "model": N_("the model"), "code": N_("a coverage's code"),
    "number": N_("the policy number"), "insurer": N_("the insurer"), "source_app": N_("the app"),
    "source_system": N_("the system"), "product_line": N_("the line of business"), "product": N_("the product"),
    "status": N_("the status"), "currency": N_("the currency"), "premium_gr": N_("the premium"),
    "amount_gr": N_("an installment's amount"), "sum_insured_gr": N_("a sum insured"),
}


def _label(name: str) -> str:
    return _(FIELD_LABELS.get(name, name))


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # the objects are frozen; this runs only while building them


def _clean_texts(obj: Any, names: tuple[str, ...], *, refuse: int | None = None, cut: int = MAX_SHOWN) -> None:
    """Cleans the text fields `names`: one over `refuse` characters makes the policy red, else texts are cut
    to `cut` characters (values that are only shown)."""
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ParseError(_("The app's answer has something other than text as {field}.").format(
                field=_label(name)))
        value = clean(value)
        if refuse is not None and len(value) > refuse:
            raise ParseError(_("The app's answer has {field} {length} characters long; at most {limit} are stored, "
                               "so this policy was not imported.").format(
                field=_label(name), length=len(value), limit=refuse))
        _set(obj, name, shorten(value, cut))


# Runs of spaces, tabs, line breaks and the no-break spaces a page may put between a name's words: one space.
_AGENT_SPACES = re.compile("[ \t\r\n\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def agent_id(app_id: str, raw: Any) -> str | None:
    """The agent identifier `APP:ID` of who is logged in: `app_id` (lower case) and the agent's number, login
    or name as the app shows it (`hestia:0412345`, `tuz:Jan Kowalski`). None when the app shows none, or shows
    something that cannot be one: not text, longer than MAX_AGENT characters, or holding characters other than
    printable text (controls, bidirectional marks) — such text is never stored, not even cleaned."""
    if not isinstance(raw, str) or not isinstance(app_id, str):
        return None
    app, shown = app_id.strip().lower(), _AGENT_SPACES.sub(" ", raw).strip(" ")
    if not app or not shown or len(shown) > MAX_AGENT or not (app + shown).isprintable():
        return None
    return f"{app}:{shown}"


def check_amount(value: Any, name: str, *, optional: bool = False) -> None:
    """Refuses an amount in grosze that is not an integer, is negative, or is absurdly large."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(_("The app's answer has no whole amount as {field}.").format(field=_label(name)))
    if value < 0:
        raise ParseError(_("The app's answer has a negative amount as {field}, which the app never sends; this "
                           "policy was not imported.").format(field=_label(name)))
    if value > MAX_AMOUNT_GR:
        raise ParseError(_("The app's answer has an amount as {field} larger than any policy's; this policy was "
                           "not imported.").format(field=_label(name)))


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

    def __post_init__(self) -> None:
        _clean_texts(self, CLIENT_FIELDS, refuse=MAX_TEXT)

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

    def __post_init__(self) -> None:
        _clean_texts(self, ("registration", "vin", "make", "model"), refuse=MAX_TEXT)
        year = self.production_year
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                                 or not FIRST_YEAR <= year <= LAST_YEAR):
            raise ParseError(_("The app's answer has a production year {year} that no vehicle has; this policy was "
                               "not imported.").format(year=shorten(clean(str(year)), 20)))

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

    def __post_init__(self) -> None:
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or not 0 <= self.seq <= 10_000:
            raise ParseError(_("The app's answer has an installment numbered {seq}; this policy was not "
                               "imported.").format(seq=shorten(clean(str(self.seq)), 20)))
        check_amount(self.amount_gr, "amount_gr")

    def row(self, policy_id: str) -> dict[str, Any]:
        return {"policy_id": policy_id, "seq": self.seq, "due_date": _iso(self.due_date),
                "amount_gr": self.amount_gr, "paid": int(self.paid)}


@dataclass(frozen=True)
class Coverage:
    code: str
    name: str | None
    sum_insured_gr: int | None
    premium_gr: int | None

    def __post_init__(self) -> None:
        _clean_texts(self, ("code", "name"), refuse=MAX_TEXT)
        check_amount(self.sum_insured_gr, "sum_insured_gr", optional=True)
        check_amount(self.premium_gr, "premium_gr", optional=True)

    def row(self, policy_id: str) -> dict[str, Any]:
        return {"policy_id": policy_id, "code": self.code, "name": self.name, "sum_insured_gr": self.sum_insured_gr,
                "premium_gr": self.premium_gr}


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

    def __post_init__(self) -> None:
        _clean_texts(self, ("number",), refuse=MAX_NUMBER)
        _clean_texts(self, ("insurer", "source_app", "source_system", "product_line", "product", "status",
                            "currency"), refuse=MAX_TEXT)
        check_amount(self.premium_gr, "premium_gr")

    @property
    def id(self) -> str:
        return f"{self.insurer}:{self.number}"

    def row(self, imported_at: str, *, agent: str | None = None, imported_by: str | None = None) -> dict[str, Any]:
        """The policies row; its clients, vehicle, installments and coverages have rows of their own.
        `agent`: who sold it (APP:ID, as the app showed it); `imported_by`: the database login or computer user."""
        return {
            "id": self.id, "number": self.number, "insurer": self.insurer, "source_app": self.source_app,
            "source_system": self.source_system, "product_line": self.product_line, "product": self.product,
            "status": self.status, "issue_date": _iso(self.issue_date), "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date), "premium_gr": self.premium_gr, "currency": self.currency,
            "holder_id": self.holder.id,
            # A vehicle without VIN or registration has no id, so no row to point at.
            "vehicle_id": self.vehicle.id if self.vehicle is not None else None,
            "insured_id": self.insured.id if self.insured is not None else None,
            "imported_at": imported_at,
            "agent": agent,
            "imported_by": imported_by,
        }


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

    def __post_init__(self) -> None:
        # Only shown and compared: cut, never refused (the detail read refuses what it would store).
        _clean_texts(self, ("number", "insurer", "product", "holder_name"))
        _clean_texts(self, ("skip_reason", "error"), cut=MAX_MESSAGE)
        try:
            check_amount(self.premium_gr, "premium_gr", optional=True)
        except ParseError:  # a listed row is only shown: no amount, and the row is red
            _set(self, "premium_gr", None)
            if self.error is None:
                _set(self, "error", _("The app lists an amount for this policy that no policy has; it was not "
                                      "read."))

    @property
    def key(self) -> str:
        """The policies.id this row would be stored under."""
        return f"{self.insurer or '?'}:{self.number}"


@dataclass(frozen=True)
class AppContext:
    """What the tab shows about who is logged in, read before anything else.

    `identity` is the code the user must confirm (Hestia: ERGO_HESTIA/MTU/YCD; Warta: MAJATEK/ZYCIE),
    None for apps without one. `description` is one whole sentence for the confirmation prompt.
    `agent` is who is logged in as an agent id `APP:ID` (see agent_id); a value that is not one made by
    agent_id for this app (other app, control characters, too long) is dropped: None.
    """

    app_id: str
    user: str | None
    description: str
    identity: str | None = None
    identity_label: str | None = None
    agent: str | None = None

    def __post_init__(self) -> None:
        if self.agent is not None:
            app, _colon, shown = self.agent.partition(":") if isinstance(self.agent, str) else ("", "", "")
            if not isinstance(self.app_id, str) or app != self.app_id or agent_id(app, shown) != self.agent:
                _set(self, "agent", None)
        _clean_texts(self, ("app_id", "user", "identity", "identity_label", "agent"))
        _clean_texts(self, ("description",), cut=MAX_MESSAGE)
