"""The local database of DATABASE.md, written with sqlite-utils.

The shape is declared once (`SCHEMA`) and applied by one idempotent function; `save_policy`
writes a policy with its client(s), vehicle, installments and coverages in one transaction.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from a21import import files
from a21import.errors import BadInput, DatabaseLocked, DatabaseProblem, PolicyError
from a21import.i18n import _, ngettext
from a21import.logs import log
from a21import.model import Policy

BUSY_TIMEOUT_S = 30.0  # how long a write waits for another program's lock; env A21IMPORT_DB_TIMEOUT
TIMEOUT_ENV = "A21IMPORT_DB_TIMEOUT"
MAX_TIMEOUT_S = 3600.0

# Table → (columns, primary key, foreign keys). Extra columns beyond DATABASE.md: clients.ids_invalid
# (identifiers whose checksum fails, kept and flagged) and vehicles.vin_invalid.
SCHEMA: dict[str, tuple[dict[str, type], Any, list[tuple[str, str, str]]]] = {
    "clients": (
        {"id": str, "kind": str, "name": str, "pesel": str, "nip": str, "regon": str, "street": str,
         "postal_code": str, "city": str, "phone": str, "email": str, "ids_invalid": str},
        "id",
        [],
    ),
    "vehicles": (
        {"id": str, "registration": str, "vin": str, "make": str, "model": str, "production_year": int,
         "vin_invalid": int},
        "id",
        [],
    ),
    "policies": (
        {"id": str, "number": str, "insurer": str, "source_app": str, "source_system": str,
         "product_line": str, "product": str, "status": str, "issue_date": str, "start_date": str,
         "end_date": str, "premium_gr": int, "currency": str, "holder_id": str, "vehicle_id": str,
         "insured_id": str, "imported_at": str},
        "id",
        [("holder_id", "clients", "id"), ("vehicle_id", "vehicles", "id"), ("insured_id", "clients", "id")],
    ),
    "installments": (
        {"policy_id": str, "seq": int, "due_date": str, "amount_gr": int, "paid": int},
        ("policy_id", "seq"),
        [("policy_id", "policies", "id")],
    ),
    "coverages": (
        {"policy_id": str, "code": str, "name": str, "sum_insured_gr": int, "premium_gr": int},
        ("policy_id", "code"),
        [("policy_id", "policies", "id")],
    ),
}
INDEXES = (("policies", ["number"]), ("policies", ["issue_date"]), ("installments", ["due_date"]))


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("a21import", appauthor=False)) / "agent21.db"


def busy_timeout_s() -> float:
    """Seconds a write waits while another program holds the database locked: A21IMPORT_DB_TIMEOUT, or 30."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return BUSY_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT_S:  # NaN fails too
        raise BadInput(_("{variable} must be a number of seconds above 0 and at most {maximum}, not {value!r}.").format(
            variable=TIMEOUT_ENV, maximum=f"{MAX_TIMEOUT_S:g}", value=raw))
    return value


def _timeout(db: sqlite_utils.Database) -> float | None:
    return getattr(db, "busy_timeout_s", None)


@contextmanager
def _write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction that takes the write lock first (BEGIN IMMEDIATE), waiting up to the busy timeout.
    A deferred transaction that reads before writing fails at once, without waiting, when another import
    wrote in between (SQLITE_BUSY_SNAPSHOT); two imports into one file must both finish."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        with db.atomic():  # inside a transaction: a savepoint
            yield
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def open_db(path: str | os.PathLike[str], *, read_only: bool = False) -> sqlite_utils.Database:
    """Opens (creating it private to the user: file 0600) and shapes the database. Refuses, touching
    nothing, a file that is not SQLite and a path that is a symbolic link; an existing file readable by
    others is made private. Only the default location's folders are created (0700): a folder missing
    from a --db is a typo, not a place to create.

    `read_only` (the commands that only read): opened with SQLite's mode=ro, never shaped, switched to
    WAL or written, so it works while an import holds the write lock and on a file or folder the user
    cannot write; a database without a21import's tables is a sentence telling to import first."""
    timeout = busy_timeout_s()
    path = Path(path).expanduser()
    if path.is_symlink():
        raise BadInput(_(
            "The database path {path} is a symbolic link. a21import does not open a database through a link, "
            "which someone else could have put there; give the file's real path with --db.").format(path=path))
    if path.is_dir():
        raise DatabaseProblem(_("The database path {path} is a folder. Give a file name with --db.").format(path=path))
    if path.exists() and path.stat().st_size > 0 and not _is_sqlite(path):
        raise DatabaseProblem(_(
            "The file {path} is not a SQLite database, so a21import will not touch it. "
            "Give another file with --db."
        ).format(path=path))
    if not read_only and not path.parent.is_dir() and not _is_default(path):
        raise BadInput(_(
            "The folder {folder} does not exist, so the database {path} cannot be created in it. Check the path "
            "given with --db, or create the folder first.").format(folder=path.parent, path=path))
    try:
        if not read_only:
            files.make_folders(path.parent)
            files.create_private(path)
        _make_private(path)
        if not read_only:
            conn = sqlite3.connect(str(path), timeout=timeout)
    except OSError as exc:
        raise DatabaseProblem(_("The database {path} cannot be created: {error}.").format(
            path=path, error=exc.strerror)) from exc
    if read_only:
        return _open_read_only(path, timeout)
    db = sqlite_utils.Database(conn)
    db.label = str(path)  # for messages
    db.busy_timeout_s = timeout
    with translate_errors(path, timeout):
        # WAL: readers (Datasette, the CRM) never block an import, and a killed import leaves a clean file.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with _write_transaction(db):  # two imports starting at once shape a new file one after the other
            ensure_schema(db)
    return db


def _is_sqlite(path: Path) -> bool:
    """Whether the file is SQLite's, as SQLite itself reads it (read-only: a file that is not is left untouched).
    Not Python's open() and close(): closing any descriptor of the file drops every POSIX lock this process
    holds on it, so while another connection of the process is open (`a21import ui` runs imports beside the
    page's reads) another program could then delete the WAL under it ("disk I/O error")."""
    try:
        probe = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:  # cannot be opened at all: for the real open to say why
        return True
    try:
        probe.execute("PRAGMA schema_version")
        return True
    except sqlite3.DatabaseError as exc:
        return "not a database" not in str(exc)  # locked, unreadable: for the real open to say
    finally:
        probe.close()


def _is_default(path: Path) -> bool:
    return path.absolute() == default_path().absolute()


def _make_private(path: Path) -> None:
    """The database and its -wal and -shm files (SQLite gives them the database's mode) made 0600 when
    they were readable by others; said in the log, since the core prints nothing."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            old = files.narrow(file)
        except OSError:  # not ours to change (a read-only folder, another user's file): read on
            continue
        if old is not None:
            log.warning("Made %s private to the user: its permissions were %s, now %s.", file, oct(old),
                        oct(old & ~0o077))


def _open_read_only(path: Path, timeout: float) -> sqlite_utils.Database:
    uri = path.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout)
    try:
        with translate_errors(path, timeout):
            try:
                missing = _missing_schema(conn)
            except sqlite3.OperationalError as exc:
                # A WAL database in a folder the user cannot write: SQLite cannot create the -shm file even
                # to read. With no -wal file nothing is uncommitted, and this user cannot start an import
                # there, so the file is read as it stands (immutable: without locks, the one way SQLite offers).
                if "readonly" not in str(exc) or path.with_name(path.name + "-wal").exists():
                    raise
                conn.close()
                conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=timeout)
                missing = _missing_schema(conn)
    except BaseException:
        conn.close()
        raise
    if missing:
        conn.close()
        raise DatabaseProblem(_(
            "The database {path} does not hold a21import's policies yet. Import policies first (for example with "
            "a21import period), or give the right file with --db.").format(path=path))
    db = sqlite_utils.Database(conn)
    db.label = str(path)
    db.busy_timeout_s = timeout
    return db


def _missing_schema(conn: sqlite3.Connection) -> list[str]:
    """The tables and columns of SCHEMA that the file lacks (all of them in an empty file)."""
    missing = []
    for name, (columns, _pk, _foreign_keys) in SCHEMA.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({name})")}
        missing += [f"{name}.{column}" for column in columns if column not in present]
    return missing


@contextmanager
def translate_errors(path: Any, timeout: float | None = None) -> Iterator[None]:
    """SQLite's operational errors become one clear sentence."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        locked = "locked" in text or "busy" in text
        if locked:
            if timeout is None:
                try:
                    timeout = busy_timeout_s()
                except BadInput:
                    timeout = BUSY_TIMEOUT_S
            message = ngettext(
                "The database {path} stayed locked by another program for {seconds} second. "
                "Close the program that uses it and run the command again.",
                "The database {path} stayed locked by another program for {seconds} seconds. "
                "Close the program that uses it and run the command again.",
                _plural_count(timeout),
            ).format(path=path, seconds=f"{timeout:g}")
        elif "readonly" in text or "read-only" in text:
            message = _("The database {path} is not writable. Check its permissions or give another file with "
                        "--db.").format(path=path)
        elif "not a database" in text or "malformed" in text:
            message = _("The file {path} is not a usable SQLite database. Give another file with --db.").format(
                path=path)
        else:
            message = _("The database {path} reported an error: {error}.").format(path=path, error=text)
        raise (DatabaseLocked if locked else DatabaseProblem)(message) from exc


def _plural_count(seconds: float) -> int:
    """The count that picks the plural form for a number of seconds: a fraction reads like 2 (2 sekundy)."""
    return int(seconds) if seconds == int(seconds) else 2


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Creates what is missing; running it again changes nothing."""
    for name, (columns, pk, foreign_keys) in SCHEMA.items():
        table = db[name]
        if not table.exists():
            db.create_table(name, columns, pk=pk, foreign_keys=foreign_keys, if_not_exists=True)
        else:
            missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
            for column, kind in missing.items():
                table.add_column(column, kind)
    for name, columns in INDEXES:
        db[name].create_index(columns, if_not_exists=True)


def _label(db: sqlite_utils.Database) -> str:
    return getattr(db, "label", "in use")


def save_policy(db: sqlite_utils.Database, policy: Policy, *, now: datetime | None = None) -> str:
    """Upserts the policy and everything that belongs to it, all or nothing. Returns policies.id."""
    codes = [c.code for c in policy.coverages]
    duplicate = next((c for c in codes if codes.count(c) > 1), None)
    if duplicate is not None:
        raise PolicyError(_("The app lists the risk {risk} twice on policy {number}.").format(
            risk=duplicate, number=policy.number))
    imported_at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with translate_errors(_label(db), _timeout(db)), _write_transaction(db):
        _upsert(db, "clients", policy.holder.row())
        if policy.insured is not None and policy.insured.id != policy.holder.id:
            _upsert(db, "clients", policy.insured.row())
        if policy.vehicle is not None and policy.vehicle.id is not None:
            _upsert(db, "vehicles", policy.vehicle.row())
        _upsert(db, "policies", policy.row(imported_at))
        db.conn.execute("DELETE FROM installments WHERE policy_id = ?", [policy.id])
        db.conn.execute("DELETE FROM coverages WHERE policy_id = ?", [policy.id])
        _insert(db, "installments", [i.row(policy.id) for i in policy.installments])
        _insert(db, "coverages", [c.row(policy.id) for c in policy.coverages])
    return policy.id


def _upsert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> None:
    """Inserts the row, or updates only the columns it carries (DATABASE.md: a client's source
    updates only the fields it carries). Plain SQL: sqlite-utils' upsert inspects the table at every
    call, which cost more than the write itself. Column names come from SCHEMA, never from an app."""
    columns = [column for column in row if column in SCHEMA[table][0]]
    names = ", ".join(columns)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != "id")
    db.conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT(id) DO {f'UPDATE SET {updates}' if updates else 'NOTHING'}",
        [row[column] for column in columns],
    )


def _insert(db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows (made by the model's `row()`), in the columns of SCHEMA."""
    columns = list(SCHEMA[table][0])
    db.conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row[column] for column in columns] for row in rows],
    )


@contextmanager
def short_lock_waits(db: sqlite_utils.Database, seconds: float = 0.1) -> Iterator[None]:
    """While an import runs: a write meets another program's lock for at most `seconds`, then raises
    DatabaseLocked, so that the caller waits on its event loop (Ctrl-C and reads go on meanwhile)."""
    db.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {int((_timeout(db) or BUSY_TIMEOUT_S) * 1000)}")


def stored_ids(db: sqlite_utils.Database) -> set[str]:
    with translate_errors(_label(db), _timeout(db)):
        return {row["id"] for row in db.query("SELECT id FROM policies")}


def find_stored(db: sqlite_utils.Database, number: str) -> list[dict[str, Any]]:
    """Stored policies with this number (several only when insurers share a number)."""
    with translate_errors(_label(db), _timeout(db)):
        return list(db.query("SELECT * FROM policies WHERE number = ? ORDER BY id", [number]))


def policies_with_unpaid(db: sqlite_utils.Database, due_by: str) -> list[dict[str, Any]]:
    """Stored policies with an unpaid installment due on or before `due_by` (ISO date), overdue ones
    included, soonest first; with the holder's name."""
    with translate_errors(_label(db), _timeout(db)):
        return list(db.query(
            """SELECT p.*, c.name AS holder_name, MIN(i.due_date) AS first_unpaid
                 FROM policies p
                 JOIN installments i ON i.policy_id = p.id AND i.paid = 0 AND i.due_date <= ?
                 LEFT JOIN clients c ON c.id = p.holder_id
                GROUP BY p.id
                ORDER BY first_unpaid, p.id""",
            [due_by],
        ))
