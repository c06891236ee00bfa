"""A release that uses the spec's freedoms (docs/portals/README.md, "What an app may change without notice"),
end to end: the real CLI in Chromium imports TUZ SOBOL serving reordered columns, an extra column, wrapped
fields and no optional end tags, and stores exactly the fixture's truth."""

from __future__ import annotations

import pytest

from tests.conftest import login, rows
from tests.fixtures.tuz_portal import PAGE_SIZE, TuzPortal

pytestmark = pytest.mark.integration


def test_tuz_period_with_every_freedom_stores_the_truth(user_context, run_cli, db_path):
    with TuzPortal(freedoms=True) as portal:
        tab = login(user_context, portal)
        # The fixture really serves the changed markup.
        served = tab.evaluate("async (id) => (await fetch('/insured/contracts/' + id)).text()",
                              portal.policies[0].extra["tuz"].data_id)
        assert "</html>" not in served and '<div class="wiersz">' in served and "<th>Oddział" in served

        result = run_cli("period", "--app", "tuz", "--from", "2026-11-01", "--to", "2026-11-16", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        expected = portal.policies
        assert len(expected) > PAGE_SIZE  # more than one list page
        stored = {r["number"]: r for r in rows(db_path, "SELECT * FROM policies")}
        assert set(stored) == {p.number for p in expected}
        for fake in expected:
            row = stored[fake.number]
            assert (row["product"], row["product_line"], row["status"]) == (fake.product, fake.line, fake.status)
            assert (row["issue_date"], row["start_date"], row["end_date"]) == (
                fake.issue_date.isoformat(), fake.start_date.isoformat(), fake.end_date.isoformat())
            assert row["premium_gr"] == fake.premium_gr
            holder = rows(db_path, "SELECT * FROM clients WHERE id = ?", row["holder_id"])[0]
            h = fake.holder
            assert (holder["kind"], holder["name"], holder["pesel"], holder["nip"], holder["regon"]) == (
                h.kind, h.name, h.pesel, h.nip, h.regon)
            assert (holder["street"], holder["postal_code"], holder["city"], holder["phone"], holder["email"]) == (
                h.street, h.postal_code, h.city, h.phone, h.email)
            if fake.vehicle is not None and row["vehicle_id"] is not None:
                vehicle = rows(db_path, "SELECT * FROM vehicles WHERE id = ?", row["vehicle_id"])[0]
                assert (vehicle["vin"], vehicle["make"], vehicle["model"], vehicle["production_year"]) == (
                    fake.vehicle.vin, fake.vehicle.make, fake.vehicle.model, fake.vehicle.year)
            installments = rows(db_path, "SELECT * FROM installments WHERE policy_id = ? ORDER BY seq", row["id"])
            assert [(i["seq"], i["due_date"], i["amount_gr"], i["paid"]) for i in installments] == [
                (i.seq, i.due_date.isoformat(), i.amount_gr, int(i.paid)) for i in fake.installments]
            coverages = rows(db_path, "SELECT * FROM coverages WHERE policy_id = ? ORDER BY code", row["id"])
            assert [(c["code"], c["name"], c["sum_insured_gr"], c["premium_gr"]) for c in coverages] == sorted(
                (c.code, c.name, c.sum_insured_gr, c.premium_gr) for c in fake.coverages)
