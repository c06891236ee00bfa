"""Files private to the user on a shared computer: the database, its folders and the log.

They hold PESEL numbers, addresses and phone numbers, so every file a21import creates is 0600 and
every folder 0700 whatever the umask, an existing one with wider permissions is narrowed, and a
symbolic link standing where a21import writes is never followed: another local user who can plant
one (in a shared or badly set-up folder) would otherwise make a21import write, or create, a file of
their choosing. On Windows, where POSIX modes and O_NOFOLLOW do not exist, only the link checks apply.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_POSIX = os.name == "posix"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class LinkRefused(OSError):
    """A symbolic link stands where a21import was about to write."""

    def __init__(self, path: Path):
        super().__init__(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
        self.path = path


def make_folders(folder: Path) -> None:
    """`folder` and every missing folder above it, each created 0700. `Path.mkdir(parents=True)`
    gives the parents the default mode, and a mode given to mkdir is narrowed by the umask."""
    missing = []
    current = Path(folder)
    while not current.is_dir() and current.parent != current:
        missing.append(current)
        current = current.parent
    for level in reversed(missing):
        level.mkdir(mode=PRIVATE_FOLDER)  # FileExistsError on a file or a dangling link: never followed
        if _POSIX:
            os.chmod(level, PRIVATE_FOLDER)


def narrow(path: Path) -> int | None:
    """Takes group and other permissions off an existing file that belongs to the user; returns the
    mode it had when it was wider, else None. Another user's file, a link or a missing file: None."""
    if not _POSIX:
        return None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or not mode & 0o077:
        return None
    os.chmod(path, mode & ~0o077)
    return mode


def create_private(path: Path) -> bool:
    """Creates an empty file 0600 unless something (a file, a link, even a dangling one) stands
    there already; returns whether it created it. O_EXCL never follows a link."""
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(handle)
    return True


def open_for_append(path: Path) -> int:
    """A descriptor for appending to `path`, created 0600; an existing file with wider permissions
    is narrowed. Raises LinkRefused when `path` is a symbolic link, OSError when it is no regular file."""
    if os.path.islink(path):  # where O_NOFOLLOW exists it guards the race too; the check names the cause
        raise LinkRefused(path)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkRefused(path) from exc
        raise
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if _POSIX and stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
            os.fchmod(handle, stat.S_IMODE(info.st_mode) & ~0o077)
    except BaseException:
        os.close(handle)
        raise
    return handle
