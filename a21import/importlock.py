"""One import at a time into one database.

Two imports into the same database at once would both read every policy (the second one lists
before the first one stored anything). The import holds an operating-system lock on a file beside
the database (`agent21.db.import-lock`) for as long as it runs; a second import says who holds it
(PID and start time, written in the file) and waits, before reading its list, so that it then leaves
out what the first one stored. The lock belongs to the process: when a run is killed, the system
releases it, and the next run takes it over at once (a stale lock cannot block anyone).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

from a21import.errors import DatabaseProblem
from a21import.formats import WARSAW
from a21import.i18n import _

POLL_S = 0.2  # how often a waiting import tries again (Ctrl-C stops the wait at once)


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".import-lock")


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, 0o600)  # never through a symlink someone planted: O_NOFOLLOW


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def holder(path: Path) -> str:
    """Who holds the lock, as a sentence: from the PID and start time the holder wrote."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid, started = int(info["pid"]), datetime.fromisoformat(info["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return _("Another import into this database is running. a21import waits for it to finish before reading "
                 "the list (Ctrl-C stops waiting).")
    return _("Another import into this database is running (PID {pid}, started at {time}). a21import waits for it "
             "to finish before reading the list (Ctrl-C stops waiting).").format(
        pid=pid, time=started.astimezone(WARSAW).strftime("%d.%m.%Y %H:%M:%S"))


@asynccontextmanager
async def one_import_at_a_time(db_path: Path, note: Callable[[str], None]) -> AsyncIterator[None]:
    """Holds the database's import lock for the block; waits (saying why, once) while another run has it.
    The agency's PostgreSQL store takes no such lock: sub-agents import at the same time by design, and each
    policy's write is serialised in the database itself (db.save_policy)."""
    from a21import.pg import is_url

    if is_url(db_path):
        yield
        return
    path = lock_path(Path(db_path))
    try:
        fd = _open(path)
    except OSError as exc:  # a symbolic link planted there (O_NOFOLLOW), or a folder that cannot be written
        raise DatabaseProblem(_("The import lock file {path} cannot be opened ({error}). If it is a symbolic link, "
                                "remove it; then run the command again.").format(path=path, error=exc.strerror)) from exc
    try:
        said = False
        while not _try_lock(fd):
            if not said:
                note(holder(path))
                said = True
            await asyncio.sleep(POLL_S)
        if said:
            note(_("The other import has finished; this one goes on."))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat()}).encode(),
                  0)
        yield
    finally:
        with suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing releases the lock
