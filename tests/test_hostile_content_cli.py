"""Hostile content served by the fixture portals (issue 11, points 1–3): escape sequences and
control characters in any value, values of absurd size, and answers a parser chokes on. The real
CLI reads them through Chromium; nothing may reach the terminal, the JSON document, the log or the
database as control, and no answer may end in a traceback."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.wrappers import Response

from tests.conftest import login, rows
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.proama_portal import API, ProamaPortal

pytestmark = pytest.mark.integration

HESTIA = ("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia", "--yes")
PROAMA = ("period", "--app", "proama", "--from", "2026-11-01", "--to", "2026-11-16", "--yes")
# Whatever must never reach a terminal: C0 but the line break, DEL, C1, bidirectional controls.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

CSI_RED = "\x1b[31m"
REWRITE = "\x1b[1A\x1b[2K"
HYPERLINK = "\x1b]8;;http://evil.example/\x1b\\klik\x1b]8;;\x1b\\"
CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
TITLE = "\x1b]0;przejęte\x07"


def ihestia(portal):
    return [p for p in portal.policies["ERGO_HESTIA"] if p.extra["system"] != "IPEGAZ"]


def assert_no_control(*texts: str) -> None:
    for text in texts:
        found = CONTROL.findall(text)
        assert not found, f"control characters reached the output: {found!r}"


def test_escape_sequences_and_controls_never_reach_the_terminal_json_log_or_database(user_context, run_cli, cli,
                                                                                     db_path):
    with HestiaPortal() as portal:
        first, second, third, failing = ihestia(portal)[:4]
        first.holder.last_name = f"Kowal{CSI_RED}ski{REWRITE}{HYPERLINK}\u202eanna\u2066"
        second.holder.city = f"Kraków{TITLE}{CLIPBOARD}\x9b2J"
        third.holder.street = 'ul. "Długa" & <b>[red]Ó</b> 5\x07\x08'
        portal.fail = {failing.number}
        original = portal._message
        portal._message = lambda session, css, text, element_id=None: original(
            session, css, text + f" {CSI_RED}Błąd{TITLE}\x1b[2J\u202e", element_id)
        login(user_context, portal)

        result = run_cli(*HESTIA)
        assert result.returncode == 1, result.stdout + result.stderr
        assert_no_control(result.stdout, result.stderr)
        assert "Błąd" in result.stdout  # the app's own message, shown as its text

        def client(policy):
            holder_id = rows(db_path, "SELECT holder_id FROM policies WHERE number = ?", policy.number)[0]["holder_id"]
            return rows(db_path, "SELECT * FROM clients WHERE id = ?", holder_id)[0]

        assert client(first)["name"] == f"{first.holder.first_name} Kowalskiklikanna"
        assert client(second)["city"] == "Kraków"
        assert client(third)["street"] == 'ul. "Długa" & <b>[red]Ó</b> 5'  # plain text stays as typed
        for table in ("clients", "policies", "coverages", "vehicles"):
            for row in rows(db_path, f"SELECT * FROM {table}"):
                assert_no_control(*(v for v in row.values() if isinstance(v, str)))

        as_json = run_cli(*HESTIA, "--include-stored", "--json")
        assert_no_control(as_json.stdout, as_json.stderr)
        document = json.loads(as_json.stdout)
        reasons = [p["reason"] for p in document["policies"] if p["status"] == "failed"]
        assert len(reasons) == 1 and "Błąd" in reasons[0]

        number = first.number
        for args in (("policies",), ("show", number), ("show", number, "--json"), ("renewals", "--days", "366"),
                     ("due", "--days", "366"), ("policies", "--json")):
            shown = cli(*args)  # the stored-policy commands need no browser: in this process
            assert shown.returncode in (0, 1), shown.stderr
            assert_no_control(shown.stdout, shown.stderr)
        assert "Kowalskiklikanna" in cli("show", number).stdout
        assert_no_control((db_path.parent / "a21import.log").read_text(encoding="utf-8"))


def test_values_of_absurd_size_become_red_rows_with_a_reason(user_context, run_cli, db_path):
    with HestiaPortal() as portal:
        huge_name, huge_premium, *rest = ihestia(portal)
        huge_name.holder.last_name = "A" * 1_000_000
        huge_premium.premium_gr = 10**20
        coverage = next(p for p in rest if any(c.sum_insured_gr for c in p.coverages))
        next(c for c in coverage.coverages if c.sum_insured_gr).sum_insured_gr = -1_000_00
        login(user_context, portal)

        result = run_cli(*HESTIA, "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        assert len(result.stdout) < 100_000  # the megabyte name is not printed
        assert "Traceback" not in result.stderr and "OverflowError" not in result.stdout
        status = {p["number"]: p for p in json.loads(result.stdout)["policies"]}
        for bad in (huge_name, huge_premium, coverage):
            assert status[bad.number]["status"] == "failed", status[bad.number]
        assert "characters long; at most 500" in status[huge_name.number]["reason"]
        assert "negative amount" in status[coverage.number]["reason"]
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert not stored & {huge_name.number, huge_premium.number, coverage.number}
        assert len(stored) == len(rest) - 1

        table = run_cli(*HESTIA)  # the live table too: the reasons, not the values
        assert table.returncode == 1 and len(table.stdout) < 100_000


def _serve(portal, path: str, body: str):
    """The portal answers `path` (exactly) with `body`, whatever else it would do."""
    original = portal.dispatch

    def dispatch(request):
        if request.path == path:
            return Response(body, content_type="application/json; charset=utf-8")
        return original(request)

    portal.dispatch = dispatch


DEEP = "[" * 200_000 + "]" * 200_000


def test_deeply_nested_json_of_one_policy_is_a_red_row(user_context, run_cli, db_path):
    with ProamaPortal() as portal:
        individual = [n for n in portal.numbers if portal.details[n]["klientIndywidualny"]]
        _serve(portal, f"{API}/polisy/{individual[0]}", DEEP)
        login(user_context, portal).wait_for_selector("#root .pa-agent")
        result = run_cli(*PROAMA, "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        status = {p["number"]: p for p in json.loads(result.stdout)["policies"]}
        assert status[individual[0]]["status"] == "failed"
        stored = {r["number"] for r in rows(db_path, "SELECT number FROM policies")}
        assert stored == set(individual[1:])


def test_deeply_nested_json_list_ends_cleanly_with_the_json_document_and_the_log(user_context, run_cli, db_path):
    with ProamaPortal() as portal:
        _serve(portal, f"{API}/polisy", DEEP)
        login(user_context, portal).wait_for_selector("#root .pa-agent")
        result = run_cli(*PROAMA, "--json")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        document = json.loads(result.stdout)
        assert document["exit_code"] == 3 and document["error"]
        log = (db_path.parent / "a21import.log").read_text(encoding="utf-8")
        assert "exit code 3" in log

        plain = run_cli(*PROAMA)
        assert plain.returncode == 3 and "Traceback" not in plain.stderr and plain.stderr.strip()
