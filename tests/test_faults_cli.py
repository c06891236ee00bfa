"""Faults in the middle of an import, and what the tool connects to (issue #5), in the real Chromium
with the fixture iHestia and the real CLI: the tab or the browser closed mid-batch, a locked database,
Ctrl-C, kill -9, two imports into one database at once, and a socket audit of the CLI process tree.

Each fault ends with its exit code and sentence, every stored policy is whole (its installments and
coverages are exactly the portal's), and running the period again imports only what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from a21import import db as database
from tests.conftest import ROOT, login, rows
from tests.fixtures.chromium import Chromium
from tests.fixtures.hestia_portal import HestiaPortal
from tests.test_hestia_cli import ihestia_policies

pytestmark = pytest.mark.integration

HOST = HestiaPortal.HOSTS[0]
PERIOD_ARGS = ("period", "--from", "2026-11-01", "--to", "2026-11-16", "--source", "ihestia", "--yes")
TAB_GONE = (f"The tab of {HOST} or the browser was closed while a21import was reading it. Open the app again, "
            "log in if needed, and run the command again; the policies imported so far are kept.")
NOT_READ = "Policies not read because the import stopped: {n}."
ALREADY = "Policies already in the database, left out: {n}."


# -- helpers -----------------------------------------------------------------------------------------
def cli_env(cdp_url: str, db_path, **extra: str) -> dict[str, str]:
    """The environment of the `run_cli` fixture, for a CLI started in the background."""
    return {**os.environ, "A21IMPORT_CDP": cdp_url, "A21IMPORT_DB": str(db_path), "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8", "A21IMPORT_LANG": "en",
            "A21IMPORT_LOG": str(Path(db_path).parent / "a21import.log"), **extra}


def start_cli(cdp_url: str, db_path, *args: str, env: dict[str, str] | None = None,
              prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    """Starts `python -m a21import ARGS` in its own process group (so a test can clean up after it)."""
    return subprocess.Popen([*prefix, sys.executable, "-m", "a21import", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(cdp_url, db_path, **(env or {})),
                            cwd=ROOT, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
        _kill_leftovers(proc)


def _kill_leftovers(proc: subprocess.Popen) -> None:
    """The CLI's own children (the Playwright driver) when the CLI itself was killed: its group only."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def one_line(text: str) -> str:
    """Rich wraps long sentences to the terminal width: compare with the words joined by single spaces."""
    return " ".join(text.split())


def count(db_path) -> int:
    """Stored policies, read as another program would while the import runs (read-only, WAL)."""
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM policies").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet
        return 0


def wait_for_rows(db_path, n: int, proc: subprocess.Popen, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = count(db_path)
        if stored >= n:
            return stored
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the import ended (exit {proc.returncode}) before {n} policies were stored:\n{out}\n{err}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"fewer than {n} policies were stored within {timeout} s")


def assert_whole(db_path, portal: HestiaPortal) -> set[str]:
    """Every stored policy is exactly the portal's, with all its installments and coverages; no orphans.
    Returns the stored numbers."""
    stored = rows(db_path, "SELECT * FROM policies")
    for row in stored:
        identity, fake = portal.by_number[row["number"]]
        assert row["id"] == f"{identity}:{fake.number}"
        assert row["premium_gr"] == fake.premium_gr
        installments = rows(db_path, "SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
        assert [(i["seq"], i["due_date"], i["amount_gr"], i["paid"]) for i in installments] == [
            (i.seq, i.due_date.isoformat(), i.amount_gr, int(i.paid)) for i in fake.installments], row["id"]
        coverages = rows(db_path, "SELECT * FROM coverages WHERE policy_id = ? ORDER BY code", row["id"])
        assert [(c["code"], c["sum_insured_gr"], c["premium_gr"]) for c in coverages] == sorted(
            (c.code, c.sum_insured_gr, c.premium_gr) for c in fake.coverages), row["id"]
        assert rows(db_path, "SELECT name FROM clients WHERE id = ?", row["holder_id"])[0]["name"] == fake.holder.name
    orphans = rows(db_path, "SELECT count(*) AS n FROM installments WHERE policy_id NOT IN (SELECT id FROM policies)")
    assert orphans[0]["n"] == 0
    orphans = rows(db_path, "SELECT count(*) AS n FROM coverages WHERE policy_id NOT IN (SELECT id FROM policies)")
    assert orphans[0]["n"] == 0
    return {row["number"] for row in stored}


def details_read(portal: HestiaPortal, since: int) -> list[str]:
    """The numbers whose policy page was requested after log entry `since`."""
    return [path.split("/")[2] for _, _, path in portal.log[since:]
            if path.startswith("/polisa/") and not path.endswith("/raty")]


def start_slow_import(context, portal: HestiaPortal, cdp_url: str, db_path, *extra: str, latency: float = 0.3,
                      rows_first: int = 2, env: dict[str, str] | None = None):
    """Logs in, slows the portal down, starts the import in the background and returns (tab, process)
    once `rows_first` policies are stored."""
    page = login(context, portal)
    portal.latency = latency
    proc = start_cli(cdp_url, db_path, *PERIOD_ARGS, *extra, env=env)
    wait_for_rows(db_path, rows_first, proc)
    return page, proc


def assert_stopped(proc: subprocess.Popen, db_path, portal: HestiaPortal, *, code: int, sentence: str) -> set[str]:
    """The stopped import: its exit code and sentence, a summary that matches the database, every stored
    policy whole, some but not all of them stored. Returns the stored numbers."""
    out, err = finish(proc, timeout=30)
    assert proc.returncode == code, out + err
    assert sentence in one_line(err)
    assert "Traceback" not in err
    expected = {p.number for p in ihestia_policies(portal)}
    kept = assert_whole(db_path, portal)
    assert 2 <= len(kept) < len(expected)
    assert f"Imported {len(kept)} policies." in out
    assert NOT_READ.format(n=len(expected) - len(kept)) in one_line(out)
    return kept


def run_again_imports_only_the_missing(user_context, run_cli, db_path, portal: HestiaPortal, kept: set[str]) -> None:
    """Runs the period again (logged in afresh, no latency): only the missing policies are read, and the
    database then holds every policy of the period exactly once, whole."""
    expected = {p.number for p in ihestia_policies(portal)}
    portal.latency = 0
    login(user_context, portal)
    since = len(portal.log)
    result = run_cli(*PERIOD_ARGS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ALREADY.format(n=len(kept)) in one_line(result.stdout)
    assert sorted(details_read(portal, since)) == sorted(expected - kept)
    assert assert_whole(db_path, portal) == expected
    assert rows(db_path, "SELECT count(*) AS n FROM policies")[0]["n"] == len(expected)
    assert rows(db_path, "SELECT count(*) AS n FROM installments")[0]["n"] == sum(
        len(portal.by_number[n][1].installments) for n in expected)


# -- 1. the tab closed mid-batch -------------------------------------------------------------------------
def test_tab_closed_mid_batch_exits_3_keeping_whole_policies(user_context, run_cli, chromium, db_path):
    with HestiaPortal(count=16) as portal:
        page, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "1")
        page.close()
        kept = assert_stopped(proc, db_path, portal, code=3, sentence=TAB_GONE)
        run_again_imports_only_the_missing(user_context, run_cli, db_path, portal, kept)


# -- 2. the browser closed mid-batch ---------------------------------------------------------------------
def test_browser_closed_mid_batch_exits_3_keeping_whole_policies(playwright, tmp_path):
    db_path = tmp_path / "own-browser.db"
    with HestiaPortal(count=16) as portal, Chromium() as own:
        browser = playwright.chromium.connect_over_cdp(own.cdp_url)
        _, proc = start_slow_import(browser.contexts[0], portal, own.cdp_url, db_path, "--concurrency", "1")
        own.stop()  # the user closes the browser (SIGTERM to its process group)
        assert_stopped(proc, db_path, portal, code=3, sentence=TAB_GONE)
        assert database.open_db(db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- 3. a locked database --------------------------------------------------------------------------------
@contextmanager
def write_lock(db_path):
    """Another program holding the database's write lock (WAL: readers go on, writers wait)."""
    con = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    try:
        con.execute("BEGIN IMMEDIATE")
        yield
        con.execute("ROLLBACK")
    finally:
        con.close()


def test_database_locked_for_a_while_mid_batch_waits_and_finishes(user_context, chromium, db_path):
    with HestiaPortal(count=10) as portal:
        expected = {p.number for p in ihestia_policies(portal)}
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "1",
                                    latency=0.15, env={"A21IMPORT_DB_TIMEOUT": "20"})
        with write_lock(db_path):
            during = count(db_path)  # readers are not blocked
            time.sleep(2)
            assert count(db_path) == during  # nothing was written while the lock was held
            assert proc.poll() is None  # the import waits
            requested = len(details_read(portal, 0))
            assert requested > during  # it read the next policy and waits to store it
        out, err = finish(proc)
        assert proc.returncode == 0, out + err
        assert assert_whole(db_path, portal) == expected
        assert f"Imported {len(expected)} policies." in out


def test_database_locked_longer_than_the_timeout_exits_3_writing_nothing_half(user_context, chromium, db_path):
    locked = (f"The database {db_path} stayed locked by another program for 1 second. Close the program "
              "that uses it and run the command again.")
    with HestiaPortal(count=10) as portal:
        login(user_context, portal)
        database.open_db(db_path).conn.close()
        # Locked from the start: met when the database is opened, before anything is read from the app.
        with write_lock(db_path):
            proc = start_cli(chromium.cdp_url, db_path, *PERIOD_ARGS, env={"A21IMPORT_DB_TIMEOUT": "1"})
            out, err = finish(proc)
        assert proc.returncode == 3, out + err
        assert locked in one_line(err)
        assert details_read(portal, 0) == [] and count(db_path) == 0
        # Locked in the middle of the batch: met when a policy is stored; that one is not written at all.
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "1",
                                    latency=0.15, env={"A21IMPORT_DB_TIMEOUT": "1"})
        with write_lock(db_path):
            assert_stopped(proc, db_path, portal, code=3, sentence=locked)


@pytest.mark.parametrize("value", ["soon", "0", "nan", "99999"])
def test_invalid_database_timeout_is_bad_input(run_cli, value, db_path):
    result = run_cli(*PERIOD_ARGS, env={"A21IMPORT_DB_TIMEOUT": value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert (f"A21IMPORT_DB_TIMEOUT must be a number of seconds above 0 and at most 3600, not {value!r}."
            in one_line(result.stderr))
    assert not db_path.exists()


# -- 4. Ctrl-C --------------------------------------------------------------------------------------------
def interrupt(proc: subprocess.Popen, *, group: bool) -> None:
    """Ctrl-C in a terminal sends SIGINT to the foreground process group (the CLI and its Playwright
    driver); a script may send it to the CLI's process alone."""
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)


def test_ctrl_c_prints_the_summary_and_exits_130(user_context, run_cli, chromium, db_path):
    with HestiaPortal(count=16) as portal:
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "2")
        interrupt(proc, group=True)
        kept = assert_stopped(proc, db_path, portal, code=130, sentence="Interrupted.")
        run_again_imports_only_the_missing(user_context, run_cli, db_path, portal, kept)


def test_ctrl_c_while_a_write_waits_for_a_lock_stops_at_once(user_context, run_cli, chromium, db_path):
    with HestiaPortal(count=10) as portal:
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "1",
                                    latency=0.15, env={"A21IMPORT_DB_TIMEOUT": "60"})
        with write_lock(db_path):
            before = count(db_path)
            deadline = time.monotonic() + 20
            while len(details_read(portal, 0)) <= before and time.monotonic() < deadline:
                time.sleep(0.05)  # the next policy is read: its write now waits for the lock
            time.sleep(0.5)
            interrupt(proc, group=True)
            started = time.monotonic()
            out, err = finish(proc, timeout=30)
            waited = time.monotonic() - started
        assert proc.returncode == 130, out + err
        assert waited < 5, f"Ctrl-C took {waited:.1f} s to stop an import waiting for a lock"
        assert f"Imported {count(db_path)} " in out
        kept = assert_whole(db_path, portal)
        run_again_imports_only_the_missing(user_context, run_cli, db_path, portal, kept)


def test_ctrl_c_at_a_prompt_stops_at_once(user_context, chromium, db_path):
    """Blocked in a prompt, the CLI would not see asyncio's cancellation until Enter: it must stop."""
    with HestiaPortal(count=5) as portal:
        login(user_context, portal)
        proc = subprocess.Popen([sys.executable, "-m", "a21import", "period", *PERIOD_ARGS[1:5]],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=cli_env(chromium.cdp_url, db_path), cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 30
        while not db_path.exists() and time.monotonic() < deadline:  # opened just before the browser
            time.sleep(0.1)
        time.sleep(3)  # attached, the tab found: the question is asked
        assert proc.poll() is None, "the CLI should be waiting at its question"
        interrupt(proc, group=False)
        started = time.monotonic()
        out, err = finish(proc, timeout=20)
        assert proc.returncode == 130, out + err
        assert time.monotonic() - started < 5
        assert "Which system of Ergo Hestia iHestia should be listed?" in out
        assert "Interrupted before any policy was stored; nothing was written" in err and count(db_path) == 0


def test_ctrl_c_with_json_prints_the_document_with_exit_code_130(user_context, chromium, db_path):
    with HestiaPortal(count=16) as portal:
        expected = {p.number for p in ihestia_policies(portal)}
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "2", "--json")
        interrupt(proc, group=False)
        out, err = finish(proc, timeout=30)
        assert proc.returncode == 130, out + err
        document = json.loads(out)
        assert document["exit_code"] == 130
        assert document["error"].startswith("Interrupted.")
        kept = assert_whole(db_path, portal)
        assert document["counts"]["done"] == len(kept)
        assert {p["number"] for p in document["policies"] if p["status"] == "done"} == kept
        assert document["counts"]["not read"] == len(expected) - len(kept)


# -- 5. kill -9 -------------------------------------------------------------------------------------------
def test_kill_9_leaves_a_clean_database_and_the_rerun_imports_the_rest(user_context, run_cli, chromium, db_path):
    with HestiaPortal(count=16) as portal:
        _, proc = start_slow_import(user_context, portal, chromium.cdp_url, db_path, "--concurrency", "2",
                                    latency=0.2, rows_first=3)
        proc.kill()
        finish(proc)
        assert proc.returncode == -signal.SIGKILL
        con = sqlite3.connect(db_path)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            con.close()
        kept = assert_whole(db_path, portal)
        assert len(kept) >= 3
        run_again_imports_only_the_missing(user_context, run_cli, db_path, portal, kept)


# -- 6. two imports into one database at once -------------------------------------------------------------
WAITS = "Another import into this database is running (PID"


def wait_until(condition, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = finish(proc)
            pytest.fail(f"exit {proc.returncode} before the moment the test waits for:\n{out}\n{err}")
        time.sleep(0.01)


def test_two_imports_at_once_store_each_policy_exactly_once(user_context, chromium, tmp_path):
    with HestiaPortal(count=20, issued=(date(2026, 11, 1), date(2026, 11, 16))) as portal:
        login(user_context, portal)
        portal.latency = 0.02
        all_numbers = {p.number for p in ihestia_policies(portal)}

        # The same period twice, on a new database: both shape it, both store every policy. The first is kept at
        # its first list page (holding the import's lock) until the second says it waits.
        same = tmp_path / "same.db"
        portal.hold = {"/polisy/szukaj"}
        first = start_cli(chromium.cdp_url, same, *PERIOD_ARGS, "--concurrency", "2")
        wait_until(lambda: any(path.startswith("/polisy/szukaj") for _, _, path in portal.log), first)
        second_out = tmp_path / "second.out"
        with open(second_out, "w") as out_file:
            second = subprocess.Popen([sys.executable, "-m", "a21import", *PERIOD_ARGS, "--concurrency", "2"],
                                      stdout=out_file, stderr=subprocess.PIPE, text=True,
                                      env=cli_env(chromium.cdp_url, same), cwd=ROOT, start_new_session=True)
        wait_until(lambda: WAITS in second_out.read_text(), second)
        portal.release()
        said = ""
        for proc in (first, second):
            out, err = finish(proc)
            assert proc.returncode == 0, out + err
            said += out or second_out.read_text()
        assert assert_whole(same, portal) == all_numbers
        # The second one waited for the first (saying who), then left out what the first stored.
        assert said.count(WAITS) == 1, said
        assert "Policies already in the database, left out: " in said
        assert rows(same, "SELECT count(*) AS n FROM policies")[0]["n"] == len(all_numbers)
        assert rows(same, "SELECT count(*) AS n FROM installments")[0]["n"] == sum(
            len(portal.by_number[n][1].installments) for n in all_numbers)

        # Two halves of the month at once: the union.
        union = tmp_path / "union.db"
        halves = (("2026-11-01", "2026-11-08"), ("2026-11-09", "2026-11-16"))
        procs = [start_cli(chromium.cdp_url, union, "period", "--from", first, "--to", last, "--source", "ihestia",
                           "--yes", "--concurrency", "2") for first, last in halves]
        for proc in procs:
            out, err = finish(proc)
            assert proc.returncode == 0, out + err
        first_half = {p.number for p in ihestia_policies(portal, last=date(2026, 11, 8))}
        assert first_half and first_half != all_numbers
        assert assert_whole(union, portal) == all_numbers
        assert rows(union, "SELECT count(*) AS n FROM policies")[0]["n"] == len(all_numbers)


# -- 7. no network connection but the CDP one -------------------------------------------------------------
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(?P<family>AF_\w+)(?P<rest>[^}]*)\}")
INET = re.compile(r'sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<host>[^"]+)"\)')
INET6 = re.compile(r'sin6_port=htons\((?P<port>\d+)\).*inet_pton\(AF_INET6, "(?P<host>[^"]+)"')


def _strace_usable() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-e", "trace=connect", "-o", os.devnull, "true"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def test_the_cli_connects_to_nothing_but_the_cdp_port(user_context, chromium, db_path, tmp_path):
    """Every connect(2) of the CLI and of its children (the Playwright Node driver) is traced with
    `strace -f -e trace=connect`; the only internet-family connection allowed is 127.0.0.1:<CDP port>.
    The portal is reached by Chromium (the user's browser), never by the tool itself."""
    if not _strace_usable():
        pytest.skip("strace is missing or ptrace is not permitted here (scripts/setup.sh installs strace)")
    trace = tmp_path / "connect.trace"
    with HestiaPortal(count=6) as portal:
        login(user_context, portal)
        proc = start_cli(chromium.cdp_url, db_path, *PERIOD_ARGS,
                         prefix=("strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)))
        out, err = finish(proc)
        assert proc.returncode == 0, out + err
        assert assert_whole(db_path, portal) == {p.number for p in ihestia_policies(portal)}
    inet, local, other = set(), set(), []
    for line in trace.read_text().splitlines():
        match = CONNECT.search(line)
        if match is None:
            continue
        family, rest = match["family"], match["rest"]
        if family in ("AF_INET", "AF_INET6"):
            address = (INET if family == "AF_INET" else INET6).search(rest)
            assert address is not None, line
            inet.add((address["host"], int(address["port"])))
        elif family == "AF_UNIX":
            local.add(rest.strip(", "))
        else:
            other.append(line)
    print("AF_UNIX connections:", sorted(local) or "none")
    assert inet == {("127.0.0.1", chromium.port)}, f"connections besides CDP: {sorted(inet)}"
    assert other == []
