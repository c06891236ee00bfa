"""Files on a shared computer through the real CLI, run in this process (issue 11, points 9–11; issue 12,
point 7): exit codes and sentences for a planted link, a mistyped --db folder, a database without tables,
and reading while an import holds the write lock. No browser: every case ends before one is needed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from a21import import db as database
from tests.test_core import make_policy

NUMBER = "909123456789"


@pytest.fixture
def cli(cli, tmp_path, monkeypatch):
    """`a21import ARGS` in this process (conftest's `cli`, no tab), in tmp_path, the database only from --db
    and the log in tmp_path."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict[str, str] | None = None):
        return cli(*args, env={"A21IMPORT_DB": None, "A21IMPORT_LOG": str(tmp_path / "a21import.log"), **(env or {})},
                   timeout=60)

    return run


@pytest.fixture
def stored(tmp_path) -> Path:
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    database.save_policy(db, make_policy())
    db.conn.close()
    return path


def _said(result) -> str:
    return " ".join(result.stderr.split())


def test_a_mistyped_db_folder_is_bad_input_and_nothing_is_created(cli, tmp_path):
    typo = tmp_path / "Dokumnety" / "agent21.db"
    result = cli("policy", NUMBER, "--db", str(typo), "--cdp", "http://127.0.0.1:9", "--yes")
    assert result.returncode == 2, result.stderr
    assert f"The folder {typo.parent} does not exist" in _said(result)
    assert not typo.parent.exists()


def test_a_database_link_is_refused_with_its_path(cli, tmp_path, stored):
    link = tmp_path / "link.db"
    link.symlink_to(stored)
    for command in (["policies"], ["show", NUMBER], ["export", "--output", "x.csv"],
                    ["policy", NUMBER, "--cdp", "http://127.0.0.1:9", "--yes"]):
        result = cli(*command, "--db", str(link))
        assert result.returncode == 2, (command, result.stderr)
        assert f"The database path {link} is a symbolic link" in _said(result)
    assert not (tmp_path / "x.csv").exists()


def test_a_metadata_output_link_is_refused(cli, tmp_path, stored):
    target = tmp_path / "elsewhere.json"
    link = tmp_path / "agent21.metadata.json"
    link.symlink_to(target)
    result = cli("datasette-metadata", "--db", str(stored), "--force")
    assert result.returncode == 2 and f"The output path {link} is a symbolic link" in _said(result)
    assert not target.exists()


def test_a_log_link_is_skipped_with_a_warning(cli, tmp_path):
    target = tmp_path / "elsewhere.log"
    link = tmp_path / "a21import.log"
    link.symlink_to(target)
    result = cli("policy", NUMBER, "--db", str(tmp_path / "typo" / "a.db"), "--cdp", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert f"The log file {link} is a symbolic link" in _said(result)
    assert not target.exists()


def test_a_database_without_tables_says_import_first(cli, tmp_path):
    empty = tmp_path / "agent21.db"
    empty.touch()
    for command in (["policies"], ["due"], ["export"]):
        result = cli(*command, "--db", str(empty))
        assert result.returncode == 3 and "Import policies first" in _said(result), result.stderr
    assert empty.read_bytes() == b""


def test_read_only_commands_work_while_an_import_writes(cli, tmp_path, stored):
    writer = sqlite3.connect(stored)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE policies SET product = 'in the middle of an import'")
        env = {"A21IMPORT_DB_TIMEOUT": "1"}
        listed = cli("policies", "--db", str(stored), "--json", env=env)
        assert listed.returncode == 0 and NUMBER in listed.stdout, listed.stderr
        assert "in the middle" not in listed.stdout
        exported = cli("export", "--db", str(stored), "--output", "out.csv", env=env)
        assert exported.returncode == 0, exported.stderr
    finally:
        writer.rollback()
        writer.close()
