"""Makes the seed bundles of tests/captures again from the fixture iHestia (by hand, when the bundle format or
the fixture changes): `.venv/bin/python -m tests.captures.make_seeds OUT_DIR`, then copy each OUT_DIR/NAME/*.zip
to tests/captures/NAME/bundle.zip and write the reason `capture replay` prints into its expected.json."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import ROOT, login
from tests.fixtures.chromium import Chromium
from tests.test_capture_cli import (
    DriftPortal,
    hide_paid_column,
    rename_holder_column,
    rename_period_label,
    unknown_error_page,
)
from tests.test_hestia_cli import PERIOD, ihestia_policies

# name → (command, the page change for policy number N, which policy of the period is N)
CASES = {
    "hestia-renamed-label": ("policy", lambda n: {f"/polisa/{n}": rename_period_label}, 0),
    "hestia-hidden-column": ("refresh", lambda n: {"/raty": hide_paid_column}, 1),
    "hestia-unknown-error-page": ("period", lambda n: {f"/polisa/{n}": unknown_error_page}, 2),
    "hestia-renamed-list-column": ("period", lambda n: {"/polisy/szukaj": rename_holder_column}, 0),
}


def main(out: Path) -> None:
    with Chromium() as chromium, sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium.cdp_url)
        context = browser.contexts[0]
        for name, (command, drift, index) in CASES.items():
            with DriftPortal(seed=7) as portal:
                number = ihestia_policies(portal)[index].number
                page = login(context, portal)
                env = {**os.environ, "A21IMPORT_CDP": chromium.cdp_url, "A21IMPORT_DB": str(out / f"{name}.db"),
                       "A21IMPORT_LOG": str(out / "a21import.log"), "A21IMPORT_LANG": "en",
                       "A21IMPORT_CAPTURE": str(out / name)}

                def run(*args: str) -> subprocess.CompletedProcess:
                    return subprocess.run([sys.executable, "-m", "a21import", *args], env=env, cwd=ROOT,
                                          capture_output=True, text=True)

                if command == "refresh":
                    run("policy", number, "--yes")
                portal.drift = drift(number)
                if command == "period":
                    result = run("period", *PERIOD, "--source", "ihestia", "--yes", "--concurrency", "1")
                else:
                    result = run(command, number, "--yes")
                print(name, result.returncode)
                page.close()
                context.clear_cookies()
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
