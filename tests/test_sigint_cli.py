"""Ctrl-C always stops (issue 11, point 15), in the real Chromium with the fixture iHestia and the real CLI.

A terminal sends SIGINT to the whole foreground process group: the CLI and its Playwright Node driver. At
every point of a run (before attaching, while listing, while a policy is read, between policies, in the
middle of a write) the run must end with exit 130, the sentence, and the summary of what was stored
(with --json, the document with exit_code 130), having stopped at once: never with exit 0 after importing
everything.

Two ways to time the signal:
- exactly, from inside the CLI: the CLI runs under a small hook (HOOK, passed with `python -c`) that sends
  SIGINT to its own process group on the n-th call of a chosen function, before or after the call. "After
  the n-th in-page request" is the moment the app's answer has arrived and the coroutine that waits for it
  has not run yet: the window in which asyncio.wait_for (Python 3.11) returned the answer and dropped the
  cancellation, so that the run went on to import everything and exit 0;
- as a user would, from outside: when the portal's request log reaches a count (repeated a few times).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, login
from tests.fixtures.hestia_portal import HestiaPortal
from tests.test_faults_cli import NOT_READ, assert_whole, cli_env, count, one_line
from tests.test_hestia_cli import ihestia_policies

pytestmark = pytest.mark.integration
# Timed from outside (by the portal's request count), the signal's moment depends on the machine's load: those
# tests run alone, after the parallel workers (scripts/test.sh). Those timed from inside the CLI run anywhere.
alone = pytest.mark.serial

PERIOD_ARGS = ("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia", "--yes")
COUNT = 30  # 23 iHestia policies: 2 list pages, then 2 requests a policy (the policy, its installments)
LIST_PAGES = 2
INTERRUPTED = "Interrupted. Every policy shown as imported is stored whole"
NOTHING_STORED = "Interrupted before any policy was stored; nothing was written to the database."
FETCH = "a21import.browser:PageTab._call_isolated"  # one in-page request: its answer is back when it returns

# Sends SIGINT to the CLI's own process group (as a terminal does) on the n-th call of a function, then runs
# the CLI. A21_TEST_SIGINT_AT = "module:Qualified.name:before|after:n".
HOOK = r"""
import asyncio, functools, importlib, os, signal, sys
import a21import.cli
target, when, nth = os.environ.pop("A21_TEST_SIGINT_AT").rsplit(":", 2)
module, _, name = target.partition(":")
owner = importlib.import_module(module)
*parents, attr = name.split(".")
for parent in parents:
    owner = getattr(owner, parent)
original, calls = getattr(owner, attr), [0]
def fire(moment, n):
    if moment == when and n == int(nth):
        os.killpg(0, signal.SIGINT)
if asyncio.iscoroutinefunction(original):
    async def wrapper(*args, **kwargs):
        calls[0] += 1
        n = calls[0]
        fire("before", n)
        result = await original(*args, **kwargs)
        fire("after", n)
        return result
else:
    def wrapper(*args, **kwargs):
        calls[0] += 1
        n = calls[0]
        fire("before", n)
        result = original(*args, **kwargs)
        fire("after", n)
        return result
setattr(owner, attr, functools.wraps(original)(wrapper))
a21import.cli.main()
"""


# Requests that may still reach the app after Ctrl-C: those already in flight in the tab (one a worker at the
# default concurrency of 2, each possibly followed by the in-page redirect probe). An import that went on
# would make dozens more.
IN_FLIGHT = 4


def requests_made(portal: HestiaPortal) -> int:
    """The CLI's requests to the app (the browser's own, such as the favicon, left out)."""
    return sum(1 for _, _, path in portal.log if path.startswith("/polis"))


def start(cdp_url: str, db_path, *extra: str, at: str | None = None) -> subprocess.Popen:
    """The CLI in a process group of its own (so that SIGINT reaches it and its driver, and nothing else)."""
    command = [sys.executable, "-c", HOOK] if at else [sys.executable, "-m", "a21import"]
    env = cli_env(cdp_url, db_path, **({"A21_TEST_SIGINT_AT": at} if at else {}))
    return subprocess.Popen([*command, *PERIOD_ARGS, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its group (the driver), if anything
        except (ProcessLookupError, PermissionError):
            pass


def assert_interrupted(proc: subprocess.Popen, db_path, portal: HestiaPortal, *, json_output: bool = False,
                       started: bool = True) -> tuple[str, str]:
    """Exit 130 with the sentence and the summary, the database holding whole policies, not all of them."""
    out, err = finish(proc)
    total = len(ihestia_policies(portal))
    stored = assert_whole(db_path, portal) if count(db_path) else set()
    assert proc.returncode == 130, f"exit {proc.returncode}, {len(stored)} of {total} stored\n{out}\n{err}"
    assert "Traceback" not in out + err
    assert len(stored) < total, f"Ctrl-C was ignored: all {total} policies were imported\n{out}"
    if json_output:
        document = json.loads(out)
        assert document["exit_code"] == 130
        assert document["error"].startswith(INTERRUPTED if stored else NOTHING_STORED)
        assert {p["number"] for p in document["policies"] if p["status"] == "done"} == stored
        if started:
            assert document["counts"]["not read"] == total - len(stored)
    else:
        assert (INTERRUPTED if stored else NOTHING_STORED) in one_line(err), err
        if started:
            assert f"Imported {len(stored)} polic" in out, out
            assert NOT_READ.format(n=total - len(stored)) in one_line(out), out
    return out, err


@pytest.fixture
def portal(user_context):
    with HestiaPortal(count=COUNT) as portal:
        login(user_context, portal)
        del portal.log[:]  # the CLI's requests only
        yield portal


# -- exactly timed, from inside the CLI -------------------------------------------------------------------
POINTS = {
    # before attach: options checked, the database open, the browser not touched yet
    "before attach": ("a21import.importer:check_options:before:1", False, 0),
    "attached, before the tab is read": ("a21import.browser:Browser.tabs:after:1", False, 0),
    # the first list page has come back; the listing task has not seen it yet
    "listing, an answer just back": (f"{FETCH}:after:1", False, 1),
    "listing, the last page just back": (f"{FETCH}:after:{LIST_PAGES}", False, LIST_PAGES),
    "listing, a page requested": (f"{FETCH}:before:{LIST_PAGES}", False, LIST_PAGES),
    "a policy's page just back": (f"{FETCH}:after:{LIST_PAGES + 1}", True, LIST_PAGES + 1),
    "a policy's installments just back": (f"{FETCH}:after:{LIST_PAGES + 4}", True, LIST_PAGES + 4),
    "a policy's page requested": (f"{FETCH}:before:{LIST_PAGES + 7}", True, LIST_PAGES + 7),
    "between policies": ("a21import.importer:_Recorder.row_changed:after:4", True, LIST_PAGES + 4),
    "before a write": ("a21import.db:save_policy:before:2", True, LIST_PAGES + 4),
    "in the middle of a write": ("a21import.db:_upsert:after:4", True, LIST_PAGES + 4),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_ctrl_c_at_each_point_of_a_run_exits_130_with_the_summary(portal, chromium, db_path, point):
    at, started, requests = POINTS[point]
    proc = start(chromium.cdp_url, db_path, at=at)
    assert_interrupted(proc, db_path, portal, started=started)
    made = requests_made(portal)
    assert made <= requests + IN_FLIGHT, f"{made} requests: the import went on after Ctrl-C"


@pytest.mark.parametrize("point", ["listing, an answer just back", "a policy's page just back"])
def test_ctrl_c_with_json_at_a_point_prints_the_document_with_exit_code_130(portal, chromium, db_path, point):
    at, started, requests = POINTS[point]
    proc = start(chromium.cdp_url, db_path, "--json", at=at)
    assert_interrupted(proc, db_path, portal, json_output=True, started=started)
    assert requests_made(portal) <= requests + IN_FLIGHT


@pytest.mark.parametrize("concurrency", ["2", "4"])
def test_ctrl_c_with_several_reads_in_flight_stops_them_all(portal, chromium, db_path, concurrency):
    requests = LIST_PAGES + 6
    proc = start(chromium.cdp_url, db_path, "--concurrency", concurrency, at=f"{FETCH}:after:{requests}")
    assert_interrupted(proc, db_path, portal)
    assert requests_made(portal) <= requests + int(concurrency)


# -- timed as a user would, from outside ------------------------------------------------------------------
def wait_for_requests(portal: HestiaPortal, n: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while requests_made(portal) < n:
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = finish(proc)
            pytest.fail(f"the import ended (exit {proc.returncode}) before {n} requests:\n{out}\n{err}")
        time.sleep(0.002)


@alone
@pytest.mark.parametrize("requests", [
    pytest.param(0, id="before attach"),
    pytest.param(1, id="listing"),
    *(pytest.param(n, id=f"after {n} requests #{i}") for n in (LIST_PAGES + 1, 6, 9) for i in (1, 2)),
])
def test_ctrl_c_to_the_process_group_as_a_terminal_sends_it(portal, chromium, db_path, requests):
    portal.latency = 0.2
    proc = start(chromium.cdp_url, db_path)
    if requests:
        wait_for_requests(portal, requests, proc)
    else:
        deadline = time.monotonic() + 30
        while not db_path.exists() and time.monotonic() < deadline:  # opened just before the browser
            time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGINT)
    made = requests_made(portal)
    assert_interrupted(proc, db_path, portal, started=requests > LIST_PAGES)
    assert requests_made(portal) <= made + 2  # the two in flight (--concurrency 2) at most
