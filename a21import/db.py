"""The local database of DATABASE.md, written with sqlite-utils.

The shape is declared once (`SCHEMA`) and applied by one idempotent function; `save_policy`
writes a policy with its client(s), vehicle, installments and coverages in one transaction.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from a21import import files, pg
from a21import.errors import BadInput, DatabaseLocked, DatabaseProblem, PolicyError
from a21import.i18n import _, ngettext
from a21import.logs import log
from a21import.model import Policy

BUSY_TIMEOUT_S = 30.0  # how long a write waits for another program's lock; env A21IMPORT_DB_TIMEOUT
TIMEOUT_ENV = "A21IMPORT_DB_TIMEOUT"
MAX_TIMEOUT_S = 3600.0

# Table → (columns, primary key, foreign keys). Extra columns beyond DATABASE.md: clients.ids_invalid
# (identifiers whose checksum fails, kept and flagged), vehicles.vin_invalid, and who sold and imported a
# policy: policies.agent (`APP:ID`, the agent the app shows as logged in) and policies.imported_by (the
# database login, or the computer's user for a SQLite file). A new column: one line here, one migration.
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
         "insured_id": str, "imported_at": str, "agent": str, "imported_by": str},
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
INDEXES = (("policies", ["number"]), ("policies", ["issue_date"]), ("policies", ["end_date"]),
           ("policies", ["agent"]), ("installments", ["due_date"]))


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


def target(value: str | os.PathLike[str] | None) -> Path | str:
    """What --db (or A21IMPORT_DB) names: a PostgreSQL address (agency mode) or a SQLite file; None: the default
    file."""
    if value is None:
        return default_path()
    if pg.is_url(value):
        return pg.check_url(str(value))
    return Path(value)


def is_postgres(value: object) -> bool:
    """Whether a --db target (see `target`) names the agency's PostgreSQL store."""
    return pg.is_url(value)


def shown(value: str | os.PathLike[str]) -> str:
    """The database as it may be shown and logged (a password in an address hidden)."""
    return pg.redact(value) if pg.is_url(value) else str(value)


def open_db(path: str | os.PathLike[str], *, read_only: bool = False) -> sqlite_utils.Database:
    """Opens (creating it private to the user: file 0600) and shapes the database. Refuses, touching
    nothing, a file that is not SQLite and a path that is a symbolic link; an existing file readable by
    others is made private. Only the default location's folders are created (0700): a folder missing
    from a --db is a typo, not a place to create.

    `read_only` (the commands that only read): opened with SQLite's mode=ro, never shaped, switched to
    WAL or written, so it works while an import holds the write lock and on a file or folder the user
    cannot write; a database without a21import's tables is a sentence telling to import first."""
    timeout = busy_timeout_s()
    if pg.is_url(path):
        return _open_pg(str(path), read_only=read_only, timeout=timeout)
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


def _open_pg(url: str, *, read_only: bool, timeout: float) -> pg.PgDatabase:
    """The agency's store: the owner's (or admin's) first use applies missing migrations; a sub-agent's never."""
    from a21import import migrations

    db = pg.connect(url, read_only=read_only, timeout_s=timeout)
    try:
        migrations.check_pg_version(db, may_migrate=not read_only and db.allowed_agents() is None)
    except BaseException:
        db.close()
        raise
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
    """Creates what is missing (migrations.py: every SQLite version is this, declared from SCHEMA) and records the
    schema version; running it again changes nothing. A file shaped by a newer a21import is refused, untouched."""
    from a21import.migrations import SCHEMA_VERSION, check_not_newer

    version = db.conn.execute("PRAGMA user_version").fetchone()[0]
    check_not_newer(db, version)
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
    if version < SCHEMA_VERSION:
        db.conn.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")


def _label(db: sqlite_utils.Database) -> str:
    return getattr(db, "label", "in use")


def save_policy(db: sqlite_utils.Database | pg.PgDatabase, policy: Policy, *, agent: str | None = None,
                now: datetime | None = None) -> str:
    """Upserts the policy and everything that belongs to it, all or nothing. Returns policies.id.

    `agent`: who sold it (`APP:ID`, what the app shows as logged in). In the agency's store a sub-agent's
    login stores only its own agents' policies: another agent's is refused here with a reason (and by the
    database's row-level security in any case)."""
    codes = [c.code for c in policy.coverages]
    duplicate = next((c for c in codes if codes.count(c) > 1), None)
    if duplicate is not None:
        raise PolicyError(_("The app lists the risk {risk} twice on policy {number}.").format(
            risk=duplicate, number=policy.number))
    imported_at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    clients = {policy.holder.id: policy.holder}
    if policy.insured is not None:
        clients.setdefault(policy.insured.id, policy.insured)
    vehicle = policy.vehicle.row() if policy.vehicle is not None and policy.vehicle.id is not None else None
    save_rows(db, policy.row(imported_at, agent=agent, imported_by=importing_user(db)),
              [client.row() for client in clients.values()], vehicle,
              [i.row(policy.id) for i in policy.installments], [c.row(policy.id) for c in policy.coverages])
    return policy.id


def save_rows(db: sqlite_utils.Database | pg.PgDatabase, policy: dict[str, Any], clients: list[dict[str, Any]],
              vehicle: dict[str, Any] | None, installments: list[dict[str, Any]],
              coverages: list[dict[str, Any]]) -> None:
    """The one write path (save_policy, and `agency push` from a SQLite file's rows): the policies row, the rows of
    its clients (only the fields each carries are updated), its vehicle, installments and coverages (replaced
    whole), all or nothing. In the agency's store a sub-agent's login is refused another agent's policy here."""
    if isinstance(db, pg.PgDatabase):
        _check_agent(db, policy.get("agent"))
    clients = sorted(clients, key=lambda client: client["id"])
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with translate_errors(_label(db), _timeout(db)), _transaction(db):
                _write(db, policy, clients, vehicle, installments, coverages)
            return
        except Exception as exc:  # two sub-agents writing the same clients at once: the later one tries again
            if not _conflict(exc) or attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


WRITE_ATTEMPTS = 5


def _conflict(exc: Exception) -> bool:
    return type(exc).__name__ in ("DeadlockDetected", "SerializationFailure")


def _check_agent(db: pg.PgDatabase, agent: str | None) -> None:
    allowed = db.allowed_agents()
    if allowed is None:
        return
    if agent is None:
        raise PolicyError(_("The app does not show which agent is logged in, so the agency's database cannot store "
                            "this policy under one of your agents; it was not stored."))
    if agent not in allowed:
        raise PolicyError(_("The app shows this policy under the agent {agent}, who is not one of yours in the "
                            "agency's database ({yours}); it was not stored. Log in to the app as your own agent, "
                            "or ask the agency owner to add {agent} to your login.").format(
            agent=agent, yours=", ".join(sorted(allowed)) or "—"))


def importing_user(db: Any) -> str | None:
    """Who imports: the database login (agency), else the computer's user."""
    if isinstance(db, pg.PgDatabase):
        return db.user
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return None


def _write(db: Any, policy: dict[str, Any], clients: list[dict[str, Any]], vehicle: dict[str, Any] | None,
           installments: list[dict[str, Any]], coverages: list[dict[str, Any]]) -> None:
    """The writes of one policy, in an order that is the same for everyone (no deadlock between two imports):
    the policy's lock (PostgreSQL), the policy, its clients (by id) and vehicle with the fields each carries,
    then its installments and coverages replaced whole. The policy comes first: in the agency's store a
    sub-agent may write only the clients and vehicles of its own policies (foreign keys checked at commit)."""
    if isinstance(db, pg.PgDatabase):
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 2121))", [policy["id"]])
    _upsert(db, "policies", policy)
    for client in clients:
        _upsert(db, "clients", client)
    if vehicle:
        _upsert(db, "vehicles", vehicle)
    _execute(db, "DELETE FROM installments WHERE policy_id = ?", [policy["id"]])
    _execute(db, "DELETE FROM coverages WHERE policy_id = ?", [policy["id"]])
    _insert(db, "installments", installments)
    _insert(db, "coverages", coverages)


@contextmanager
def _transaction(db: Any) -> Iterator[None]:
    if isinstance(db, pg.PgDatabase):
        with db.transaction():
            yield
    else:
        with _write_transaction(db):
            yield


def _execute(db: Any, sql: str, params: list[Any]) -> None:
    (db if isinstance(db, pg.PgDatabase) else db.conn).execute(sql, params)


def _upsert(db: Any, table: str, row: dict[str, Any]) -> None:
    """Inserts the row, or updates the columns it carries. Plain SQL: sqlite-utils' upsert inspects the table
    at every call, which cost more than the write itself."""
    columns = [column for column in row if column in SCHEMA[table][0]]  # never a name from an app
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != "id")
    _execute(db, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                 f"ON CONFLICT (id) DO {f'UPDATE SET {updates}' if updates else 'NOTHING'}",
             [row[column] for column in columns])


def _insert(db: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows (made by the model's `row()`), in the columns of SCHEMA."""
    columns = list(SCHEMA[table][0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    values = [[row[column] for column in columns] for row in rows]
    if isinstance(db, pg.PgDatabase):
        db.executemany(sql, values)
    else:
        db.conn.executemany(sql, values)


@contextmanager
def short_lock_waits(db: sqlite_utils.Database, seconds: float = 0.1) -> Iterator[None]:
    """While an import runs: a write meets another program's lock for at most `seconds`, then raises
    DatabaseLocked, so that the caller waits on its event loop (Ctrl-C and reads go on meanwhile)."""
    if isinstance(db, pg.PgDatabase):  # its lock_timeout is set once, at connect
        yield
        return
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
            """SELECT p.*, c.name AS holder_name,
                      (SELECT MIN(n.due_date) FROM installments n
                        WHERE n.policy_id = p.id AND n.paid = 0 AND n.due_date <= ?) AS first_unpaid
                 FROM policies p
                 LEFT JOIN clients c ON c.id = p.holder_id
                WHERE EXISTS (SELECT 1 FROM installments n WHERE n.policy_id = p.id AND n.paid = 0 AND n.due_date <= ?)
                ORDER BY first_unpaid, p.id""",
            [due_by, due_by],
        ))
