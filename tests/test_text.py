"""Untrusted text (issue 11, point 1): the one cleaning function, the JSON writer, the console that
guards the terminal, and the model's bounds on sizes and amounts (point 2)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from io import StringIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from a21import import db as database
from a21import.console import SafeConsole
from a21import.errors import ParseError
from a21import.model import MAX_AMOUNT_GR, AppContext, Client, Coverage, Installment, ListedPolicy, Policy, Vehicle
from a21import.text import clean, json_dumps

HOSTILE = [
    ("Jan \x1b[31mKowalski\x1b[0m", "Jan Kowalski"),
    ("a\x1b[1A\x1b[2Kb", "ab"),
    ("\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x1b]52;c;ZXZpbA==\x07x", "x"),
    ("\x1b]0;title\x07y", "y"),
    ("p\x9b31mq", "pq"),
    ("p\x9d0;t\x9cq", "pq"),
    ("Zo\u202efia\u2066\u2069", "Zofia"),
    ("x\ty\nz\r\n", "x y z "),
    ("nul\x00bel\x07del\x7f", "nulbeldel"),
    ("cut \x1b]0;never ends", "cut "),
    ("esc at end \x1b", "esc at end "),
]
CONTROL = set(map(chr, [*range(0, 32), *range(0x7F, 0xA0), 0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                        *range(0x2066, 0x206A), 0x2028, 0x2029]))


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_clean_drops_whole_sequences_and_controls(raw, shown):
    assert clean(raw) == shown


def test_plain_polish_text_quotes_and_markup_characters_stay_as_typed():
    text = 'Żółć & <b>"Łąka"</b> [bold red]x[/] \'ś\' 100% #1 @2 =3'
    assert clean(text) == text


@given(st.text())
def test_clean_never_leaves_a_control_character(text):
    assert not set(clean(text)) & CONTROL
    assert not set(clean(text, lines=True)) & (CONTROL - {"\n"})


def test_json_escapes_c1_and_bidirectional_controls_and_stays_the_same_value():
    value = {"name": "a\x9b31mb\u202ec\x1b"}
    written = json_dumps(value)
    assert not set(written) & CONTROL
    assert json.loads(written) == value
    assert json_dumps({"name": "Łódź"}) == '{"name": "Łódź"}'


def test_the_console_cleans_what_reaches_it_and_keeps_its_own_styles():
    out = StringIO()
    console = SafeConsole(file=out, force_terminal=True, color_system="standard", width=80)
    console.print(Text("Kowal\x1b]0;x\x1b\\ski \x9b2J\u202e", style="red"))
    written = out.getvalue()
    assert "Kowalski" in written and "\x1b[31m" in written  # Rich's own colour stays
    assert "\x1b]0" not in written and "\x9b" not in written and "\u202e" not in written


def test_the_model_cleans_every_text_so_the_database_never_holds_control():
    client = Client("person", "Anna\x1b[31m Nowak", street="ul. Polna\t1", city="Łódź\u202e")
    assert (client.name, client.street, client.city) == ("Anna Nowak", "ul. Polna 1", "Łódź")
    assert Vehicle(make="Škoda\x07", model="Octavia\x1b[2K").make == "Škoda"
    assert Coverage("OC\x1b", "OC\x1b[1A kierowcy", None, 100).name == "OC kierowcy"
    listed = ListedPolicy(number="909\x1b[31m1", insurer=None, holder_name="x" * 5000, error="Błąd\x1b]0;t\x07")
    assert listed.number == "9091" and len(listed.holder_name) == 200 and listed.error == "Błąd"
    assert AppContext("hestia", "agent\x1b[2J", "Zalogowany\x9b1A").user == "agent"


def test_texts_too_long_to_store_and_absurd_amounts_are_refused_with_a_reason():
    with pytest.raises(ParseError, match="500"):
        Client("person", "A" * 1_000_000)
    for bad in (-1, MAX_AMOUNT_GR + 1, 10**30, True, 1.5):
        with pytest.raises(ParseError):
            Installment(1, date(2026, 1, 1), bad, False)
    with pytest.raises(ParseError, match="negative"):
        Coverage("OC", "OC", -100, 100)
    with pytest.raises(ParseError):
        Vehicle(production_year=10**30)
    listed = ListedPolicy(number="1", insurer=None, premium_gr=10**30)
    assert listed.premium_gr is None and listed.error  # a red row, not a store


def test_a_policy_at_the_bounds_is_stored():
    policy = Policy(number="9" * 64, insurer="ERGO_HESTIA", source_app="hestia", source_system=None,
                    product_line="other", product="P" * 500, status=None, issue_date=date(2026, 1, 1),
                    start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), premium_gr=MAX_AMOUNT_GR,
                    holder=Client("person", "N" * 500))
    with pytest.raises(ParseError):
        Policy(**{**policy.__dict__, "number": "9" * 65})
    assert policy.premium_gr == MAX_AMOUNT_GR


def test_stored_commands_clean_values_another_program_wrote_into_the_database(cli, db_path):
    """The real CLI in this process (conftest's `cli`, no tab) on the test's database."""
    db = database.open_db(db_path)
    database.save_policy(db, Policy(
        number="909000000001", insurer="ERGO_HESTIA", source_app="hestia", source_system="IHESTIA",
        product_line="other", product="NNW", status="Aktywna", issue_date=date(2026, 11, 2),
        start_date=date(2026, 11, 2), end_date=date(2027, 11, 1), premium_gr=12345,
        holder=Client("person", "Ewa Lis"),
        installments=(Installment(1, date(2026, 11, 20), 12345, False),)))
    db.close()
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE clients SET name = ?", ("Ewa\x1b]0;x\x07 Lis\x1b[1A\x1b[2K\u202e",))
        con.execute("UPDATE policies SET product = ?", ("NNW\x9b2J",))
    for args in (("policies",), ("show", "909000000001"), ("show", "909000000001", "--json"), ("due", "--days", "60"),
                 ("renewals", "--days", "366"), ("policies", "--json")):
        result = cli(*args, env={"A21IMPORT_LOG": "off", "COLUMNS": "120"}, timeout=60)
        assert result.returncode in (0, 1), result.stderr
        assert not set(result.stdout + result.stderr) & (CONTROL - {"\n"}), args
        assert "Ewa" in result.stdout, args
