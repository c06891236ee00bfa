"""The agency's store: PostgreSQL through psycopg 3, behind the same small surface as the SQLite file.

`PgDatabase` offers what db.py, queries.py and export.py use of a sqlite-utils Database: `query`
(rows as dicts), `execute`, `executemany`, a write transaction, `label` and `close`. SQL is written
once, with SQLite's `?` placeholders; here they become psycopg's. Dates come back as ISO text and
timestamps as ISO strings, as SQLite gives them, so the readers above need no second path.

The schema, its migrations and the row-level security live in migrations.py; the agency's commands
(init, add-user, users, push) in agency.py. psycopg is an optional extra: `pip install 'a21import[postgres]'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from a21import.errors import BadInput, DatabaseLocked, DatabaseProblem, EnvironmentProblem, PolicyError
from a21import.i18n import _

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 10
OWNER_ROLE = "a21_owner"
SUBAGENT_ROLE = "a21_subagent"


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.strip().lower().startswith(SCHEMES)


def check_url(text: str) -> str:
    """A PostgreSQL address as libpq reads it; BadInput with one sentence when it is not one."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise BadInput(_("The database address {address} is not a PostgreSQL address "
                         "(postgresql://LOGIN@HOST:PORT/DATABASE).").format(address=redact(text))) from exc
    if not parts.hostname or not parts.path.strip("/") or not text.isprintable():
        raise BadInput(_("The database address {address} is not a PostgreSQL address "
                         "(postgresql://LOGIN@HOST:PORT/DATABASE).").format(address=redact(text)))
    return text


def redact(url: str) -> str:
    """The address as it may be shown and logged: a password in it becomes ***."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:
        raise EnvironmentProblem(_(
            "PostgreSQL support is not installed. Install it with: pip install 'a21import[postgres]'")) from exc
    return psycopg


def _sql(sql: str) -> str:
    """SQLite's SQL as psycopg takes it: `?` → `%s` (a literal % doubled), rowid → ctid."""
    return re.sub(r"\browid\b", "ctid", sql.replace("%", "%%").replace("?", "%s"))


class PgDatabase:
    def __init__(self, conn: Any, label: str, *, timeout_s: float):
        self.conn = conn
        self.label = label
        self.busy_timeout_s = timeout_s
        self.user: str = conn.info.user
        self._agents: frozenset[str] | None | bool = False  # not asked yet

    # -- the surface db.py and queries.py use ------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.errors(), self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(_sql(sql), list(params))
            return iter(cursor.fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.errors():
            self.conn.execute(_sql(sql), list(params))

    def executemany(self, sql: str, rows: list[list[Any]]) -> None:
        if rows:
            with self.errors(), self.conn.cursor() as cursor:
                cursor.executemany(_sql(sql), rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.errors(), self.conn.transaction():
            yield

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """psycopg's errors as the one sentence a user can act on (PolicyError passes through)."""
        psycopg = _psycopg()
        try:
            yield
        except PolicyError:
            raise
        except psycopg.errors.InsufficientPrivilege as exc:
            raise NotYours(_(
                "The agency's database refused the write: the row belongs to another agent's policies, or your "
                "login may not change it ({error}).").format(error=_first_line(exc))) from exc
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
            raise DatabaseLocked(_(
                "The agency's database {address} stayed locked by another import for {seconds} seconds. Run the "
                "command again.").format(address=self.label, seconds=f"{self.busy_timeout_s:g}")) from exc
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            raise  # db.save_policy tries again
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise DatabaseProblem(_("The agency's database {address} was opened for reading only.").format(
                address=self.label)) from exc
        except psycopg.Error as exc:
            raise DatabaseProblem(_("The agency's database {address} reported an error: {error}.").format(
                address=self.label, error=_first_line(exc))) from exc

    # -- who is writing ----------------------------------------------------------------------------
    def allowed_agents(self) -> frozenset[str] | None:
        """The agents (APP:ID) whose policies this login may store; None: every agent (the owner, the admin)."""
        if self._agents is False:
            rows = list(self.query(
                """SELECT r.rolsuper
                          OR r.rolname = (SELECT pg_get_userbyid(d.datdba) FROM pg_database d
                                           WHERE d.datname = current_database())
                          OR r.rolname = (SELECT tableowner FROM pg_tables
                                           WHERE tablename = 'policies' AND schemaname = current_schema())
                          OR CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?)
                                  THEN pg_has_role(current_user, ?, 'MEMBER') ELSE false END AS everything
                     FROM pg_roles r WHERE r.rolname = current_user""", [OWNER_ROLE, OWNER_ROLE]))
            if rows and rows[0]["everything"]:
                self._agents = None
            else:
                self._agents = frozenset(row["agent"] for row in self.query(
                    "SELECT agent FROM a21_login_agents WHERE login = current_user"))
        return self._agents  # type: ignore[return-value]


class NotYours(PolicyError):
    """A sub-agent's write that the agency's row-level security refused: this policy is red."""


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def connect(url: str, *, read_only: bool = False, timeout_s: float = 30.0) -> PgDatabase:
    """Connects (autocommit: each write is its own transaction block); shapes nothing (see migrations)."""
    psycopg = _psycopg()
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    class IsoTimestamp(TimestamptzLoader):
        def load(self, data):  # as SQLite holds it: 2026-12-02T11:26:04+00:00
            return super().load(data).isoformat(timespec="seconds")

    url = check_url(url)
    label = redact(url)
    # jit=off: compiling a query took longer than running it; random_page_cost 1.1 (an SSD's, not the default 4
    # of a spinning disk): else a sub-agent's `due` read every policy instead of its own (bench/agency_scale.py).
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="a21import",
                               options="-c TimeZone=UTC -c jit=off -c random_page_cost=1.1")
    except psycopg.ProgrammingError as exc:  # libpq cannot parse it (a space not written %20)
        # libpq's own text is not shown: it may hold the password.
        raise BadInput(_("The database address {address} is not a PostgreSQL address "
                         "(postgresql://LOGIN@HOST:PORT/DATABASE).").format(address=label)) from exc
    except psycopg.OperationalError as exc:
        raise DatabaseProblem(_("The agency's database {address} cannot be reached ({error}). Check the address, "
                                "the password and that the server is running.").format(
            address=label, error=_first_line(exc))) from exc
    conn.adapters.register_loader("date", TextLoader)
    conn.adapters.register_loader("timestamptz", IsoTimestamp)
    conn.execute(f"SET lock_timeout = {int(timeout_s * 1000)}")
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return PgDatabase(conn, label, timeout_s=timeout_s)
