"""Each app's mapping declared as data (a21import/insurers/data/*.toml, fields.app_data) and the shared
helpers the adapters use instead of their own copies: build_party, digits_at, Adapter.typed_number."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

import pytest

from a21import.errors import BadInput, ParseError
from a21import.i18n import N_
from a21import.insurers import fields, hiperio, insly, skaner2, unimarket
from a21import.insurers.base import Adapter
from a21import.model import INSURERS, Client, Coverage, Installment, Policy, Vehicle

DATA_FILES = sorted(p.name.removesuffix(".toml") for p in resources.files("a21import.insurers").joinpath(
    "data").iterdir() if p.name.endswith(".toml"))
# The model fields a part of a data file may name.
PART_FIELDS = {
    "policy": {f.name for f in dataclasses.fields(Policy)},
    "holder": {f.name for f in dataclasses.fields(Client)},
    "address": {f.name for f in dataclasses.fields(Client)},
    "vehicle": {f.name for f in dataclasses.fields(Vehicle)},
    "coverage": {f.name for f in dataclasses.fields(Coverage)},
    "installment": {f.name for f in dataclasses.fields(Installment)},
}


def test_every_json_app_has_its_data_file():
    assert DATA_FILES == ["generali", "hiperio", "insly", "proama", "skaner2", "unimarket", "warta_majatek"]


@pytest.mark.parametrize("app", DATA_FILES)
def test_a_data_file_names_only_model_fields_and_keys(app):
    data = fields.app_data(app)
    for part, keys in data.items():
        if part == "insurers":
            assert set(keys.values()) <= set(INSURERS), app
            continue
        assert set(keys) <= PART_FIELDS[part], (app, part)
        for key in keys.values():
            assert isinstance(key, str) or (isinstance(key, tuple) and all(isinstance(k, str) for k in key))


def test_a_list_in_the_data_file_is_a_path_and_the_tables_are_read_only():
    data = fields.app_data("skaner2")
    assert data["holder"]["street"] == ("adres", "ulica")
    assert data["vehicle"]["registration"] == "rejestracja"
    with pytest.raises(TypeError):
        data["vehicle"]["vin"] = "x"  # type: ignore[index]
    assert fields.app_data("skaner2") is data  # read once


def test_the_adapters_insurer_tables_are_their_data_files():
    assert hiperio.INSURERS["HESTIA"] == "ERGO_HESTIA"
    assert insly.INSURER_CODES["TUiR Warta S.A."] == "WARTA"
    assert skaner2.INSURERS["Warta Życie"] == "WARTA_ZYCIE"
    # The TUZ name's typographic quotes survive the data file (written there as escapes).
    assert unimarket.INSURER_CODES["Towarzystwo Ubezpieczeń Wzajemnych \u201eTUZ\u201d"] == "TUZ"
    assert fields.insurer_code(skaner2.INSURERS, "warta") is None


APP = fields.App("Testapp")
PARTIES: dict[str, fields.Party] = {
    "OSOBA": ("person", {"pesel": fields.digits_at("pesel")}, lambda r: f"{r.text('imie')} {r.text('nazwisko')}"),
    "FIRMA": ("company", {"nip": fields.digits_at("nip")}, lambda r: r.text("nazwa")),
}
UNKNOWN = N_("Testapp sent the kind {kind!r}, neither {person} nor {company}.")


def test_build_party_builds_the_kind_the_word_names():
    person = fields.build_party(APP.read("a holder", {"imie": "Jan", "nazwisko": "Nowak", "pesel": "440-514 01359"}),
                                "OSOBA", PARTIES, UNKNOWN)
    assert (person.kind, person.name, person.pesel) == ("person", "Jan Nowak", "44051401359")
    company = fields.build_party(APP.read("a holder", {"nazwa": "Firma X", "nip": " "}), "FIRMA", PARTIES, UNKNOWN)
    assert (company.kind, company.name, company.nip) == ("company", "Firma X", None)


@pytest.mark.parametrize("word", ["osoba", None, ["OSOBA"]])
def test_build_party_refuses_another_word_naming_the_apps_words(word):
    with pytest.raises(ParseError) as caught:
        fields.build_party(APP.read("a holder", {}), word, PARTIES, UNKNOWN)
    assert caught.value.reason == f"Testapp sent the kind {word!r}, neither OSOBA nor FIRMA."


def test_typed_number_strips_and_matches_the_whole_number():
    pattern = re.compile(r"56\d{8}")
    refusal = N_("{number!r} is not a number of {app}.")
    assert Adapter.typed_number(" 5600123456\n", pattern, refusal, app="X") == "5600123456"
    for bad in ("56001234567", "x5600123456", "", None):
        with pytest.raises(BadInput) as caught:
            Adapter.typed_number(bad, pattern, refusal, app="X")
        assert str(caught.value) == f"{bad!r} is not a number of X."
