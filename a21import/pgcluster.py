"""A throw-away PostgreSQL cluster from the system's Debian packages, for the tests, the benchmark and a
first look at agency mode: `initdb` into a temporary folder, started on a free loopback port, removed
when stopped. Never a downloaded binary, never the machine's own cluster.

PostgreSQL refuses to run as root; as root the server runs as the Debian package's `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ADMIN = "a21admin"
ADMIN_PASSWORD = "admin-throwaway"  # a cluster that lives for one run, on 127.0.0.1 only
DATABASE = "agencja"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin), else None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    programs: Path
    _run_as: list[str] = field(default_factory=list)

    def url(self, user: str = ADMIN, password: str | None = ADMIN_PASSWORD, database: str = DATABASE) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, *, user: str = ADMIN, password: str = ADMIN_PASSWORD,
             database: str = DATABASE, check: bool = True) -> subprocess.CompletedProcess:
        """Runs SQL with the real psql client, as `user` (the tests' raw-SQL proofs)."""
        env = {**os.environ, "PGPASSWORD": password}
        return subprocess.run(
            [str(self.programs / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", user, "-d", database, "-c", sql],
            env=env, capture_output=True, text=True, check=check, timeout=60)

    def stop(self) -> None:
        subprocess.run([*self._run_as, str(self.programs / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(database: str = DATABASE) -> Cluster:
    """initdb + pg_ctl start on a free port; the admin role ADMIN (password ADMIN_PASSWORD) owns `database`."""
    programs = bin_dir()
    if programs is None:
        raise RuntimeError("PostgreSQL is not installed: install the Debian package postgresql "
                           "(scripts/setup.sh does).")
    folder = Path(tempfile.mkdtemp(prefix="a21import-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    (folder / "pw").write_text(ADMIN_PASSWORD + "\n")
    if run_as:
        shutil.chown(folder / "pw", "postgres", "postgres")
    subprocess.run([*run_as, str(programs / "initdb"), "-D", str(folder / "data"), "-U", ADMIN,
                    "--pwfile", str(folder / "pw"), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True, timeout=120)
    (folder / "pw").unlink()
    for attempt in range(5):
        port = _free_port()
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        started = subprocess.run([*run_as, str(programs / "pg_ctl"), "-D", str(folder / "data"), "-o", options,
                                  "-l", str(folder / "log"), "-w", "-t", "60", "start"],
                                 capture_output=True, text=True, timeout=90)
        if started.returncode == 0:
            break
        time.sleep(0.2 * (attempt + 1))
    else:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr} {log[-2000:]}")
    cluster = Cluster(folder, port, programs, run_as)
    cluster.psql(f"CREATE DATABASE {database}", database="postgres")
    return cluster
