"""Agency mode (issue 16, points 3 and 4) against a real throw-away PostgreSQL (tests/conftest.py: pg_cluster,
pg_database): `agency init`, `add-user`, `users`, `push`, and the row-level security proven with raw SQL through
psql as each login, then through a21import itself (save_policy and the read commands as a sub-agent)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from a21import import agency, pg
from a21import import db as database
from a21import.errors import BadInput, DatabaseProblem, PolicyError
from a21import.migrations import SCHEMA_VERSION
from a21import.model import Client, Coverage, Installment, Policy, Vehicle
from a21import.periods import today_in_poland
from tests.fixtures.incli import run_cli_in_process

TODAY = today_in_poland()
PASSWORD = "Hasło-próbne 1"  # non-ASCII and a space: the SCRAM verifier is computed from its UTF-8 bytes

SHARED = Client("person", "Łukasz Wójcik", pesel="84031233138", street="ul. Długa 5/12", postal_code="80-827",
                city="Gdańsk", phone="+48 601 234 567", email="lukasz.wojcik@example.pl")
ONLY_A = Client("company", "Apteka Pod Lwem Sp. z o.o.", nip="5274682865", phone="+48 58 555 01 02")
ONLY_B = Client("person", "Zofia Bąk", pesel="02270803628", phone="+48 602 000 111")


def make_policy(number: str, holder: Client, *, registration: str | None = None, premium: int = 120000,
                insurer: str = "ERGO_HESTIA") -> Policy:
    vehicle = Vehicle(registration=registration, make="Škoda", model="Fabia", production_year=2018) \
        if registration else None
    return Policy(
        number=number, insurer=insurer, source_app="hestia", source_system="IHESTIA",
        product_line="motor" if vehicle else "property", product="Auto Pakiet" if vehicle else "Mój Dom",
        status="Aktywna", issue_date=TODAY - timedelta(days=350), start_date=TODAY - timedelta(days=345),
        end_date=TODAY + timedelta(days=20), premium_gr=premium, holder=holder, vehicle=vehicle,
        installments=(Installment(1, TODAY - timedelta(days=345), premium // 2, True),
                      Installment(2, TODAY + timedelta(days=5), premium - premium // 2, False)),
        coverages=(Coverage("OC", "OC posiadaczy pojazdów", None, premium // 2),
                   Coverage("NNW", "Następstwa nieszczęśliwych wypadków", 1_000_000, premium - premium // 2)),
    )


# A's policies (agent hestia:1) and B's (hestia:2); SHARED is the holder of one policy of each.
A_POLICIES = {"HA0000000001": (SHARED, "GD1111A"), "HA0000000002": (ONLY_A, "GD2222A")}
B_POLICIES = {"HB0000000001": (SHARED, None), "HB0000000002": (ONLY_B, "WX3333B")}


def ids(numbers) -> list[str]:
    return sorted(f"ERGO_HESTIA:{number}" for number in numbers)


@dataclass
class Agency:
    cluster: object
    admin: str  # the admin's address
    name: str  # the database
    a: str  # sub-agent logins and the owner's
    b: str
    o: str

    def url(self, login: str) -> str:
        return self.cluster.url(user=login, password=quote(PASSWORD, safe=""), database=self.name)

    def psql(self, sql: str, login: str, *, check: bool = True) -> subprocess.CompletedProcess:
        return self.cluster.psql(sql, user=login, password=PASSWORD, database=self.name, check=check)

    def lines(self, sql: str, login: str) -> list[str]:
        return [line for line in self.psql(sql, login).stdout.splitlines() if line]

    def admin_rows(self, sql: str) -> list[str]:
        return [line for line in self.cluster.psql(sql, database=self.name).stdout.splitlines() if line]


def unique(role: str) -> str:
    return f"{role}_{uuid.uuid4().hex[:10]}"  # login roles are cluster-wide: one per test


@pytest.fixture
def store(pg_cluster, pg_database) -> Agency:
    """An agency store: sub-agents A (hestia:1) and B (hestia:2), owner O, and each sub-agent's policies written by
    the admin through db.save_policy."""
    agency.init(pg_database)
    shop = Agency(pg_cluster, pg_database, urlsplit(pg_database).path.strip("/"), unique("sub_a"), unique("sub_b"),
                  unique("owner"))
    agency.add_user(pg_database, shop.a, ["hestia:1"], False, PASSWORD)
    agency.add_user(pg_database, shop.b, ["hestia:2"], False, PASSWORD)
    agency.add_user(pg_database, shop.o, [], True, PASSWORD)
    db = database.open_db(pg_database)
    try:
        for agent, policies in (("hestia:1", A_POLICIES), ("hestia:2", B_POLICIES)):
            for number, (holder, registration) in policies.items():
                database.save_policy(db, make_policy(number, holder, registration=registration), agent=agent)
    finally:
        db.close()
    return shop


def said(output: str) -> str:
    """What the CLI said, its lines (wrapped at 80 columns) joined."""
    return " ".join(output.split())


def cli(*args: str, input: str | None = None, lang: str = "en") -> subprocess.CompletedProcess:
    """The real CLI, in this process (tests/fixtures/incli.py): these commands need no browser. Each gives its
    --db; the log goes to a scratch folder."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"a21import-agency-{os.getpid()}"
    scratch.mkdir(exist_ok=True)
    return run_cli_in_process([], *args, db_path=scratch / "unused.db", input=input,
                              env={"A21IMPORT_LANG": lang, "COLUMNS": "80", "A21IMPORT_DB": None})


# -- init, add-user, users ---------------------------------------------------------------------------------
def test_init_twice_then_add_user_twice_and_users_lists_them(pg_cluster, pg_database):
    first = agency.init(pg_database)
    assert first.applied == list(range(1, SCHEMA_VERSION + 1)) and first.version == SCHEMA_VERSION
    second = agency.init(pg_database)
    assert second.applied == [] and second.version == SCHEMA_VERSION
    a, o = unique("sub_a"), unique("owner")
    name = urlsplit(pg_database).path.strip("/")
    pg_cluster.psql(f"ALTER DATABASE {name} SET log_statement = 'all'", database=name)  # the server logs every SQL

    made = agency.add_user(pg_database, a, ["hestia:0412345", " HESTIA:0412345"], False, PASSWORD)
    assert (made.created, made.owner, made.agents, made.added, made.password_set) == (
        True, False, ["hestia:0412345"], ["hestia:0412345"], True)
    again = agency.add_user(pg_database, a, ["hestia:0412345"], False, PASSWORD)
    assert (again.created, again.agents, again.added) == (False, ["hestia:0412345"], [])
    more = agency.add_user(pg_database, a, ["tuz:Jan  Kowalski"], False, None)
    assert (more.agents, more.added, more.password_set) == (["hestia:0412345", "tuz:Jan Kowalski"],
                                                            ["tuz:Jan Kowalski"], False)
    agency.add_user(pg_database, o, [], True, PASSWORD)

    listed = {login.login: login for login in agency.users(pg_database)}
    assert set(listed) == {a, o}
    assert (listed[a].owner, listed[a].agents, listed[a].can_log_in) == (
        False, ["hestia:0412345", "tuz:Jan Kowalski"], True)
    assert (listed[o].owner, listed[o].agents) == (True, [])
    server_log = (pg_cluster.folder / "log").read_text(encoding="utf-8", errors="replace")
    assert f'ALTER ROLE "{a}" LOGIN PASSWORD \'SCRAM-SHA-256$4096:' in server_log  # logged, as a verifier only
    assert PASSWORD not in server_log and PASSWORD.encode("utf-8").hex() not in server_log
    # The roles: in the right group, and the password stored as a SCRAM verifier, never in plain text.
    groups = pg_cluster.psql(f"SELECT r.rolname || '>' || g.rolname FROM pg_auth_members m JOIN pg_roles r ON "
                             f"r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname IN ('{a}', '{o}') "
                             "ORDER BY 1", database=name).stdout.split()
    assert groups == sorted([f"{a}>a21_subagent", f"{o}>a21_owner"])
    verifier = pg_cluster.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{a}'", database=name).stdout
    assert verifier.startswith("SCRAM-SHA-256$4096:") and PASSWORD not in verifier
    assert pg_cluster.psql("SELECT current_user", user=a, password=PASSWORD, database=name).stdout.strip() == a
    # The owner given an agent later without --owner stays the owner, in the owner's group only.
    assert agency.add_user(pg_database, o, ["hestia:5"], False, None).owner is True
    assert pg_cluster.psql(f"SELECT pg_has_role('{o}', 'a21_subagent', 'MEMBER'), pg_has_role('{o}', 'a21_owner', "
                           "'MEMBER')", database=name).stdout.strip() == "f|t"
    # A sub-agent's login lists only itself, and may not add logins.
    mine = agency.users(pg_cluster.url(user=a, password=quote(PASSWORD, safe=""), database=name))
    assert [login.login for login in mine] == [a]
    with pytest.raises(DatabaseProblem, match="may not create logins"):
        agency.add_user(pg_cluster.url(user=a, password=quote(PASSWORD, safe=""), database=name), unique("x"),
                        ["hestia:9"], False, PASSWORD)


def test_add_user_refuses_bad_logins_agents_and_a_sub_agent_without_agents(pg_database):
    agency.init(pg_database)
    for login in ("Jan", "1abc", "a b", "pg_x", "a21_owner", "x" * 64, "jan;drop"):
        with pytest.raises(BadInput, match="cannot be used"):
            agency.add_user(pg_database, login, ["hestia:1"], False, PASSWORD)
    for agent in ("hestia", "hestia:", "nosuchapp:1", "hestia:\x1b[31m", "hestia:" + "9" * 101, ":1"):
        with pytest.raises(BadInput, match="APP:ID"):
            agency.add_user(pg_database, unique("sub"), [agent], False, PASSWORD)
    with pytest.raises(BadInput, match="at least one agent"):
        agency.add_user(pg_database, unique("sub"), [], False, PASSWORD)
    with pytest.raises(BadInput, match="password"):
        agency.add_user(pg_database, unique("sub"), ["hestia:1"], False, "")
    assert agency.users(pg_database) == []


def test_init_refuses_a_sqlite_path_and_add_user_needs_init(pg_database, tmp_path):
    with pytest.raises(BadInput, match="PostgreSQL"):
        agency.init(str(tmp_path / "agent21.db"))
    with pytest.raises(DatabaseProblem, match="agency init"):
        agency.add_user(pg_database, unique("sub"), ["hestia:1"], False, PASSWORD)


# -- row-level security, proven with raw SQL as each login ---------------------------------------------------
def test_a_sub_agents_raw_sql_reads_and_changes_only_its_own_rows(store):
    a, b, o = store.a, store.b, store.o
    assert store.lines("SELECT id FROM policies ORDER BY id", a) == ids(A_POLICIES)
    assert store.lines("SELECT DISTINCT policy_id FROM installments ORDER BY 1", a) == ids(A_POLICIES)
    assert store.lines("SELECT DISTINCT policy_id FROM coverages ORDER BY 1", a) == ids(A_POLICIES)
    assert store.lines("SELECT id FROM clients ORDER BY id", a) == sorted([SHARED.id, ONLY_A.id])
    assert store.lines("SELECT id FROM vehicles ORDER BY id", a) == ["REG:GD1111A", "REG:GD2222A"]
    assert store.lines("SELECT agent FROM a21_login_agents", a) == ["hestia:1"]
    # The shared client is B's too; B's own client and vehicle are B's only.
    assert store.lines("SELECT id FROM clients ORDER BY id", b) == sorted([SHARED.id, ONLY_B.id])
    assert store.lines("SELECT id FROM vehicles ORDER BY id", b) == ["REG:WX3333B"]

    b_policy = "ERGO_HESTIA:HB0000000002"
    changed = [
        f"UPDATE policies SET premium_gr = 1 WHERE id = '{b_policy}'",
        f"UPDATE policies SET agent = 'hestia:1' WHERE id = '{b_policy}'",
        f"DELETE FROM policies WHERE id = '{b_policy}'",
        f"UPDATE installments SET paid = 1 WHERE policy_id = '{b_policy}'",
        f"DELETE FROM installments WHERE policy_id = '{b_policy}'",
        f"DELETE FROM coverages WHERE policy_id = '{b_policy}'",
        f"UPDATE clients SET phone = 'x' WHERE id = '{ONLY_B.id}'",
        f"DELETE FROM clients WHERE id = '{ONLY_B.id}'",
        "UPDATE vehicles SET make = 'x' WHERE id = 'REG:WX3333B'",
    ]
    for statement in changed:
        assert store.lines(f"WITH done AS ({statement} RETURNING 1) SELECT count(*) FROM done", a) == ["0"], statement
    # Writing a policy (or its installments) under another agent fails in the database itself ...
    insert = ("INSERT INTO policies (id, number, insurer, source_app, agent, holder_id) "
              "VALUES ('ERGO_HESTIA:{n}', '{n}', 'ERGO_HESTIA', 'hestia', '{agent}', '{holder}')")
    refused = store.psql(insert.format(n="HX1", agent="hestia:2", holder=ONLY_A.id), a, check=False)
    assert refused.returncode != 0 and "row-level security" in refused.stderr
    refused = store.psql(f"INSERT INTO installments (policy_id, seq, due_date, amount_gr, paid) "
                         f"VALUES ('{b_policy}', 9, '2026-12-24', 100, 0)", a, check=False)
    assert refused.returncode != 0 and "row-level security" in refused.stderr
    refused = store.psql("UPDATE policies SET agent = 'hestia:2' WHERE id = 'ERGO_HESTIA:HA0000000001'", a,
                         check=False)
    assert refused.returncode != 0 and "row-level security" in refused.stderr
    # ... while the same statement under A's own agent is accepted: what failed was the agent, not the SQL.
    store.psql(insert.format(n="HX2", agent="hestia:1", holder=ONLY_A.id), a)
    assert store.lines("SELECT count(*) FROM policies", a) == ["3"]

    # B's rows are untouched; the owner sees every row.
    assert store.lines(f"SELECT premium_gr, agent FROM policies WHERE id = '{b_policy}'", b) == ["120000|hestia:2"]
    assert store.lines(f"SELECT count(*), sum(paid) FROM installments WHERE policy_id = '{b_policy}'", b) == ["2|1"]
    assert store.lines(f"SELECT phone FROM clients WHERE id = '{ONLY_B.id}'", b) == ["+48 602 000 111"]
    assert store.lines("SELECT id FROM policies ORDER BY id", o) == sorted(
        ids(A_POLICIES) + ids(B_POLICIES) + ["ERGO_HESTIA:HX2"])
    assert store.lines("SELECT count(*) FROM clients", o) == ["3"]
    assert store.lines("SELECT count(DISTINCT policy_id) FROM installments", o) == ["4"]
    assert store.lines("SELECT login FROM a21_logins ORDER BY 1", o) == sorted([a, b, o])


# -- row-level security through a21import ----------------------------------------------------------------
def test_a_sub_agent_importing_another_agents_policy_gets_it_red_and_nothing_is_overwritten(store):
    db = database.open_db(store.url(store.a))
    try:
        assert db.allowed_agents() == frozenset({"hestia:1"})
        with pytest.raises(PolicyError, match=r"under the agent hestia:2, who is not one of yours.*\(hestia:1\)"):
            database.save_policy(db, make_policy("HA0000000009", ONLY_A), agent="hestia:2")
        with pytest.raises(PolicyError, match="does not show which agent"):
            database.save_policy(db, make_policy("HA0000000009", ONLY_A), agent=None)
        # B's policy, shown to A under A's agent (the same insurer and number): refused, never overwritten.
        with pytest.raises(pg.NotYours):
            database.save_policy(db, make_policy("HB0000000002", ONLY_A, premium=1), agent="hestia:1")
        # A's own policy is stored, with who imported it.
        database.save_policy(db, make_policy("HA0000000003", SHARED, premium=777), agent="hestia:1")
    finally:
        db.close()
    assert store.admin_rows("SELECT id, agent, premium_gr, holder_id FROM policies WHERE number LIKE 'H_0%' "
                            "AND number IN ('HB0000000002', 'HA0000000009', 'HA0000000003') ORDER BY id") == [
        f"ERGO_HESTIA:HA0000000003|hestia:1|777|{SHARED.id}",
        f"ERGO_HESTIA:HB0000000002|hestia:2|120000|{ONLY_B.id}",
    ]
    assert store.admin_rows("SELECT imported_by FROM policies WHERE number = 'HA0000000003'") == [store.a]
    assert store.admin_rows("SELECT count(*) FROM installments WHERE policy_id = 'ERGO_HESTIA:HB0000000002'") == ["2"]


def test_a_sub_agents_read_commands_list_only_its_own_policies(store, tmp_path):
    url = store.url(store.a)
    listed = cli("policies", "--db", url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(row["id"] for row in json.loads(listed.stdout)) == ids(A_POLICIES)
    renewals = cli("renewals", "--days", "30", "--db", url, "--json")
    assert sorted(row["id"] for row in json.loads(renewals.stdout)) == ids(A_POLICIES)
    due = cli("due", "--days", "30", "--db", url, "--json")
    assert sorted(row["policy"]["id"] for row in json.loads(due.stdout)) == ids(A_POLICIES)
    shown = cli("show", "HA0000000001", "--db", url, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)[0]["policy"]["id"] == "ERGO_HESTIA:HA0000000001"
    hidden = cli("show", "HB0000000001", "--db", url)
    assert hidden.returncode == 1 and "HB0000000001" in said(hidden.stderr)
    output = tmp_path / "polisy.csv"
    exported = cli("export", "--db", url, "--output", str(output))
    assert exported.returncode == 0, exported.stderr
    with output.open(encoding="utf-8-sig", newline="") as file:
        numbers = sorted(row[0] for row in list(csv.reader(file, delimiter=";"))[1:])
    assert numbers == sorted(A_POLICIES)
    # The owner's login lists both sub-agents' policies.
    owner = cli("policies", "--db", store.url(store.o), "--json")
    assert sorted(row["id"] for row in json.loads(owner.stdout)) == ids(A_POLICIES) + ids(B_POLICIES)


# -- push ----------------------------------------------------------------------------------------------------
@pytest.fixture
def local_file(tmp_path) -> Path:
    """A sub-agent's SQLite file: three policies of hestia:1, one of hestia:2, one imported before agency mode."""
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    lean = Client("person", "Łukasz Wójcik", pesel="84031233138", phone="+48 601 999 999")  # no e-mail here
    for number, holder, agent in (("HA0000000001", lean, "hestia:1"), ("HA0000000005", ONLY_A, "hestia:1"),
                                  ("HA0000000006", ONLY_B, "hestia:1"), ("HB0000000005", ONLY_B, "hestia:2"),
                                  ("HN0000000001", ONLY_A, None)):
        database.save_policy(db, make_policy(number, holder, registration="GD5555A", premium=50000), agent=agent)
    db.conn.close()
    return path


def outcomes(summary) -> dict[str, str]:
    return {row.number: row.outcome for row in summary.rows}


def test_push_copies_only_the_login_own_agents_policies_and_is_idempotent(store, local_file):
    first = agency.push(local_file, store.url(store.a))
    assert outcomes(first) == {"HA0000000001": "updated", "HA0000000005": "added", "HA0000000006": "added",
                               "HB0000000005": "refused", "HN0000000001": "refused"}
    reasons = {row.number: row.reason for row in first.rows}
    assert "sold by the agent hestia:2, who is not one of yours" in reasons["HB0000000005"]
    assert "before agency mode" in reasons["HN0000000001"] and "--agent APP:ID" in reasons["HN0000000001"]
    assert (first.count("added"), first.count("updated"), first.count("refused")) == (2, 1, 2)
    # What was copied: the rows of the file, under A's agent and login; the store's client fields the file lacks
    # (the e-mail) kept, the ones it holds (the phone) taken from the file.
    assert store.admin_rows("SELECT number, agent, imported_by, premium_gr FROM policies WHERE number IN "
                            "('HA0000000001', 'HA0000000005', 'HA0000000006') ORDER BY number") == [
        f"{number}|hestia:1|{store.a}|50000" for number in ("HA0000000001", "HA0000000005", "HA0000000006")]
    assert store.admin_rows(f"SELECT phone, email FROM clients WHERE id = '{SHARED.id}'") == [
        "+48 601 999 999|lukasz.wojcik@example.pl"]
    assert store.admin_rows("SELECT seq, due_date, amount_gr, paid FROM installments WHERE policy_id = "
                            "'ERGO_HESTIA:HA0000000005' ORDER BY seq") == [
        f"1|{TODAY - timedelta(days=345)}|25000|1", f"2|{TODAY + timedelta(days=5)}|25000|0"]
    assert store.admin_rows("SELECT code, sum_insured_gr FROM coverages WHERE policy_id = "
                            "'ERGO_HESTIA:HA0000000005' ORDER BY code") == ["NNW|1000000", "OC|"]
    assert store.admin_rows("SELECT count(*) FROM policies WHERE number IN ('HB0000000005', 'HN0000000001')") == ["0"]
    # B's client (also the holder of A's HA0000000006) is now A's to see, through that policy.
    assert ONLY_B.id in store.lines("SELECT id FROM clients", store.a)

    again = agency.push(local_file, store.url(store.a))
    assert (again.count("added"), again.count("updated"), again.count("refused")) == (0, 3, 2)
    assert store.admin_rows("SELECT count(*) FROM policies") == ["6"]

    # --agent stores the file's policy without an agent under one of the login's agents; not under another's.
    assigned = agency.push(local_file, store.url(store.a), agent="Hestia:1")
    assert outcomes(assigned)["HN0000000001"] == "added"
    assert store.admin_rows("SELECT agent FROM policies WHERE number = 'HN0000000001'") == ["hestia:1"]
    with pytest.raises(BadInput, match="not one of your login's agents"):
        agency.push(local_file, store.url(store.a), agent="hestia:2")

    # The owner pushes every agent's policies.
    owner = agency.push(local_file, store.url(store.o))
    assert outcomes(owner) == {"HA0000000001": "updated", "HA0000000005": "updated", "HA0000000006": "updated",
                               "HB0000000005": "added", "HN0000000001": "refused"}
    assert store.admin_rows("SELECT agent, imported_by FROM policies WHERE number = 'HB0000000005'") == [
        f"hestia:2|{store.o}"]


def test_push_refuses_a_policy_of_another_agent_with_the_same_number(store, tmp_path):
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    database.save_policy(db, make_policy("HB0000000002", ONLY_A, premium=1), agent="hestia:1")  # B's in the store
    db.conn.close()
    summary = agency.push(path, store.url(store.a))
    assert outcomes(summary) == {"HB0000000002": "refused"}
    assert "another agent's policies" in summary.rows[0].reason
    assert store.admin_rows("SELECT agent, premium_gr FROM policies WHERE number = 'HB0000000002'") == [
        "hestia:2|120000"]


def test_push_through_the_cli_prints_the_summary_and_exits_1_when_some_are_refused(store, local_file, tmp_path):
    url = store.url(store.a)
    pushed = cli("agency", "push", "--from", str(local_file), "--db", url, "--json")
    assert pushed.returncode == 1, pushed.stderr
    document = json.loads(pushed.stdout)
    assert (document["added"], document["updated"], document["refused"], document["login"]) == (2, 1, 2, store.a)
    assert PASSWORD not in pushed.stdout and "***" in document["to"]
    table = cli("agency", "push", "--from", str(local_file), "--db", url, lang="pl")
    assert table.returncode == 1, table.stderr
    assert "Dodane" in table.stdout and "HB0000000005" in table.stdout and "hestia:2" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout
    only_own = tmp_path / "own.db"
    db = database.open_db(only_own)
    database.save_policy(db, make_policy("HA0000000007", ONLY_A), agent="hestia:1")
    db.conn.close()
    assert cli("agency", "push", "--from", str(only_own), "--db", url).returncode == 0
    missing = cli("agency", "push", "--from", str(tmp_path / "none.db"), "--db", url)
    assert missing.returncode == 2 and "does not exist" in said(missing.stderr)
    unreachable = cli("agency", "push", "--from", str(only_own), "--db",
                      store.url(store.a).replace(str(store.cluster.port), "1"))
    assert unreachable.returncode == 3 and "cannot be reached" in said(unreachable.stderr)


# -- the CLI: init, add-user with the password on stdin, users -------------------------------------------------
def test_cli_init_add_user_with_the_password_on_stdin_and_users(pg_cluster, pg_database):
    name = urlsplit(pg_database).path.strip("/")
    made = cli("agency", "init", "--db", pg_database)
    assert made.returncode == 0 and f"is ready (schema version {SCHEMA_VERSION};" in said(made.stdout)
    again = cli("agency", "init", "--db", pg_database)
    assert again.returncode == 0 and "already up to date" in said(again.stdout)
    login, owner = unique("sub"), unique("owner")
    added = cli("agency", "add-user", login, "--agent", "hestia:0412345", "--agent", "generali:1200345", "--db",
                pg_database, input=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert f"Created the login {login} (sub-agent); agents: generali:1200345, hestia:0412345." in said(added.stdout)
    assert pg_cluster.psql("SELECT current_user", user=login, password=PASSWORD, database=name).stdout.strip() == login
    wrong = pg_cluster.psql("SELECT 1", user=login, password="wrong", database=name, check=False)
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    # Again with a new password: the same login, the new password.
    changed = cli("agency", "add-user", login, "--db", pg_database, input="nowe hasło\n")
    assert changed.returncode == 0 and f"Updated the login {login}" in said(changed.stdout), changed.stderr
    assert pg_cluster.psql("SELECT 1", user=login, password="nowe hasło", database=name).returncode == 0
    peer = cli("agency", "add-user", owner, "--owner", "--no-password", "--db", pg_database)
    assert peer.returncode == 0 and "No password was set" in said(peer.stdout), peer.stderr
    assert pg_cluster.psql(f"SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = '{owner}'",
                           database=name).stdout.strip() == "t"
    bad_agent = cli("agency", "add-user", unique("sub"), "--agent", "aviva:1", "--db", pg_database, input="x\n")
    assert bad_agent.returncode == 2 and "APP:ID" in said(bad_agent.stderr)
    no_password = cli("agency", "add-user", unique("sub"), "--agent", "hestia:1", "--db", pg_database, input="")
    assert no_password.returncode == 2 and "No password was given" in said(no_password.stderr)

    listed = cli("agency", "users", "--db", pg_database, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(row["login"], row["owner"], row["agents"]) for row in json.loads(listed.stdout)] == sorted(
        [(login, False, ["generali:1200345", "hestia:0412345"]), (owner, True, [])])
    table = cli("agency", "users", "--db", pg_database, lang="pl")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "Agenci" in lines[0] and "Rola" in lines[0]
    assert any(login in line and "subagent" in line for line in lines)
    assert all(len(line) <= 80 for line in lines), table.stdout
    sqlite = cli("agency", "users", "--db", "agent21.db")
    assert sqlite.returncode == 2 and "PostgreSQL" in said(sqlite.stderr)
