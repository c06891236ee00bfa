"""Screenshots of `a21import ui` for the README, from the fixture data: the fixture iHestia and the system
Chromium start as in the demo, an agent logs in, `a21import ui` runs in Polish, and the page is driven
through the main screens. Writes docs/screens/*.png (1280×800, and two at 1920×1080). The date fields show
in the browser's own locale (dd.mm.rrrr in a Polish browser; the headless test Chromium is English).

    .venv/bin/python scripts/screenshots.py [--out docs/screens]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import login  # noqa: E402
from tests.fixtures.chromium import Chromium  # noqa: E402
from tests.fixtures.hestia_portal import HestiaPortal  # noqa: E402

SMALL = {"width": 1280, "height": 800}
LARGE = {"width": 1920, "height": 1080}
# A year back, so that the renewals and the installments due have something to show today.
FIRST, LAST = date(2025, 11, 20), date(2025, 12, 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"), help="the folder for the PNG files")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="a21import-screens-"))
    with HestiaPortal(count=40, issued=(FIRST, LAST), latency=0.05) as portal, Chromium() as chromium, \
            sync_playwright() as playwright:
        listed = [p for p in portal.policies["ERGO_HESTIA"] if p.extra["system"] != "IPEGAZ"]
        portal.fail.add(listed[3].number)  # one red row, with iHestia's own reason
        browser = playwright.chromium.connect_over_cdp(chromium.cdp_url)
        context = browser.contexts[0]
        login(context, portal)
        env = {**os.environ, "A21IMPORT_CDP": chromium.cdp_url, "A21IMPORT_DB": str(folder / "agent21.db"),
               "A21IMPORT_LOG": str(folder / "a21import.log"), "A21IMPORT_LANG": "pl", "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen([sys.executable, "-m", "a21import", "ui", "--no-open"], stdout=subprocess.PIPE,
                                  text=True, env=env, cwd=ROOT)
        try:
            url = server.stdout.readline().strip()
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.set_viewport_size(SMALL)

            def shot(name: str) -> None:
                page.screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")

            page.goto(url)
            page.wait_for_selector("#apps .state-logged-in")
            shot("apps")
            page.click("#apps a.button")
            page.fill("#from", FIRST.isoformat())
            page.fill("#to", LAST.isoformat())
            shot("import")
            page.click("#list-policies")
            page.wait_for_selector("#confirm-yes")
            shot("confirm")
            page.click("#confirm-yes")
            page.wait_for_selector("#choice")
            for row in listed[:2]:
                page.uncheck(f"#choice tr:has(td:text-is('{row.number}')) input")
            shot("choose")
            page.set_viewport_size(LARGE)
            shot("choose-1920")
            page.set_viewport_size(SMALL)
            page.click("#import-chosen")
            page.wait_for_selector("#job[data-finished='1']", state="attached")
            page.locator("#rows tr.state-failed").scroll_into_view_if_needed()
            shot("imported")
            page.goto(url.split("?")[0] + "policies")
            shot("policies")
            page.set_viewport_size(LARGE)
            shot("policies-1920")
            page.set_viewport_size(SMALL)
            surname = listed[5].holder.name.split()[-1]
            page.fill("#q", surname.lower().translate(str.maketrans("ąćęłńóśźż", "acelnoszz")))
            page.click("#apply")
            shot("search")
            page.click("#policies tbody a >> nth=0")
            page.wait_for_selector("article.policy")
            shot("policy")
            page.goto(url.split("?")[0] + "renewals?days=60")
            shot("renewals")
            page.goto(url.split("?")[0] + "due?days=60")
            shot("due")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
