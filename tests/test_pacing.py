"""The pacer: 429/503 slow the import down and the request is sent again; a few times at most."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from a21import.errors import PolicyError, Throttled
from a21import.insurers.base import FetchResponse
from a21import.insurers.tuz import TuzAdapter
from a21import.insurers.warta import WartaAdapter
from a21import.model import ListedPolicy
from a21import.pacing import Pacer, retry_after_seconds

DATA = Path(__file__).resolve().parent / "data"


class FakeClock:
    """Time that moves only when the pacer sleeps: the sleeps are recorded, never waited."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class FakeTab:
    """Answers each URL with its queue of (status, body, Retry-After); the last answer repeats."""

    host = "sobol-agencyjny.tuz.pl"
    url = "http://sobol-agencyjny.tuz.pl/insured/contracts"

    def __init__(self, answers: dict[str, list[tuple[int, str, str | None]]], *, delay: float = 0.0):
        self.answers = answers
        self.fetched: list[str] = []
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, url, *, method="GET", headers=None, body=None):
        self.fetched.append(url)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        queue = self.answers[url]
        status, text, retry_after = queue.pop(0) if len(queue) > 1 else queue[0]
        return FetchResponse(status, f"http://{self.host}{url}", text, "text/html", retry_after)

    async def evaluate(self, expression, arg=None):  # pragma: no cover - not used here
        raise AssertionError("no scripts in these tests")

    async def html(self):  # pragma: no cover - not used here
        return ""


def tuz_page(name: str) -> str:
    return (DATA / "tuz" / name).read_text(encoding="utf-8")


def paced(adapter, clock: FakeClock, limit: int = 1):
    adapter.pacer = Pacer(limit, sleep=clock.sleep, clock=clock)
    return adapter


DETAIL = "/insured/contracts/4711"
ITEM = ListedPolicy(number="KOS1234567", insurer="TUZ", ref="4711")


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    # 1 January 2030 00:00:10 UTC, ten seconds after "now"
    assert retry_after_seconds("Tue, 01 Jan 2030 00:00:10 GMT", now=1893456000.0) == 10.0


def test_429_is_sent_again_after_retry_after_and_the_policy_is_read():
    detail = tuz_page("detail_kos_person.html")
    clock = FakeClock()
    tab = FakeTab({DETAIL: [(429, "Too Many Requests", "5"), (200, detail, None)]})
    adapter = paced(TuzAdapter(tab), clock, limit=4)

    policy = asyncio.run(adapter.read_policy(ITEM))

    assert policy.number == ITEM.number
    assert tab.fetched == [DETAIL, DETAIL]  # the same request, once more
    assert clock.sleeps == [5.0]  # Retry-After honoured
    assert adapter.pacer.limit == 2  # halved from 4
    assert adapter.pacer.throttled == 1


def test_503_without_retry_after_backs_off_exponentially_then_throttled():
    clock = FakeClock()
    tab = FakeTab({DETAIL: [(503, "Service Unavailable", None)]})
    adapter = paced(TuzAdapter(tab), clock, limit=8)

    with pytest.raises(Throttled) as caught:
        asyncio.run(adapter.read_policy(ITEM))

    assert isinstance(caught.value, PolicyError)  # that policy is red, the others go on
    assert "kept asking to slow down (HTTP 503)" in caught.value.reason
    assert len(tab.fetched) == 4  # the first send and three more
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert adapter.pacer.limit == 1  # 8 → 4 → 2 → 1, never below 1


def test_limit_halves_for_everyone_and_grows_back_slowly():
    detail = tuz_page("detail_kos_person.html")
    clock = FakeClock()
    pacer = Pacer(4, sleep=clock.sleep, clock=clock)
    pacer.limit = 2  # as after one 429
    ok = FetchResponse(200, "http://x/", detail)

    async def send_ok():
        return ok

    async def run():
        for _ in range(4):
            await pacer.send(send_ok)

    asyncio.run(run())
    assert pacer.limit == 3  # 2·2 answers at 2, then one more
    asyncio.run(run())
    assert pacer.limit == 3  # 2·3 answers needed at 3
    asyncio.run(run())
    assert pacer.limit == 4  # back at the import's concurrency, and no further
    asyncio.run(run())
    assert pacer.limit == 4


def test_no_more_requests_in_flight_than_the_limit():
    answers = {f"/r/{i}": [(200, "ok", None)] for i in range(12)}
    tab = FakeTab(answers, delay=0.01)
    pacer = Pacer(3)

    async def run():
        await asyncio.gather(*(pacer.send(lambda url=url: tab.fetch(url)) for url in answers))

    asyncio.run(run())
    assert len(tab.fetched) == 12
    assert tab.most_in_flight == 3


def test_after_a_429_every_request_waits_and_fewer_are_in_flight():
    answers = {f"/r/{i}": [(200, "ok", None)] for i in range(8)}
    answers["/r/0"] = [(429, "slow down", "2"), (200, "ok", None)]
    clock = FakeClock()
    tab = FakeTab(answers, delay=0.01)
    pacer = Pacer(4, sleep=clock.sleep, clock=clock)

    async def run():
        return await asyncio.gather(*(pacer.send(lambda url=url: tab.fetch(url)) for url in answers))

    responses = asyncio.run(run())
    assert [r.status for r in responses] == [200] * 8
    assert tab.fetched.count("/r/0") == 2
    assert pacer.throttled == 1
    assert 2.0 in clock.sleeps
    assert pacer.limit <= 4


ZYCIE_HOST = "eplatforma.warta.pl"


def test_warta_zycie_503_stays_the_policys_own_failure():
    """ePlatforma documents 503 as its back-end failure on one policy: red at once, never retried."""
    clock = FakeClock()
    installments = "/polisa/raty?nr=8012345678"
    tab = FakeTab({installments: [(503, (DATA / "warta" / "zycie_backend_error.html").read_text("utf-8"), None)]})
    tab.host, tab.url = ZYCIE_HOST, f"http://{ZYCIE_HOST}/polisy/lista"
    adapter = paced(WartaAdapter(tab, "zycie"), clock, limit=4)
    detail = (DATA / "warta" / "zycie_policy_person.html").read_text("utf-8")
    item = ListedPolicy(number="8012345678", insurer="WARTA_ZYCIE", ref={"number": "8012345678", "detail": detail})

    with pytest.raises(PolicyError) as caught:
        asyncio.run(adapter.read_policy(item))

    assert not isinstance(caught.value, Throttled)
    assert "HTTP 503" in caught.value.reason
    assert tab.fetched == [installments]  # asked once
    assert clock.sleeps == []
    assert adapter.pacer.limit == 4


def test_warta_zycie_429_still_slows_down():
    clock = FakeClock()
    installments = "/polisa/raty?nr=8012345678"
    tab = FakeTab({installments: [(429, "Too Many Requests", "1"), (503, "", None)]})
    tab.host, tab.url = ZYCIE_HOST, f"http://{ZYCIE_HOST}/polisy/lista"
    adapter = paced(WartaAdapter(tab, "zycie"), clock, limit=2)

    response = asyncio.run(adapter.fetch(installments, throttle_503=False))

    assert response.status == 503
    assert clock.sleeps == [1.0]
    assert adapter.pacer.limit == 1
