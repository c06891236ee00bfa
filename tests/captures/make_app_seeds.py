"""Makes the in-process seed bundles of tests/captures again (no Chromium): each app's fixture portal with the
drift of tests/test_capture_apps.py, one red policy's bundle (or a row the list marked red) copied to
tests/captures/NAME/bundle.zip with the reason its replay gives in expected.json.
`.venv/bin/python -m tests.captures.make_app_seeds` (when the bundle format or a fixture changes)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from a21import import capture, i18n
from a21import.capture_replay import replay
from tests.test_capture_apps import CASES, import_period, make_portal

HERE = Path(__file__).resolve().parent
# name → (the case of tests/test_capture_apps.py, its drift kept, which of the period's policies fails in the app)
SEEDS = {
    "generali-renamed-schedule-key": ("generali", True, None),
    "tuz-renamed-installments-table": ("tuz", True, None),
    "warta-zycie-renamed-status-column": ("warta-zycie", True, None),
    "hiperio-listed-with-app-error": ("hiperio", False, 1),
}


def main() -> None:
    i18n.setup("en")
    for name, (case_name, drifted, failing) in SEEDS.items():
        case = next(case for case in CASES if case.name == case_name)
        case = case if drifted else replace(case, drift=())
        portal = make_portal(case, seed=7, count=8)
        if failing is not None:
            portal.fail = {sorted(portal.records)[failing]}
        with tempfile.TemporaryDirectory() as work:
            import_period(case, portal, Path(work) / "out", Path(work) / "a21import.db")
            first = sorted((Path(work) / "out").glob("*.zip"))[0]
            outcome = asyncio.run(replay(capture.load(first)))
            folder = HERE / name
            folder.mkdir(exist_ok=True)
            shutil.copyfile(first, folder / "bundle.zip")
        expected = {"exit": outcome.code, "reason": outcome.reason}
        (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                              encoding="utf-8")
        print(name, outcome.code, outcome.reason, file=sys.stderr)


if __name__ == "__main__":
    main()
