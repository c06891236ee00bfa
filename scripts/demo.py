"""The built-in demo: starts the fixture iHestia on 127.0.0.1 and the system Chromium with remote
debugging, logs in through the app's login form as an agent would, then runs the real
`a21import period` against that browser, with the live table."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.fixtures.chromium import Chromium  # noqa: E402
from tests.fixtures.hestia_portal import HestiaPortal  # noqa: E402


DEMO_DB = ROOT / "demo-data" / "agent21.db"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(DEMO_DB), help="where the demo database goes (the default one starts empty)")
    parser.add_argument("--policies", type=int, default=45, help="how many ERGO Hestia policies the portal has")
    args = parser.parse_args()
    demo_db = Path(args.db)
    if demo_db == DEMO_DB:  # the demo's own database starts empty at every run, to show a whole import
        for leftover in (demo_db, demo_db.with_name(demo_db.name + "-wal"), demo_db.with_name(demo_db.name + "-shm")):
            leftover.unlink(missing_ok=True)
    failing = None
    with HestiaPortal(count=args.policies) as portal, Chromium() as chromium, sync_playwright() as playwright:
        # One policy answers with iHestia's own system error, to show a red row.
        failing = next(p.number for p in portal.policies["ERGO_HESTIA"] if p.extra["system"] != "IPEGAZ")
        portal.fail.add(failing)
        print(f"Fixture iHestia runs at {portal.url('/')} (reached by Chromium as the real host name).")
        browser = playwright.chromium.connect_over_cdp(chromium.cdp_url)
        page = browser.contexts[0].new_page()
        page.goto(portal.login_url)
        for name, value in portal.LOGIN_FIELDS.items():
            page.fill(f'[name="{name}"]', value)
        with page.expect_navigation():
            page.click('form#loginForm [type="submit"]')
        print(f"Logged in to iHestia in Chromium ({chromium.cdp_url}); now importing.\n")
        command = [sys.executable, "-m", "a21import", "period", "--from", "2026-11-01", "--to", "2026-11-16",
                   "--source", "ihestia", "--yes", "--cdp", chromium.cdp_url, "--db", args.db]
        print("$ a21import " + " ".join(command[3:]) + "\n", flush=True)
        code = subprocess.call(command, cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8",
                                                            "A21IMPORT_LOG": str(demo_db.parent / "a21import.log")})
        browser.close()
    print(f"\nThe demo database is {args.db}; open it with any SQLite tool, e.g. sqlite3 {args.db} "
          "'SELECT number, product, premium_gr FROM policies'.")
    print(f"Exit code {code}: policy {failing} was made to fail on purpose, so 1 is expected.")
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main())
