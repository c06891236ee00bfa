"""Issue 11 point 13: PESEL, NIP and REGON are masked however they are written (groups, typos,
hidden characters), and policy numbers stay readable, however much they look like a NIP or a PESEL."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.pl import nip, pesel, regon
from typer.testing import CliRunner

from a21import.errors import BadInput
from a21import.formats import mask_personal_ids

PESEL = "84031233138"  # valid
NIP = "5261040828"  # valid; also a 10-digit number such as Merkury+, Proama or MTU policies have
REGON = "012100784"  # valid
LONG_REGON = "01210078400001"  # valid


@pytest.mark.parametrize("written", [
    "840312 33138", "840312-33138", "84 03 12 33138", "84-03-12-33138", "840312\u00a033138", "84031233139",
    "526 104 08 28", "526-10-40-828", "526\u2013104\u201308\u201328", "5261040829", "526-104-08-29",
    "012 100 784", "012-100-784", "012100785", "0121007840000 1", "01210078400009",
    "\uff18\uff14\uff10\uff13\uff11\uff12\uff13\uff13\uff11\uff13\uff18",  # full-width digits
])
def test_identifiers_are_masked_in_groups_and_with_a_wrong_checksum(written):
    masked = mask_personal_ids(f"Klient {written}, nie istnieje.")
    digits = re.sub(r"\D", "", written)
    assert re.sub(r"[^0-9*]", "", masked).count("*") == len(digits) - 4
    assert masked.startswith("Klient ") and masked.endswith(", nie istnieje.")
    assert written not in masked


@pytest.mark.parametrize("text, expected", [
    ("PESEL: 8403123313 (za krótki)", "PESEL: 84******13 (za krótki)"),
    ('{"pesel": "840312331", "nip":"52610408"}', '{"pesel": "84*****31", "nip":"52****08"}'),
    ("NIP PL 526-104-08-2", "NIP PL 52*****82"),
    ("numer REGON-u 0121007", "numer REGON-u 01***07"),
])
def test_a_number_labelled_pesel_nip_or_regon_is_masked_whatever_its_length(text, expected):
    assert mask_personal_ids(text) == expected


def test_a_labelled_identifier_is_masked_even_when_it_is_also_kept():
    assert mask_personal_ids(f"Policy {PESEL}: PESEL {PESEL}", keep=(PESEL,)) == f"Policy {PESEL}: PESEL 84*******38"


@pytest.mark.parametrize("hidden", ["\x1b[0m", "\u200b", "\x00", "\x9b1m", "\u00ad", "\ufeff", "\u202e"])
def test_characters_a_terminal_does_not_show_do_not_split_an_identifier(hidden):
    masked = mask_personal_ids(f"Klient 840312{hidden}33138 nie istnieje.")
    assert masked == "Klient 84*******38 nie istnieje."


@pytest.mark.parametrize("text, keep", [
    ("The number 526-104-08-28 is not a Merkury+ number.", ("5261040828",)),
    ("The number 5261040828 is not a Merkury+ number.", ("526-104-08-28",)),
    ("Kilka zapisanych polis ma numer 84031233138.", (PESEL,)),
    ("Nie ma: 840312 33138.", (PESEL,)),
    ("Numer PL/2026/84031233138 jest błędny.", ("PL/2026/84031233138",)),
])
def test_a_kept_number_stays_as_written_even_with_other_separators(text, keep):
    assert mask_personal_ids(text, keep=keep) == text
    assert mask_personal_ids(text) != text  # without keep, these shapes are masked


def test_keeping_a_number_does_not_keep_another_identifier_in_the_same_message():
    text = f"Policy 5600123456 7: the holder {PESEL} and the number {NIP} differ."
    assert mask_personal_ids(text, keep=("5600123456",)) == (
        "Policy 5600123456 7: the holder 84*******38 and the number 52******28 differ.")


@pytest.mark.parametrize("text", [
    "2026-11-05 14:03:22,123 INFO hestia: imported ERGO_HESTIA:5261040828.",
    "hestia: ERGO_HESTIA:84031233138 failed: Błąd 84031233138.",
    "generali: ?:5261040828 failed: Merkury+ has no policy with the number 5261040828.",
    "Nie znaleziono polisy o numerze 5261040828.",
    "Polisa nr 5261040828 ma nieopłaconą ratę.",
    "Numer polisy: 5261040828",
    "The policy number '84031233138' is not a Merkury+ policy number, which has exactly 10 digits.",
    "Policy No. 5261040828 is in EUR, but only policies in PLN are imported.",
    "Polisy 526-104-08-28 nie ma w bazie danych. Najpierw zaimportuj ją poleceniem: a21import policy 526-104-08-28",
])
def test_policy_numbers_named_as_such_stay_readable(text):
    assert mask_personal_ids(text) == text


@pytest.mark.parametrize("text, expected", [
    (f"PROAMA:5600123456 failed: klient PESEL {PESEL}, NIP {NIP}",
     "PROAMA:5600123456 failed: klient PESEL 84*******38, NIP 52******28"),
    (f"Polisa klienta {PESEL}", "Polisa klienta 84*******38"),
    (f"X:{NIP} and PESEL:{PESEL}", "X:52******28 and PESEL:84*******38"),  # only real insurer codes
    (f"policy {NIP} {PESEL}", f"policy {NIP} 84*******38"),  # 21 digits are not one policy number
])
def test_a_policy_label_covers_only_the_number_it_names(text, expected):
    assert mask_personal_ids(text) == expected


def test_only_identifier_lengths_are_masked_dates_times_amounts_and_longer_numbers_stay():
    text = ("2026-11-05 14:03:22,123 okres 2026-11-01 - 2027-10-31, 01.11.2026, składka 100 000 000,00 zł "
            "(1 234,56 zł), polisa 909123456789, PZU 1032/2026/000451, KOS1234567, YCD12345678, 12345678.")
    assert mask_personal_ids(text) == text
    # A phone number has the shape of a REGON (9 digits), and a client's phone is personal data too.
    assert mask_personal_ids("tel. 600 123 456, +48 601 234 567") == "tel. 60*****56, +48*******67"


# -- properties -----------------------------------------------------------------------------------------
def _grouped(digits: str, sizes: list[int], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        if position < len(digits):
            parts.append(digits[position:position + size])
            position += size
    if position < len(digits):
        parts.append(digits[position:])
    return separator.join(parts)


@st.composite
def identifiers(draw) -> tuple[str, str]:
    """(digits, as written): valid or not, in one group or several, with one kind of separator."""
    length = draw(st.sampled_from([9, 10, 11, 14]))
    digits = draw(st.from_regex(rf"[0-9]{{{length}}}", fullmatch=True))
    if draw(st.booleans()):
        module = {9: regon, 10: nip, 11: pesel, 14: regon}[length]
        check = next((c for c in "0123456789" if module.is_valid(digits[:-1] + c)), None)
        assume(check is not None)
        digits = digits[:-1] + check
    sizes = draw(st.lists(st.integers(1, 6), max_size=5))
    separator = draw(st.sampled_from([" ", "-", "\u00a0", "\u2013"]))
    return digits, _grouped(digits, sizes, separator)


POLICY_NUMBERS = st.from_regex(r"(?:[A-Z]{1,3})?[0-9]{1,14}(?:[/-][0-9]{1,8}){0,2}", fullmatch=True)
WORDS = st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=12)


@given(st.lists(st.one_of(identifiers().map(lambda i: ("id", i)), POLICY_NUMBERS.map(lambda k: ("keep", k)),
                          WORDS.map(lambda w: ("word", w))), min_size=1, max_size=8))
def test_every_identifier_is_masked_and_every_kept_number_survives(tokens):
    kept = tuple(value for kind, value in tokens if kind == "keep")
    kept_digits = {re.sub(r"\D", "", number) for number in kept if re.fullmatch(r"[0-9/-]+", number)}
    # A kept number wins where its digits could also be read as a group of an identifier.
    for kind, value in tokens:
        groups = re.findall(r"\d+", value[1]) if kind == "id" else []
        assume(not any("".join(groups[i:j]) in kept_digits
                       for i in range(len(groups)) for j in range(i + 1, len(groups) + 1)))
    written = [value[1] if kind == "id" else value for kind, value in tokens]
    masked = mask_personal_ids(" ; ".join(written), keep=kept).split(" ; ")
    assert len(masked) == len(tokens)
    for (kind, value), out in zip(tokens, masked):
        if kind == "id":
            assert value[0] not in re.sub(r"\D", "", out)
            assert "*" in out
        else:
            assert out == value


SHOWN_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")))


@given(SHOWN_TEXT, POLICY_NUMBERS, SHOWN_TEXT)
def test_a_kept_number_survives_any_surrounding_text(before, number, after):
    assume(not re.search(r"(?i)(?:pesel|nip|regon)\W*$", before))  # a labelled identifier is masked anyway
    masked = mask_personal_ids(f"{before} {number} {after}", keep=(number,))
    assert f" {number} " in masked


@given(st.text(), identifiers(), st.text())
def test_masking_never_crashes_never_leaves_an_identifier_and_is_stable(before, identifier, after):
    digits, written = identifier
    masked = mask_personal_ids(f"{before} {written} {after}")
    named = re.search(r"(?i)\b(?:polic|polis)[^\W\d]*(?:\s+(?:number|no\.|nr\.?|numer\w*))?[^\w\s]{0,3}$", before)
    assert f" {written} " not in masked or named  # only a policy label in front may keep it
    assert mask_personal_ids(masked) == masked


# -- the CLI: what the user typed stays readable in the message about it ------------------------------------
@pytest.mark.parametrize("typed, lang, as_json", [(PESEL, "en", True), (NIP, "pl", False), ("526-104-08-28", "en", False)])
def test_a_typed_number_that_is_not_stored_is_shown_as_typed(cli, tmp_path, typed, lang, as_json):
    """The real CLI in this process (conftest's `cli`, no tab), its log in tmp_path."""
    result = cli("refresh", typed, *(["--json"] if as_json else []), "--db", str(tmp_path / "agent21.db"),
                 env={"A21IMPORT_LOG": str(tmp_path / "a21import.log"), "A21IMPORT_LANG": lang}, timeout=60)
    assert result.returncode == 2, result.stderr
    if as_json:
        assert typed in json.dumps(json.loads(result.stdout), ensure_ascii=False)
    else:
        assert typed in result.stderr.replace("\n", "")
    assert typed in (tmp_path / "a21import.log").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["policy", "refresh"])
def test_every_message_of_a_numbered_command_keeps_the_typed_number(tmp_path, monkeypatch, command):
    """A message that does not call the number a policy's still shows it; other identifiers in it do not."""
    from a21import import cli, importer

    async def refuse(options, ui, numbers):
        number = numbers if isinstance(numbers, str) else numbers[0]  # `policy` takes several numbers
        raise BadInput(f"The number {number} was refused; the holder {PESEL} is unknown.")

    monkeypatch.setattr(importer, f"run_{command}", refuse)
    monkeypatch.setenv("A21IMPORT_LOG", "off")
    result = CliRunner().invoke(cli.app, [command, "526-104-08-28", "--db", str(tmp_path / "a.db"), "--json"])
    assert result.exit_code == 2
    assert "The number 526-104-08-28 was refused; the holder 84*******38 is unknown." in result.output
