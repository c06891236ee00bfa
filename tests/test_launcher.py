"""Unit tests of `a21import browser` (finding the browser on Windows, macOS and Linux without those
systems, the command line, the refusals before anything starts) and of the `apps` view's pure parts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from a21import import launcher, overview_view
from a21import.errors import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    BadInput,
    EnvironmentProblem,
    NoBrowser,
)
from a21import.insurers.hestia import HestiaAdapter
from a21import.insurers.tuz import TuzAdapter
from a21import.insurers.warta import WartaAdapter
from a21import.launcher import (
    Launch,
    command_line,
    find_browser,
    platform_name,
    search_places,
)
from a21import.model import AppContext
from a21import.overview import (
    OpenApp,
    Overview,
    TabState,
    TabStatus,
    _open_app,
    period_command,
)

ROOT = Path(__file__).resolve().parent.parent

WIN_ENV = {
    "PROGRAMFILES": r"C:\Program Files",
    "PROGRAMFILES(X86)": r"C:\Program Files (x86)",
    "LOCALAPPDATA": r"C:\Users\anna\AppData\Local",
}
MAC_ENV = {"HOME": "/Users/anna"}


def fake_fs(*files: str, commands: dict[str, str] | None = None, registry: dict[str, str] | None = None):
    """`exists`, `which` and `app_path` over a fake computer holding exactly these files and commands."""
    present = set(files)
    return {
        "exists": present.__contains__,
        "which": (commands or {}).get,
        "app_path": (registry or {}).get,
    }


def find(choice, system, env, fs):
    return find_browser(choice, system=system, env=env, **fs)


# -- Windows ----------------------------------------------------------------------------------------
def test_windows_prefers_the_registry_app_path():
    chrome = r"D:\Apps\Chrome\chrome.exe"
    fs = fake_fs(chrome, r"C:\Program Files\Microsoft\Edge\Application\msedge.exe", registry={"chrome.exe": chrome})
    assert find(None, "windows", WIN_ENV, fs) == chrome


def test_windows_program_files_and_local_app_data():
    edge = r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"
    user_chrome = r"C:\Users\anna\AppData\Local\Google\Chrome\Application\chrome.exe"
    chromium = r"C:\Users\anna\AppData\Local\Chromium\Application\chrome.exe"
    # A registry entry whose file is gone is passed over.
    fs = fake_fs(edge, user_chrome, chromium, registry={"chrome.exe": r"C:\gone\chrome.exe"})
    assert find(None, "windows", WIN_ENV, fs) == user_chrome  # Chrome before Edge, wherever installed
    assert find("msedge", "windows", WIN_ENV, fs) == edge
    assert find("chromium", "windows", WIN_ENV, fs) == chromium
    assert find(None, "windows", WIN_ENV, fake_fs(edge)) == edge


def test_windows_without_program_files_variables_skips_those_places():
    places = search_places("windows", {"LOCALAPPDATA": r"C:\L"}, ("chrome",))
    assert places == [("registry", "chrome.exe"), ("file", r"C:\L\Google\Chrome\Application\chrome.exe")]


# -- macOS ------------------------------------------------------------------------------------------
def test_macos_applications_and_home_applications():
    system_edge = "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"
    home_chrome = "/Users/anna/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
    fs = fake_fs(system_edge, home_chrome)
    assert find(None, "macos", MAC_ENV, fs) == home_chrome
    assert find("msedge", "macos", MAC_ENV, fs) == system_edge
    chromium = "/Applications/Chromium.app/Contents/MacOS/Chromium"
    assert find(None, "macos", MAC_ENV, fake_fs(chromium)) == chromium


# -- Linux ------------------------------------------------------------------------------------------
def test_linux_commands_on_path():
    fs = fake_fs(commands={"chromium-browser": "/usr/bin/chromium-browser", "microsoft-edge-stable": "/opt/edge"})
    assert find(None, "linux", {}, fs) == "/usr/bin/chromium-browser"
    assert find("msedge", "linux", {}, fs) == "/opt/edge"
    fs = fake_fs(commands={"google-chrome-stable": "/usr/bin/google-chrome-stable", "chromium": "/usr/bin/chromium"})
    assert find(None, "linux", {}, fs) == "/usr/bin/google-chrome-stable"
    assert [place for _, place in search_places("linux", {})] == [
        "google-chrome", "google-chrome-stable", "chromium", "chromium-browser", "microsoft-edge",
        "microsoft-edge-stable"]


def test_a_path_or_a_command_name_is_taken_as_it_is():
    fs = fake_fs("/opt/brave/brave", commands={"brave-browser": "/usr/bin/brave-browser"})
    assert find("/opt/brave/brave", "linux", {}, fs) == "/opt/brave/brave"
    assert find("brave-browser", "linux", {}, fs) == "/usr/bin/brave-browser"
    with pytest.raises(BadInput, match=r"'/opt/none/chrome' was not found.*--browser"):
        find("/opt/none/chrome", "linux", {}, fs)


@pytest.mark.parametrize("system, env, where", [
    ("windows", WIN_ENV, [r"chrome.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
                          r"C:\Users\anna\AppData\Local\Chromium\Application\chrome.exe"]),
    ("macos", MAC_ENV, ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                        "/Users/anna/Applications/Chromium.app/Contents/MacOS/Chromium"]),
    ("linux", {}, ["google-chrome", "chromium-browser", "microsoft-edge-stable"]),
])
def test_no_browser_names_where_it_looked_and_what_to_do(system, env, where):
    with pytest.raises(NoBrowser) as caught:
        find(None, system, env, fake_fs())
    message = caught.value.message
    assert message.startswith("No Google Chrome or Microsoft Edge or Chromium was found: a21import looked at ")
    for place in where:
        assert place in message
    assert message.endswith("Install Google Chrome or Microsoft Edge or Chromium, or give the browser's program "
                            "file with --browser PATH.")
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    with pytest.raises(NoBrowser, match="^No Microsoft Edge was found"):
        find("msedge", system, env, fake_fs())


def test_platform_names():
    assert [platform_name(p) for p in ("win32", "darwin", "linux", "freebsd14")] == [
        "windows", "macos", "linux", "linux"]


# -- the command line -------------------------------------------------------------------------------
def test_command_line_has_the_profile_and_loopback_debugging():
    profile = Path("/home/anna/.local/share/a21import/browser-profile")
    args = command_line("/usr/bin/chromium", profile, 9222, extra=["--headless=new", "about:blank"])
    assert args == [
        "/usr/bin/chromium",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=9222",
        "--remote-debugging-address=127.0.0.1",
        "--no-first-run",
        "--no-default-browser-check",
        "--headless=new",
        "about:blank",
    ]
    as_root = command_line("/usr/bin/chromium", profile, 0, as_root=True)
    assert as_root[-1] == "--no-sandbox" and "--remote-debugging-port=0" in as_root
    assert "--no-sandbox" not in args


def test_root_means_no_sandbox_on_linux_only(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    assert launcher.running_as_root("linux") is True
    assert launcher.running_as_root("macos") is False
    monkeypatch.setattr(os, "geteuid", lambda: 1000, raising=False)
    assert launcher.running_as_root("linux") is False


def test_default_profile_is_in_the_user_data_folder():
    from platformdirs import user_data_dir

    assert launcher.default_profile() == Path(user_data_dir("a21import", appauthor=False)) / "browser-profile"


# -- refusals and failures before a usable browser --------------------------------------------------
@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def test_a_port_used_by_another_program_is_refused_before_starting(taken_port, tmp_path):
    with pytest.raises(EnvironmentProblem, match=f"The port {taken_port} on 127.0.0.1 is already used"):
        launcher.start_browser("/bin/false", profile=tmp_path / "profile", port=taken_port)
    assert not (tmp_path / "profile").exists()  # nothing was started or created


def test_a_browser_that_stops_at_start_is_reported_and_a_stale_port_file_removed(tmp_path):
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "DevToolsActivePort").write_text("1\n/devtools/browser/gone\n")
    with pytest.raises(NoBrowser, match="stopped at start with exit code 1"):
        launcher.start_browser("/bin/false", profile=profile, port=0, timeout=10)
    assert not (profile / "DevToolsActivePort").exists()
    # A browser that exits at once with 0 handed the window to one already open with the profile.
    with pytest.raises(EnvironmentProblem, match="handed over to a window already open"):
        launcher.start_browser("/bin/true", profile=profile, port=0, timeout=10)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "a21import", *args], check=False, capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8", **(env or {})},
                          timeout=60)


def test_cli_no_browser_found_exits_3(tmp_path):
    result = cli("browser", "--profile", str(tmp_path / "p"), "--port", "0",
                 env={"PATH": str(tmp_path), "A21IMPORT_BROWSER": "chromium"})
    assert result.returncode == EXIT_ENVIRONMENT, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert said == ("No Chromium was found: a21import looked at the commands chromium, chromium-browser on PATH. "
                    "Install Chromium, or give the browser's program file with --browser PATH.")


def test_cli_port_taken_and_missing_path(taken_port, tmp_path):
    result = cli("browser", "--profile", str(tmp_path / "p"), "--port", str(taken_port))
    assert result.returncode == EXIT_ENVIRONMENT
    assert f"The port {taken_port} on 127.0.0.1 is already used by another program." in " ".join(result.stderr.split())
    result = cli("browser", "--browser", str(tmp_path / "nowhere"), "--profile", str(tmp_path / "p"), "--port", "0")
    assert result.returncode == EXIT_BAD_INPUT
    assert "was not found" in result.stderr


# -- the apps view's pure parts ---------------------------------------------------------------------
TODAY = date(2026, 11, 28)


def test_commands_name_app_source_and_identity():
    hestia = _open_app(HestiaAdapter, "ihestia.ergohestia.pl")
    assert (hestia.source, hestia.other_sources, hestia.label_kind) == ("ihestia", {"ipegaz": "iPegaz"}, "identity")
    context = AppContext("hestia", "123", "iHestia is logged in.", identity="MTU", identity_label="MTU")
    assert period_command(hestia, context, TODAY) == (
        "a21import period --from 2026-11-01 --to 2026-11-28 --app hestia --source ihestia --identity MTU")
    warta = _open_app(WartaAdapter, "eplatforma.warta.pl")
    assert (warta.source, warta.other_sources, warta.label_kind) == ("zycie", {}, "section")
    context = AppContext("warta", "A", "Logged in.", identity="ZYCIE", identity_label="Życie (ePlatforma)")
    assert period_command(warta, context, date(2026, 2, 3), cdp="http://127.0.0.1:9333") == (
        "a21import period --from 2026-02-01 --to 2026-02-03 --app warta --source zycie --identity ZYCIE "
        "--cdp http://127.0.0.1:9333")
    tuz = _open_app(TuzAdapter, "sobol-agencyjny.tuz.pl")
    assert period_command(tuz, AppContext("tuz", None, "Logged in."), TODAY, allow_remote=True) == (
        "a21import period --from 2026-11-01 --to 2026-11-28 --app tuz --allow-remote-cdp")


def rendered(overview: Overview) -> str:
    console = Console(record=True, width=300, highlight=False)
    original = overview_view._console
    overview_view._console = lambda: console
    try:
        overview_view.show_overview(overview)
    finally:
        overview_view._console = original
    return console.export_text()


def test_the_view_shows_what_the_app_says_as_plain_text():
    entry = OpenApp("hestia", "Ergo Hestia iHestia", "ihestia.ergohestia.pl", "ihestia", "identity",
                    other_sources={"ipegaz": "iPegaz"})
    context = AppContext("hestia", "[b]007[/b]", "iHestia is logged in as agent [b]007[/b].", identity="YCD",
                         identity_label="YCD [red]x[/red]")
    entry.tabs = [
        TabStatus(TabState.LOGGED_IN, context.description, context, period_command(entry, context, TODAY)),
        TabStatus(TabState.NOT_LOGGED_IN, "The iHestia tab is not logged in."),
    ]
    text = rendered(Overview("http://127.0.0.1:9222", [entry], [("hestia", "Ergo Hestia iHestia")]))
    assert "Tab 1: Logged in. iHestia is logged in as agent [b]007[/b]." in text
    assert "Identity: YCD [red]x[/red] (YCD)." in text
    assert ("Import with: a21import period --from 2026-11-01 --to 2026-11-28 --app hestia --source ihestia "
            "--identity YCD") in text
    assert "To read iPegaz instead, use --source ipegaz." in text
    assert "Tab 2: Not logged in. The iHestia tab is not logged in." in text
    empty = rendered(Overview("http://127.0.0.1:9222", [], [("hestia", "Ergo Hestia iHestia"), ("tuz", "TUZ SOBOL")]))
    assert " ".join(empty.split()) == (
        "No tab of a supported app is open in the browser at http://127.0.0.1:9222. The supported apps are: "
        "Ergo Hestia iHestia, TUZ SOBOL. Open one of them in that browser, log in, and run `a21import apps` again.")


def test_next_steps_after_starting():
    started = overview_view.launch_lines(Launch(port=9222, profile=Path("/p"), already_running=False,
                                                executable="/usr/bin/chromium", pid=1))
    assert started[0].startswith("Started /usr/bin/chromium with the profile /p and remote debugging at "
                                 "http://127.0.0.1:9222")
    assert not any("A21IMPORT_CDP" in line for line in started)
    assert any("chrome://inspect/#remote-debugging" in line and "--cdp chrome" in line for line in started)
    other = overview_view.launch_lines(Launch(port=9333, profile=Path("/p"), already_running=True))
    assert other[0].startswith("A browser with the profile /p is already running")
    assert any("--cdp http://127.0.0.1:9333" in line and "A21IMPORT_CDP=http://127.0.0.1:9333" in line
               for line in other)


# -- a fixed port (issue 12, point 1) ---------------------------------------------------------------
FAKE_BROWSER = '''
import http.server, json, sys

port = int(next(a for a in sys.argv if a.startswith("--remote-debugging-port=")).partition("=")[2])


class DevTools(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"webSocketDebuggerUrl": f"ws://127.0.0.1:{port}/devtools/browser/fake"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), DevTools).serve_forever()
'''


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fake_browser(tmp_path):
    """A program that, like Chromium with a fixed --remote-debugging-port, answers /json/version on
    that port and writes no DevToolsActivePort; every one started is killed at the end."""
    program = tmp_path / "fake-browser"
    program.write_text(f"#!{sys.executable}\n{FAKE_BROWSER}")
    program.chmod(0o755)
    started: list[int] = []
    yield program, started
    import signal

    for pid in started:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def test_a_fixed_port_is_found_by_asking_it(fake_browser, tmp_path):
    program, started = fake_browser
    port = free_port()
    profile = tmp_path / "profile"
    launch = launcher.start_browser(str(program), profile=profile, port=port, timeout=10)
    started.append(launch.pid)
    assert (launch.port, launch.already_running, launch.cdp_url) == (port, False, f"http://127.0.0.1:{port}")
    assert not (profile / "DevToolsActivePort").exists()
    # The next run finds that browser again through the port recorded in the profile.
    again = launcher.start_browser(str(program), profile=profile, port=port, timeout=10)
    assert (again.port, again.already_running, again.pid) == (port, True, None)


# -- other users of this computer (issue 11, point 14) ----------------------------------------------
WHO = """anna     seat0        2026-11-28 08:01 (login screen)
anna     tty2         2026-11-28 08:01 (tty2)
piotr    pts/3        2026-11-28 09:12 (192.168.1.20)
marek    pts/4        2026-11-28 09:30
piotr    pts/5        2026-11-28 09:41 (192.168.1.20)
"""


def fake_who(stdout: str, returncode: int = 0):
    return lambda args, **options: subprocess.CompletedProcess(args, returncode, stdout=stdout, stderr="")


def test_logged_in_users_come_from_who():
    assert launcher.logged_in_users("linux", fake_who(WHO)) == ["anna", "anna", "piotr", "marek", "piotr"]
    assert launcher.logged_in_users("linux", fake_who("")) == []
    assert launcher.logged_in_users("linux", fake_who("", returncode=1)) is None
    assert launcher.logged_in_users("windows", fake_who(WHO)) is None  # Windows does not tell this way


def test_the_warning_names_the_other_users_and_the_port():
    users = launcher.logged_in_users("linux", fake_who(WHO))
    warning = launcher.shared_computer_warning(9333, users=users, me={"anna"})
    assert warning == (
        "2 other users are logged in to this computer: marek, piotr. Remote debugging has no password, so any "
        "program those users run can connect to port 9333 and act in your logged-in sales apps. Use a21import "
        "only on a computer whose other users you trust, and close this browser when you have finished "
        "importing: the port closes with it.")
    one = launcher.shared_computer_warning(9222, users=["anna", "ola"], me={"anna"})
    assert one.startswith("1 other user is logged in to this computer: ola. ")
    assert "any program that user runs can connect to port 9222" in one


def test_no_warning_when_alone_or_when_the_system_does_not_tell(monkeypatch):
    assert launcher.shared_computer_warning(9222, users=["anna", "anna"], me={"anna"}) is None
    assert launcher.shared_computer_warning(9222, users=[], me={"anna"}) is None
    monkeypatch.setattr(launcher, "logged_in_users", lambda: None)
    assert launcher.shared_computer_warning(9222, me={"anna"}) is None


def test_sudo_is_not_somebody_else(monkeypatch):
    monkeypatch.setattr(os, "getlogin", lambda: "anna")
    assert {"anna"} <= launcher.own_names()
