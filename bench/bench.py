"""The speed benchmark of a21import (a script, not a test).

    .venv/bin/python bench/bench.py            # the full run (about 4 minutes on 2 cores)
    .venv/bin/python bench/bench.py --quick    # small sizes, about a minute

It starts the fixture TUZ SOBOL portal (tests/fixtures/tuz_portal.py: one list page per 25 policies,
one policy page per policy) with a per-request latency and N generated policies, starts the system
Chromium, logs in through the login form as a user would, runs the real CLI as a subprocess
(`--yes --concurrency C --db TMPFILE`), and prints one table: each figure, its goal, met or not.

Figures 1 and 2 are served over HTTP/2 with TLS, as the real sales apps are (hypercorn, a throw-away
certificate): over HTTP/1.1 Chromium keeps at most 6 requests to one host in flight, which would cap
concurrency 8. Figures 3 and 5 (concurrency 2, no latency) are served over plain HTTP/1.1 as in the
tests, so that the pure-Python HTTP/2 and TLS of the fixture server do not take CPU from the import.
`--http1` and `--e2e-http2` change that.

Figure 3 is measured twice: into a SQLite file and into the agency's PostgreSQL (a throw-away cluster of
the Debian package `postgresql`, a21import/pgcluster.py, started by this script on a free loopback port
and removed at the end; `--no-postgres` leaves it out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright

from tests.conftest import login
from tests.fixtures.chromium import Chromium
from tests.fixtures.tuz_portal import LIST_PATH, TuzPortal

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-16")
DETAIL_PREFIX = LIST_PATH + "/"

# Runs the real CLI (`python -m a21import`) and, at exit, writes its own peak RSS and that of its
# largest finished child (the Playwright driver) in kB: exact, no sampling. Its own peak is the kernel's
# high-water mark of its memory since exec (VmHWM); getrusage's ru_maxrss would also count the
# benchmark's own RSS, which the child shares between fork and exec.
CLI_WRAPPER = """
import atexit, os, resource, runpy, sys
def _report():
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["A21BENCH_RSS_FILE"], "w") as out:
        out.write(f"{own} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
atexit.register(_report)
sys.argv = ["a21import", *sys.argv[1:]]
runpy.run_module("a21import", run_name="__main__", alter_sys=True)
"""

# The same in-page fetches the import makes (same URLs, same options), one after another.
BARE_FETCH_JS = """async (urls) => {
  for (const url of urls) {
    const r = await fetch(url, {credentials: 'same-origin', redirect: 'follow', cache: 'no-store'});
    await r.text();
  }
}"""


INSTALL_HINT = ("The HTTP/2 portal of the benchmark needs hypercorn and trustme. Install them with "
                "`.venv/bin/pip install -e '.[bench]'`, or run the benchmark with --http1.")


class Http2Server:
    """Serves a WSGI app over HTTP/2 with TLS on 127.0.0.1 (any free port), as the real sales apps
    are served: all of a tab's requests share one multiplexed connection. hypercorn serves it under
    a throw-away certificate for the given host names, made by trustme at start."""

    def __init__(self, app, hosts: tuple[str, ...]):
        self.app = app
        self.hosts = hosts
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def start(self) -> Http2Server:
        import trustme
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        self._dir = tempfile.TemporaryDirectory(prefix="a21import-bench-tls-")
        pem = Path(self._dir.name) / "portal.pem"
        trustme.CA().issue_cert(*self.hosts).private_key_and_cert_chain_pem.write_to_path(str(pem))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)  # connections wait in the backlog until hypercorn accepts them
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.certfile = config.keyfile = str(pem)
        config.keep_alive_max_requests = 10**9  # one connection for the whole run, as a browser keeps it
        config.graceful_timeout = 0.5  # Chromium keeps its connection open: do not wait for it at stop
        config.loglevel = "WARNING"
        self._loop = asyncio.new_event_loop()
        # The WSGI app runs in the loop's default executor: enough threads for every stream in flight
        # (the default, cores + 4, would be 6 here, the very limit HTTP/2 is used to lift).
        self._loop.set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="portal"))
        self._stopping = asyncio.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve(self.app, config, shutdown_trigger=self._stopping.wait, mode="wsgi"))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="portal-h2", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=10)
            self._thread = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class TimedTuzPortal(TuzPortal):
    """TUZ SOBOL that also notes when each policy page was asked for and when it was answered, served
    over HTTP/2 with TLS (`http2=True`) or, as in the tests, over plain HTTP/1.1."""

    def __init__(self, *, http2: bool = False, **options):
        super().__init__(**options)
        self.http2 = http2
        self._h2: Http2Server | None = None
        self.detail_spans: list[tuple[float, float]] = []
        self.protocols: set[str] = set()  # the HTTP versions the requests came with

    def start(self) -> TimedTuzPortal:
        if not self.http2:
            return super().start()
        self._h2 = Http2Server(self._wsgi, self.HOSTS).start()
        self.port = self._h2.port
        return self

    def stop(self) -> None:
        if self._h2 is None:
            return super().stop()
        self._h2.stop()
        self._h2 = None

    @property
    def protocol(self) -> str:
        """The HTTP version every request should come with."""
        return "HTTP/2" if self.http2 else "HTTP/1.1"

    @property
    def transport(self) -> str:
        return "HTTP/2, TLS" if self.http2 else "HTTP/1.1"

    def url(self, path: str = "/", host: str | None = None) -> str:
        url = super().url(path, host)
        return "https://" + url.removeprefix("http://") if self.http2 else url

    def _wsgi(self, environ, start_response):
        started = time.monotonic()
        body = super()._wsgi(environ, start_response)
        with self._lock:
            self.protocols.add(environ.get("SERVER_PROTOCOL", "?"))
            if environ.get("PATH_INFO", "").startswith(DETAIL_PREFIX):
                self.detail_spans.append((started, time.monotonic()))
        return body

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.detail_spans.clear()
            self.protocols.clear()

    def detail_phase(self) -> float:
        """Seconds from the first policy page asked for to the last one answered."""
        return max(end for _, end in self.detail_spans) - min(start for start, _ in self.detail_spans)

    def most_in_flight(self) -> int:
        """The most policy pages the portal was answering at one time."""
        events = sorted([(start, 1) for start, _ in self.detail_spans] + [(end, -1) for _, end in self.detail_spans])
        most = now = 0
        for _, step in events:
            now += step
            most = max(most, now)
        return most

    def data_paths(self) -> list[str]:
        """The data requests (list pages with a query, policy pages) in the order they came."""
        return [path for _, _, path in self.log if path.startswith((LIST_PATH + "?", DETAIL_PREFIX))]


@dataclass
class CliRun:
    wall: float
    rss_kb: int
    driver_rss_kb: int
    stored: int


@dataclass
class Figure:
    name: str
    value: str
    goal: str
    met: bool | None  # None: shown for information, no goal
    transport: str = ""  # how the portal was served for it


def count_policies(db: str) -> int:
    """How many policies the run stored, in its SQLite file or its PostgreSQL database."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as con:
            return con.execute("SELECT count(*) FROM policies").fetchone()[0]
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM policies").fetchone()[0]
    finally:
        con.close()


def start_postgres(say) -> tuple[object | None, str]:
    """The throw-away cluster for figure 3 into PostgreSQL, or (None, why it is not measured)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed (.venv/bin/pip install -e '.[postgres]')"
    from a21import import pgcluster

    try:
        cluster = pgcluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return None, f"PostgreSQL did not start: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    say(f"PostgreSQL {pgcluster.bin_dir().parent.name}: a throw-away cluster on 127.0.0.1:{cluster.port}")
    return cluster, ""


class Bench:
    def __init__(self, chromium: Chromium, browser):
        self.chromium = chromium
        self.context = browser.contexts[0]
        self.page = None
        self.tmp = Path(tempfile.mkdtemp(prefix="a21import-bench-"))
        self.runs = 0

    def open(self, portal: TimedTuzPortal) -> None:
        """Closes the tab of the previous portal and logs in to this one through its form."""
        if self.page is not None:
            self.page.close()
        self.context.clear_cookies()
        self.page = login(self.context, portal)

    def cli(self, *args: str, check: bool = True, db: str | None = None) -> CliRun:
        """Runs the CLI into `db` (a PostgreSQL address), or into a new SQLite file of its own."""
        self.runs += 1
        db = db or str(self.tmp / f"run{self.runs}.db")
        rss_file = self.tmp / f"run{self.runs}.rss"
        env = {**os.environ, "A21IMPORT_CDP": self.chromium.cdp_url, "A21IMPORT_DB": str(db),
               "A21BENCH_RSS_FILE": str(rss_file), "COLUMNS": "160", "PYTHONIOENCODING": "utf-8",
               "A21IMPORT_LOG": str(self.tmp / "a21import.log")}
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", CLI_WRAPPER, *args], env=env, cwd=ROOT,
                                capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        if check and result.returncode != 0:
            raise RuntimeError(f"a21import {' '.join(args)} ended with {result.returncode}:\n"
                               f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        own, children = (int(v) for v in rss_file.read_text().split())
        return CliRun(wall, own, children, count_policies(db))

    def period(self, portal: TimedTuzPortal, concurrency: int, db: str | None = None) -> CliRun:
        portal.reset_log()
        run = self.cli("period", "--app", "tuz", *PERIOD, "--yes", "--concurrency", str(concurrency), db=db)
        if run.stored != portal.count:
            raise RuntimeError(f"Only {run.stored} of {portal.count} policies were stored.")
        if portal.protocols != {portal.protocol}:
            raise RuntimeError(f"The portal was asked over {', '.join(sorted(portal.protocols))}, "
                               f"not over {portal.protocol} alone.")
        return run

    def bare(self, paths: list[str]) -> float:
        """Seconds the same fetches take from the tab alone, one after another."""
        started = time.monotonic()
        self.page.evaluate(BARE_FETCH_JS, paths)
        return time.monotonic() - started


def help_times(runs: int = 15) -> list[float]:
    command = [str(Path(sys.executable).parent / "a21import"), "--help"]
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        times.append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: 24 / 300 / 2,000 policies.")
    parser.add_argument("--latency", type=float, default=0.2, help="Per-request latency for figures 1 and 2 (s).")
    parser.add_argument("--policies", type=int, default=64, help="Policies for figures 1 and 2.")
    parser.add_argument("--levels", default="1,2,4,8", help="Concurrency levels of figure 2.")
    parser.add_argument("--e2e", type=int, default=1000, help="Policies imported end to end, zero latency.")
    parser.add_argument("--e2e-concurrency", type=int, default=2, help="--concurrency of figures 3 and 5.")
    parser.add_argument("--memory", type=int, default=10000, help="Policies for the peak-memory figure.")
    parser.add_argument("--http1", action="store_true",
                        help="Serve the portal of figures 1 and 2 over plain HTTP/1.1, as the tests do, "
                             "instead of HTTP/2 with TLS.")
    parser.add_argument("--e2e-http2", action="store_true",
                        help="Serve the portal of figures 3 and 5 over HTTP/2 with TLS too, instead of HTTP/1.1.")
    parser.add_argument("--no-postgres", action="store_true",
                        help="Measure figure 3 into SQLite only, not also into a throw-away PostgreSQL cluster.")
    args = parser.parse_args()
    http2 = not args.http1
    e2e_http2 = args.e2e_http2
    if http2 or e2e_http2:
        try:
            import hypercorn  # noqa: F401
            import trustme  # noqa: F401
        except ImportError:
            parser.exit(3, INSTALL_HINT + "\n")
    if args.quick:
        args.policies, args.e2e, args.memory = 24, 300, 2000
    levels = [int(v) for v in args.levels.split(",")]
    figures: list[Figure] = []

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    times = help_times()
    median = statistics.median(times)
    help_figure = Figure("4. a21import --help, wall time (median of 15)", f"{median:.3f} s (min {min(times):.3f} s)",
                         "≤ 0.3 s", median <= 0.3)

    cluster, no_postgres = (None, "--no-postgres") if args.no_postgres else start_postgres(say)
    try:
        run_figures(args, figures, help_figure, cluster, no_postgres, say, http2, e2e_http2, levels)
    finally:
        if cluster is not None:
            cluster.stop()
    print_table(figures)


def e2e_value(run: CliRun, policies: int) -> str:
    return f"{run.wall:.1f} s, {policies / run.wall:.0f} policies/s, peak RSS {run.rss_kb / 1024:.0f} MB"


def run_figures(args, figures: list[Figure], help_figure: Figure, cluster, no_postgres: str, say, http2: bool,
                e2e_http2: bool, levels: list[int]) -> None:
    with Chromium() as chromium, sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium.cdp_url)
        if http2 or e2e_http2:
            # The portal's certificate is a throw-away one: this benchmark's own Chromium accepts it
            # while the benchmark stays attached (as --ignore-certificate-errors would, for it alone).
            browser.new_browser_cdp_session().send("Security.setIgnoreCertificateErrors", {"ignore": True})
        bench = Bench(chromium, browser)

        with TimedTuzPortal(count=args.policies, latency=args.latency, http2=http2) as portal:
            say(f"Figures 1 and 2: {args.policies} policies, {args.latency * 1000:.0f} ms a request, "
                f"served over {portal.transport} …")
            bench.open(portal)
            rates: dict[int, float] = {}
            in_flight: dict[int, int] = {}
            for c in levels:
                run = bench.period(portal, c)
                if c == 1:
                    serial_run, serial_paths = run, portal.data_paths()
                rates[c] = len(portal.detail_spans) / portal.detail_phase()
                in_flight[c] = portal.most_in_flight()
                say(f"  concurrency {c}: {run.wall:.2f} s end to end, {rates[c]:.2f} policies/s while reading")
            if 1 not in rates:
                serial_run = bench.period(portal, 1)
                serial_paths = portal.data_paths()
            bare = bench.bare(serial_paths)
        n = args.policies
        ratio = serial_run.wall / bare
        figures.append(Figure(
            "1. bare in-page fetches, per policy (the import's own requests)", f"{bare / n * 1000:.0f} ms", "", None,
            portal.transport))
        figures.append(Figure(
            "1. import at concurrency 1, per policy (whole CLI run)",
            f"{serial_run.wall / n * 1000:.0f} ms = {ratio:.2f} × bare", "≤ 1.5 × bare", ratio <= 1.5,
            portal.transport))
        per_policy = args.latency * 1  # TUZ: one policy page per policy
        for c in levels:
            goal = 0.8 * c / per_policy
            figures.append(Figure(f"2. policies/s at concurrency {c}, {args.latency * 1000:.0f} ms latency",
                                  f"{rates[c]:.2f} ({in_flight[c]} at most in flight)", f"≥ {goal:.1f}",
                                  rates[c] >= goal, portal.transport))

        with TimedTuzPortal(count=args.e2e, http2=e2e_http2) as portal:
            say(f"Figure 3: {args.e2e} policies, no latency, served over {portal.transport} …")
            bench.open(portal)
            run = bench.period(portal, args.e2e_concurrency)
            bare = bench.bare(portal.data_paths())
            if cluster is not None:
                say("Figure 3 again, into PostgreSQL (a new database of the throw-away cluster) …")
                cluster.psql("CREATE DATABASE bench_e2e", database="postgres")
                pg_run = bench.period(portal, args.e2e_concurrency, db=cluster.url(database="bench_e2e"))
        goal, met = ("≤ 15 s", lambda r: r.wall <= 15) if args.e2e == 1000 else ("", lambda r: None)
        figures.append(Figure(f"3. {args.e2e:,} policies end to end, no latency "
                              f"(--concurrency {args.e2e_concurrency}), into SQLite",
                              e2e_value(run, args.e2e), goal, met(run), portal.transport))
        figures.append(Figure("   the same requests fetched alone from the tab", f"{bare:.1f} s", "", None,
                              portal.transport))
        if cluster is not None:
            figures.append(Figure("3. the same into PostgreSQL (--db postgresql://…, local cluster)",
                                  e2e_value(pg_run, args.e2e), goal, met(pg_run), portal.transport))
        else:
            figures.append(Figure("3. the same into PostgreSQL", f"not measured: {no_postgres}", "", None))
        figures.append(help_figure)

        with TimedTuzPortal(count=args.memory, http2=e2e_http2) as portal:
            say(f"Figure 5: {args.memory} policies, no latency, peak memory, served over {portal.transport} …")
            bench.open(portal)
            run = bench.period(portal, args.e2e_concurrency)
        mb = run.rss_kb / 1024
        figures.append(Figure(f"5. peak RSS of the CLI importing {args.memory:,} policies", f"{mb:.0f} MB",
                              "≤ 150 MB" if args.memory >= 10000 else "", mb <= 150 if args.memory >= 10000 else None,
                              portal.transport))
        figures.append(Figure("   (its Playwright driver, a node process, for information)",
                              f"{run.driver_rss_kb / 1024:.0f} MB", "", None, portal.transport))
        figures.append(Figure("   the same import's wall time", f"{run.wall:.1f} s", "", None, portal.transport))
        browser.close()


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    value_width = max(len(f.value) for f in figures)
    transport_width = max(len("portal served over"), *(len(f.transport) for f in figures))
    print(f"{'figure':<{width}}  {'value':<{value_width}}  {'goal':<14}  {'portal served over':<{transport_width}}  result")
    for f in figures:
        result = "" if f.met is None else ("met" if f.met else "NOT MET")
        print(f"{f.name:<{width}}  {f.value:<{value_width}}  {f.goal:<14}  {f.transport:<{transport_width}}  {result}")
    print(f"\n{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end; "
          f"Chromium {chromium_version()}; Python {sys.version.split()[0]}.")


def chromium_version() -> str:
    from tests.fixtures.chromium import find_chromium

    try:
        out = subprocess.run([find_chromium(), "--version"], capture_output=True, text=True, timeout=20,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    words = out.split()
    return words[1] if len(words) > 1 else "?"


if __name__ == "__main__":
    main()
