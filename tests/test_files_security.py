"""Files on a shared computer (issue 11, points 9–12; issue 12, point 7): the log, the database and
its folders, the files a21import writes, the read-only commands and formula starters in CSV.

Tests run as root in CI, where permissions stop nothing: read-only behaviour is proven by the bytes,
mtime and journal mode of the file, by a connection that cannot write, and by a child process that
drops to `nobody`."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest

from a21import import db as database
from a21import import export, logs, queries
from a21import.datasette import write_metadata
from a21import.errors import BadInput, DatabaseProblem
from tests.test_core import make_policy

PESEL = "84031233138"
RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ ")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask():
    """Sets the umask for the test; the old one comes back afterwards."""
    old = os.umask(0o022)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(old)


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """Points the log at a fresh path and removes the file handler afterwards."""
    path = tmp_path / "logs" / "a21import.log"
    monkeypatch.setenv("A21IMPORT_LOG", str(path))
    _drop_handlers()
    yield path
    _drop_handlers()


def _drop_handlers() -> None:
    for handler in list(logs.log.handlers):
        if getattr(handler, "a21import", False):
            handler.close()
            logs.log.removeHandler(handler)


def _handler() -> logging.Handler:
    return next(h for h in logs.log.handlers if getattr(h, "a21import", False))


# -- 9. the log ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0o022, 0o000])
def test_the_log_is_private_from_the_start_and_after_rotation(log_file, umask, value):
    umask(value)
    assert logs.setup() == log_file
    logs.log.warning("first")
    assert mode(log_file) == 0o600 and mode(log_file.parent) == 0o700
    _handler().doRollover()
    logs.log.warning("second")
    assert mode(log_file) == 0o600 and mode(log_file.with_name("a21import.log.1")) == 0o600
    assert "second" in log_file.read_text() and "first" in log_file.with_name("a21import.log.1").read_text()


def test_an_existing_log_readable_by_others_is_made_private(log_file, umask):
    log_file.parent.mkdir()
    log_file.write_text("earlier\n")
    os.chmod(log_file, 0o644)
    assert logs.setup() == log_file
    logs.log.warning("later")
    assert mode(log_file) == 0o600 and log_file.read_text().startswith("earlier\n")


@pytest.mark.parametrize("existing", [True, False])
def test_the_log_never_writes_through_a_link(log_file, tmp_path, capsys, existing):
    victim = tmp_path / "victim.txt"
    if existing:
        victim.write_text("someone's file\n")
    log_file.parent.mkdir()
    log_file.symlink_to(victim)
    assert logs.setup() is None
    logs.log.warning("not written anywhere")
    assert f"The log file {log_file} is a symbolic link" in " ".join(capsys.readouterr().err.split())
    assert (victim.read_text() == "someone's file\n") if existing else not victim.exists()
    assert log_file.is_symlink()


def test_one_record_is_one_line_whatever_an_app_sends(log_file):
    forged = "2026-11-28 12:00:00,000 ERROR forged"
    logs.setup()
    logs.log.warning("client %s unknown", f"Kowalski\n{forged}\r\x1b[2K\x1b]0;title\x07\u202eabc\x85\u2028x\n{PESEL}")
    try:
        try:
            raise ValueError(f"bad answer\n{forged}\nPESEL {PESEL}")
        except ValueError as exc:
            raise RuntimeError(f"outer\r\n{forged}") from exc
    except RuntimeError:
        logs.log.exception("failed\n%s", forged)
    text = log_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    records = [line for line in lines if RECORD_START.match(line)]
    assert len(records) == 2, text  # the forged record never starts a line
    assert not any(line.startswith(forged) for line in lines)
    assert records[0].startswith(records[0][:24]) and "Kowalski\\n2026-11-28 12:00:00,000 ERROR forged\\r" in records[0]
    assert "\\x1b[2K" in records[0] and "\\u202eabc\\x85\\u2028x\\n" in records[0]
    assert "ValueError: bad answer\\n2026-11-28" in text and "RuntimeError: outer\\r\\n2026-11-28" in text
    assert PESEL not in text  # masked after a line break too, in the message and in the traceback
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028]", text)
    assert "Traceback (most recent call last):" in text  # the traceback keeps its own lines


# -- 10. the database, its folders and the files written -----------------------------------------------
def test_a_database_path_that_is_a_link_is_refused(tmp_path):
    real = tmp_path / "real.db"
    database.open_db(real).conn.close()
    before = real.read_bytes()
    link = tmp_path / "agent21.db"
    link.symlink_to(real)
    for read_only in (False, True):
        with pytest.raises(BadInput, match="is a symbolic link") as caught:
            database.open_db(link, read_only=read_only)
        assert str(link) in caught.value.message and caught.value.exit_code == 2
    with pytest.raises(BadInput, match="is a symbolic link"):
        queries.open_existing(link)
    assert real.read_bytes() == before

    dangling = tmp_path / "other.db"
    dangling.symlink_to(tmp_path / "created-by-the-link.db")
    with pytest.raises(BadInput, match="is a symbolic link"):
        database.open_db(dangling)
    with pytest.raises(BadInput, match="is a symbolic link"):
        queries.open_existing(dangling)
    assert not (tmp_path / "created-by-the-link.db").exists()


def test_a_database_readable_by_others_is_made_private(tmp_path, caplog):
    path = tmp_path / "agent21.db"
    database.open_db(path).conn.close()
    os.chmod(path, 0o644)
    database.open_db(path).conn.close()
    assert mode(path) == 0o600
    os.chmod(path, 0o640)
    queries.open_existing(path).conn.close()
    assert mode(path) == 0o600


@pytest.mark.parametrize("value", [0o022, 0o000])
def test_a_mistyped_db_folder_is_an_error_but_a_new_file_is_created(tmp_path, umask, value):
    umask(value)
    missing = tmp_path / "typo" / "agent21.db"
    with pytest.raises(BadInput) as caught:
        database.open_db(missing)
    assert caught.value.exit_code == 2 and f"The folder {missing.parent} does not exist" in caught.value.message
    assert not missing.parent.exists()
    new = tmp_path / "new.db"
    database.open_db(new).conn.close()
    assert mode(new) == 0o600


@pytest.mark.parametrize("value", [0o022, 0o000])
def test_the_default_location_is_created_private(tmp_path, monkeypatch, umask, value):
    umask(value)
    default = tmp_path / "home" / "share" / "a21import" / "agent21.db"
    monkeypatch.setattr(database, "default_path", lambda: default)
    database.open_db(default).conn.close()
    assert mode(default) == 0o600
    for folder in (tmp_path / "home", tmp_path / "home" / "share", default.parent):
        assert mode(folder) == 0o700, folder


def test_an_output_file_that_is_a_link_is_refused(tmp_path):
    victim = tmp_path / "victim.json"
    dangling = tmp_path / "a.metadata.json"
    dangling.symlink_to(victim)
    with pytest.raises(BadInput, match="is a symbolic link") as caught:
        write_metadata(tmp_path / "agent21.db", dangling, force=True)
    assert str(dangling) in caught.value.message and caught.value.exit_code == 2
    assert not victim.exists()  # a dangling link's target is never created

    ours = write_metadata(tmp_path / "agent21.db", tmp_path / "earlier.json")  # what a21import may refresh
    ours.rename(victim)
    before = victim.read_text()
    for force in (False, True):
        with pytest.raises(BadInput, match="is a symbolic link"):
            write_metadata(tmp_path / "office.db", dangling, force=force)
        with pytest.raises(BadInput, match="is a symbolic link"):
            export.check_output(dangling, force=force)
    assert victim.read_text() == before and dangling.is_symlink()


def test_metadata_is_written_private_and_in_place(tmp_path, umask):
    umask(0o000)
    written = write_metadata(tmp_path / "agent21.db")
    assert written == tmp_path / "agent21.metadata.json" and mode(written) == 0o600
    assert '"agent21"' in written.read_text()


# -- 11. read-only commands ----------------------------------------------------------------------------
@pytest.fixture
def stored(tmp_path) -> Path:
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    database.save_policy(db, make_policy())
    db.conn.close()
    return path


def _read_all(path: Path) -> list:
    db = queries.open_existing(path)
    try:
        return [row.number for row in queries.search_policies(db)]
    finally:
        db.conn.close()


def test_reading_works_while_an_import_holds_the_write_lock(stored, monkeypatch):
    monkeypatch.setenv(database.TIMEOUT_ENV, "0.5")
    writer = sqlite3.connect(stored)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE policies SET product = 'changed'")
        assert _read_all(stored) == ["909123456789"]
    finally:
        writer.rollback()
        writer.close()


def test_a_read_only_connection_cannot_write(stored):
    db = queries.open_existing(stored)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("CREATE TABLE x (y)")
    finally:
        db.conn.close()


def test_reading_never_changes_the_file(tmp_path):
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    database.save_policy(db, make_policy())
    db.conn.close()
    plain = sqlite3.connect(path)
    plain.execute("PRAGMA journal_mode=DELETE")  # as another program may leave it: no WAL switch on reading
    plain.close()
    before, mtime = path.read_bytes(), os.stat(path).st_mtime_ns
    assert _read_all(path) == ["909123456789"]
    db = queries.open_existing(path)
    queries.policy_details(db, "909123456789")
    db.conn.close()
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent21.db"]  # no -wal, -shm or journal


@pytest.mark.parametrize("content", ["empty", "other tables", "older shape"])
def test_a_database_without_the_tables_says_import_first(tmp_path, content):
    path = tmp_path / "agent21.db"
    if content == "empty":
        path.touch()
    else:
        con = sqlite3.connect(path)
        if content == "other tables":
            con.execute("CREATE TABLE notes (text TEXT)")
        else:
            for name, (columns, _pk, _fk) in database.SCHEMA.items():
                kept = [c for c in columns if not (name == "policies" and c == "imported_at")]
                con.execute(f"CREATE TABLE {name} ({', '.join(kept)})")
        con.commit()
        con.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseProblem, match="Import policies first") as caught:
        queries.open_existing(path)
    assert str(path) in caught.value.message and caught.value.exit_code == 3
    assert path.read_bytes() == before


def _readable_copy(stored: Path) -> Path:
    """The stored database in a folder and file that every user can read and only root can write."""
    folder = Path(tempfile.mkdtemp(prefix="a21ro-"))
    os.chmod(folder, 0o755)
    copy = folder / "agent21.db"
    copy.write_bytes(stored.read_bytes())
    os.chmod(copy, 0o444)
    os.chmod(folder, 0o555)
    return copy


def test_reading_a_database_in_a_read_only_folder(stored):
    copy = _readable_copy(stored)
    try:
        if os.geteuid() != 0:
            assert _read_all(copy) == ["909123456789"]
            return
        pid = os.fork()
        if pid == 0:  # as nobody, for whom the folder and the file are really read-only
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                code = 0 if _read_all(copy) == ["909123456789"] else 2
            except BaseException as exc:  # noqa: BLE001 - the child reports by its exit code
                print(f"child: {exc!r}", flush=True)
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert sorted(p.name for p in copy.parent.iterdir()) == ["agent21.db"]
    finally:
        os.chmod(copy.parent, 0o755)
        for file in copy.parent.iterdir():
            file.unlink()
        copy.parent.rmdir()


# -- 12. CSV formula starters --------------------------------------------------------------------------
STARTERS = ["=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
LEADING = ["", " ", "  ", "\t", "\u00a0", "\u3000", "\u200b", " \u00a0\u200b"]


@pytest.mark.parametrize("leading", LEADING, ids=repr)
@pytest.mark.parametrize("starter", STARTERS, ids=repr)
def test_csv_neutralises_every_formula_starter(leading, starter):
    value = f'{leading}{starter}HYPERLINK("http://example.com","x")'
    assert export.csv_text(value) == "'" + value


@pytest.mark.parametrize("value", ["\tcmd", "\rcmd", " \tcmd", "\u3000\r=1+1"], ids=repr)
def test_csv_neutralises_tab_and_carriage_return(value):
    assert export.csv_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Łukasz Wójcik", " Kowalski", "+48 601 234 567", "-12", "a=b", "", "100 %"])
def test_csv_keeps_plain_text_and_numbers(value):
    assert export.csv_text(value) == value
