"""The in-process CLI of the flow tests (tests/fixtures/incli.py) leaves the test's process as it found it:
the language, the environment, argv, the standard streams, the log file and `attach` are the run's own."""

from __future__ import annotations

import os
import sys

from a21import import browser, i18n, importer, logs


def test_a_run_keeps_its_language_environment_streams_and_log_to_itself(cli, db_path):
    before = (i18n._language, dict(os.environ), list(sys.argv), sys.stdin, sys.stdout, sys.stderr)
    result = cli("--lang", "pl", "policies", "--db", str(db_path.parent / "nie-ma.db"),
                 env={"A21IMPORT_TEST_ONLY": "1", "HOME": None})
    assert result.returncode == 3
    assert "jeszcze nie istnieje" in result.stderr  # the run spoke Polish
    assert (i18n._language, dict(os.environ), list(sys.argv), sys.stdin, sys.stdout, sys.stderr) == before
    assert not [h for h in logs.log.handlers if getattr(h, "a21import", False)]
    assert importer.attach is browser.attach
