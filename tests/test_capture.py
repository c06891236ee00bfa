"""Issue 14 without a browser: reasons that name the drift, the per-policy recording, bundles written privately and
read back, and every bundle of tests/captures replayed to what its expected.json says."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from a21import import capture, i18n
from a21import.capture_replay import ReplayTab, listed, replay
from a21import.errors import BadInput, NotLoggedIn, PageChanged, ParseError, PolicyError
from a21import.insurers import hestia
from a21import.insurers.base import Adapter, FetchResponse
from a21import.insurers.html import table_rows
from a21import.model import Client, ListedPolicy, Policy, Vehicle
from selectolax.lexbor import LexborHTMLParser

CAPTURES = Path(__file__).resolve().parent / "captures"
CASES = sorted(path for path in CAPTURES.iterdir() if (path / "expected.json").exists())
CHANGED = "The page of Ergo Hestia iHestia has changed or is not supported."


@pytest.fixture(autouse=True)
def english():
    before = i18n.language()
    i18n.setup("en")
    yield
    i18n.setup(before)


# -- the captured cases ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[path.name for path in CASES])
def test_each_captured_bundle_replays_to_its_expected_outcome(case):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    outcome = asyncio.run(replay(capture.load(case / "bundle.zip")))
    assert outcome.code == expected["exit"]
    if "reason" in expected:
        assert outcome.reason == expected["reason"]
    else:
        assert outcome.result == expected["policy"]


def test_the_seed_cases_cover_the_drift_situations():
    assert {path.name for path in CASES} >= {"hestia-renamed-label", "hestia-hidden-column",
                                             "hestia-unknown-error-page", "hestia-renamed-list-column",
                                             "generali-renamed-schedule-key", "tuz-renamed-installments-table",
                                             "warta-zycie-renamed-status-column", "hiperio-listed-with-app-error"}


def test_a_fixed_adapter_reads_the_captured_policy(monkeypatch):
    """The maintainer's loop: the bundle of a renamed label replays red; with the adapter taught the new label
    it reads the policy from the same answers and the replay exits 0."""
    bundle = capture.load(CAPTURES / "hestia-renamed-label" / "bundle.zip")
    assert asyncio.run(replay(bundle)).code == 1
    original = hestia.labelled

    def knows_the_new_label(table):
        values = original(table)
        if "Okres ochrony" in values:
            values["Okres ubezpieczenia"] = values.pop("Okres ochrony")
        return values

    monkeypatch.setattr(hestia, "labelled", knows_the_new_label)
    outcome = asyncio.run(replay(capture.load(CAPTURES / "hestia-renamed-label" / "bundle.zip")))
    assert outcome.code == 0, outcome.reason
    (found,) = outcome.result["found"]  # a policy command's look-up: the policy page now reads
    assert found["number"] == bundle["item"]["number"] and found["product"] == "Auto Pakiet"


def test_a_request_the_bundle_never_saw_is_its_own_reason():
    bundle = capture.load(CAPTURES / "hestia-renamed-label" / "bundle.zip")
    bundle["requests"] = []
    outcome = asyncio.run(replay(bundle))
    assert outcome.code == 1
    assert outcome.reason.startswith("The capture holds no answer to GET /polisa/")


# -- reasons that name the drift ------------------------------------------------------------------------
def test_a_missing_label_names_app_block_label_and_path_without_query_values():
    page = (CAPTURES / "hestia-renamed-label")
    html = zipfile.ZipFile(page / "bundle.zip").read("answers/requests-001.html").decode()
    number = json.loads(zipfile.ZipFile(page / "bundle.zip").read("bundle.json"))["item"]["number"]
    with capture.recording() as taken:
        capture.note_fetch("GET", f"/polisa/{number}?pesel=44051401359&q=Jan",
                           FetchResponse(200, f"https://x/polisa/{number}?pesel=44051401359&q=Jan", html))
        with pytest.raises(PageChanged) as raised:
            hestia.parse_policy_page(html, number, "ERGO_HESTIA")
    assert len(taken.exchanges) == 1
    reason = raised.value.reason
    assert reason == (f"The policy data table has no value for 'Okres ubezpieczenia'. {CHANGED} It was the answer to "
                      f"/polisa/{number}?pesel=…&q=….")
    assert "44051401359" not in reason and "Jan" not in reason
    assert (raised.value.app, raised.value.missing) == ("Ergo Hestia iHestia", "Okres ubezpieczenia")
    assert isinstance(raised.value, ParseError)


def test_the_apps_own_failure_and_an_ended_session_are_not_a_changed_page():
    page = "<div id='naglowek'><span id='tozsamosc'>ERGO Hestia</span></div><div id='bladSystemu'>Błąd</div>"
    with pytest.raises(PolicyError) as raised:
        hestia.parse_policy_page(page, "909123456789", "ERGO_HESTIA")
    assert not isinstance(raised.value, PageChanged) and "has changed" not in raised.value.reason

    class Expired:
        url, host = "https://ihestia.ergohestia.pl/start", "ihestia.ergohestia.pl"

        async def fetch(self, url, **kwargs):
            return FetchResponse(200, "https://ihestia.ergohestia.pl/login", "<form id='loginForm'></form>")

    adapter = hestia.HestiaAdapter(Expired())
    with pytest.raises(NotLoggedIn):
        asyncio.run(adapter._get("/polisa/909123456789"))


def test_json_that_is_not_json_and_a_missing_column_are_changed_pages():
    with pytest.raises(PageChanged) as raised:
        FetchResponse(200, "https://app/api/policy?id=5", "<html>Przerwa techniczna</html>").json()
    assert raised.value.reason.endswith("The app's page has changed or is not supported. It was the answer to "
                                        "/api/policy.")
    table = LexborHTMLParser("<table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>")
    with pytest.raises(PageChanged) as raised:
        table_rows(table.css_first("table"), ["B"], app="Some App", what="its table")
    assert (raised.value.block, raised.value.missing) == ("its table", "B")
    assert "The page of Some App has changed or is not supported." in raised.value.reason


def test_recordings_of_concurrent_policies_never_mix():
    class Tab:
        url, host = "https://app/", "app"

        async def fetch(self, url, **kwargs):
            await asyncio.sleep(0)
            return FetchResponse(200, "https://app" + url, url)

    class Reader(Adapter):
        app_id, title = "x", "X"
        matches_host = classmethod(lambda cls, host: True)
        context = check_number = list_policies = lookup = read_policy = None

    Reader.__abstractmethods__ = frozenset()
    adapter = Reader(Tab())

    async def one(name):
        with capture.recording() as taken:
            for n in range(3):
                await adapter.fetch(f"/{name}/{n}")
        return [e.path for e in taken.exchanges]

    async def both():
        return await asyncio.gather(one("a"), one("b"))

    assert asyncio.run(both()) == [["/a/0", "/a/1", "/a/2"], ["/b/0", "/b/1", "/b/2"]]
    assert asyncio.run(adapter.fetch("/outside")).text == "/outside"  # nothing is kept outside a recording


# -- bundles on disk ------------------------------------------------------------------------------------
def _bundle(tmp_path, body: str, *, evaluate=None):
    class Tab:
        url, host = "https://ihestia.ergohestia.pl/start?sid=secret", "ihestia.ergohestia.pl"

    adapter = hestia.HestiaAdapter(Tab())
    taken = capture.Recording()
    taken.exchanges.append(capture.Exchange("fetch", "GET", "/polisa/909123456789", 200, "text/html", body,
                                            "/polisa/909123456789"))
    if evaluate is not None:
        taken.exchanges.append(capture.Exchange("evaluate", "JS", capture.script_key("() => 1", None), 200,
                                                "application/json", json.dumps(evaluate)))
    item = ListedPolicy(number="909123456789", insurer="ERGO_HESTIA", holder_name="Jan Kowalski",
                        issue_date=date(2026, 11, 2))
    try:
        raise hestia.PageChanged("detail", app=hestia.TITLE, block="b", missing="m")
    except PageChanged as exc:
        error = exc
    capture.use(tmp_path / "captures")
    try:
        return capture.failed(adapter, item, error, taken, mode="read")
    finally:
        capture.use(None)


def test_a_bundle_is_private_and_holds_what_a_maintainer_needs(tmp_path):
    path = _bundle(tmp_path, "<p>Jan Kowalski</p>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    bundle = capture.load(path)
    assert (bundle["app"], bundle["mode"], bundle["a21import"]) == ("hestia", "read", "0.1.0")
    assert len(bundle["adapter_version"]) == 12
    assert bundle["where"] == []  # raised here, outside a21import: no frame (never a path of this computer)
    assert bundle["tab"] == "https://ihestia.ergohestia.pl/start"  # the tab's query is never kept
    assert bundle["item"]["number"] == "909123456789" and bundle["item"]["holder_name"] != "Jan Kowalski"
    assert "Kowalski" not in json.dumps(bundle, ensure_ascii=False)
    assert bundle["requests"][0]["path"] == "/polisa/909123456789"


def test_tokens_and_session_values_are_never_stored(tmp_path):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl"
    page = (f'<meta name="csrf-token" content="a1b2c3d4e5f6a7b8"><input type="hidden" name="_token" value="tok3n-9x8y">'
            f'<script>var auth = "{jwt}";</script>')
    path = _bundle(tmp_path, page, evaluate={"accessToken": "s3cr3t-value-42", "JSESSIONID": "ABCDEF0123456789"})
    text = "\n".join(zipfile.ZipFile(path).read(n).decode() for n in zipfile.ZipFile(path).namelist())
    for secret in ("a1b2c3d4e5f6a7b8", "tok3n-9x8y", jwt, "s3cr3t-value-42", "ABCDEF0123456789"):
        assert secret not in text


def test_a_folder_link_is_refused_and_nothing_is_written_through_it(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "captures")
    assert _bundle(tmp_path, "<p>x</p>") is None
    assert list(elsewhere.iterdir()) == []


def test_what_is_not_a_bundle_is_bad_input(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(BadInput):
        capture.load(tmp_path / "x.zip")
    with pytest.raises(BadInput):
        capture.load(tmp_path / "missing.zip")


def test_an_unpacked_bundle_is_read_like_its_zip(tmp_path):
    zipfile.ZipFile(CAPTURES / "hestia-hidden-column" / "bundle.zip").extractall(tmp_path)
    outcome = asyncio.run(replay(capture.load(tmp_path)))
    assert outcome.code == 1 and "without the column 'Zapłacono'" in outcome.reason


def test_the_replay_tab_answers_in_order_and_repeats_the_last():
    answer = {"kind": "fetch", "method": "GET", "path": "/a?x=1", "status": 200, "content_type": "text/plain",
              "final": "", "body": "first"}
    tab = ReplayTab({"tab": "https://h/", "requests": [answer, {**answer, "body": "second"}]})
    texts = [asyncio.run(tab.fetch("https://h/a?x=1")).text for _ in range(3)]
    assert texts == ["first", "second", "second"]


def test_json_and_html_adapters_name_the_missing_key_label_or_field():
    from a21import.insurers import tuz, warta_majatek, warta_zycie

    with pytest.raises(PageChanged) as raised:
        warta_majatek.EAGENT.read("a policy list row", {"other": 1}).text("policyNumber")
    assert raised.value.reason.startswith("Warta eAgent sent a policy list row without the key 'policyNumber'. "
                                          "The page of Warta eAgent has changed or is not supported.")
    with pytest.raises(ParseError) as raised:  # there, but empty: the data, not the page
        warta_majatek.EAGENT.read("a policy list row", {"policyNumber": " "}).text("policyNumber")
    assert not isinstance(raised.value, PageChanged)
    with pytest.raises(PageChanged) as raised:
        warta_zycie.EPLATFORMA.read("a policy", {"Numer polisy": "1"}).text("Ubezpieczający")
    assert raised.value.missing == "Ubezpieczający" and "Warta ePlatforma has changed" in raised.value.reason
    with pytest.raises(PageChanged) as raised:
        warta_zycie.labels(LexborHTMLParser("<p>Przerwa</p>"), "dl#dane", "its policy data")
    assert raised.value.missing == "dl#dane"
    with pytest.raises(PageChanged) as raised:
        tuz.SOBOL.read("Dane polisy", {}).text("Numer polisy")
    assert (raised.value.app, raised.value.block) == ("TUZ SOBOL", "Dane polisy")


# -- what the parse made, and the adapter's ref ------------------------------------------------------------
HOLDER = Client(kind="person", name="Bożydar Wróblewski", street="Polna 3", postal_code="26-200", city="Końskie",
                phone="413752211")
POLICY = Policy(number="909123456789", insurer="ERGO_HESTIA", source_app="hestia", source_system="IHESTIA",
                product_line="motor", product="Auto Pakiet", status="Aktywna", issue_date=date(2026, 11, 2),
                start_date=date(2026, 11, 3), end_date=date(2027, 11, 2), premium_gr=123456, holder=HOLDER,
                vehicle=Vehicle(registration="TKI4F21", make="Skoda"))


def test_values_the_parse_made_are_scrubbed_where_no_label_key_or_shape_tells(tmp_path):
    """The policy iHestia's look-up read (the `ref`) is in the read's frame when the installments page turns out
    changed: its holder's name, street, city, phone and plate go, in every encoding, though the page writes them
    in plain blocks, a script and a link that no rule reads."""
    page = ('<div id="naglowek"><span id="tozsamosc">ERGO Hestia</span></div>'
            '<div class="x">Bożydar Wróblewski, Polna 3, Końskie (tel. 413752211), pojazd TKI 4F21</div>'
            '<script>var k = {"k": "Bo\\u017cydar Wr\\u00f3blewski", "m": "Ko\\u0144skie"};</script>'
            '<a href="/szukaj?q=Bo%C5%BCydar+Wr%C3%B3blewski&amp;m=Ko%C5%84skie">Wr&oacute;blewski</a>')

    class Tab:
        url, host = "https://ihestia.ergohestia.pl/start", "ihestia.ergohestia.pl"

        async def fetch(self, url, **kwargs):
            return FetchResponse(200, "https://ihestia.ergohestia.pl" + url, page, "text/html")

    adapter = hestia.HestiaAdapter(Tab(), "ihestia")
    adapter.identity = "ERGO_HESTIA"  # as its context() read it
    item = ListedPolicy(number=POLICY.number, insurer="ERGO_HESTIA", holder_name=HOLDER.name, ref=POLICY)
    capture.use(tmp_path / "captures")
    try:
        with capture.recording() as taken:
            with pytest.raises(PolicyError) as raised:
                asyncio.run(adapter.read_policy(item))
        path = capture.failed(adapter, item, raised.value, taken, mode="read")
    finally:
        capture.use(None)
    text = "\n".join(zipfile.ZipFile(path).read(n).decode() for n in zipfile.ZipFile(path).namelist())
    for value in ("Bożydar", "Wróblewski", "Bo\\u017cydar", "Wr\\u00f3blewski", "Bo%C5%BCydar", "Wr%C3%B3blewski",
                  "Wr&oacute;blewski", "Polna 3", "Końskie", "Ko\\u0144skie", "Ko%C5%84skie", "413752211",
                  "TKI 4F21", "TKI4F21"):
        assert value not in text, value
    bundle = capture.load(path)
    # The same fake everywhere: the ref's holder is the one the page now names, in each of its encodings.
    ref = capture.ref_value(bundle["item"]["ref"])
    fake = ref.holder.name
    body = bundle["requests"][0]["body"]
    assert f'<div class="x">{fake}, {ref.holder.street}, {ref.holder.city} (tel. {ref.holder.phone})' in body
    assert f'{{"k": "{fake}", "m": "{ref.holder.city}"}}' in body and quote_plus(fake) in body
    reg = ref.vehicle.registration
    assert f"pojazd {reg[:3]} {reg[3:]}</div>" in body  # the plate's fake written as the page writes it
    assert (ref.number, ref.premium_gr) == (POLICY.number, POLICY.premium_gr)  # numbers and amounts stay


def test_a_name_only_the_list_gave_is_scrubbed_when_nothing_was_parsed(tmp_path):
    path = _bundle(tmp_path, '<div class="x">Kowalski Jan</div><a href="/k?q=Jan+Kowalski">x</a>')
    text = "\n".join(zipfile.ZipFile(path).read(n).decode() for n in zipfile.ZipFile(path).namelist())
    assert "Kowalski" not in text and "Jan+Kowalski" not in text


@pytest.mark.parametrize("ref", [
    None, 184401, "d9bc1d97-e0f3-47ef-8f8b-2b83022bc320", {"numer": "5600000001", "detail": {"a": [1, 2.5, None]}},
    (1, date(2026, 11, 2), datetime(2026, 11, 2, 8, 30)), {3: "x", (1, 2): frozenset({"a"})}, {"$date": "not one"},
    {"amount": Decimal("12.30")}, POLICY,
])
def test_every_kind_of_ref_round_trips_through_a_bundle(ref):
    data = json.loads(json.dumps(capture.ref_data(ref)))
    assert capture.ref_value(data) == ref
    assert type(capture.ref_value(data)) is type(ref)


def test_a_ref_that_is_not_a21imports_data_is_not_made(tmp_path):
    with pytest.raises(TypeError):
        capture.ref_data(object())
    with pytest.raises(ValueError):
        capture.ref_value({"$dataclass": "subprocess:Popen", "fields": {"args": ["true"]}})
    assert listed({"number": "1", "ref": {"$dataclass": "a21import.model:Nothing", "fields": {}}}).ref is None
    item = ListedPolicy(number="1", insurer="X", ref=object())
    assert capture.item_data(item)["ref"] is None  # kept as no ref, as before: the bundle is still written
