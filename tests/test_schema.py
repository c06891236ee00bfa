"""One schema (issue 13, point 8): the model's rows are keyed by the columns db.SCHEMA declares, and every
column the export, the queries and the Datasette metadata name is a column of that schema."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
import sqlite_utils

from a21import import db as database
from a21import import export, queries
from a21import.datasette import metadata
from a21import.errors import NotStored
from a21import.model import Client
from tests.test_core import make_policy

COLUMNS = {table: set(columns) for table, (columns, _pk, _fk) in database.SCHEMA.items()}
# `FROM policies p`, `JOIN clients h ON …`: the aliases one statement declares.
_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)\s+(?!ON\b|WHERE\b|JOIN\b|LEFT\b|GROUP\b|ORDER\b)(\w+)", re.IGNORECASE)
_REFERENCE = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")


def references(sql: str, aliases: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Every `alias.column` of `sql` as (table, column); `aliases` adds to those the statement declares."""
    known = {**(aliases or {}), **{alias: table for table, alias in _ALIAS.findall(sql)}}
    found = []
    for alias, column in _REFERENCE.findall(sql):
        assert alias in known, f"{alias}.{column}: the alias {alias} is not declared in {sql!r}"
        found.append((known[alias], column))
    return found


def assert_schema_columns(sql: str, aliases: dict[str, str] | None = None) -> None:
    for table, column in references(sql, aliases):
        assert table in COLUMNS, f"{table} is not a table of the schema ({sql!r})"
        assert column in COLUMNS[table], f"{table}.{column} is not a column of the schema ({sql!r})"


def test_the_reference_parser_catches_a_wrong_column():
    with pytest.raises(AssertionError):
        assert_schema_columns("SELECT p.numer FROM policies p")
    with pytest.raises(AssertionError):
        assert_schema_columns("SELECT x.number FROM policies p")
    assert references("SELECT h.name FROM policies p LEFT JOIN clients h ON h.id = p.holder_id") == [
        ("clients", "name"), ("clients", "id"), ("policies", "holder_id")]


# -- the model's rows -----------------------------------------------------------------------------------
def test_every_row_is_keyed_by_the_schema_columns():
    policy = make_policy(insured=Client("person", "Anna Nowak", pesel="02270803628"))
    assert set(policy.row("2026-11-28T10:00:00+00:00")) == COLUMNS["policies"]
    assert set(policy.holder.row()) == COLUMNS["clients"]
    assert set(policy.vehicle.row()) == COLUMNS["vehicles"]
    assert set(policy.installments[0].row(policy.id)) == COLUMNS["installments"]
    assert set(policy.coverages[0].row(policy.id)) == COLUMNS["coverages"]
    # A client whose source carries only some fields updates only those (DATABASE.md).
    carried = Client("person", "Anna Nowak", pesel="02270803628", carried=frozenset({"name", "pesel"}))
    assert set(carried.row()) == {"id", "name", "pesel", "ids_invalid"}


def test_a_policy_row_points_at_its_clients_and_vehicle():
    insured = Client("person", "Anna Nowak", pesel="02270803628")
    row = make_policy(insured=insured).row("2026-11-28T10:00:00+00:00")
    assert (row["id"], row["holder_id"], row["insured_id"], row["vehicle_id"]) == (
        "ERGO_HESTIA:909123456789", "PESEL:84031233138", "PESEL:02270803628", "VIN:WVWZZZAUZLP512347")
    assert (row["issue_date"], row["imported_at"]) == ("2026-11-03", "2026-11-28T10:00:00+00:00")
    bare = replace(make_policy(), vehicle=None).row("now")
    assert bare["vehicle_id"] is None and bare["insured_id"] is None


def test_stored_rows_are_what_the_model_says(tmp_path):
    db = database.open_db(tmp_path / "agent21.db")
    policy = make_policy()
    database.save_policy(db, policy)
    stored = db.execute("SELECT * FROM installments ORDER BY seq").fetchall()
    assert [tuple(i.row(policy.id).values()) for i in policy.installments] == stored
    stored = db.execute("SELECT * FROM coverages").fetchall()
    assert [tuple(c.row(policy.id).values()) for c in policy.coverages] == stored
    db.conn.close()


def test_db_py_lists_no_column_by_hand():
    """The column lists live in SCHEMA alone: no INSERT names its columns in the source."""
    source = open(database.__file__, encoding="utf-8").read()
    assert not re.search(r"INSERT INTO \w+ \(\w", source)


# -- the export, the queries and Datasette ------------------------------------------------------------
EXPORT_ALIASES = {"p": "policies", "h": "clients", "i": "clients", "v": "vehicles", "n": "installments"}


@pytest.mark.parametrize("what", sorted(export.WHAT))
def test_export_columns_are_schema_columns(what):
    for column in export.WHAT[what][0]:
        assert_schema_columns(column.sql, EXPORT_ALIASES)


def test_query_columns_are_schema_columns():
    assert_schema_columns(f"SELECT {queries._POLICY_COLUMNS} {queries.POLICY_JOINS}")
    every = queries.Filters(search="527-468-28-65", insurer="WARTA", app="warta", date_from=date(2026, 1, 1),
                            date_to=date(2026, 12, 31))
    where, _params = queries.filter_clause(every, "p.end_date BETWEEN ? AND ?")
    assert_schema_columns(f"SELECT p.id {queries.POLICY_JOINS}{where}")


def test_datasette_columns_are_schema_columns():
    tables = metadata()["databases"]["agent21"]["tables"]
    assert set(tables) == set(COLUMNS)
    for name, table in tables.items():
        assert set(table["columns"]) == COLUMNS[name], name
        named = [table.get(key) for key in ("label_column", "sort", "sort_desc")] + table.get("facets", [])
        assert {column for column in named if column} <= COLUMNS[name], name


@pytest.fixture
def traced():
    """An empty in-memory database shaped by ensure_schema; every statement it runs is kept."""
    db = sqlite_utils.Database(memory=True)
    database.ensure_schema(db)
    db.conn.create_function("a21_fold", 1, queries._fold, deterministic=True)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    yield db, statements
    db.conn.close()


def test_every_query_runs_on_an_empty_database(traced):
    """SQLite itself refuses a column that is not there; each statement's `alias.column` is checked too."""
    db, statements = traced
    today = date(2026, 11, 28)
    for filters in (queries.NO_FILTERS, queries.Filters(search="Wójcik"),
                    queries.Filters(search="527-468-28-65", insurer="WARTA", app="warta",
                                    date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))):
        assert queries.search_policies(db, filters) == []
        assert queries.renewals(db, 30, today=today, filters=filters) == []
        assert queries.due(db, 30, today=today, filters=filters) == []
        for what in export.WHAT:
            assert export.export_rows(db, filters, what) == []
    with pytest.raises(NotStored):
        queries.policy_details(db, "909 123")
    assert database.stored_ids(db) == set()
    assert database.find_stored(db, "909123456789") == []
    assert database.policies_with_unpaid(db, "2026-12-31") == []
    # One policy stored: the queries of one policy whole run too.
    database.save_policy(db, make_policy(insured=Client("person", "Anna Nowak", pesel="02270803628")))
    [detail] = queries.policy_details(db, "909123456789")
    assert detail.vehicle["vin"] == "WVWZZZAUZLP512347" and len(detail.installments) == 2
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) > 20
    for sql in selects:
        assert_schema_columns(sql)
