"""Reading the stored database: search, one policy whole, renewals coming up and installments due.

No terminal code here: functions take a `sqlite_utils.Database` and return plain dataclasses with
`datetime.date` dates and integer grosze; views.py renders them and export.py writes them to files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from a21import import db as database
from a21import.errors import BadInput, DatabaseProblem, NotStored, ParseError
from a21import.formats import user_date
from a21import.i18n import _
from a21import.model import INSURERS
from a21import.periods import today_in_poland
from a21import.statuses import is_ended
from a21import.text import fold

MAX_DAYS = 366  # a year ahead (and a leap day): beyond that a renewal or due list means nothing yet


def open_existing(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """Opens, read-only, a database that must already exist: a read-only command never creates,
    shapes or changes one (see `db.open_db`). The agency's store brings a21_fold with its schema."""
    if database.is_postgres(path):
        return database.open_db(path, read_only=True)
    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():  # a link, even a dangling one, is refused by open_db
        raise DatabaseProblem(_(
            "The database {path} does not exist yet. Import policies first (for example with a21import period) "
            "or give the right file with --db.").format(path=path))
    db = database.open_db(path, read_only=True)
    # Search blind to case and Polish letters (`lukasz` finds `Łukasz`): SQLite's lower() only folds ASCII.
    db.conn.create_function("a21_fold", 1, _fold, deterministic=True)
    return db


def _fold(value: Any) -> str | None:
    return None if value is None else fold(str(value))


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(_("--days must be a whole number from 1 to {highest}; {days} was given.").format(
            highest=MAX_DAYS, days=days))
    return days


# -- filters ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    search: str | None = None
    insurer: str | None = None
    app: str | None = None
    date_from: date | None = None
    date_to: date | None = None


NO_FILTERS = Filters()


def parse_filters(search: str | None = None, insurer: str | None = None, app: str | None = None,
                  date_from: str | None = None, date_to: str | None = None) -> Filters:
    """Checks what the user typed; raises BadInput with one sentence."""
    from a21import.insurers import ADAPTERS

    insurer = _one_of(insurer, insurer and insurer.strip().upper(), INSURERS,
                      _("--insurer {value!r} is not an insurer code. Use one of: {choices}."))
    app = _one_of(app, app and app.strip().lower(), tuple(ADAPTERS),
                  _("--app {value!r} is not a supported app. Use one of: {choices}."))
    start = _date_option(date_from, _("--from: {reason}"))
    end = _date_option(date_to, _("--to: {reason}"))
    if start and end and start > end:
        raise BadInput(_("--from {start} is after --to {end}. Give the earlier date as --from.").format(
            start=start.isoformat(), end=end.isoformat()))
    search = (search or "").strip() or None
    return Filters(search=search, insurer=insurer, app=app, date_from=start, date_to=end)


def _one_of(typed: str | None, value: str | None, choices: tuple[str, ...], message: str) -> str | None:
    if typed is not None and value not in choices:
        raise BadInput(message.format(value=typed, choices=", ".join(choices)))
    return value


def _date_option(text: str | None, message: str) -> date | None:
    if text is None:
        return None
    try:
        return user_date(text)
    except ParseError as exc:
        raise BadInput(message.format(reason=exc.reason)) from exc


def filter_clause(filters: Filters, condition: str | None = None,
                  values: tuple[Any, ...] = ()) -> tuple[str, list[Any]]:
    """The WHERE clause over `policies p`, `clients h` (holder), `clients i` (insured), `vehicles v`,
    with the command's own `condition` (and its `values`) added."""
    clauses: list[str] = [condition] if condition else []
    params: list[Any] = list(values)
    if filters.search:
        term = fold(filters.search)
        compact = "".join(term.split())  # registrations and VINs are stored without spaces
        digits = re.sub(r"[\s-]", "", term)  # NIP is often typed 527-468-28-65
        alternatives = ["instr(a21_fold(p.number), ?)", "instr(a21_fold(h.name), ?)", "instr(a21_fold(i.name), ?)",
                        "instr(a21_fold(v.registration), ?)", "instr(a21_fold(v.vin), ?)"]
        params += [term, term, term, compact, compact]
        if digits.isdigit():
            for column in ("h.pesel", "h.nip", "h.regon", "i.pesel", "i.nip", "i.regon"):
                alternatives.append(f"instr({column}, ?)")
                params.append(digits)
        clauses.append("(" + " OR ".join(f"coalesce({a}, 0) > 0" for a in alternatives) + ")")
    if filters.insurer:
        clauses.append("p.insurer = ?")
        params.append(filters.insurer)
    if filters.app:
        clauses.append("p.source_app = ?")
        params.append(filters.app)
    if filters.date_from:
        clauses.append("p.issue_date >= ?")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        clauses.append("p.issue_date <= ?")
        params.append(filters.date_to.isoformat())
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


POLICY_JOINS = """
    FROM policies p
    LEFT JOIN clients h ON h.id = p.holder_id
    LEFT JOIN clients i ON i.id = p.insured_id
    LEFT JOIN vehicles v ON v.id = p.vehicle_id"""


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def fetch_rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with database.translate_errors(getattr(db, "label", "in use")):
        return list(db.query(sql, params))


# -- the list of policies ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyRow:
    id: str
    number: str
    insurer: str
    source_app: str
    product_line: str | None
    product: str | None
    status: str | None
    issue_date: date | None
    start_date: date | None
    end_date: date | None
    premium_gr: int | None
    currency: str | None
    holder_name: str | None
    holder_phone: str | None
    holder_email: str | None
    registration: str | None


_POLICY_COLUMNS = """p.id, p.number, p.insurer, p.source_app, p.product_line, p.product, p.status, p.issue_date,
    p.start_date, p.end_date, p.premium_gr, p.currency, h.name AS holder_name, h.phone AS holder_phone,
    h.email AS holder_email, v.registration"""


def _policy_row(row: dict[str, Any]) -> PolicyRow:
    return PolicyRow(**{**row, "issue_date": _day(row["issue_date"]), "start_date": _day(row["start_date"]),
                        "end_date": _day(row["end_date"])})


def _policies(db: sqlite_utils.Database, where: tuple[str, list[Any]], order: str) -> list[PolicyRow]:
    sql = f"SELECT {_POLICY_COLUMNS} {POLICY_JOINS}{where[0]} ORDER BY {order}, p.number, p.insurer"
    return [_policy_row(row) for row in fetch_rows(db, sql, where[1])]


def search_policies(db: sqlite_utils.Database, filters: Filters = NO_FILTERS) -> list[PolicyRow]:
    """Stored policies matching the filters, the latest issued first."""
    return _policies(db, filter_clause(filters), "p.issue_date DESC")


# -- one policy whole -------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstallmentRow:
    seq: int
    due_date: date
    amount_gr: int
    paid: bool


@dataclass(frozen=True)
class CoverageRow:
    code: str
    name: str | None
    sum_insured_gr: int | None
    premium_gr: int | None


@dataclass(frozen=True)
class PolicyDetail:
    policy: PolicyRow
    source_system: str | None
    imported_at: str | None
    holder: dict[str, Any]
    insured: dict[str, Any] | None
    vehicle: dict[str, Any] | None
    coverages: list[CoverageRow] = field(default_factory=list)
    installments: list[InstallmentRow] = field(default_factory=list)
    agent: str | None = None  # who sold it: APP:ID as the app showed it when imported
    imported_by: str | None = None  # the database login, or the computer's user


def policy_details(db: sqlite_utils.Database, number: str, insurer: str | None = None) -> list[PolicyDetail]:
    """Every stored policy with this number (several insurers may use one number), or only the
    insurer's one. Raises BadInput for an empty number and NotStored when none is stored."""
    number = (number or "").strip()
    if not number:
        raise BadInput(_("Give the policy number as the app shows it."))
    filters = parse_filters(insurer=insurer)
    rows = fetch_rows(db, "SELECT * FROM policies WHERE number = ? ORDER BY insurer", [number])
    if not rows:  # typed in another case or with spaces: still the same number
        rows = fetch_rows(db, "SELECT * FROM policies WHERE replace(a21_fold(number), ' ', '') = ? ORDER BY insurer",
                      ["".join(number.casefold().split())])
    if not rows:
        raise NotStored(_("No policy with the number {number} is stored. Import it first with a21import policy "
                          "{number}.").format(number=number))
    if filters.insurer:
        chosen = [row for row in rows if row["insurer"] == filters.insurer]
        if not chosen:
            others = ", ".join(row["insurer"] for row in rows)
            raise NotStored(_("The policy {number} is stored only for {stored}, not for {insurer}.").format(
                number=number, stored=others, insurer=filters.insurer))
        rows = chosen
    return [_detail(db, row) for row in rows]


def _one(db: sqlite_utils.Database, table: str, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    rows = fetch_rows(db, f"SELECT * FROM {table} WHERE id = ?", [key])
    return rows[0] if rows else None


def _detail(db: sqlite_utils.Database, row: dict[str, Any]) -> PolicyDetail:
    summary = _policy_by_id(db, row["id"])
    coverages = [CoverageRow(**c) for c in fetch_rows(
        db, "SELECT code, name, sum_insured_gr, premium_gr FROM coverages WHERE policy_id = ? ORDER BY rowid",
        [row["id"]])]
    installments = [
        InstallmentRow(i["seq"], date.fromisoformat(i["due_date"]), i["amount_gr"], bool(i["paid"]))
        for i in fetch_rows(db, "SELECT seq, due_date, amount_gr, paid FROM installments WHERE policy_id = ? "
                                "ORDER BY seq", [row["id"]])
    ]
    insured = None
    if row["insured_id"] and row["insured_id"] != row["holder_id"]:
        insured = _one(db, "clients", row["insured_id"])
    return PolicyDetail(
        policy=summary, source_system=row["source_system"], imported_at=row["imported_at"],
        holder=_one(db, "clients", row["holder_id"]) or {"id": row["holder_id"]},
        insured=insured, vehicle=_one(db, "vehicles", row["vehicle_id"]),
        coverages=coverages, installments=installments, agent=row.get("agent"), imported_by=row.get("imported_by"),
    )


def _policy_by_id(db: sqlite_utils.Database, policy_id: str) -> PolicyRow:
    return _policies(db, (" WHERE p.id = ?", [policy_id]), "p.id")[0]


# -- renewals and installments due ------------------------------------------------------------------
def renewals(db: sqlite_utils.Database, days: int, *, today: date | None = None,
             filters: Filters = NO_FILTERS) -> list[PolicyRow]:
    """Policies whose cover ends from today to today + days (both included), the soonest first."""
    check_days(days)
    today = today or today_in_poland()
    window = (today.isoformat(), (today + timedelta(days=days)).isoformat())
    return _policies(db, filter_clause(filters, "p.end_date BETWEEN ? AND ?", window), "p.end_date")


@dataclass(frozen=True)
class DueRow:
    policy: PolicyRow
    seq: int
    due_date: date
    amount_gr: int
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def due(db: sqlite_utils.Database, days: int, *, today: date | None = None,
        filters: Filters = NO_FILTERS) -> list[DueRow]:
    """Unpaid installments due by today + days, the overdue ones (due before today) first,
    then the soonest; the app's own "paid" mark is what counts as paid."""
    check_days(days)
    today = today or today_in_poland()
    last = (today + timedelta(days=days)).isoformat()
    where, params = filter_clause(filters, "n.paid = 0 AND n.due_date <= ?", (last,))
    sql = (f"SELECT {_POLICY_COLUMNS}, n.seq AS n_seq, n.due_date AS n_due, n.amount_gr AS n_amount "
           f"{POLICY_JOINS} JOIN installments n ON n.policy_id = p.id{where} ORDER BY n.due_date, p.number, n.seq")
    result = []
    for row in fetch_rows(db, sql, params):
        seq, due_day, amount = row.pop("n_seq"), date.fromisoformat(row.pop("n_due")), row.pop("n_amount")
        result.append(DueRow(_policy_row(row), seq, due_day, amount, (due_day - today).days))
    return result


def leave_out_ended(rows: list[Any], *, include_ended: bool = False) -> tuple[list[Any], int]:
    """(the rows to show, how many cancelled or ended policies were left out): what is coming (renewals,
    installments due) leaves out policies the app shows as cancelled, terminated or expired."""
    if include_ended:
        return rows, 0
    kept = [row for row in rows if not is_ended(_status(row))]
    return kept, len(rows) - len(kept)


def _status(row: Any) -> str | None:
    return row.policy.status if isinstance(row, DueRow) else row.status
