"""Unit tests of the reading side: filters, search, renewals and due windows on an in-file database,
the export's cell formats, and the Datasette metadata against the schema."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from a21import import db as database
from a21import import export, queries
from a21import.datasette import default_output, metadata
from a21import.errors import BadInput, DatabaseProblem
from a21import.model import Client, Installment
from tests.test_core import make_policy

TODAY = date(2026, 11, 28)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "agent21.db"
    database.open_db(path).conn.close()
    queries.open_existing(path).conn.close()
    # The tests store policies through it: open_existing is read-only, so a writable handle that searches alike.
    handle = database.open_db(path)
    handle.conn.create_function("a21_fold", 1, queries._fold, deterministic=True)
    yield handle
    handle.conn.close()


def test_open_existing_never_creates_a_database(tmp_path):
    with pytest.raises(DatabaseProblem, match="does not exist yet"):
        queries.open_existing(tmp_path / "agent21.db")
    assert not (tmp_path / "agent21.db").exists()


def test_parse_filters():
    filters = queries.parse_filters("  Wójcik ", "ergo_hestia", "Hestia", "01.11.2026", "2026-11-30")
    assert filters == queries.Filters("Wójcik", "ERGO_HESTIA", "hestia", date(2026, 11, 1), date(2026, 11, 30))
    assert queries.parse_filters("   ") == queries.NO_FILTERS
    for kwargs in ({"insurer": "PZU S.A."}, {"app": "ihestia"}, {"date_from": "1.11.26"},
                   {"date_from": "2026-12-01", "date_to": "2026-11-01"}):
        with pytest.raises(BadInput):
            queries.parse_filters(**kwargs)


@pytest.mark.parametrize("value", [0, -1, 367])
def test_days_bounds(value):
    with pytest.raises(BadInput, match="from 1 to 366"):
        queries.check_days(value)
    assert queries.check_days(1) == 1 and queries.check_days(366) == 366


def test_search_folds_case_and_polish_letters(db):
    database.save_policy(db, make_policy("1"))
    database.save_policy(db, make_policy("2", holder=Client("company", "ŻABKA POLSKA", nip="5274682865")))

    def found(text):
        return [row.number for row in queries.search_policies(db, queries.parse_filters(text))]

    assert found("łukasz") == ["1"] and found("ŁUKASZ WÓJCIK") == ["1"] and found("żabka") == ["2"]
    assert found("lukasz") == ["1"] and found("zabka") == ["2"] and found("LUKASZ wojcik") == ["1"]
    assert found("%") == [] and found("_") == []  # no LIKE wildcards
    assert found("gd4f") == ["1", "2"] and found("527 468 28 65") == ["2"]
    assert found("zlp5123") == ["1", "2"] and found("84031233138") == ["1"] and found("909") == []
    assert found("[") == []


def test_renewals_and_due_windows(db):
    database.save_policy(db, make_policy("A", installments=0))  # ends 2027-11-04
    rows = queries.renewals(db, 30, today=date(2027, 10, 5))
    assert [r.number for r in rows] == ["A"]  # 2027-10-05 + 30 days = 2027-11-04, included
    assert queries.renewals(db, 29, today=date(2027, 10, 5)) == []
    assert queries.renewals(db, 30, today=date(2027, 11, 5)) == []  # ended yesterday
    policy = make_policy("B")
    policy = type(policy)(**{**policy.__dict__, "installments": (
        Installment(1, date(2026, 11, 20), 100, False), Installment(2, date(2026, 11, 29), 200, True),
        Installment(3, date(2026, 12, 12), 300, False), Installment(4, date(2026, 12, 13), 400, False))})
    database.save_policy(db, policy)
    due = queries.due(db, 14, today=TODAY, filters=queries.parse_filters(insurer="ERGO_HESTIA"))
    assert [(r.seq, r.days_left, r.overdue) for r in due] == [(1, -8, True), (3, 14, False)]
    assert queries.due(db, 14, today=TODAY, filters=queries.parse_filters(insurer="TUZ")) == []


def test_policy_details(db):
    database.save_policy(db, make_policy("KOS 12"))
    [detail] = queries.policy_details(db, "kos12")  # typed in another case, without the space
    assert detail.holder["name"] == "Łukasz Wójcik" and detail.vehicle["make"] == "VW"
    assert [c.code for c in detail.coverages] == ["OC"] and len(detail.installments) == 2
    with pytest.raises(queries.NotStored) as raised:
        queries.policy_details(db, "KOS 13")
    assert raised.value.exit_code == 1
    with pytest.raises(BadInput):
        queries.policy_details(db, "  ")


@pytest.mark.parametrize("grosze, text", [(123456, "1234,56"), (5, "0,05"), (-1200, "-12,00"), (None, "")])
def test_csv_amounts(grosze, text):
    assert export.csv_amount(grosze) == text


@pytest.mark.parametrize("value, cell", [
    ("=1+2", "'=1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("+48 601 234 567", "+48 601 234 567"), ("-12", "-12"), ("Jan = Kowalski", "Jan = Kowalski"), (None, ""),
])
def test_csv_text_neutralises_formulas(value, cell):
    assert export.csv_text(value) == cell


def test_choose_format():
    assert export.choose_format(None, None) == "csv"
    assert export.choose_format(None, Path("a.XLSX")) == "xlsx"
    assert export.choose_format("XLSX", Path("a")) == "xlsx"
    with pytest.raises(BadInput):
        export.choose_format("csv", Path("a.xlsx"))


def test_datasette_metadata_matches_the_schema():
    document = metadata("office")
    tables = document["databases"]["office"]["tables"]
    assert set(tables) == set(database.SCHEMA)
    for name, (columns, _, foreign_keys) in database.SCHEMA.items():
        table = tables[name]
        assert table["title"] and table["description"]
        assert set(table["columns"]) == set(columns), name  # every column described, none invented
        for key in ("label_column", "sort", "sort_desc"):
            assert table.get(key) is None or table[key] in columns
        for facet in table.get("facets", []):
            assert facet in columns
        for _, other, _ in foreign_keys:  # every table pointed at has a label to show
            label = tables[other].get("label_column") or ("name" if "name" in database.SCHEMA[other][0] else None)
            assert label in database.SCHEMA[other][0]
    assert tables["clients"]["label_column"] == "name" and tables["vehicles"]["label_column"] == "registration"
    assert default_output(Path("/data/office.db")) == Path("/data/office.metadata.json")
