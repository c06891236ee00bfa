"""Unit tests of the core: formats, periods, the model's identifiers, the database writes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from a21import import db as database
from a21import import insurers
from a21import.errors import BadInput, DatabaseProblem, ParseError, PolicyError
from a21import.formats import (
    decimal_to_gr,
    json_number_to_gr,
    mask_identifier,
    pl_amount_to_gr,
    pl_date,
    split_address,
    user_date,
    warsaw_date,
)
from a21import.model import Client, Coverage, Installment, Policy, Vehicle
from a21import.periods import parse_period, windows
from a21import.choice import parse_ranges


# -- formats ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, grosze", [
    ("1\u00a0234,56 zł", 123456), ("617,28 zł", 61728), ("48\u00a0500,00 zł", 4850000), ("389,00", 38900),
    ("1\u00a0000\u00a0000,01 zł", 100000001), ("0,00 zł", 0),
])
def test_pl_amounts(text, grosze):
    assert pl_amount_to_gr(text) == grosze


@pytest.mark.parametrize("text", ["1 234,56 zł", "1234.56", "12,5 zł", "", "zł", "1\u00a023,00", None])
def test_pl_amounts_refused(text):
    with pytest.raises(ParseError):
        pl_amount_to_gr(text)


def test_decimal_and_json_amounts_are_exact():
    assert decimal_to_gr("1234.56") == 123456 and decimal_to_gr("20000.00") == 2000000
    assert json_number_to_gr(19.99) == 1999  # int(19.99 * 100) would give 1998
    assert json_number_to_gr(1234.56) == 123456 and json_number_to_gr(745.1) == 74510
    assert json_number_to_gr(8400) == 840000 and json_number_to_gr(0.29) == 29
    for bad in (True, "12.00", 1.234, float("nan"), float("inf"), None):
        with pytest.raises(ParseError):
            json_number_to_gr(bad)
    with pytest.raises(ParseError):
        decimal_to_gr("12.5")


def test_dates():
    assert pl_date("03.11.2026") == date(2026, 11, 3)
    assert user_date("2026-11-01") == user_date("01.11.2026") == date(2026, 11, 1)
    assert warsaw_date("2026-11-15T23:30:00Z") == date(2026, 11, 16)
    assert warsaw_date("2026-03-28T23:30:00Z") == date(2026, 3, 29)  # 00:30 CET
    assert warsaw_date("2026-10-24T22:30:00Z") == date(2026, 10, 25)  # 00:30 CEST
    assert warsaw_date("2026-11-16T00:30:00+02:00") == date(2026, 11, 15)
    for bad in ("31.02.2026", "2026-11-1", "1.11.2026", "", None):
        with pytest.raises(ParseError):
            pl_date(bad)
    with pytest.raises(ParseError):
        warsaw_date("2026-11-15T23:30:00")  # no offset


def test_address_split_and_masking():
    assert split_address("ul. Długa 5/12, 80-827 Gdańsk") == ("ul. Długa 5/12", "80-827", "Gdańsk")
    assert split_address("") == (None, None, None)
    with pytest.raises(ParseError):
        split_address("ul. Długa 5, Gdańsk")
    assert mask_identifier("84031233138") == "84*******38"


@given(st.text())
def test_parsers_return_a_value_or_a_parse_error(text):
    for parse in (pl_amount_to_gr, decimal_to_gr, pl_date, user_date, warsaw_date, split_address):
        try:
            parse(text)
        except ParseError:
            pass


@given(st.integers(min_value=0, max_value=10**12))
def test_amount_round_trip(grosze):
    whole, cents = divmod(grosze, 100)
    assert pl_amount_to_gr(f"{whole:,}".replace(",", "\u00a0") + f",{cents:02d} zł") == grosze
    assert decimal_to_gr(f"{whole}.{cents:02d}") == grosze
    if grosze < 10**11:
        assert json_number_to_gr(float(f"{whole}.{cents:02d}")) == grosze


# -- periods ----------------------------------------------------------------------------------------
def test_windows_cut_periods_into_16_days():
    assert windows(date(2026, 11, 1), date(2026, 11, 16)) == [(date(2026, 11, 1), date(2026, 11, 16))]
    cut = windows(date(2026, 10, 1), date(2026, 11, 20))
    assert cut[0] == (date(2026, 10, 1), date(2026, 10, 16)) and cut[-1][1] == date(2026, 11, 20)
    assert all((last - first).days <= 15 for first, last in cut)
    assert all(cut[i][1].toordinal() + 1 == cut[i + 1][0].toordinal() for i in range(len(cut) - 1))


def test_period_checks():
    today = date(2026, 11, 28)
    assert parse_period("01.11.2026", "2026-12-31", today=today) == (
        date(2026, 11, 1), date(2026, 11, 28),
        "--to 31.12.2026 is later than today, so the period ends today, 28.11.2026.")
    for args in (("2026-11-20", "2026-11-01"), ("2026-11-29", "2026-11-30"), ("x", "2026-11-01"), ("2026-11-01", "")):
        with pytest.raises(BadInput):
            parse_period(*args, today=today)


def test_row_ranges():
    assert parse_ranges("2, 5-7", 10) == {2, 5, 6, 7}
    assert parse_ranges("", 10) == set()
    assert parse_ranges("3-1", 10) == {1, 2, 3}
    for bad in ("0", "11", "a", "1-11"):
        with pytest.raises(BadInput):
            parse_ranges(bad, 10)


# -- model ------------------------------------------------------------------------------------------
def test_client_ids_and_flags():
    assert Client("person", "Jan", pesel="84031233138", nip="5274682865").id == "PESEL:84031233138"
    assert Client("company", "X", regon="507218287").id == "REGON:507218287"
    hashed = Client("person", "Jan  Kowalski", street="ul. A 1")
    assert hashed.id.startswith("HASH:") and hashed.id == Client("person", "jan kowalski", street="ul. a 1").id
    assert Client("person", "Jan", pesel="84031233139").invalid_ids == ("PESEL",)
    assert Client("person", "Jan", pesel="84031233139").row()["ids_invalid"] == "PESEL"
    assert Vehicle(registration="GD4F218").id == "REG:GD4F218" and Vehicle().id is None


def test_every_registered_adapter_imports():
    for app_id in insurers.ADAPTERS:
        adapter = insurers.get(app_id)
        assert adapter.app_id == app_id
    with pytest.raises(BadInput):
        insurers.get("pzu")


# -- database ---------------------------------------------------------------------------------------
def make_policy(number="909123456789", *, holder=None, premium=123456, installments=2, insured=None):
    holder = holder or Client("person", "Łukasz Wójcik", pesel="84031233138", street="ul. Długa 5/12",
                              postal_code="80-827", city="Gdańsk", phone="+48 601 234 567", email="l@example.pl")
    return Policy(
        number=number, insurer="ERGO_HESTIA", source_app="hestia", source_system="IHESTIA", product_line="motor",
        product="Auto Pakiet", status="Aktywna", issue_date=date(2026, 11, 3), start_date=date(2026, 11, 5),
        end_date=date(2027, 11, 4), premium_gr=premium, holder=holder, insured=insured,
        vehicle=Vehicle(registration="GD4F218", vin="WVWZZZAUZLP512347", make="VW", model="Golf", production_year=2019),
        installments=tuple(Installment(i, date(2026, 11, 5), premium // installments, False)
                           for i in range(1, installments + 1)),
        coverages=(Coverage("OC", "OC", None, premium),),
    )


def test_save_overwrites_and_replaces_installments(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "agent21.db"
    monkeypatch.setattr(database, "default_path", lambda: path)  # only the default location's folder is created
    db = database.open_db(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    database.save_policy(db, make_policy(installments=4))
    database.save_policy(db, make_policy(installments=2, premium=200000))
    assert db["policies"].count == 1
    assert [r["amount_gr"] for r in db.query("SELECT amount_gr FROM installments")] == [100000, 100000]
    assert next(db.query("SELECT premium_gr FROM policies"))["premium_gr"] == 200000
    assert database.stored_ids(db) == {"ERGO_HESTIA:909123456789"}


def test_insured_person_list_updates_only_its_fields(tmp_path):
    db = database.open_db(tmp_path / "a.db")
    database.save_policy(db, make_policy())
    insured = Client("person", "Łukasz Wójcik-Nowy", pesel="84031233138", carried=frozenset({"kind", "name", "pesel"}))
    other = Client("company", "Firma", nip="5274682865")
    database.save_policy(db, make_policy("909000000001", holder=other, insured=insured))
    row = next(db.query("SELECT * FROM clients WHERE id = 'PESEL:84031233138'"))
    assert row["name"] == "Łukasz Wójcik-Nowy" and row["street"] == "ul. Długa 5/12" and row["phone"] == "+48 601 234 567"
    assert next(db.query("SELECT insured_id FROM policies WHERE number = '909000000001'"))["insured_id"] == "PESEL:84031233138"


def test_a_failed_write_leaves_nothing(tmp_path):
    db = database.open_db(tmp_path / "a.db")
    broken = make_policy()
    broken = Policy(**{**broken.__dict__, "coverages": (Coverage("OC", "a", None, 1), Coverage("OC", "b", None, 2))})
    with pytest.raises(PolicyError):
        database.save_policy(db, broken)
    assert db["policies"].count == 0 and db["clients"].count == 0


def test_refuses_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my notes")
    with pytest.raises(DatabaseProblem, match="not a SQLite database"):
        database.open_db(path)
    assert path.read_text() == "my notes"


def test_read_only_database_is_a_clear_error(tmp_path):
    path = tmp_path / "a.db"
    database.open_db(path)
    db = database.open_db(path)
    db.conn.close()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    import sqlite_utils

    ro = sqlite_utils.Database(con)
    with pytest.raises(DatabaseProblem, match="not writable"):
        database.save_policy(ro, make_policy())


def test_codes_in_any_case_and_numbers_typed_with_spaces_are_accepted():
    from a21import.importer import Options, _check_number, check_options

    options = Options(cdp="http://127.0.0.1:9222", db_path=Path("x.db"), app="Hestia", source="iHestia",
                      identity="mtu")
    check_options(options)
    assert (options.app, options.source, options.identity) == ("hestia", "ihestia", "MTU")
    assert _check_number(" 909 123 456 789 ") == "909123456789"
    with pytest.raises(BadInput):
        _check_number("909\x1b[31m")


def test_a_date_is_typed_with_or_without_leading_zeros():
    from a21import.formats import user_date

    assert user_date("1.11.2026") == user_date("01.11.2026") == user_date("2026-11-01") == date(2026, 11, 1)
    with pytest.raises(ParseError):
        user_date("1.11.26")
