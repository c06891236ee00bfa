"""`a21import browser` for real: it starts the system Chromium detached with its own profile and
remote debugging on 127.0.0.1, says where, finds it again on a second run, and refuses a port
another browser answers on. Every browser it starts is killed in teardown."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.chromium import FLAGS, find_chromium

pytestmark = pytest.mark.integration

# The flags this machine's tests need, minus those `a21import browser` sets itself.
OWN = ("--remote-debugging-port", "--remote-debugging-address", "--no-first-run", "--no-default-browser-check")
EXTRA = [flag for flag in FLAGS if not flag.startswith(OWN)] + ["--headless=new", "about:blank"]


def said(text: str) -> str:
    return " ".join(text.split())


def profile_pid(profile: Path) -> int | None:
    """The browser's pid from the profile's SingletonLock (a symlink to `host-pid`)."""
    try:
        return int(os.readlink(profile / "SingletonLock").rpartition("-")[2])
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        if not alive(pid):
            return


@pytest.fixture
def profile(tmp_path):
    """A profile folder; whatever browser runs with it is killed, with its helpers, at the end."""
    folder = tmp_path / "browser-profile"
    yield folder
    pid = profile_pid(folder)
    if pid is not None:
        kill_group(pid)  # the browser leads its own session (started detached), so its group is its helpers
        assert not alive(pid), "the browser started by the test survived its teardown"


def version(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=5) as answer:
        return json.load(answer)


def test_browser_starts_detached_says_where_and_is_found_again(run_cli, profile):
    first = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", "0", "--", *EXTRA)
    assert first.returncode == 0, first.stdout + first.stderr
    port = int((profile / "DevToolsActivePort").read_text().splitlines()[0])
    address = f"http://127.0.0.1:{port}"
    text = said(first.stdout)
    assert f"with the profile {profile} and remote debugging at {address}, on this computer only." in text
    assert f"add --cdp {address} to every a21import command" in text and f"A21IMPORT_CDP={address}" in text
    assert f"`a21import apps --cdp {address}`" in text
    assert "chrome://inspect/#remote-debugging" in text
    # The command has ended; the browser it started answers at that address, with the flags it was given.
    pid = profile_pid(profile)
    assert pid is not None and alive(pid)
    assert "webSocketDebuggerUrl" in version(port)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        args = cmdline.read().decode().split("\0")
    assert f"--user-data-dir={profile}" in args and "--remote-debugging-address=127.0.0.1" in args
    assert os.getsid(pid) == pid  # detached: the leader of its own session

    again = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", "0", "--json",
                    "--", *EXTRA)
    assert again.returncode == 0, again.stdout + again.stderr
    document = json.loads(again.stdout)
    assert (document["already_running"], document["cdp"], document["pid"]) == (True, address, None)
    assert profile_pid(profile) == pid  # no second browser
    # The browser it started is one a21import attaches to.
    apps = run_cli("apps", "--cdp", address)
    assert apps.returncode == 0, apps.stdout + apps.stderr
    assert said(apps.stdout).startswith(f"No tab of a supported app is open in the browser at {address}.")


def test_a_port_another_browser_answers_on_is_refused(run_cli, chromium, profile):
    result = run_cli("browser", "--browser", find_chromium(), "--profile", str(profile), "--port", str(chromium.port),
                     "--", *EXTRA)
    assert result.returncode == 3
    assert said(result.stderr) == (
        f"Another browser already answers for remote debugging on port {chromium.port}. Use it as it is (run "
        f"`a21import apps --cdp http://127.0.0.1:{chromium.port}`), close it, or choose another port with --port.")
    assert profile_pid(profile) is None and not profile.exists()
