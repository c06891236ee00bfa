"""Across apps: choosing among open apps' tabs, and one policy sold through two platforms."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import login
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.insly_portal import InslyPortal
from tests.fixtures.tuz_portal import TuzPortal
from tests.fixtures.unimarket_portal import UnimarketPortal

pytestmark = pytest.mark.integration


def query(db_path, sql, *args):
    con = sqlite3.connect(db_path)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_several_apps_open_needs_app_under_yes(user_context, run_cli, db_path):
    with HestiaPortal(count=5) as hestia, TuzPortal(count=5) as tuz:
        login(user_context, hestia)
        login(user_context, tuz)
        result = run_cli("period", "--from", "2026-11-01", "--to", "2026-11-16", "--yes")
        assert result.returncode == 2
        assert "Ergo Hestia" in result.stderr and "TUZ" in result.stderr and "--app" in result.stderr
        assert query(db_path, "SELECT count(*) FROM policies") == [(0,)]
        result = run_cli("period", "--from", "2026-11-01", "--to", "2026-11-16", "--app", "tuz", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert {row[0] for row in query(db_path, "SELECT DISTINCT source_app FROM policies")} == {"tuz"}
        assert query(db_path, "SELECT count(*) FROM policies") == [(len(tuz.policies),)]
        # Interactively, the CLI asks which app; answering 2 (TUZ, the second tab opened) and confirming.
        result = run_cli("period", "--from", "2026-11-01", "--to", "2026-11-16", "--include-stored",
                         input="2\ny\n\n\n")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Tabs of several apps are open." in result.stdout


def test_one_policy_through_two_platforms_is_one_row(user_context, run_cli, db_path):
    with InslyPortal(count=12) as insly, UnimarketPortal(count=20) as unimarket:
        warta = next(p for p in insly.policies if p.line == "motor")
        warta.insurer = "TUiR Warta S.A."
        motor = next(p for p in unimarket.policies if p.line == "motor")
        del unimarket._by_number[motor.number]
        motor.number = warta.number
        motor.insurer = "Towarzystwo Ubezpieczeń i Reasekuracji WARTA S.A."
        unimarket._by_number[motor.number] = motor
        login(user_context, insly)
        login(user_context, unimarket)
        first = run_cli("policy", warta.number, "--app", "insly", "--yes")
        assert first.returncode == 0, first.stdout + first.stderr
        assert query(db_path, "SELECT id, source_app, premium_gr FROM policies") == [
            (f"WARTA:{warta.number}", "insly", warta.premium_gr)]
        second = run_cli("policy", warta.number, "--app", "unimarket", "--yes")
        assert second.returncode == 0, second.stdout + second.stderr
        assert query(db_path, "SELECT id, source_app, premium_gr FROM policies") == [
            (f"WARTA:{warta.number}", "unimarket", motor.premium_gr)]
        assert query(db_path, "SELECT count(*), sum(amount_gr) FROM installments") == [
            (len(motor.installments), sum(i.amount_gr for i in motor.installments))]


def test_a_remote_cdp_needs_allow_remote_cdp_and_then_warns(user_context, run_cli, chromium, db_path):
    """0.0.0.0 is not a loopback address, yet on Linux it reaches this computer's browser: the check
    refuses it without --allow-remote-cdp, and with it the import runs after a warning."""
    remote = f"http://0.0.0.0:{chromium.port}"
    refused = run_cli("policy", "KOS1234567", "--cdp", remote, "--yes")
    assert refused.returncode == 2 and "is not on this computer" in refused.stderr
    assert not db_path.exists()
    with TuzPortal(count=3) as tuz:
        login(user_context, tuz)
        number = tuz.policies[0].number
        result = run_cli("policy", number, "--cdp", remote, "--allow-remote-cdp", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        warning = " ".join(result.stderr.split())
        assert f"Warning: the browser at {remote} is not on this computer." in warning
        assert "full control of the browser" in warning
        assert query(db_path, "SELECT premium_gr FROM policies WHERE number = ?", number) == [
            (tuz.policies[0].premium_gr,)]
