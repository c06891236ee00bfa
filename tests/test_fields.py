"""The shared field readers and builders of a21import/insurers/fields.py (issue 13, points 5 and 6)."""

from __future__ import annotations

from datetime import date

import pytest

from a21import.errors import ParseError
from a21import.formats import decimal_to_gr, grosze_int, pl_amount_to_gr, pl_date
from a21import.i18n import N_
from a21import.insurers import fields

APP = fields.App("Testapp", amount=decimal_to_gr)


def read(data):
    return APP.read("policy 7", data)


def reason(call) -> str:
    with pytest.raises(ParseError) as caught:
        call()
    return caught.value.reason


def test_not_an_object_names_the_app_and_the_block():
    assert reason(lambda: read(["x"])) == "Testapp sent policy 7 that is not a JSON object."


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Testapp sent policy 7 without the key 'numer'. The page of Testapp has changed or is not supported."),  # absent: the app changed
    ({"numer": "  "}, "Testapp sent policy 7 without 'numer'."),
    ({"numer": 12}, "Testapp sent policy 7 whose 'numer' is 12 instead of text."),
])
def test_required_text(data, message):
    assert reason(lambda: read(data).text("numer")) == message


def test_text_is_stripped_and_optional_text_blank_is_none():
    r = read({"a": " x ", "b": " ", "c": None})
    assert (r.text("a"), r.optional_text("b"), r.optional_text("c"), r.optional_text("d")) == ("x", None, None, None)
    assert "'b' is 3 instead of text" in reason(lambda: read({"b": 3}).optional_text("b"))


@pytest.mark.parametrize("value", [True, False, "1", 1.0])
def test_integer_is_never_bool_text_or_float(value):
    assert "instead of a whole number" in reason(lambda: read({"nr": value}).integer("nr"))


def test_integer_minimum_and_optional_integer():
    assert "'nr' is 0, less than 1" in reason(lambda: read({"nr": 0}).integer("nr", minimum=1))
    assert read({"nr": None}).optional_integer("nr") is None
    assert read({"nr": 2}).optional_integer("nr", minimum=1) == 2


def test_flag_must_be_present_and_true_or_false():
    assert read({"paid": False}).flag("paid") is False
    assert reason(lambda: read({}).flag("paid")) == (
        "Testapp sent policy 7 without the key 'paid'. The page of Testapp has changed or is not supported.")
    assert "'paid' is 1 instead of true or false" in reason(lambda: read({"paid": 1}).flag("paid"))


@pytest.mark.parametrize(("app", "value", "grosze"), [
    (fields.App("A", amount=decimal_to_gr), "1234.56", 123456),
    (fields.App("A"), 1234.5, 123450),
    (fields.App("A", amount=grosze_int), 99, 99),
    (fields.App("A", amount=pl_amount_to_gr), "1\u00a0234,56 zł", 123456),
])
def test_amount_as_the_app_writes_it(app, value, grosze):
    assert app.read("b", {"kwota": value}).amount("kwota") == grosze


def test_an_unreadable_amount_or_date_names_the_field_and_keeps_the_reason():
    message = reason(lambda: read({"skladka": "1 234,56"}).amount("skladka"))
    assert message == ("Testapp sent policy 7 whose 'skladka' cannot be read: "
                       "The amount '1 234,56' is not in the form 1234.56.")
    assert "'termin' cannot be read: The date '05.11.2026' is not in the form YYYY-MM-DD" in reason(
        lambda: read({"termin": "05.11.2026"}).date("termin"))
    assert fields.App("A", date=pl_date).read("b", {"d": "05.11.2026"}).date("d") == date(2026, 11, 5)


def test_optional_amount_null_is_none_and_the_app_may_read_blank_as_none():
    assert read({"suma": None}).optional_amount("suma") is None
    blank = fields.App("A", amount=pl_amount_to_gr, optional_amount=lambda t: None if t == "" else pl_amount_to_gr(t))
    assert blank.read("b", {"suma": ""}).optional_amount("suma") is None
    assert "cannot be read" in reason(lambda: fields.App("A", amount=pl_amount_to_gr).read(
        "b", {"suma": ""}).optional_amount("suma"))


def test_paths_reach_into_nested_objects_and_are_named_with_dots():
    r = read({"adres": {"ulica": "Długa 5"}, "okres": {"od": "2026-11-01"}})
    assert r.optional_text(("adres", "ulica")) == "Długa 5"
    assert r.optional_text(("brak", "ulica")) is None
    assert r.date(("okres", "od")) == date(2026, 11, 1)
    assert reason(lambda: r.date(("okres", "do"))) == (
        "Testapp sent policy 7 without the key 'okres.do'. The page of Testapp has changed or is not supported.")


def test_nested_object_and_list():
    r = read({"pojazd": "x", "ryzyka": [], "raty": [{"nr": 1}, 5]})
    assert reason(lambda: r.obj("pojazd")) == "Testapp sent policy 7 whose 'pojazd' is not an object."
    assert r.optional_obj("brak") is None
    assert "'ryzyka' is an empty list" in reason(lambda: r.list("ryzyka"))
    assert r.list("ryzyka", allow_empty=True) == []
    entries = r.objects("raty", N_("installment {position} of policy {number}"), number="7")
    assert next(entries).block == "installment 1 of policy 7"
    assert "'raty' has an entry that is not an object" in reason(lambda: next(entries))


def test_lenient_notes_the_reason_and_gives_none():
    problems: list[str] = []
    assert fields.lenient(lambda: read({}).text("x"), problems) is None
    assert problems == ["Testapp sent policy 7 without the key 'x'. The page of Testapp has changed or is not supported."]


def test_quoting_picks_the_sentence_by_the_quoted_value():
    with_message, without = N_("Policy {numer} failed (the app said: {komunikat!r})."), N_("Policy {numer} failed.")
    assert fields.quoting(with_message, without, quote="komunikat", komunikat="Błąd", numer="1") == (
        "Policy 1 failed (the app said: 'Błąd').")
    assert fields.quoting(with_message, without, quote="komunikat", komunikat=None, numer="1") == "Policy 1 failed."


def test_insurer_code_is_exact():
    table = {"PZU SA": "PZU"}
    assert [fields.insurer_code(table, name) for name in ("PZU SA", "pzu sa", None, 3)] == ["PZU", None, None, None]


# -- builders ------------------------------------------------------------------------------------
CLIENT_KEYS = {"pesel": "pesel", "street": ("adres", "ulica"), "city": ("adres", "miasto"), "email": "email"}
VEHICLE_KEYS = {"registration": "rej", "vin": "vin", "make": "marka", "model": "model", "production_year": "rok"}
POLICY_KEYS = {"product": "produkt", "status": "status", "issue_date": "wyst", "start_date": "od", "end_date": "do",
               "premium_gr": "skladka"}


def test_build_client_reads_the_map_and_takes_what_is_given():
    r = read({"pesel": "72042156472", "adres": {"ulica": " Długa 5 ", "miasto": "Gdańsk"}, "email": None})
    client = fields.build_client(r, CLIENT_KEYS, kind="person", name="Jan Kowalski", city="Sopot")
    assert (client.kind, client.name, client.pesel, client.street, client.city, client.email, client.nip) == (
        "person", "Jan Kowalski", "72042156472", "Długa 5", "Sopot", None, None)
    assert "'adres.ulica' is 5 instead of text" in reason(
        lambda: fields.build_client(read({"adres": {"ulica": 5}}), CLIENT_KEYS, kind="person", name="X"))


def test_build_vehicle():
    vehicle = fields.build_vehicle(read({"rej": "gd 4f218", "vin": None, "marka": "Kia", "rok": 2016}), VEHICLE_KEYS)
    assert (vehicle.registration, vehicle.make, vehicle.production_year) == ("GD4F218", "Kia", 2016)
    assert fields.build_vehicle(read({"marka": "Kia"}), VEHICLE_KEYS) is None
    assert fields.build_vehicle(None, VEHICLE_KEYS) is None
    assert "'rok' is '2016' instead of a whole number" in reason(
        lambda: fields.build_vehicle(read({"vin": "X", "rok": "2016"}), VEHICLE_KEYS))


def test_build_coverages_and_installments():
    r = read({"ryzyka": [{"kod": "OC", "suma": None, "skladka": "10.00"}],
              "raty": [{"nr": 1, "termin": "2026-11-06", "kwota": "5.00", "oplacona": True}]})
    coverage_keys = {"code": "kod", "name": "nazwa", "sum_insured_gr": "suma", "premium_gr": "skladka"}
    coverages = fields.build_coverages(
        r.objects("ryzyka", N_("risk {position} of policy {number}"), number="7"), coverage_keys)
    assert [(c.code, c.name, c.sum_insured_gr, c.premium_gr) for c in coverages] == [("OC", None, None, 1000)]
    keys = {"seq": "nr", "due_date": "termin", "amount_gr": "kwota", "paid": "oplacona"}
    (installment,) = fields.build_installments(
        r.objects("raty", N_("installment {position} of policy {number}"), number="7"), keys)
    assert (installment.seq, installment.due_date, installment.amount_gr, installment.paid) == (
        1, date(2026, 11, 6), 500, True)
    zero = read({"raty": [{"nr": 0, "termin": "2026-11-06", "kwota": "5.00", "oplacona": True}]})
    assert "installment 1 of policy 7 whose 'nr' is 0, less than 1" in reason(lambda: fields.build_installments(
        zero.objects("raty", N_("installment {position} of policy {number}"), number="7"), keys))


def test_build_policy_reads_its_own_fields_before_the_parts():
    data = {"produkt": "OC", "status": None, "wyst": "2026-11-01", "od": "2026-11-02", "do": "2027-11-01",
            "skladka": "x"}

    def holder():
        raise AssertionError("a part was read before the policy's own fields")

    assert "'skladka' cannot be read" in reason(lambda: fields.build_policy(
        read(data), POLICY_KEYS, number="7", insurer="PZU", source_app="t", source_system=None,
        product_line="motor", holder=holder))


def test_error_values_read_an_apps_error_object_by_its_declared_keys():
    from a21import.insurers.fields import error_values

    answer = '{"blad": {"kod": "E42", "komunikat": "Nie znaleziono"}, "kod": 7}'
    assert error_values(answer, ("blad", "kod"), ("blad", "komunikat")) == ("E42", "Nie znaleziono")
    assert error_values(answer, "kod", ("blad", "brak")) == (None, None)  # not text, absent
    assert error_values("<html>", "kod") == (None,) and error_values("[1, 2]", "kod") == (None,)
    assert error_values({"message": "x"}, "message") == ("x",)  # already parsed


def test_an_answer_failure_is_red_for_a_policy_and_stops_a_list():
    from a21import.errors import EnvironmentProblem, PolicyError
    from a21import.insurers.fields import answer_failure

    policy = answer_failure(True, "Policy {number}: {message}", "List: {message}", number="1", message="m")
    listing = answer_failure(False, "Policy {number}: {message}", "List: {message}", number="1", message="m")
    assert type(policy) is PolicyError and policy.reason == "Policy 1: m"
    assert isinstance(listing, EnvironmentProblem) and listing.message == "List: m"
