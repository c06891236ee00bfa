"""Agency mode's own commands, the core of them (no Typer, no Rich): shaping the agency's PostgreSQL store
(`init`), adding a login for the owner or a sub-agent (`add_user`), listing the logins (`users`), and copying a
sub-agent's SQLite file into the store (`push`).

Logins are PostgreSQL roles (cluster-wide) that belong to one of two group roles: pg.OWNER_ROLE (sees
everything) or pg.SUBAGENT_ROLE (sees and writes only the policies of the agents mapped to the login in
a21_login_agents; the row-level security of migrations.py enforces it in the database itself). A password
reaches the server only as a SCRAM verifier computed here, never as the password itself. A login without a
password authenticates by certificate or by peer (pg_hba.conf), which the agency's IT person sets up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a21import import db as database
from a21import import migrations, pg
from a21import.errors import BadInput, DatabaseProblem, PolicyError
from a21import.i18n import _
from a21import.model import MAX_AGENT, agent_id

LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,62}")
MAX_PASSWORD = 1000
MAX_AGENTS = 100  # agents given at once for one login


# -- checks of what the user typed ---------------------------------------------------------------------------
def check_login(login: str) -> str:
    """A login name we accept: lower case letters, digits, _ . - (at most 63, PostgreSQL's limit), not a
    PostgreSQL (pg_…) or a21import (a21_…) role."""
    if not isinstance(login, str) or not LOGIN.fullmatch(login) or login.startswith(("pg_", "a21_")):
        raise BadInput(_("The login {login!r} cannot be used: a login is 1 to 63 lower-case letters, digits and the "
                         "characters _ . - , starts with a letter or _, and does not start with pg_ or a21_.").format(
            login=str(login)[:80]))
    return login


def parse_agent(text: str) -> str:
    """An agent `APP:ID` as the user typed it, normalised as the adapters record it (model.agent_id): APP one
    of the supported apps (lower case), ID the agent's number, login or name (printable, at most 100)."""
    from a21import.insurers import ADAPTERS

    app, colon, shown = (text or "").partition(":")
    app = app.strip().lower()
    normal = agent_id(app, shown) if colon else None
    if app not in ADAPTERS or normal is None:
        raise BadInput(_("The agent {agent!r} is not of the form APP:ID, where APP is one of {apps} and ID is the "
                         "agent's number, login or name as the app shows it (printable, at most {limit} "
                         "characters), e.g. hestia:0412345.").format(
            agent=(text or "")[:120], apps=", ".join(ADAPTERS), limit=MAX_AGENT))
    return normal


def check_password(password: str) -> str:
    if not password or "\x00" in password or len(password) > MAX_PASSWORD:
        raise BadInput(_("The password must not be empty, and must be at most {limit} characters without a NUL "
                         "character.").format(limit=MAX_PASSWORD))
    return password


def check_address(url: str) -> str:
    if not pg.is_url(url):
        raise BadInput(_("The agency commands work on the agency's PostgreSQL database: give its address with --db "
                         "postgresql://LOGIN@HOST/DATABASE."))
    return pg.check_url(url)


@contextmanager
def _connected(url: str) -> Iterator[pg.PgDatabase]:
    db = pg.connect(check_address(url))
    try:
        with _refusals(db):
            yield db
    finally:
        db.close()


@contextmanager
def _refusals(db: pg.PgDatabase) -> Iterator[None]:
    """A right the login lacks (pg.NotYours, a policy's red reason elsewhere) is here the command's end."""
    try:
        yield
    except pg.NotYours as exc:
        raise DatabaseProblem(_("The login {login} may not do this in the agency's database {address}: {error} Run "
                                "the agency commands that set up the database as its administrator.").format(
            login=db.user, address=db.label, error=exc.reason)) from exc


def _check_administrator(db: pg.PgDatabase) -> None:
    """`init` and `add-user` are the administrator's: a login that may create roles (or a superuser)."""
    rows = list(db.query("SELECT rolsuper OR rolcreaterole AS may FROM pg_roles WHERE rolname = current_user"))
    if not (rows and rows[0]["may"]):
        raise DatabaseProblem(_(
            "The login {login} may not create logins in the agency's database {address}. Run this command as the "
            "database's administrator (a login with the CREATEROLE right, for example the one that ran a21import "
            "agency init).").format(login=db.user, address=db.label))


# -- init ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InitResult:
    address: str
    applied: list[int]  # the migrations applied now, in order; empty: it was already current
    version: int


def init(url: str) -> InitResult:
    """Shapes the agency's store (tables, group roles, row-level security) as the administrator: applies the
    missing migrations. Running it again does nothing."""
    with _connected(url) as db:
        _check_administrator(db)
        applied = migrations.migrate_pg(db)
        return InitResult(db.label, applied, migrations.pg_version(db))


# -- add-user ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserResult:
    login: str
    created: bool  # a new role; False: an existing login was given more agents or a new password
    owner: bool
    added: list[str]  # agents mapped now
    agents: list[str]  # every agent of the login, after
    password_set: bool


def add_user(url: str, login: str, agents: list[str], owner: bool, password: str | None) -> UserResult:
    """Creates the login role (or, when it exists, adds to it) in the owner's or the sub-agents' group and maps
    its agents. `password` None: no password is set (a new login then authenticates by certificate or peer; an
    existing one keeps its password). Running it again with the same values changes nothing."""
    login = check_login(login)
    wanted = sorted({parse_agent(agent) for agent in agents})
    if len(wanted) > MAX_AGENTS:
        raise BadInput(_("At most {limit} agents can be given at once.").format(limit=MAX_AGENTS))
    if password is not None:
        check_password(password)
    from psycopg import sql

    with _connected(url) as db:
        _check_administrator(db)
        migrations.check_pg_version(db, may_migrate=False)
        if login == db.user:
            raise BadInput(_("The login {login} is the one this command runs as, the administrator's; give a login "
                             "of its own to the owner or to each sub-agent.").format(login=login))
        with db.transaction():
            role = list(db.query("SELECT rolsuper OR rolbypassrls AS everything FROM pg_roles WHERE rolname = ?",
                                 [login]))
            if role and role[0]["everything"]:
                raise BadInput(_("The role {login} is a superuser or bypasses row-level security, so it would see "
                                 "every agent's policies; give a login of its own.").format(login=login))
            known = {row["agent"] for row in db.query("SELECT agent FROM a21_login_agents WHERE login = ?", [login])}
            # An owner stays one (taking it away is a REVOKE in psql): no second group is added to it.
            owner = owner or any(row["owner"] for row in db.query("SELECT owner FROM a21_logins WHERE login = ?",
                                                                  [login]))
            group = pg.OWNER_ROLE if owner else pg.SUBAGENT_ROLE
            if not owner and not known and not wanted:
                raise BadInput(_("Give at least one agent of the sub-agent with --agent APP:ID (the login would see "
                                 "no policy)."))
            name = sql.Identifier(login)
            statements = [sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(name, sql.Identifier(group))
                          if not role else sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), name)]
            if password is not None:
                # The SCRAM verifier, computed here: the password itself never reaches the server (nor its log).
                verifier = db.conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
                statements.append(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    name, sql.Literal(verifier.decode("ascii"))))
            with db.errors():
                for statement in statements:
                    db.conn.execute(statement)
            db.execute("INSERT INTO a21_logins (login, owner) VALUES (?, ?) "
                       "ON CONFLICT (login) DO UPDATE SET owner = excluded.owner", [login, owner])
            db.executemany("INSERT INTO a21_login_agents (login, agent) VALUES (?, ?) ON CONFLICT DO NOTHING",
                           [[login, agent] for agent in wanted])
        return UserResult(login, not role, owner, [a for a in wanted if a not in known],
                          sorted(known | set(wanted)), password is not None)


# -- users ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Login:
    login: str
    owner: bool
    agents: list[str]
    added_at: str
    can_log_in: bool  # False: the role was dropped or made NOLOGIN outside a21import


def users(url: str) -> list[Login]:
    """The agency's logins, by name, with the owner flag and their agents (a sub-agent sees only its own)."""
    with _connected(url) as db:
        migrations.check_pg_version(db, may_migrate=False)
        rows = db.query(
            """SELECT l.login, l.owner, l.added_at, coalesce(r.rolcanlogin, false) AS can_log_in,
                      coalesce(array_agg(a.agent ORDER BY a.agent) FILTER (WHERE a.agent IS NOT NULL), '{}') AS agents
                 FROM a21_logins l
                 LEFT JOIN a21_login_agents a ON a.login = l.login
                 LEFT JOIN pg_roles r ON r.rolname = l.login
                GROUP BY l.login, l.owner, l.added_at, r.rolcanlogin
                ORDER BY l.login""")
        return [Login(row["login"], bool(row["owner"]), list(row["agents"]), row["added_at"], bool(row["can_log_in"]))
                for row in rows]


# -- push ----------------------------------------------------------------------------------------------------
ADDED, UPDATED, REFUSED = "added", "updated", "refused"


@dataclass(frozen=True)
class Pushed:
    id: str
    number: str
    insurer: str
    agent: str | None
    outcome: str  # ADDED, UPDATED or REFUSED
    reason: str | None = None


@dataclass
class PushSummary:
    source: str
    address: str
    login: str
    rows: list[Pushed] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(row.outcome == outcome for row in self.rows)


def push(from_path: str | Path, url: str, *, agent: str | None = None) -> PushSummary:
    """Copies the policies of a sub-agent's SQLite file, with their clients, vehicles, installments and
    coverages, into the agency's store, through db.save_rows (the importer's one write path): a policy already
    there is updated, a client's fields the file does not hold are kept. Only the policies of the login's own
    agents (the owner: every agent's); a policy the file stores without an agent (imported before agency mode)
    is pushed only under `agent` (APP:ID, one of the login's agents). Idempotent."""
    url = check_address(url)
    if pg.is_url(str(from_path)):
        raise BadInput(_("--from takes the SQLite file to copy from, not a database address."))
    source = Path(from_path).expanduser()
    if not source.is_file():
        raise BadInput(_("The file {path} does not exist. Give the SQLite database to copy from with --from.").format(
            path=source))
    assigned = parse_agent(agent) if agent is not None else None
    local = database.open_db(source)  # an older file gains the columns agent and imported_by (empty)
    try:
        store = database.open_db(url)
        try:
            with _refusals(store):
                return _push(local, store, assigned)
        finally:
            store.close()
    finally:
        local.conn.close()


def _push(local: Any, store: pg.PgDatabase, assigned: str | None) -> PushSummary:
    allowed = store.allowed_agents()
    yours = ", ".join(sorted(allowed or ())) or "—"
    if assigned is not None and allowed is not None and assigned not in allowed:
        raise BadInput(_("The agent {agent} given with --agent is not one of your login's agents in the agency's "
                         "database ({yours}).").format(agent=assigned, yours=yours))
    summary = PushSummary(str(local.label), store.label, store.user)
    with database.translate_errors(local.label):
        policies = list(local.query("SELECT * FROM policies ORDER BY id"))
    for row in policies:
        seller = row.get("agent") or assigned
        shown = Pushed(row["id"], row["number"], row["insurer"], seller, REFUSED)
        if seller is None:
            summary.rows.append(_refused(shown, _(
                "Policy {number} was imported before agency mode, so the file does not say which agent sold it; it "
                "was not pushed. Import it again from the app, or push with --agent APP:ID to store it under one of "
                "your agents.").format(number=row["number"])))
            continue
        if allowed is not None and seller not in allowed:
            summary.rows.append(_refused(shown, _(
                "Policy {number} was sold by the agent {agent}, who is not one of yours in the agency's database "
                "({yours}); it was not pushed.").format(number=row["number"], agent=seller, yours=yours)))
            continue
        summary.rows.append(_push_one(local, store, row, seller, shown))
    return summary


def _refused(shown: Pushed, reason: str) -> Pushed:
    return Pushed(shown.id, shown.number, shown.insurer, shown.agent, REFUSED, reason)


def _push_one(local: Any, store: pg.PgDatabase, row: dict[str, Any], seller: str, shown: Pushed) -> Pushed:
    policy_id = row["id"]
    with database.translate_errors(local.label):
        clients = [_known_fields(client) for client_id in sorted({row["holder_id"], row["insured_id"]} - {None})
                   for client in local.query("SELECT * FROM clients WHERE id = ?", [client_id])]
        vehicles = [_known_fields(vehicle) for vehicle in local.query("SELECT * FROM vehicles WHERE id = ?",
                                                                       [row["vehicle_id"]])]
        installments = list(local.query("SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", [policy_id]))
        coverages = list(local.query("SELECT * FROM coverages WHERE policy_id = ? ORDER BY code", [policy_id]))
    wanted = {row["holder_id"], row["insured_id"]} - {None}
    if {client["id"] for client in clients} != wanted or (row["vehicle_id"] is not None and not vehicles):
        return _refused(shown, _("The file holds policy {number} without its client or vehicle; it was not "
                                 "pushed.").format(number=row["number"]))
    policy = {column: row.get(column) for column in database.SCHEMA["policies"][0]}
    policy.update(agent=seller, imported_by=database.importing_user(store))
    existed = bool(list(store.query("SELECT 1 FROM policies WHERE id = ?", [policy_id])))
    try:
        database.save_rows(store, policy, clients, vehicles[0] if vehicles else None, installments, coverages)
    except PolicyError as exc:
        return _refused(shown, exc.reason)
    except DatabaseProblem as exc:
        if store.conn.broken or store.conn.closed:  # the connection is gone: the push cannot go on
            raise
        return _refused(shown, exc.message)  # this policy's values (a date the store cannot read)
    return Pushed(shown.id, shown.number, shown.insurer, seller, UPDATED if existed else ADDED)


def _known_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A client's or vehicle's row without the fields the file does not hold: the store keeps its own there."""
    return {column: value for column, value in row.items() if value is not None or column == "id"}
