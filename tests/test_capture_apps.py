"""Issue 14 for every app, in-process (no Chromium): each fixture portal over a whole period with its answers
drifted so that its policies turn red, bundles written with --capture, then (1) no identifier, name, address,
phone or e-mail of the fixture's data stands in any bundle in any encoding, and (2) every bundle replays to the
same red reason, through the same path (the adapter's `ref` kept in the bundle).

The import runs as the CLI runs it: the adapter's context() and list in recordings, `capture.listed` for every
listed row, `importer.import_rows` for the reads; only the tab is the in-process one (tests/fixtures/inprocess.py),
with the drift applied to its answers and its script reads noted as the real tab notes them.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from a21import import capture, insurers
from a21import import db as database
from a21import.capture_replay import replay
from a21import.importer import Options, State, _looked_up, _row, import_rows
from a21import.tab import FetchResponse
from tests.fixtures.inprocess import PortalTab, login
from tests.test_capture import english  # noqa: F401 - the reasons in English, autouse
from tests.test_capture_cli import encodings
from tests.test_proama_parse import ProAgentTab

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 16)


@dataclass(frozen=True)
class Case:
    name: str  # the contract's name: the app, or app-section
    module: str  # tests.fixtures.<module>
    portal: str
    tab: Any  # portal → its logged-in tab
    source: str | None
    drift: tuple[tuple[str, str, str], ...]  # (a text of the request URL, a text of the answer, what it becomes)


CASES = [
    Case("hestia", "hestia_portal", "HestiaPortal", PortalTab, "ihestia",
         (("/raty", "<th>Zapłacono</th>", "<th>Status płatności</th>"),)),
    Case("generali", "generali_portal", "GeneraliPortal", PortalTab, None,
         (("/api/v2/policies/", '"paymentSchedule"', '"paymentPlan"'),)),
    Case("proama", "proama_portal", "ProamaPortal", ProAgentTab, None,
         (("/harmonogram", '"raty"', '"platnosci"'),)),
    Case("tuz", "tuz_portal", "TuzPortal", PortalTab, None,
         (("/insured/contracts/", 'class="installments"', 'class="payments"'),)),
    Case("insly", "insly_portal", "InslyPortal", PortalTab, None,
         (("/api/policy/", '"installments"', '"instalments"'),)),
    Case("unimarket", "unimarket_portal", "UnimarketPortal", PortalTab, None,
         (("/graphql", '"installments"', '"instalments"'),)),
    Case("hiperio", "hiperio_portal", "HiperioPortal", PortalTab, None,
         (("/", '"raty"', '"platnosci"'),)),
    Case("skaner2", "skaner2_portal", "Skaner2Portal", PortalTab, None,
         (("/polisy/", '"raty"', '"platnosci"'),)),
    Case("warta-majatek", "warta_portal", "WartaPortal",
         lambda portal: login(portal, host="eagent.warta.pl", page="/view360/"), "majatek",
         (("/installments", '"items"', '"rows"'),)),
    Case("warta-zycie", "warta_portal", "WartaPortal",
         lambda portal: login(portal, host="eplatforma.warta.pl", page="/start"), "zycie",
         (("/polisa/raty", "<th>Status</th>", "<th>Stan</th>"),)),
]


class DriftTab:
    """The in-process tab with the app's answers drifted, noting its script reads as browser.PageTab does."""

    def __init__(self, tab: Any, drift: tuple[tuple[str, str, str], ...] = ()):
        self.tab, self.drift = tab, drift

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tab, name)

    async def fetch(self, url: str, **options: Any) -> FetchResponse:
        answer = await self.tab.fetch(url, **options)
        text = answer.text
        for where, old, new in self.drift:
            if where in url:
                text = text.replace(old, new)
        return FetchResponse(answer.status, answer.url, text, answer.content_type, answer.retry_after)

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        value = await self.tab.evaluate(expression, arg)
        capture.note_dom("evaluate", expression, value, arg)
        return value

    async def html(self) -> str:
        text = await self.tab.html()
        capture.note_dom("html", "", text)
        return text


class QuietUI:
    interactive = False

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def contract_of(case: Case) -> Any:
    module = importlib.import_module(f"tests.fixtures.{case.module}")
    return next(c for c in module.CONTRACTS if c.name == case.name)


def make_portal(case: Case, **options: Any) -> Any:
    module = importlib.import_module(f"tests.fixtures.{case.module}")
    return getattr(module, case.portal)(**{**contract_of(case).options, **options})


def import_period(case: Case, portal: Any, folder: Path, db_path: Path, numbers: list[str] | None = None) -> list[Any]:
    """What `a21import period --capture folder` does with this app's tab (with `numbers`: what `a21import
    policy NUMBER… --capture folder` does); returns the rows."""
    async def run() -> list[Any]:
        capture.use(folder)
        adapter = insurers.get(case.name.split("-")[0])(DriftTab(case.tab(portal), case.drift), case.source)
        with capture.recording() as taken:
            await adapter.context()
        capture.keep_session(adapter, taken)
        options = Options(cdp="", db_path=db_path)
        rows = []
        if numbers is not None:
            for number in numbers:
                rows += await _looked_up(adapter, adapter.check_number(number), options, first=len(rows) + 1)
        else:
            with capture.recording() as taken:
                async for item in adapter.list_policies(FIRST, LAST):
                    rows.append(_row(len(rows) + 1, item, set(), options, overwrite=False))
                    capture.listed(adapter, item, taken, mode="list", window=(FIRST, LAST))
        await import_rows(adapter, database.open_db(db_path), rows, QuietUI())
        capture.use(None)
        return rows

    return asyncio.run(run())


def personal_values(truths: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(values, registrations) of the clients and vehicles the fixture's period holds."""
    values, registrations = set(), set()
    for truth in truths.values():
        for client in truth["clients"]:
            values |= {client[name] for name in ("name", "pesel", "nip", "regon", "street", "postal_code", "city",
                                                 "phone", "email")}
            if client["kind"] == "person" and client["name"] and len(client["name"].split()) == 2:
                first, last = client["name"].split()
                values.add(f"{last} {first}")
            if client["street"] and client["postal_code"]:
                values.add(f"{client['postal_code']} {client['city']}")
        for vehicle in truth["vehicles"]:
            values.add(vehicle["vin"])
            registrations.add(vehicle["registration"])
    return {v for v in values if v}, {r for r in registrations if r}


def bundle_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def leaks(text: str, values: set[str], registrations: set[str]) -> list[tuple[str, str]]:
    """Each (value, its form) that stands in `text` as a whole word, in any encoding; registrations also
    with their spaces (the app writes `GD 4F218`, the model `GD4F218`)."""
    found = []
    lowered = text.lower()  # a form not even in the lower-cased text cannot match: the word check only where it is
    for value in values:
        for form in encodings(value):
            if form.lower() in lowered and re.search(rf"(?<![\w@.]){re.escape(form)}(?![\w@])", text, re.IGNORECASE):
                found.append((value, form))
    unspaced = re.sub(r"\s|&nbsp;|%20|\+", "", text).upper()
    found += [(r, r) for r in registrations if r.upper() in unspaced]
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_drifted_period_writes_scrubbed_bundles_that_replay_to_the_same_reason(case, tmp_path):
    portal = make_portal(case, count=24)  # every policy of its period: fewer than the contract's, for time
    contract = contract_of(case)
    failing = contract.failing(portal)
    portal.fail = {failing}
    folder = tmp_path / "captures"
    rows = import_period(case, portal, folder, tmp_path / "a21import.db")
    red = [row for row in rows if row.state is State.FAILED]
    written = sorted(folder.glob("*.zip"))
    assert len(red) >= 5 and len(written) == len(red), [(row.item.number, row.reason) for row in red]
    # No personal value of the fixture's period in any bundle, however written.
    values, registrations = personal_values(contract.expected(portal))
    assert len(values) > 20
    texts = {path.name: bundle_text(path) for path in written}
    assert leaks("\n".join(texts.values()), values, registrations) == []
    # The policy numbers stay (the maintainer needs them), and each bundle replays to its red reason.
    replays_to_its_reason(written, red)
    # The policy command: a look-up by number, then the read with what the look-up gave (the adapter's `ref`,
    # which the bundle keeps as it was: a Policy, the detail, the record).
    numbers = [row.item.number for row in red if row.item.insurer and not row.item.error and
               row.item.number != failing][:3]
    rows = import_period(case, portal, tmp_path / "policy", tmp_path / "a21import.db", numbers)
    red = [row for row in rows if row.state is State.FAILED]
    written = sorted((tmp_path / "policy").glob("*.zip"))
    assert len(red) == len(numbers) == len(written)
    assert all(capture.load(path)["item"]["ref"] is not None for path in written)  # kept, so replayed the same way
    assert leaks("\n".join(bundle_text(path) for path in written), values, registrations) == []
    replays_to_its_reason(written, red)


def replays_to_its_reason(written: list[Path], red: list[Any]) -> None:
    reasons: dict[str, set[str]] = {}  # by number: two insurers may share one (Insly, Skaner2)
    for row in red:
        reasons.setdefault(row.item.number, set()).add(row.reason)
    for path in written:
        bundle = capture.load(path)
        number = bundle["item"]["number"]
        assert number in bundle_text(path)
        outcome = asyncio.run(replay(bundle))
        assert outcome.code == 1 and outcome.reason in reasons[number], path.name
        assert outcome.reason == bundle["reason"]


def test_a_row_the_list_marks_red_gets_a_bundle_of_the_list_answers_that_carried_it(tmp_path):
    """Hiperio lists a failing policy as a short record with `blad`: red before anything is read. Its bundle
    holds the list answer, the app's reason, and replays (the list read again up to that row) to it."""
    case = next(case for case in CASES if case.name == "hiperio")
    portal = make_portal(case, count=12)
    number = sorted(portal.records)[1]
    portal.fail = {number}
    rows = import_period(replace(case, drift=()), portal, tmp_path / "captures", tmp_path / "a21import.db")
    (red,) = [row for row in rows if row.state is State.FAILED]
    assert red.item.number == number and "Nie udało się pobrać danych polisy" in red.reason
    (path,) = sorted((tmp_path / "captures").glob("*.zip"))
    bundle = capture.load(path)
    assert (bundle["mode"], bundle["error"], bundle["where"]) == ("list", "ListedRed", [])
    assert bundle["reason"] == red.reason and bundle["window"] == [FIRST.isoformat(), LAST.isoformat()]
    assert [r["path"].split("?")[0] for r in bundle["requests"]] == ["/api/sprzedaz/polisy"]
    assert f'"numer": "{number}"' in bundle["requests"][0]["body"]
    assert asyncio.run(replay(bundle)).__dict__ == {"code": 1, "reason": red.reason, "result": None}
    # The holder names of the other listed rows are out of the list answer too.
    names = {row.item.holder_name for row in rows if row.item.holder_name}
    assert names and all(name not in bundle_text(path) for name in names)


def test_a_look_up_that_marks_the_policy_red_gets_a_bundle(tmp_path):
    """ProAgent's look-up of a policy whose detail fails gives a red row (not an exception): its bundle replays
    to the same reason."""
    case = next(case for case in CASES if case.name == "proama")
    portal = make_portal(case, count=8)
    number = contract_of(case).failing(portal)
    portal.fail = {number}
    rows = import_period(replace(case, drift=()), portal, tmp_path / "captures", tmp_path / "a21import.db",
                         [number])
    (red,) = rows
    assert red.state is State.FAILED and red.item.error
    (path,) = sorted((tmp_path / "captures").glob("*.zip"))
    bundle = capture.load(path)
    assert (bundle["mode"], bundle["item"]["number"]) == ("lookup", number)
    assert [r["path"] for r in bundle["requests"] if r["kind"] == "fetch"] == [f"/agent-api/v1/polisy/{number}"]
    assert asyncio.run(replay(bundle)).__dict__ == {"code": 1, "reason": red.item.error, "result": None}
