"""PESEL, NIP and REGON never stand in full in messages or the log file; policy numbers do."""

from __future__ import annotations

import logging
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from a21import import logs
from a21import.formats import mask_personal_ids

PESEL = "84031233138"  # valid checksum
NIP = "5261040828"  # valid
REGON = "012100784"  # valid


def test_personal_ids_are_masked_wherever_they_stand():
    text = f"Klient {PESEL} (NIP {NIP}, REGON {REGON}) nie istnieje; NIP PL526-104-08-28 też nie."
    masked = mask_personal_ids(text)
    for secret in (PESEL, NIP, REGON):
        assert secret not in masked
    assert "526-104-08-28" not in masked
    assert "84*******38" in masked and "52******28" in masked and "01*****84" in masked
    assert masked.startswith("Klient ") and masked.endswith(" też nie.")


def test_an_eleven_digit_run_is_masked_even_with_a_wrong_checksum():
    assert mask_personal_ids("PESEL 84031233139 is wrong") == "PESEL 84*******39 is wrong"


def test_policy_numbers_dates_and_amounts_stay_readable():
    text = "Policy 909123456789 issued 2026-11-01 for 1 234,56 zł; polisa nr 8012345678; WARTA_ZYCIE:8012345678."
    assert mask_personal_ids(text) == text
    # Without a name, a 10-digit number has the shape of a NIP, and a 9-digit phone that of a REGON.
    assert mask_personal_ids("phone 600 123 456; ref 8012345678.") == "phone 60*****56; ref 80******78."
    # The policy's own number stays even when it happens to have the shape of an identifier.
    assert mask_personal_ids(f"Policy {PESEL} failed.", keep=(PESEL,)) == f"Policy {PESEL} failed."


@given(st.text(), st.from_regex(r"[0-9]{11}", fullmatch=True), st.text())
def test_masking_never_crashes_and_never_leaves_a_pesel(before, pesel, after):
    assume(not re.search(r"(?i)(?:polic|polis)[^\W\d]*\W{0,3}$", before))  # "polisa 8403…": a policy number
    masked = mask_personal_ids(f"{before} {pesel} {after}")
    assert isinstance(masked, str)
    assert f" {pesel} " not in masked
    assert mask_personal_ids(masked) == masked


def test_the_log_file_masks_messages_and_tracebacks(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "a21import.log"
    monkeypatch.setenv("A21IMPORT_LOG", str(path))
    for handler in list(logs.log.handlers):
        if getattr(handler, "a21import", False):
            logs.log.removeHandler(handler)
    assert logs.setup() == path
    try:
        logs.log.warning("hestia: %s failed: client %s unknown", "ERGO_HESTIA:1", PESEL)
        logs.log.info("%s: imported %s.", "generali", f"GENERALI:{NIP}")
        logs.log.error("Stopped (exit code %d): %s", 2, f"The number {PESEL} is unknown.", extra={"keep": (PESEL,)})
        try:
            raise ValueError(f"bad NIP {NIP}")
        except ValueError:
            logs.log.exception("surprise")
    finally:
        for handler in list(logs.log.handlers):
            if getattr(handler, "a21import", False):
                handler.close()
                logs.log.removeHandler(handler)
    written = path.read_text(encoding="utf-8")
    assert "client 84*******38 unknown" in written and "bad NIP 52******28" in written
    assert f"generali: imported GENERALI:{NIP}." in written  # a policy number that looks like a NIP
    assert f"The number {PESEL} is unknown." in written  # what the user typed
    assert "bad NIP 52******28" in written and "client 84*******38 unknown" in written
    assert "Traceback" in written
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_log_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("A21IMPORT_LOG", "off")
    assert logs.log_path() is None
    assert logging.getLogger("a21import").propagate is False
