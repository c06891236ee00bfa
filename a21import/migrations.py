"""The store's schema version and its ordered migrations, for the SQLite file and the agency's PostgreSQL.

Each store records the version it is at (SQLite: `PRAGMA user_version`; PostgreSQL: the table
`a21_schema`). Migrations run in order, in one transaction with the version, and only forward:
- SQLite: version 1 is DATABASE.md's tables, version 2 adds policies.agent and policies.imported_by, versions
  3 and 4 change nothing there; all are the declarative `db.ensure_schema` (adds what is missing), so any
  older file ends at the latest.
- PostgreSQL: the list `PG_MIGRATIONS`; the administrator's `agency init` (versions 1 to 4), then the
  owner's first command (the owner group owns the store from version 4), applies what is missing. A
  sub-agent's a21import never migrates: older than the store, it is told to upgrade; newer, it is told to
  ask the owner to run `agency init`.
A new column is one line in db.SCHEMA plus one migration here.
"""

from __future__ import annotations

from typing import Any

from a21import.errors import DatabaseProblem
from a21import.i18n import _
from a21import.pg import OWNER_ROLE, SUBAGENT_ROLE, NotYours

SCHEMA_VERSION = 4
DATA_TABLES = ("clients", "vehicles", "policies", "installments", "coverages")
AGENCY_TABLES = ("a21_schema", "a21_logins", "a21_login_agents")


def _pg_type(column: str, kind: type) -> str:
    if column.endswith("_gr"):
        return "bigint"
    if column.endswith("_date"):
        return "date"
    if column == "imported_at":
        return "timestamptz"
    return "integer" if kind is int else "text"


def pg_tables() -> list[str]:
    """CREATE TABLE for db.SCHEMA in PostgreSQL's types (bigint grosze, date, timestamptz)."""
    from a21import.db import INDEXES, SCHEMA

    statements = []
    for name, (columns, pk, foreign_keys) in SCHEMA.items():
        lines = [f"{column} {_pg_type(column, kind)}" + (" NOT NULL" if column in (pk if isinstance(pk, tuple)
                                                                                  else (pk,)) else "")
                 for column, kind in columns.items()]
        lines.append(f"PRIMARY KEY ({', '.join(pk) if isinstance(pk, tuple) else pk})")
        # Checked at commit: a policy is written before its clients (the row-level security lets a sub-agent
        # write a client only once one of its own policies points at it).
        lines += [f"FOREIGN KEY ({column}) REFERENCES {other} ({key}) DEFERRABLE INITIALLY DEFERRED"
                  for column, other, key in foreign_keys]
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} (\n  " + ",\n  ".join(lines) + "\n)")
    statements += [f"CREATE INDEX IF NOT EXISTS {table}_{'_'.join(columns)} ON {table} ({', '.join(columns)})"
                   for table, columns in INDEXES]
    return statements


# What the row-level security says: a sub-agent's login sees and writes only the policies of its own agents
# (a21_login_agents), and the installments, coverages, clients and vehicles of those policies; the owner
# group sees everything. The admin who ran `agency init` owns the tables (and so is not bound by them).
_MINE = "agent IN (SELECT a.agent FROM a21_login_agents a WHERE a.login = current_user)"
# Version 3: the same rows, found through an index. The login's agents are read once per query into an array
# (an InitPlan), so `agent = ANY(...)` is an index condition on policies (agent, end_date); the IN form above is
# a filter PostgreSQL applies to every row the query reaches (bench/agency_scale.py: at a million policies a
# sub-agent's `due` read every policy, its `renewals` every policy ending in the window).
_MINE_INDEXED = "agent = ANY (ARRAY(SELECT a.agent FROM a21_login_agents a WHERE a.login = current_user))"
_OF_MY_POLICY = "EXISTS (SELECT 1 FROM policies p WHERE p.id = policy_id)"
_CLIENT_OF_MINE = "EXISTS (SELECT 1 FROM policies p WHERE p.holder_id = clients.id OR p.insured_id = clients.id)"
_VEHICLE_OF_MINE = "EXISTS (SELECT 1 FROM policies p WHERE p.vehicle_id = vehicles.id)"


def _security() -> list[str]:
    statements = [
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN CREATE ROLE {OWNER_ROLE} NOLOGIN; END IF;
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SUBAGENT_ROLE}') THEN CREATE ROLE {SUBAGENT_ROLE} NOLOGIN; END IF;
            END $$""",
        """CREATE TABLE IF NOT EXISTS a21_logins (
             login text PRIMARY KEY, owner boolean NOT NULL DEFAULT false, added_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE IF NOT EXISTS a21_login_agents (
             login text NOT NULL REFERENCES a21_logins (login) ON DELETE CASCADE, agent text NOT NULL,
             PRIMARY KEY (login, agent))""",
        "CREATE INDEX IF NOT EXISTS a21_login_agents_agent ON a21_login_agents (agent)",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(DATA_TABLES)} TO {OWNER_ROLE}, {SUBAGENT_ROLE}",
        f"GRANT SELECT ON a21_schema, a21_logins, a21_login_agents TO {OWNER_ROLE}, {SUBAGENT_ROLE}",
        "ALTER TABLE a21_login_agents ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE a21_logins ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY owner_all ON a21_login_agents FOR SELECT TO {OWNER_ROLE} USING (true)",
        f"CREATE POLICY own_rows ON a21_login_agents FOR SELECT TO {SUBAGENT_ROLE} USING (login = current_user)",
        f"CREATE POLICY owner_all ON a21_logins FOR SELECT TO {OWNER_ROLE} USING (true)",
        f"CREATE POLICY own_rows ON a21_logins FOR SELECT TO {SUBAGENT_ROLE} USING (login = current_user)",
    ]
    for table in DATA_TABLES:
        statements += [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                       f"CREATE POLICY owner_all ON {table} TO {OWNER_ROLE} USING (true) WITH CHECK (true)"]
    statements += [
        f"CREATE POLICY own_policies ON policies TO {SUBAGENT_ROLE} USING ({_MINE}) WITH CHECK ({_MINE})",
        f"CREATE POLICY of_own_policies ON installments TO {SUBAGENT_ROLE} USING ({_OF_MY_POLICY}) "
        f"WITH CHECK ({_OF_MY_POLICY})",
        f"CREATE POLICY of_own_policies ON coverages TO {SUBAGENT_ROLE} USING ({_OF_MY_POLICY}) "
        f"WITH CHECK ({_OF_MY_POLICY})",
    ]
    # A client or vehicle is written after the policy that points at it (the foreign keys are checked at
    # commit), so a sub-agent reads, adds and changes exactly the clients and vehicles of its own policies,
    # a client shared with another agent's policy included.
    for table, visible in (("clients", _CLIENT_OF_MINE), ("vehicles", _VEHICLE_OF_MINE)):
        statements.append(f"CREATE POLICY of_own_policies ON {table} TO {SUBAGENT_ROLE} USING ({visible}) "
                          f"WITH CHECK ({visible})")
    return statements


_FUNCTIONS = [
    # Search as in the SQLite file (text.fold): the letters without a decomposition mapped by hand, the others
    # decomposed (NFKD) and their accents dropped, then lower case (Dvořák, Muñoz, Straße found as typed plain);
    # instr() as SQLite's.
    """CREATE OR REPLACE FUNCTION a21_fold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
       $$ SELECT lower(regexp_replace(normalize(replace(replace(translate(value, 'ŁłĐđØø', 'LlDdOo'), 'ß', 'ss'),
                                                        'ẞ', 'ss'), NFKD),
                                      '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'))
       $$""",
    """CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer LANGUAGE sql IMMUTABLE
       PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$""",
]

# Version → the statements that bring the store from the version before to it.
PG_MIGRATIONS: dict[int, list[str]] = {
    1: ["CREATE TABLE IF NOT EXISTS a21_schema (version integer NOT NULL)", *_FUNCTIONS],
    2: ["__tables__", "CREATE INDEX IF NOT EXISTS policies_holder_id ON policies (holder_id)",
        "CREATE INDEX IF NOT EXISTS policies_insured_id ON policies (insured_id)",
        "CREATE INDEX IF NOT EXISTS policies_vehicle_id ON policies (vehicle_id)",
        "CREATE INDEX IF NOT EXISTS installments_unpaid ON installments (due_date) WHERE paid = 0",
        "__security__"],
    3: ["DROP POLICY IF EXISTS own_policies ON policies",
        f"CREATE POLICY own_policies ON policies TO {SUBAGENT_ROLE} USING ({_MINE_INDEXED}) "
        f"WITH CHECK ({_MINE_INDEXED})",
        "CREATE INDEX IF NOT EXISTS policies_agent_end_date ON policies (agent, end_date)",
        "DROP INDEX IF EXISTS policies_agent"],  # the index above serves `agent = ?` as well
    # The owner group owns the store, so that the owner's a21import applies later migrations itself (the
    # administrator who ran `agency init` stays a member); owning, it sees every row, as the owner should.
    4: [f"""DO $$ BEGIN
              IF NOT pg_has_role(current_user, '{OWNER_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {OWNER_ROLE} TO %I', current_user);
              END IF;
              EXECUTE format('GRANT CREATE ON SCHEMA %I TO {OWNER_ROLE}', current_schema());
            END $$""",
        *[f"ALTER TABLE {table} OWNER TO {OWNER_ROLE}" for table in (*DATA_TABLES, *AGENCY_TABLES)],
        f"ALTER FUNCTION a21_fold(text) OWNER TO {OWNER_ROLE}",
        f"ALTER FUNCTION instr(text, text) OWNER TO {OWNER_ROLE}"],
}


def _statements(version: int) -> list[str]:
    result = []
    for statement in PG_MIGRATIONS[version]:
        result += pg_tables() if statement == "__tables__" else _security() if statement == "__security__" \
            else [statement]
    return result


def pg_version(db: Any) -> int:
    rows = list(db.query("SELECT to_regclass('a21_schema') IS NOT NULL AS present"))
    if not rows[0]["present"]:
        return 0
    rows = list(db.query("SELECT max(version) AS version FROM a21_schema"))
    return rows[0]["version"] or 0


def migrate_pg(db: Any) -> list[int]:
    """Applies the missing migrations in order, all in one transaction; returns the versions applied.
    Two owners starting at once: the second waits on the advisory lock, then finds nothing to do."""
    applied: list[int] = []
    try:
        _migrate(db, applied)
    except NotYours as exc:  # a login that may not change the tables (an owner before version 4)
        raise DatabaseProblem(_(
            "Your login may not change the tables of the agency's database {address}, so it cannot bring it to "
            "schema version {known}. The agency's administrator runs a21import agency init.").format(
            address=db.label, known=SCHEMA_VERSION)) from exc
    return applied


def _migrate(db: Any, applied: list[int]) -> None:
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(2121)")
        current = pg_version(db)
        check_not_newer(db, current)
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(version):
                db.execute(statement)
            db.execute("DELETE FROM a21_schema")
            db.execute("INSERT INTO a21_schema (version) VALUES (?)", [version])
            applied.append(version)


def check_not_newer(db: Any, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise DatabaseProblem(_(
            "The database {address} was shaped by a newer a21import (schema version {found}; this a21import knows "
            "{known}). Upgrade a21import before using this database.").format(
            address=db.label, found=version, known=SCHEMA_VERSION))


def check_pg_version(db: Any, *, may_migrate: bool) -> None:
    """On opening: the owner (or the admin) migrates what is missing; a sub-agent is told what to do."""
    current = pg_version(db)
    check_not_newer(db, current)
    if current == SCHEMA_VERSION:
        return
    if may_migrate:
        migrate_pg(db)
        return
    if current == 0:
        raise DatabaseProblem(_(
            "The database {address} is not an agency store yet. The agency's administrator creates it with "
            "a21import agency init.").format(address=db.label))
    raise DatabaseProblem(_(
        "The database {address} is at schema version {found}, older than this a21import's {known}. Ask the agency "
        "owner to import once with the owner's login, or the administrator to run a21import agency init: either "
        "brings it up to date.").format(
        address=db.label, found=current, known=SCHEMA_VERSION))
