"""Captures of red policies end to end (issue 14): the real CLI in this process over in-process tabs of the fixture
iHestia (tests/fixtures/incli.py) with pages that drifted from docs/portals/hestia.md, `--capture DIR`, then
`capture show` and `capture replay`.

`DriftPortal` changes what iHestia sends without touching the fixture portal: a renamed label, an installments
table reordered with a needed column gone, an unknown error page, a renamed list column.
"""

from __future__ import annotations

import html
import json
import os
import stat
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.fixtures.hestia_portal import HestiaPortal
from tests.test_hestia_cli import PERIOD, ihestia_policies

pytestmark = pytest.mark.integration

CHANGED = "The page of Ergo Hestia iHestia has changed or is not supported."


def rename_period_label(text: str) -> str:
    return text.replace("<th>Okres ubezpieczenia</th>", "<th>Okres ochrony</th>")


def hide_paid_column(text: str) -> str:
    """The installments table with its columns in another order and `Zapłacono` gone under a new label."""
    return (text.replace("<th>Nr raty</th><th>Termin płatności</th><th>Kwota</th><th>Zapłacono</th>",
                         "<th>Kwota</th><th>Nr raty</th><th>Termin płatności</th><th>Status płatności</th>"))


def unknown_error_page(text: str) -> str:
    start = text.index('<table class="dane" id="danePolisy">')
    return text[:start] + '<div class="komunikat" id="przerwaTechniczna">Trwa przerwa techniczna.</div></body></html>'


def rename_holder_column(text: str) -> str:
    return text.replace("<th>Ubezpieczający</th>", "<th>Klient</th>")


class DriftPortal(HestiaPortal):
    """iHestia whose answers are changed: `drift` maps a text of the request path to a change of the page."""

    def __init__(self, *, drift=None, **options):
        super().__init__(**options)
        self.drift = dict(drift or {})

    def dispatch(self, request):
        response = super().dispatch(request)
        for text, change in self.drift.items():
            if text in request.full_path:
                response.set_data(change(response.get_data(as_text=True)))
        return response


def bundles(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.zip"))


def bundle_texts(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def encodings(value: str) -> set[str]:
    """`value` as a page may write it: raw, HTML-escaped, JSON-escaped (with \\u or raw), URL-encoded."""
    forms = {value, html.escape(value), html.escape(value, quote=False), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1], quote(value), quote_plus(value), quote(value, safe="")}
    forms |= {"".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in value)}
    return {form for form in forms if form}


def personal_values(portal: HestiaPortal, policies) -> set[str]:
    values = set()
    for policy in policies:
        h = policy.holder
        values |= {h.name, h.street, f"{h.postal_code} {h.city}", h.pesel, h.nip, h.regon, h.phone, h.email}
        if h.kind == "person":
            values |= {f"{h.last_name} {h.first_name}"}
        if policy.vehicle is not None:
            values |= {policy.vehicle.registration, policy.vehicle.vin}
    return {v for v in values if v}


def test_period_with_failures_writes_private_bundles_without_any_personal_data(cli, tmp_path):
    """Every policy red (a renamed label for most, the app's own failure, truncated pages, a table that lost
    a column), then a list that cannot be read: no value of the fixture's clients in any bundle, any encoding."""
    with DriftPortal() as portal:
        policies = ihestia_policies(portal)
        numbers = [p.number for p in policies]
        portal.fail = set(numbers[:3])
        portal.garbage = set(numbers[3:6])
        portal.drift = {"/raty": hide_paid_column, "/polisa/": rename_period_label}
        cli.login(portal)
        folder = tmp_path / "captures"
        result = cli("period", *PERIOD, "--source", "ihestia", "--yes", "--capture", str(folder))
        assert result.returncode == 1, result.stdout + result.stderr
        written = bundles(folder)
        assert len(written) == len(policies)
        assert f"{len(policies)} scrubbed captures of red policies were written to {folder}" in " ".join(
            result.stdout.split())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in written)
        # The list itself drifted: the run stops, and its bundle holds the whole first page.
        portal.drift = {"/polisy/szukaj": rename_holder_column}
        result = cli("period", *PERIOD, "--source", "ihestia", "--yes", "--capture", str(folder))
        assert result.returncode == 3, result.stdout + result.stderr
        assert "without the column 'Ubezpieczający'" in " ".join(result.stderr.split())
        written = bundles(folder)
        assert len(written) == len(policies) + 1
        texts = {path.name: bundle_texts(path) for path in written}
        everything = "\n".join(texts.values())
        for value in personal_values(portal, policies):
            for form in encodings(value):
                assert form.lower() not in everything.lower(), (value, form)
        # What the maintainer needs stays: the policy numbers and the amounts.
        assert all(any(number in text for text in texts.values()) for number in numbers)
        reasons = [json.loads(zipfile.ZipFile(p).read("bundle.json"))["reason"] for p in written]
        assert sum("iHestia reported a system error" in r for r in reasons) == 3
        assert sum(CHANGED in r for r in reasons) == len(reasons) - 3
        assert any("'Okres ubezpieczenia'" in r and "It was the answer to /polisa/" in r for r in reasons)


def test_a_red_policy_is_captured_shown_and_replayed_with_the_same_reason(cli, tmp_path):
    with DriftPortal() as portal:
        number = ihestia_policies(portal)[0].number
        portal.drift = {f"/polisa/{number}": unknown_error_page}
        cli.login(portal)
        folder = tmp_path / "out"
        result = cli("policy", number, "--yes", env={"A21IMPORT_CAPTURE": str(folder)})
        assert result.returncode == 1, result.stdout + result.stderr
        (bundle,) = bundles(folder)
        manifest = json.loads(zipfile.ZipFile(bundle).read("bundle.json"))
        assert manifest["app"] == "hestia" and manifest["mode"] == "lookup"
        assert manifest["where"][-1].startswith("a21import/insurers/hestia.py:")
        assert manifest["reason"] == (
            f"The policy page has no policy data table (it may be cut short). {CHANGED} It was the answer to "
            f"/polisa/{number}.")
        shown = cli("capture", "show", str(bundle))
        assert shown.returncode == 0, shown.stderr
        assert manifest["reason"] in " ".join(shown.stdout.split())
        assert f"/polisa/{number}" in shown.stdout and "DOM" in shown.stdout
        replayed = cli("capture", "replay", str(bundle))
        assert replayed.returncode == 1
        assert " ".join(replayed.stderr.split()) == manifest["reason"]


def test_refresh_captures_the_look_up_and_the_read(cli, tmp_path):
    with DriftPortal() as portal:
        number = ihestia_policies(portal)[1].number
        cli.login(portal)
        assert cli("policy", number, "--yes").returncode == 0
        portal.drift = {"/raty": hide_paid_column}
        folder = tmp_path / "refresh"
        result = cli("refresh", number, "--yes", "--capture", str(folder))
        assert result.returncode == 1, result.stdout + result.stderr
        (bundle,) = bundles(folder)
        manifest = json.loads(zipfile.ZipFile(bundle).read("bundle.json"))
        assert manifest["mode"] == "refresh"
        assert [r["path"] for r in manifest["requests"]] == [f"/polisa/{number}", f"/polisa/{number}/raty"]
        replayed = cli("capture", "replay", str(bundle))
        assert replayed.returncode == 1
        assert "without the column 'Zapłacono'" in replayed.stderr


def test_a_capture_folder_that_is_a_link_is_never_written_through(cli, tmp_path):
    with DriftPortal() as portal:
        number = ihestia_policies(portal)[0].number
        portal.fail = {number}
        cli.login(portal)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        link = tmp_path / "link"
        os.symlink(elsewhere, link)
        result = cli("policy", number, "--yes", "--capture", str(link))
        assert result.returncode == 1
        assert list(elsewhere.iterdir()) == []
