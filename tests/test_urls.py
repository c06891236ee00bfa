"""Issue 11, point 4 and the pager bound of point 2, on every adapter with a fake tab that records the
URLs it is asked for: a value from an app's answer goes into a request only as one encoded path
segment (or one query value) of the app's own form, and a list whose pages never end stops."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest

from a21import.errors import PolicyError
from a21import.insurers import base
from a21import.insurers.base import EndlessList, FetchResponse, UnsafeValue, segment
from a21import.insurers.generali import GeneraliAdapter
from a21import.insurers.hestia import HestiaAdapter
from a21import.insurers.hiperio import HiperioAdapter
from a21import.insurers.insly import InslyAdapter
from a21import.insurers.proama import ProamaAdapter
from a21import.insurers.skaner2 import Skaner2Adapter
from a21import.insurers.tuz import TuzAdapter
from a21import.insurers.unimarket import UnimarketAdapter
from a21import.insurers.warta import WartaAdapter
from a21import.model import ListedPolicy

DATA = Path(__file__).parent / "data"
WINDOW = (date(2026, 11, 1), date(2026, 11, 16))

# What a hostile or broken app could list as a number or an id. (A listed number's control characters are
# already removed by the model, so they are tried on ids, which the model does not touch.)
HOSTILE_NUMBERS = ["../wyloguj?x=", "a/b?x=", "..", ".", "", "%2e%2e", "..%2fwyloguj", "a#b", "a\\b",
                   "909123456789/raty", "909123456789?x=1", "//evil.example/x", "x" * 500]
HOSTILE = HOSTILE_NUMBERS + ["x\x00y", "x\x1b[2Ky", "\u202e123", "12\n34"]


class RecordingTab:
    """A tab that records every URL asked for and answers with `answer(url, n)` → (status, text)."""

    def __init__(self, host: str, answer=None, evaluate=None, html: str = ""):
        self.host, self.url = host, f"https://{host}/"
        self.urls: list[str] = []
        self.bodies: list[str | None] = []
        self._answer = answer or (lambda url, n: (404, "{}"))
        self._evaluate, self._html = evaluate, html

    async def fetch(self, url, *, method="GET", headers=None, body=None):
        self.urls.append(url)
        self.bodies.append(body)
        status, text = self._answer(url, len(self.urls))
        return FetchResponse(status, urljoin(self.url, url), text)

    async def evaluate(self, expression, arg=None):
        return self._evaluate

    async def html(self):
        return self._html


def run(coro):
    return asyncio.run(coro)


def read(adapter, item: ListedPolicy) -> Exception | None:
    try:
        run(adapter.read_policy(item))
    except Exception as exc:  # whatever the fake answer makes of it: only the URLs matter here
        return exc
    return None


def resolved(tab: RecordingTab, url: str):
    """The URL as the browser resolves it against the tab (dot segments removed)."""
    return urlsplit(urljoin(tab.url, url))


# -- the helper --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, encoded", [
    ("../wyloguj?x=", "..%2Fwyloguj%3Fx%3D"), ("a/b?x=", "a%2Fb%3Fx%3D"), ("%2e%2e", "%252e%252e"),
    ("a#b", "a%23b"), ("a\\b", "a%5Cb"), ("Łąka 1", "%C5%81%C4%85ka%201"), (48213, "48213"),
    ("3f2b6c1e-8a4d-4c1f-9b7e-2d5a6f0e1c93", "3f2b6c1e-8a4d-4c1f-9b7e-2d5a6f0e1c93"),
])
def test_segment_encodes_one_segment(value, encoded):
    assert segment(value) == encoded
    assert urlsplit(urljoin("https://h/", "/polisa/" + encoded)).path == "/polisa/" + encoded


@pytest.mark.parametrize("value", ["", ".", "..", "x\x00y", "x\ny", "x\x1b[31my", "\u202e1", "\u2066x", "x\u0085",
                                   "a\u00a0b", "x" * 101, None, True, 1.5, ["a"]])
def test_segment_refuses_what_cannot_be_one_segment(value):
    assert segment(value) is None


def test_query_encodes_every_value_and_leaves_out_none():
    url = base.Adapter.query("/polisy", {"numer": "a/b&c=d#e", "strona": 2, "kursor": None})
    assert url == "/polisy?numer=a%2Fb%26c%3Dd%23e&strona=2"
    assert parse_qs(urlsplit(url).query) == {"numer": ["a/b&c=d#e"], "strona": ["2"]}


# -- adapters whose numbers go into the URL: a number not of the app's form is refused, unsent ----------
def hestia():
    adapter = HestiaAdapter(RecordingTab("ihestia.ergohestia.pl"), source="ihestia")
    adapter.identity = "ERGO_HESTIA"
    return adapter


def warta(host: str):
    return WartaAdapter(RecordingTab(host, evaluate={"agentOuid": "A00005152001", "agentName": "Jan Kowalski"}))


NUMBERED = {
    "hestia": (hestia, "ERGO_HESTIA", "909123456789", "/polisa/909123456789"),
    "hiperio": (lambda: HiperioAdapter(RecordingTab("hiperio.pl")), "PZU", "PL-2026-1",
                "/api/sprzedaz/polisy/PL-2026-1"),
    "proama": (lambda: ProamaAdapter(RecordingTab("proagent.proama.pl", evaluate={"auth": '{"accessToken": "t"}'})),
               "PROAMA", "5600123456", "/agent-api/v1/polisy/5600123456"),
    "warta-majatek": (lambda: warta("eagent.warta.pl"), "WARTA", "908123456789",
                      "/view360/api/agents/A00005152001/policies/908123456789"),
    "warta-zycie": (lambda: warta("eplatforma.warta.pl"), "WARTA_ZYCIE", "8012345678", "/polisa?nr=8012345678"),
}


@pytest.mark.parametrize("app", NUMBERED)
@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_a_listed_number_not_of_the_apps_form_is_refused_before_any_request(app, value):
    make, insurer, _good, _url = NUMBERED[app]
    adapter = make()
    with pytest.raises(UnsafeValue) as refused:
        run(adapter.read_policy(ListedPolicy(number=value, insurer=insurer)))
    assert adapter.tab.urls == []
    assert isinstance(refused.value, PolicyError)  # red, the others go on
    assert adapter.title in refused.value.reason
    assert "\x1b" not in refused.value.reason and "\x00" not in refused.value.reason
    assert len(refused.value.reason) < 250  # the value is quoted shortened


@pytest.mark.parametrize("app", NUMBERED)
def test_a_number_of_the_apps_form_is_requested_as_before(app):
    make, insurer, good, url = NUMBERED[app]
    adapter = make()
    read(adapter, ListedPolicy(number=good, insurer=insurer))
    assert adapter.tab.urls[0] == url


def test_the_reason_names_the_app_and_the_value():
    with pytest.raises(UnsafeValue) as refused:
        run(hestia().read_policy(ListedPolicy(number="../wyloguj?x=", insurer="ERGO_HESTIA")))
    assert refused.value.reason == ("Ergo Hestia iHestia sent the policy number '../wyloguj?x=', which is not in the "
                                    "form of its policy numbers, so this policy was not read.")


@pytest.mark.parametrize("value", HOSTILE)
def test_hestia_refresh_look_up_of_a_stored_number_is_refused_too(value):
    adapter = hestia()
    with pytest.raises(UnsafeValue):
        run(adapter.lookup(value))
    assert adapter.tab.urls == []


# -- adapters whose ids (opaque handles of the list) go into the URL: one encoded segment or refused -------
OPAQUE = {
    "generali": (lambda: GeneraliAdapter(RecordingTab("merkury.generali.pl", evaluate="XSRF-TOKEN=t")),
                 "2611034521", "/api/v2/policies/"),
    "skaner2": (lambda: Skaner2Adapter(RecordingTab("skaner2.punkta.pl")), "PL/2026/0012345", "/polisy/"),
    "tuz": (lambda: TuzAdapter(RecordingTab("sobol-agencyjny.tuz.pl")), "KOS1234567", "/insured/contracts/"),
}


@pytest.mark.parametrize("app", OPAQUE)
@pytest.mark.parametrize("value", HOSTILE)
def test_a_listed_id_stays_one_encoded_segment_or_is_refused(app, value):
    make, number, prefix = OPAQUE[app]
    adapter = make()
    failure = read(adapter, ListedPolicy(number=number, insurer="X", ref=value))
    if segment(value) is None:
        # Refused (an empty id is no id: Merkury+ then looks the number up instead, in a query).
        assert not [url for url in adapter.tab.urls if url.startswith(prefix)], adapter.tab.urls
        assert failure is not None
        return
    assert adapter.tab.urls == [prefix + quote(value, safe="")]
    where = resolved(adapter.tab, adapter.tab.urls[0])
    assert (where.query, where.fragment, where.netloc) == ("", "", adapter.tab.host)
    rest = where.path[len(prefix):]
    assert where.path.startswith(prefix) and rest and "/" not in rest


@pytest.mark.parametrize("value", HOSTILE + [-1, 10**30])
def test_insly_ids_are_whole_numbers_in_one_segment(value):
    adapter = InslyAdapter(RecordingTab("agencja.insly.com", evaluate="csrf"))
    read(adapter, ListedPolicy(number="MT/2026/149142", insurer="WARTA", ref=value))
    for url in adapter.tab.urls:
        assert re.fullmatch(r"/api/policy/-?\d+", url), url
    adapter = InslyAdapter(RecordingTab("agencja.insly.com", evaluate="csrf"))
    read(adapter, ListedPolicy(number="MT/2026/149142", insurer="WARTA", ref=184467))
    assert adapter.tab.urls == ["/api/policy/184467"]


@pytest.mark.parametrize("value", ["../wyloguj?x=", "a/b?x=", "1032/2026/000451"])
def test_unimarket_numbers_travel_only_in_the_graphql_body(value):
    adapter = UnimarketAdapter(RecordingTab("unimarket.unilink.pl"))
    read(adapter, ListedPolicy(number=value, insurer="PZU", ref=value))
    assert adapter.tab.urls == ["/graphql"]
    assert json.loads(adapter.tab.bodies[0])["variables"] == {"number": value}


@pytest.mark.parametrize("value", ["../wyloguj?x=", "a/b&strona=9#x"])
def test_look_ups_by_number_put_it_into_one_query_value(value):
    skaner = Skaner2Adapter(RecordingTab("skaner2.punkta.pl"))
    read(skaner, ListedPolicy(number=value, insurer="X"))  # no ref: refused, no request
    assert skaner.tab.urls == []
    try:
        run(skaner.lookup(value))
    except Exception:
        pass
    url = skaner.tab.urls[0]
    assert urlsplit(url).path == "/polisy" and parse_qs(urlsplit(url).query) == {"numer": [value]}


# -- pagers that never end ---------------------------------------------------------------------
def text(app: str, name: str) -> str:
    return (DATA / app / name).read_text(encoding="utf-8")


def hestia_page(n: int, *, same: bool = False) -> str:
    page = text("hestia", "search_page1.html").replace("Strona 1 z 3", f"Strona {n} z 999999")
    return page if same else page.replace("909123456789", f"909{n:09d}")


def generali_page(n: int, *, same: bool = False) -> str:
    data = json.loads(text("generali", "list_page0.json"))
    data["page"]["totalPages"] = 10**9
    if not same:
        data["content"][0]["policyNumber"] = f"27{n:08d}"
    return json.dumps(data)


def tuz_page(n: int, *, same: bool = False) -> str:
    page = text("tuz", "list_generated_page1.html")
    return page if same else page.replace("<td>0000480</td>", f"<td>{n:07d}</td>", 1)


def unimarket_page(n: int, *, same: bool = False) -> str:
    data = json.loads(text("unimarket", "policies_page1.json"))
    data["data"]["policies"]["pageInfo"]["endCursor"] = f"cursor-{n}"
    if not same:
        data["data"]["policies"]["edges"][0]["node"]["number"] = f"9999/2026/{n:06d}"
    return json.dumps(data)


ENDLESS = {
    "hestia (HTML, Strona X z Y)": (hestia, hestia_page),
    "generali (JSON, totalPages)": (lambda: GeneraliAdapter(RecordingTab("merkury.generali.pl", evaluate="XSRF-TOKEN=t")),
                                    generali_page),
    "tuz (HTML, li.next)": (lambda: TuzAdapter(RecordingTab("sobol-agencyjny.tuz.pl")), tuz_page),
    "unimarket (GraphQL, cursor)": (lambda: UnimarketAdapter(RecordingTab("unimarket.unilink.pl")), unimarket_page),
}


def endless(make, page, *, same: bool = False):
    adapter = make()
    adapter.tab._answer = lambda url, n: (200, page(n, same=same))
    return adapter


async def collect(adapter):
    return [item async for item in adapter.list_policies(*WINDOW)]


@pytest.mark.parametrize("app", ENDLESS)
def test_a_pager_that_never_ends_stops_at_the_bound(app, monkeypatch):
    monkeypatch.setattr(base, "MAX_LIST_PAGES", 12)
    adapter = endless(*ENDLESS[app])
    with pytest.raises(EndlessList) as stopped:
        run(collect(adapter))
    assert len(adapter.tab.urls) == 12
    assert stopped.value.reason == (f"{adapter.title} still offers another page of its policy list after 12 pages, "
                                    "so a21import stopped reading the list.")


@pytest.mark.parametrize("app", ENDLESS)
def test_a_page_repeating_the_one_before_stops_the_list(app):
    adapter = endless(*ENDLESS[app], same=True)
    with pytest.raises(EndlessList, match="same policies as the page before it"):
        run(collect(adapter))
    assert len(adapter.tab.urls) == 2


def test_the_bound_is_far_above_any_real_window():
    # 16 days of the busiest agency: a few thousand policies, 20 to 50 a page.
    assert 200 <= base.MAX_LIST_PAGES <= 1000
    assert issubclass(EndlessList, PolicyError)  # run_period turns it into "the list could not be read", exit 3
