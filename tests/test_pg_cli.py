"""Agency mode against a real, throw-away PostgreSQL (issue 16, points 1 and 6): the real CLI, the system
Chromium, the fixture portals logged in through their forms, and the same import into a SQLite file and into
the agency's store, compared row by row. Then every command on the store, two sub-agents importing the same
period at once, a sub-agent importing another agent's policies, and the store's schema version.

The store's rows are read with psycopg directly (tests/fixtures/pgrows.py), not through a21import."""

from __future__ import annotations

import getpass
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from a21import import migrations, pg, pgcluster
from a21import.periods import today_in_poland
from tests.fixtures.contract import PERIOD, TABLES, tables
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.pgrows import add_login, pg_rows, pg_tables, sqlite_tables, without
from tests.fixtures.skaner2_portal import AGENTS as SKANER2_AGENTS
from tests.fixtures.skaner2_portal import PUNKTA
from tests.test_agent_ids import EXPECTED
from tests.test_contract_cli import CONTRACTS, logged_in, said

pytestmark = pytest.mark.integration

# The agent each contract's portal shows (test_agent_ids.py reads Skaner2 on another network's host).
AGENTS = {**EXPECTED, "skaner2": f"skaner2:{SKANER2_AGENTS[PUNKTA]}"}
# The store's write path is the same for every app; these cover an HTML app with identities (Hestia), a JSON app
# (Merkury+), numbers two insurers share (Skaner2) and a life section with an insured person (Warta Życie).
# The agent id of every app is checked on the SQLite side by test_contract_cli.py and test_agent_ids.py.
STORE_APPS = ("hestia", "generali", "skaner2", "warta-zycie")
each_app = pytest.mark.parametrize("contract", [c for c in CONTRACTS if c.name in STORE_APPS],
                                   ids=[c.name for c in CONTRACTS if c.name in STORE_APPS])
HESTIA = ("--app", "hestia", "--source", "ihestia")
HESTIA_AGENT = AGENTS["hestia"]
ADMIN = pgcluster.ADMIN
WHO_DIFFERS = ("imported_at", "imported_by")  # when and by whom: the two imports' own


def unique(url: str) -> str:
    """A suffix for the test's login roles, which are the cluster's (a role name is cut at 63 bytes)."""
    return hashlib.sha1(url.encode()).hexdigest()[:10]


def at_once(run_cli, *commands: tuple[str, ...], **options) -> list:
    """The CLI commands run side by side (each is mostly its own start-up), their results in the given order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda command: run_cli(*command, **options), commands))


def migrated(url: str) -> None:
    """The store shaped as `agency init` (or the owner's first command) shapes it, by a21import's own code."""
    db = pg.connect(url)
    try:
        migrations.migrate_pg(db)
    finally:
        db.close()


@each_app
def test_period_into_postgresql_stores_the_same_rows_as_into_sqlite(contract, user_context, run_cli, db_path,
                                                                    pg_database):
    """The same period into a SQLite file and into the agency's store: all five tables equal row by row; the
    agent is the app's logged-in agent in both."""
    with contract.portal(**contract.options) as portal:
        logged_in(user_context, contract, portal)
        local, result = at_once(run_cli, *(("period", *contract.app_args, *contract.period, "--yes", "--db", store)
                                           for store in (str(db_path), pg_database)))
        assert local.returncode == 0, said(local)
        assert result.returncode == 0, said(result)
        assert f"Database: {pg.redact(pg_database)}" in said(result)
        assert pg_database.split(":")[2].split("@")[0] not in said(result)  # the password is never shown

        stored, expected = pg_tables(pg_database), sqlite_tables(db_path)
        count = len(contract.expected(portal))
        assert count >= 10 and len(stored["policies"]) == count
        assert {row["agent"] for row in stored["policies"]} == {AGENTS[contract.name]}
        assert {row["agent"] for row in expected["policies"]} == {AGENTS[contract.name]}
        assert {row["imported_by"] for row in stored["policies"]} == {ADMIN}
        assert {row["imported_by"] for row in expected["policies"]} == {getpass.getuser()}
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row["imported_at"])
                   for row in stored["policies"])
        for table in TABLES:
            assert without(stored, *WHO_DIFFERS)[table] == without(expected, *WHO_DIFFERS)[table], table


def unlabelled(result) -> str:
    """A read command's stdout without the line naming the database (a file or the store's address), with the
    time and the importing user of the import (the two imports' own) as marks."""
    lines = [line for line in result.stdout.splitlines() if not line.startswith("Database: ")]
    text = re.sub(r"\d\d\.\d\d\.\d{4} \d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", "<time>",
                  "\n".join(lines))
    return re.sub(rf"\b({ADMIN}|{re.escape(getpass.getuser())})\b( *)",
                  lambda match: "<who>".ljust(len(match[0]) if match[2] else 0), text)


def unpaid_by(url: str, due_by) -> set[str]:
    return {row["policy_id"] for row in pg_rows(
        url, "SELECT DISTINCT policy_id FROM installments WHERE paid = 0 AND due_date <= %s", due_by)}


def test_every_command_works_on_the_store_as_on_the_sqlite_file(cli, db_path, pg_database, tmp_path):
    """A second import into the store adds nothing; refresh NUMBER and refresh --due write into the store what
    they write into the file; policies, show, renewals, due and export print (and write) the same from both.
    The CLI runs in this process over an in-process tab (tests/fixtures/incli.py): the store is the subject."""
    days = 14
    due_by = today_in_poland() + timedelta(days=days)
    stores = {"sqlite": str(db_path), "pg": pg_database}
    with HestiaPortal(count=30) as portal:
        # A client whose letters are not Polish: the store's search folds them as the file's does.
        named = portal.policies["ERGO_HESTIA"][0]
        if named.holder.kind == "person":
            named.holder.first_name, named.holder.last_name = "Zdeněk", "Dvořák-Muñoz"
        else:
            named.holder.company_name = "Dvořák & Muñoz s.r.o."
        cli.login(portal)
        for result in at_once(cli, *(("period", *HESTIA, *PERIOD, "--yes", "--db", store)
                                         for store in stores.values())):
            assert result.returncode == 0, said(result)
        everything = {row["id"] for row in pg_rows(pg_database, "SELECT id FROM policies")}
        stored = pg_tables(pg_database)
        again = cli("period", *HESTIA, *PERIOD, "--yes", "--db", pg_database)  # adds and changes nothing
        assert again.returncode == 0, said(again)
        assert "Imported 0 policies." in said(again) and f"left out: {len(everything)}." in said(again)
        assert pg_tables(pg_database) == stored
        assert len(pg_rows(pg_database, "SELECT DISTINCT insurer, number FROM policies")) == len(everything)
        wanted = unpaid_by(pg_database, due_by)
        assert wanted and wanted != everything, "the data should hold policies on both sides of the window"

        # In the app, clients paid: one policy outside the window, then every policy due soon.
        fakes = {f"ERGO_HESTIA:{p.number}": p for p in portal.policies["ERGO_HESTIA"]}
        unpaid = {row["policy_id"] for row in pg_rows(pg_database, "SELECT policy_id FROM installments WHERE paid = 0")}
        [single, *_] = sorted(unpaid - wanted)
        for policy_id in (single, *wanted):
            for installment in fakes[policy_id].installments:
                installment.paid = True
        before = {row["id"]: row["imported_at"] for row in pg_rows(pg_database, "SELECT id, imported_at FROM policies")}

        number = fakes[single].number
        for result in at_once(cli, *(("refresh", number, "--yes", "--db", store) for store in stores.values())):
            assert result.returncode == 0, said(result)
        assert pg_rows(pg_database, "SELECT DISTINCT paid FROM installments WHERE policy_id = %s", single) == [
            {"paid": 1}]
        other_id = min(everything - wanted - {single})
        other = fakes[other_id]  # `policy` reads a stored one again
        other.status = "Rozwiązana"
        for result in at_once(cli, *(("policy", other.number, *HESTIA, "--yes", "--db", store)
                                         for store in stores.values())):
            assert result.returncode == 0, said(result)
        assert pg_rows(pg_database, "SELECT status FROM policies WHERE number = %s", other.number) == [
            {"status": "Rozwiązana"}]
        for result in at_once(cli, *(("refresh", "--due", "--days", str(days), "--yes", "--json", "--db", store)
                                         for store in stores.values())):
            assert result.returncode == 0, said(result)
            document = json.loads(result.stdout)
            assert {p["id"]: p["status"] for p in document["policies"]} == {key: "done" for key in wanted}
        assert unpaid_by(pg_database, due_by) == set()
        after = {row["id"]: row["imported_at"] for row in pg_rows(pg_database, "SELECT id, imported_at FROM policies")}
        assert {key for key in everything if after[key] != before[key]} <= wanted | {single, other_id}
        assert all(after[key] >= before[key] for key in everything)
        assert without(pg_tables(pg_database), *WHO_DIFFERS) == without(sqlite_tables(db_path), *WHO_DIFFERS)

    # The commands that read: the same output from the file and from the store.
    [holder] = pg_rows(pg_database, "SELECT c.name FROM policies p JOIN clients c ON c.id = p.holder_id "
                                    "WHERE p.id = %s", single)
    search = holder["name"].split()[-1].lower()
    commands = [
        ("policies",), ("policies", "--json"), ("policies", search), ("policies", "dvorak-munoz", "--json"),
        ("policies", "--insurer", "ERGO_HESTIA", "--from", "2026-11-05", "--to", "2026-11-10"),
        ("show", number), ("show", number.lower(), "--json"),
        ("renewals", "--days", "366"), ("renewals", "--days", "366", "--all", "--json"),
        ("due", "--days", "366"), ("due", "--days", "366", "--all", "--json", "--app", "hestia"),
    ]
    results = iter(at_once(cli, *((*command, "--db", store) for command in commands for store in stores.values())))
    for command in commands:
        shown = {name: next(results) for name in stores}
        for result in shown.values():
            assert result.returncode == 0, (command, said(result))
        assert unlabelled(shown["pg"]).splitlines() == unlabelled(shown["sqlite"]).splitlines(), command
        assert len(shown["pg"].stdout) > 200, command
        if "dvorak-munoz" in command:
            assert [row["number"] for row in json.loads(shown["pg"].stdout)] == [named.number]
    for what in ("policies", "installments"):
        written = {name: tmp_path / f"{what}-{name}.csv" for name in stores}
        for result in at_once(cli, *(("export", "--what", what, "--output", str(written[name]), "--db", store)
                                         for name, store in stores.items())):
            assert result.returncode == 0, said(result)
        assert written["pg"].read_bytes() == written["sqlite"].read_bytes()
        assert written["pg"].read_bytes().count(b"\r\n") > len(everything)


def test_two_subagents_importing_the_same_period_at_once(user_context, run_cli, pg_cluster, pg_database):
    """Two sub-agents of one agent import the same period at the same moment: both finish, nothing is said of a
    deadlock or an error, and the store holds each policy once, as one import stores it."""
    migrated(pg_database)
    suffix = unique(pg_database)
    logins = {name: add_login(pg_cluster, pg_database, f"{name}_{suffix}", [HESTIA_AGENT])
              for name in ("anna", "bartek")}
    [contract] = [c for c in CONTRACTS if c.name == "hestia"]
    with contract.portal(**contract.options) as portal:
        logged_in(user_context, contract, portal)
        results = at_once(run_cli, *(("period", *HESTIA, *PERIOD, "--yes", "--db", url) for url in logins.values()))
        for result in results:
            assert result.returncode == 0, said(result)
            assert not re.search(r"deadlock|error|refused|locked", said(result), re.IGNORECASE), said(result)
        expected = contract.expected(portal)

    stored = pg_tables(pg_database)
    assert len(stored["policies"]) == len(expected) >= 10
    assert len(pg_rows(pg_database, "SELECT DISTINCT insurer, number FROM policies")) == len(expected)
    assert {row["agent"] for row in stored["policies"]} == {HESTIA_AGENT}
    assert {row["imported_by"] for row in stored["policies"]} <= {f"{name}_{suffix}" for name in logins}
    assert without(stored, "imported_at", "imported_by", "agent") == tables(expected.values())


def test_subagent_importing_another_agents_policies_stores_nothing(user_context, run_cli, pg_cluster, pg_database):
    """A sub-agent logged in to the app as an agent not theirs: every policy red with the reason, exit 1, and the
    store (read by the admin) holds nothing."""
    migrated(pg_database)
    suffix = unique(pg_database)
    cezary = add_login(pg_cluster, pg_database, f"cezary_{suffix}", ["hestia:0999999"])
    [contract] = [c for c in CONTRACTS if c.name == "hestia"]
    with contract.portal(**contract.small) as portal:
        logged_in(user_context, contract, portal)
        result = run_cli("period", *HESTIA, *PERIOD, "--yes", "--json", "--db", cezary)
        count = len(contract.expected(portal))
    assert result.returncode == 1, said(result)
    document = json.loads(result.stdout)
    assert len(document["policies"]) == count >= 10
    for policy in document["policies"]:
        assert policy["status"] == "failed", policy
        assert " ".join(policy["reason"].split()) == (
            f"The app shows this policy under the agent {HESTIA_AGENT}, who is not one of yours in the agency's "
            f"database (hestia:0999999); it was not stored. Log in to the app as your own agent, or ask the agency "
            f"owner to add {HESTIA_AGENT} to your login.")
    assert pg_tables(pg_database) == {table: [] for table in TABLES}


def test_store_of_another_schema_version_is_refused_before_writing(user_context, run_cli, pg_cluster, pg_database):
    """A store shaped by a newer a21import: exit 3, upgrade a21import. A sub-agent on a store older than the code:
    exit 3, ask the owner (a sub-agent never migrates). Nothing is written either way."""
    migrated(pg_database)
    suffix = unique(pg_database)
    dorota = add_login(pg_cluster, pg_database, f"dorota_{suffix}", [HESTIA_AGENT])
    database = pg_database.rsplit("/", 1)[1]
    [contract] = [c for c in CONTRACTS if c.name == "hestia"]
    with contract.portal(**contract.small) as portal:
        logged_in(user_context, contract, portal)
        pg_cluster.psql("UPDATE a21_schema SET version = 99", database=database)
        for result in at_once(run_cli, *((*command, "--db", store) for store in (pg_database, dorota)
                                         for command in (("period", *HESTIA, *PERIOD, "--yes"), ("policies",)))):
            assert result.returncode == 3, said(result)
            assert (f"was shaped by a newer a21import (schema version 99; this a21import knows "
                    f"{migrations.SCHEMA_VERSION}). Upgrade a21import before using this database.") in said(result)
        pg_cluster.psql("UPDATE a21_schema SET version = 1", database=database)
        result = run_cli("period", *HESTIA, *PERIOD, "--yes", "--db", dorota)
    assert result.returncode == 3, said(result)
    assert (f"is at schema version 1, older than this a21import's {migrations.SCHEMA_VERSION}. Ask the agency owner "
            "to import once with the owner's login, or the administrator to run a21import agency init: either brings "
            "it up to date.") in said(result)
    assert pg_rows(pg_database, "SELECT version FROM a21_schema") == [{"version": 1}]
    assert pg_tables(pg_database) == {table: [] for table in TABLES}


def test_search_in_the_store_folds_letters_as_in_the_sqlite_file(pg_database):
    """The store's a21_fold (SQL) gives what text.fold gives the SQLite file, so a search finds the same rows."""
    from a21import.text import fold

    migrated(pg_database)
    names = ["Łukasz Wójcik", "ŻÓŁĆ GĘŚLĄ JAŹŃ", "Dvořák", "Muñoz", "Straße", "Gaëlle Ølund", "Đorđe", "ﬁrma",
             "İzmir", "Zażółć gęślą jaźń"]
    got = pg_rows(pg_database, "SELECT " + ", ".join(f"a21_fold(%s) AS f{i}" for i in range(len(names))), *names)
    assert list(got[0].values()) == [fold(name) for name in names]
