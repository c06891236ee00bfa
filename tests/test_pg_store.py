"""The agency's PostgreSQL store under a21import's own functions, against a real throw-away cluster
(a21import/pgcluster.py): the same writes and reads as the SQLite file, migrations, and two imports of
one policy at the same moment."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace

import psycopg
import pytest

from a21import import db as database
from a21import import migrations, pg, queries
from a21import.errors import BadInput, DatabaseProblem, PolicyError
from a21import.model import Client
from tests.test_core import make_policy

AGENT = "hestia:0412345"


def _pg_rows(url: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(str(v) if v is not None and not isinstance(v, (int, str)) else v for v in row)
                for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]


def _sqlite_rows(path, table: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return list(con.execute(f"SELECT * FROM {table} ORDER BY 1, 2"))
    finally:
        con.close()


def _same_policies(db) -> None:
    database.save_policy(db, make_policy(installments=4), agent=AGENT)
    database.save_policy(db, make_policy(installments=2, premium=200000), agent=AGENT)  # overwrites
    insured = Client("person", "Łukasz Wójcik-Nowy", pesel="84031233138", carried=frozenset({"kind", "name", "pesel"}))
    database.save_policy(db, make_policy("909000000001", holder=Client("company", "Firma", nip="5274682865"),
                                         insured=insured), agent=AGENT)


def test_the_same_writes_give_the_same_rows_as_the_sqlite_file(pg_database, tmp_path):
    store = database.open_db(pg_database)
    assert isinstance(store, pg.PgDatabase)
    file = database.open_db(tmp_path / "a.db")
    for db in (store, file):
        _same_policies(db)
    for table in ("clients", "vehicles", "installments", "coverages"):
        assert _pg_rows(pg_database, table) == _sqlite_rows(tmp_path / "a.db", table), table
    ignore = {"imported_at", "imported_by"}
    pg_policies = [{k: v for k, v in row.items() if k not in ignore} for row in store.query("SELECT * FROM policies")]
    file_policies = [{k: v for k, v in row.items() if k not in ignore} for row in file.query("SELECT * FROM policies")]
    assert sorted(pg_policies, key=str) == sorted(file_policies, key=str)
    # the insured person's list carried only name and PESEL: the address stays
    client = next(store.query("SELECT name, street FROM clients WHERE id = 'PESEL:84031233138'"))
    assert client == {"name": "Łukasz Wójcik-Nowy", "street": "ul. Długa 5/12"}
    row = next(store.query("SELECT agent, imported_by, premium_gr FROM policies WHERE number = '909123456789'"))
    assert row == {"agent": AGENT, "imported_by": "a21admin", "premium_gr": 200000}
    with psycopg.connect(pg_database) as conn:  # the contract's types: bigint grosze, date, timestamptz
        types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = 'policies'").fetchall())
    assert types["premium_gr"] == "bigint" and types["issue_date"] == "date"
    assert types["imported_at"] == "timestamp with time zone"


def test_the_readers_give_the_same_answers_on_both_stores(pg_database, tmp_path):
    for db in (database.open_db(pg_database), database.open_db(tmp_path / "a.db")):
        _same_policies(db)
    stores = [queries.open_existing(pg_database), queries.open_existing(tmp_path / "a.db")]
    answers = []
    for db in stores:
        answers.append((
            queries.search_policies(db, queries.parse_filters(search="lukasz wojcik")),
            queries.search_policies(db, queries.parse_filters(search="527-468-28-65")),
            [replace(detail, imported_at=None, imported_by=None)  # a21admin there, the computer's user here
             for detail in queries.policy_details(db, "909 123 456 789")],
            queries.due(db, 30, today=make_policy().issue_date),
            queries.renewals(db, 366, today=make_policy().end_date.replace(month=1)),
            [{k: v for k, v in row.items() if k not in ("imported_at", "imported_by")}
             for row in database.policies_with_unpaid(db, "2026-12-31")],
        ))
    assert answers[0] == answers[1]
    assert len(answers[0][0]) == 2 and len(answers[0][1]) == 1 and answers[0][3]  # holder or insured


def test_migrations_run_once_and_a_newer_store_is_refused(pg_database):
    db = database.open_db(pg_database)
    assert migrations.pg_version(db) == migrations.SCHEMA_VERSION
    assert migrations.migrate_pg(db) == []  # nothing left to do
    db.execute("UPDATE a21_schema SET version = 99")
    with pytest.raises(DatabaseProblem, match="newer a21import"):
        database.open_db(pg_database)


def test_a_sqlite_file_records_its_version_and_a_newer_file_is_left_untouched(tmp_path):
    path = tmp_path / "a.db"
    database.open_db(path).conn.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    with pytest.raises(DatabaseProblem, match="newer a21import"):
        database.open_db(path)


def test_an_old_sqlite_file_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    db = database.open_db(path)
    database.save_policy(db, make_policy())
    db.conn.execute("DROP INDEX idx_policies_agent")
    db.conn.execute("ALTER TABLE policies DROP COLUMN agent")
    db.conn.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.conn.close()
    db = database.open_db(path)
    assert "agent" in db["policies"].columns_dict
    assert next(db.query("SELECT number, agent FROM policies")) == {"number": "909123456789", "agent": None}


@pytest.mark.parametrize("address", ["postgresql://", "postgresql://host", "postgresql://u@h:port/db",
                                     "postgresql://u@h/db\x1b[2J"])
def test_a_malformed_address_is_bad_input(address):
    with pytest.raises(BadInput, match="not a PostgreSQL address"):
        database.target(address)


def test_a_password_in_the_address_is_never_shown():
    assert database.shown("postgresql://ola:tajne@db.agencja.pl/agencja") == "postgresql://ola:***@db.agencja.pl/agencja"


def test_an_unreachable_store_is_one_sentence(pg_cluster):
    with pytest.raises(DatabaseProblem, match="cannot be reached") as caught:
        database.open_db(pg_cluster.url(password="wrong"))
    assert "wrong" not in str(caught.value)


def test_two_imports_of_one_policy_at_the_same_moment_leave_one_complete_policy(pg_database):
    database.open_db(pg_database).close()
    policies = [make_policy(installments=n, premium=120000 + n) for n in (2, 3, 4, 6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(policies) * 2)

    def write(policy) -> None:
        db = database.open_db(pg_database)
        try:
            start.wait()
            for _round in range(5):
                database.save_policy(db, policy, agent=AGENT)
                database.save_policy(db, replace(policy, number="909000000009"), agent=AGENT)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=write, args=(p,)) for p in policies * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    db = database.open_db(pg_database)
    rows = list(db.query("SELECT id, premium_gr FROM policies ORDER BY id"))
    assert [row["id"] for row in rows] == ["ERGO_HESTIA:909000000009", "ERGO_HESTIA:909123456789"]
    for row in rows:  # the last complete write: its installments and its premium, never a mix
        count = next(db.query("SELECT count(*) AS n FROM installments WHERE policy_id = ?", [row["id"]]))["n"]
        assert row["premium_gr"] == 120000 + count


def test_a_sub_agent_cannot_store_another_agents_policy(pg_cluster, pg_database):
    admin = database.open_db(pg_database)
    login = "ola_" + pg_database.rsplit("/", 1)[1][-20:]
    pg_cluster.psql(f"DROP ROLE IF EXISTS {login}; CREATE ROLE {login} LOGIN PASSWORD 'ola' IN ROLE "
                    f"{pg.SUBAGENT_ROLE}", database=pg_database.rsplit("/", 1)[1])
    admin.execute("INSERT INTO a21_logins (login) VALUES (?)", [login])
    admin.execute("INSERT INTO a21_login_agents (login, agent) VALUES (?, ?)", [login, "hestia:1"])
    database.save_policy(admin, make_policy("909000000002"), agent="hestia:2")
    own = database.open_db(pg_cluster.url(user=login, password="ola", database=pg_database.rsplit("/", 1)[1]))
    assert own.allowed_agents() == frozenset({"hestia:1"})
    with pytest.raises(PolicyError, match="not one of yours"):
        database.save_policy(own, make_policy("909000000001"), agent="hestia:2")
    with pytest.raises(PolicyError, match="does not show which agent"):
        database.save_policy(own, make_policy("909000000001"), agent=None)
    with pytest.raises(pg.NotYours):  # stored under hestia:2: the row-level security refuses the overwrite
        database.save_policy(own, make_policy("909000000002"), agent="hestia:1")
    database.save_policy(own, make_policy("909000000001"), agent="hestia:1")
    assert database.stored_ids(own) == {"ERGO_HESTIA:909000000001"}
    assert database.stored_ids(admin) == {"ERGO_HESTIA:909000000001", "ERGO_HESTIA:909000000002"}
    assert next(admin.query("SELECT agent FROM policies WHERE number = '909000000002'"))["agent"] == "hestia:2"


def test_the_owner_applies_a_later_migration_and_a_sub_agent_is_told_to_ask(pg_cluster, pg_database, monkeypatch):
    from a21import import agency

    agency.init(pg_database)
    name = pg_database.rsplit("/", 1)[1]
    owner, sub = f"own_{name[-24:]}", f"sub_{name[-24:]}"
    agency.add_user(pg_database, owner, [], True, "owner-pw")
    agency.add_user(pg_database, sub, ["hestia:1"], False, "sub-pw")
    # the next release of a21import brings version 5
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", migrations.SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.PG_MIGRATIONS, migrations.SCHEMA_VERSION,
                        ["CREATE INDEX IF NOT EXISTS policies_status ON policies (status)"])
    with pytest.raises(DatabaseProblem, match="Ask the agency owner"):
        database.open_db(pg_cluster.url(user=sub, password="sub-pw", database=name))
    store = database.open_db(pg_cluster.url(user=owner, password="owner-pw", database=name))
    assert migrations.pg_version(store) == migrations.SCHEMA_VERSION
    assert pg_cluster.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'policies_status'",
                           database=name).stdout.strip() == "1"
    database.open_db(pg_cluster.url(user=sub, password="sub-pw", database=name)).close()  # now current


def test_the_page_reads_the_agency_store_and_shows_who_sold_it(pg_database):
    import warnings

    from a21import.web import security
    from a21import.web.app import Settings, create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    store = database.open_db(pg_database)
    database.save_policy(store, make_policy("909000000001", holder=Client("company", "<b>Firma</b>",
                                                                           nip="5260250274")), agent=AGENT)
    store.close()
    keys = security.Keys(port=8765)
    browser = TestClient(create_app(Settings(cdp="http://127.0.0.1:9", db_path=database.target(pg_database)), keys),
                         base_url="http://127.0.0.1:8765")
    assert browser.get(f"/policies?k={keys.secret}", follow_redirects=False).status_code == 303
    listed = browser.get("/policies?search=firma")
    assert listed.status_code == 200 and "909000000001" in listed.text
    assert "&lt;b&gt;Firma&lt;/b&gt;" in listed.text and "<b>Firma</b>" not in listed.text
    shown = browser.get("/policy?number=909000000001")
    assert shown.status_code == 200 and AGENT in shown.text and "a21admin" in shown.text
    assert "admin-throwaway" not in listed.text + shown.text  # the address's password is never on the page
