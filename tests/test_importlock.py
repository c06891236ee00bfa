"""One import at a time into one database (issue 12, point 8): a second run says who holds the lock
and waits; a lock left by a killed run is taken over at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from a21import.errors import DatabaseProblem
from a21import.importlock import lock_path, one_import_at_a_time


def test_a_second_import_waits_saying_who_and_goes_on_when_the_first_ends(tmp_path):
    db = tmp_path / "agent21.db"
    notes: list[str] = []
    order: list[str] = []

    async def first():
        async with one_import_at_a_time(db, notes.append):
            order.append("first in")
            await asyncio.sleep(0.6)
            order.append("first out")

    async def second():
        await asyncio.sleep(0.1)
        async with one_import_at_a_time(db, notes.append):
            order.append("second in")

    async def both():
        await asyncio.gather(first(), second())

    asyncio.run(both())
    assert order == ["first in", "first out", "second in"]
    assert notes[0].startswith(f"Another import into this database is running (PID {os.getpid()}, started at ")
    assert notes[1] == "The other import has finished; this one goes on."
    assert oct(lock_path(db).stat().st_mode & 0o777) == "0o600"


def test_a_lock_left_by_a_killed_run_is_taken_over_at_once(tmp_path):
    db = tmp_path / "agent21.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from a21import.importlock import one_import_at_a_time\n"
        "async def hold():\n"
        "    async with one_import_at_a_time(Path(sys.argv[1]), print):\n"
        "        print('held', flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "asyncio.run(hold())\n"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        holder.kill()
    notes: list[str] = []
    started = time.monotonic()

    async def take():
        async with one_import_at_a_time(db, notes.append):
            pass

    asyncio.run(take())
    assert time.monotonic() - started < 2 and notes == []


def test_the_lock_file_is_never_opened_through_a_link(tmp_path):
    db = tmp_path / "agent21.db"
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    lock_path(db).symlink_to(target)

    async def take():
        async with one_import_at_a_time(db, print):
            pass

    with pytest.raises(DatabaseProblem, match="symbolic link"):
        asyncio.run(take())
    assert target.read_text() == "keep me"
