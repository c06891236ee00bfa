"""The commands over the stored database (policies, show, renewals, due, export, datasette-metadata),
run as the real CLI in this process (tests/fixtures/incli.py) on a database written by `db.save_policy`.
No browser is needed."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from faker import Faker

from a21import import db as database
from a21import.model import Client, Coverage, Installment, Policy, Vehicle
from a21import.periods import today_in_poland

ROOT = Path(__file__).resolve().parent.parent
TODAY = today_in_poland()
MARKUP_NAME = "[bold red]x[/] Ślusarz Żółć Sp. z o.o."
FORMULA_NAME = "=HYPERLINK(\"http://example.com\")"


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def _policy(fake: Faker, number: str, holder: Client, *, insurer="ERGO_HESTIA", app="hestia", issued: date,
            ends: date, premium: int, vehicle: Vehicle | None = None, installments=(), coverages=()) -> Policy:
    return Policy(
        number=number, insurer=insurer, source_app=app, source_system="IHESTIA" if app == "hestia" else None,
        product_line="motor" if vehicle else "property", product=fake.random_element(["Auto Pakiet", "Mój Dom"]),
        status="Aktywna", issue_date=issued, start_date=ends - timedelta(days=364), end_date=ends, premium_gr=premium,
        holder=holder, vehicle=vehicle, installments=tuple(installments), coverages=tuple(coverages),
    )


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A database of five policies around today: renewal and due-date edges, a number shared by two
    insurers, a company whose name holds Rich markup, and a client whose name starts like a formula."""
    fake = Faker("pl_PL")
    fake.seed_instance(21)
    path = tmp_path_factory.mktemp("stored") / "agent21.db"
    db = database.open_db(path)
    wojcik = Client("person", "Łukasz Wójcik", pesel="84031233138", street="ul. Długa 5/12", postal_code="80-827",
                    city="Gdańsk", phone="+48 601 234 567", email="lukasz.wojcik@example.pl")
    company = Client("company", MARKUP_NAME, nip="5274682865", street=fake.street_address(),
                     postal_code=fake.postcode(), city=fake.city(), phone="+48 58 555 01 02", email="biuro@example.pl")
    formula = Client("person", FORMULA_NAME, pesel=fake.pesel(), phone=fake.phone_number())
    golf = Vehicle(registration="GD4F218", vin="WVWZZZAUZLP512347", make="Volkswagen", model="Golf",
                   production_year=2019)
    policies = [
        _policy(fake, "909123456789", wojcik, issued=days(-20), ends=TODAY, premium=123456, vehicle=golf,
                coverages=[Coverage("OC", "OC posiadaczy pojazdów", 5_210_000_00, 80000),
                           Coverage("AC", "Autocasco", 4_850_000, 43456)],
                installments=[Installment(1, days(-30), 30000, True), Installment(2, days(-3), 31111, False),
                              Installment(3, days(14), 32222, False), Installment(4, days(15), 30123, False)]),
        _policy(fake, "KOS1234567", company, insurer="TUZ", app="tuz", issued=date(2025, 6, 1), ends=days(30),
                premium=250000, installments=[Installment(1, TODAY, 250000, False)]),
        _policy(fake, "KOS1234567", wojcik, insurer="GENERALI", app="generali", issued=date(2025, 7, 15),
                ends=days(31), premium=99900),
        _policy(fake, "WAR0000001", formula, insurer="WARTA", app="warta", issued=date(2025, 1, 10), ends=days(-1),
                premium=10000, installments=[Installment(1, days(-40), 10000, True)]),
        _policy(fake, "909000000777", wojcik, issued=date(2024, 12, 31), ends=days(200), premium=5000,
                vehicle=golf),
    ]
    for policy in policies:
        database.save_policy(db, policy)
    db.conn.close()
    return path


@pytest.fixture
def cli(cli, stored, tmp_path, monkeypatch):
    """Runs `a21import ARGS` in this process (conftest's `cli`, no tab) on the stored database, in a fresh
    working folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, db: Path | None = None):
        return cli(*args, env={"A21IMPORT_DB": str(db or stored), "COLUMNS": "250"}, timeout=60)

    return run


def as_json(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- policies ---------------------------------------------------------------------------------------
def test_policies_lists_everything_latest_first(cli):
    result = cli("policies")
    assert result.returncode == 0, result.stderr
    assert "5 policies found." in result.stdout and "1\u00a0234,56 zł" in result.stdout
    numbers = [row["number"] for row in as_json(cli("policies", "--json"))]
    assert numbers == ["909123456789", "KOS1234567", "KOS1234567", "WAR0000001", "909000000777"]


# More search cases run in-process in test_queries.py; these go through the whole command.
@pytest.mark.parametrize("search, expected", [
    ("ŁUKASZ WÓJ", {"GENERALI:KOS1234567", "ERGO_HESTIA:909123456789", "ERGO_HESTIA:909000000777"}),
    ("gd 4f218", {"ERGO_HESTIA:909123456789", "ERGO_HESTIA:909000000777"}),
    ("527-468-28-65", {"TUZ:KOS1234567"}),
])
def test_search_hits(cli, search, expected):
    assert {row["id"] for row in as_json(cli("policies", search, "--json"))} == expected


def test_search_misses_say_so(cli):
    result = cli("policies", "wojcikowa")
    assert result.returncode == 0 and "No stored policy matches." in result.stdout
    assert {row["number"] for row in as_json(cli("policies", "lukasz wojcik", "--json"))} >= {"909123456789"}
    assert as_json(cli("policies", "nobody-here", "--json")) == []


def test_filters(cli):
    assert {r["id"] for r in as_json(cli("policies", "--insurer", "tuz", "--json"))} == {"TUZ:KOS1234567"}
    assert {r["id"] for r in as_json(cli("policies", "--app", "generali", "--json"))} == {"GENERALI:KOS1234567"}
    period = as_json(cli("policies", "--from", "01.06.2025", "--to", "2025-07-15", "--json"))
    assert {r["id"] for r in period} == {"TUZ:KOS1234567", "GENERALI:KOS1234567"}
    assert {r["id"] for r in as_json(cli("policies", "kos", "--insurer", "GENERALI", "--json"))} == {
        "GENERALI:KOS1234567"}


@pytest.mark.parametrize("args, sentence", [
    (("--insurer", "ACME"), "--insurer 'ACME' is not an insurer code. Use one of: ERGO_HESTIA"),
    (("--app", "pzu"), "--app 'pzu' is not a supported app. Use one of: hestia"),
    (("--from", "2025-02-30"), "--from: The date '2025-02-30' does not exist."),
    (("--to", "tomorrow"), "--to: The date 'tomorrow' is not in the form 2026-11-01 or 01.11.2026."),
    (("--from", "2025-08-01", "--to", "2025-07-01"), "--from 2025-08-01 is after --to 2025-07-01."),
])
def test_bad_filters_exit_2_with_a_sentence(cli, args, sentence):
    result = cli("policies", *args)
    assert result.returncode == 2 and sentence in result.stderr
    assert "Traceback" not in result.stderr


def test_markup_in_names_is_shown_literally(cli):
    result = cli("policies", "--insurer", "TUZ")
    assert MARKUP_NAME in result.stdout
    assert MARKUP_NAME in cli("show", "KOS1234567", "--insurer", "TUZ").stdout
    assert MARKUP_NAME in cli("renewals").stdout and MARKUP_NAME in cli("due").stdout


# -- show -------------------------------------------------------------------------------------------
def test_show_a_policy_whole(cli):
    result = cli("show", "909123456789")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("Policy 909123456789", "Łukasz Wójcik", "84031233138", "ul. Długa 5/12, 80-827 Gdańsk",
                 "+48 601 234 567", "lukasz.wojcik@example.pl", "GD4F218", "WVWZZZAUZLP512347", "Volkswagen Golf",
                 "OC posiadaczy pojazdów", "5 210 000,00 zł", "800,00 zł", "Autocasco", "48 500,00 zł",
                 "434,56 zł", "1 234,56 zł", "311,11 zł", "301,23 zł", "unpaid, overdue by 3 days"):
        assert text.replace(" ", "\u00a0") in out.replace(" ", "\u00a0"), text
    lines = out.splitlines()
    paid_line = next(line for line in lines if "300,00" in line)
    assert days(-30).strftime("%d.%m.%Y") in paid_line and "paid" in paid_line and "unpaid" not in paid_line
    detail = as_json(cli("show", "909123456789", "--json"))[0]
    assert [i["amount_gr"] for i in detail["installments"]] == [30000, 31111, 32222, 30123]
    assert detail["holder"]["name"] == "Łukasz Wójcik" and detail["vehicle"]["registration"] == "GD4F218"


def test_show_a_number_two_insurers_use(cli):
    both = cli("show", "KOS1234567")
    assert both.returncode == 0
    assert "2 insurers use the number KOS1234567 (Generali, TUZ); all are shown. Choose one with --insurer." in (
        " ".join(both.stdout.split()))
    assert "TUZ" in both.stdout and "Generali" in both.stdout and "2 500,00" in both.stdout.replace("\u00a0", " ")
    one = cli("show", "KOS1234567", "--insurer", "GENERALI")
    assert "999,00" in one.stdout and MARKUP_NAME not in one.stdout and "insurers use" not in one.stdout


def test_show_not_stored_exits_1(cli):
    result = cli("show", "123456")
    assert result.returncode == 1
    assert "No policy with the number 123456 is stored. Import it first with a21import policy 123456." in (
        " ".join(result.stderr.split()))
    other = cli("show", "KOS1234567", "--insurer", "WARTA")
    assert other.returncode == 1 and "stored only for GENERALI, TUZ, not for WARTA" in other.stderr


# -- widths (issue 12, point 13) --------------------------------------------------------------------
@pytest.mark.parametrize("args, whole", [
    (("policies",), ["909123456789", "KOS1234567", "WAR0000001", "1\u00a0234,56 zł", "2\u00a0500,00 zł"]),
    (("show", "909123456789"), ["909123456789", "5\u00a0210\u00a0000,00 zł", "311,11 zł"]),
    (("renewals",), ["909123456789", "KOS1234567", TODAY.strftime("%d.%m.%Y"), "1\u00a0234,56 zł"]),
    (("due",), ["909123456789", "KOS1234567", "311,11 zł", days(-3).strftime("%d.%m.%Y")]),
])
def test_width_option_overrides_the_terminal_width(cli, args, whole):
    """COLUMNS says 250; --width 80 wins: no line longer, numbers, dates and amounts whole on one line."""
    wide = cli(*args)
    result = cli(*args, "--width", "80")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert max(len(line) for line in wide.stdout.splitlines()) > 80 or args[0] == "show"  # the lists use the room
    for value in whole:
        assert any(value in line for line in lines), (value, result.stdout)
    assert cli(*args, "--width", "10").returncode == 2  # narrower than any table can be read at


# -- renewals and installments due ------------------------------------------------------------------
def test_renewals_window_and_order(cli):
    rows = as_json(cli("renewals", "--json"))
    # Ends today and today + 30 are in; yesterday, today + 31 and today + 200 are out.
    assert [(r["id"], r["end_date"]) for r in rows] == [
        ("ERGO_HESTIA:909123456789", TODAY.isoformat()), ("TUZ:KOS1234567", days(30).isoformat())]
    assert rows[0]["holder_phone"] == "+48 601 234 567" and rows[1]["holder_email"] == "biuro@example.pl"
    result = cli("renewals")
    assert "2 policies end within 30 days, the soonest first." in result.stdout
    assert "lukasz.wojcik@example.pl" in result.stdout and "+48 58 555 01 02" in result.stdout
    assert "today" in result.stdout and "in 30 days" in result.stdout
    assert [r["id"] for r in as_json(cli("renewals", "--days", "31", "--json"))][-1] == "GENERALI:KOS1234567"


def test_due_lists_unpaid_overdue_first(cli):
    rows = as_json(cli("due", "--json"))
    # Paid ones are out, the overdue one comes first, today + 14 is in and today + 15 is out.
    assert [(r["policy"]["id"], r["seq"], r["due_date"], r["overdue"]) for r in rows] == [
        ("ERGO_HESTIA:909123456789", 2, days(-3).isoformat(), True),
        ("TUZ:KOS1234567", 1, TODAY.isoformat(), False),
        ("ERGO_HESTIA:909123456789", 3, days(14).isoformat(), False),
    ]
    result = cli("due")
    assert "overdue by 3 days" in result.stdout and "in 14 days" in result.stdout
    assert "3 unpaid installments (3\u00a0133,33 zł), 1 of them overdue." in result.stdout
    assert len(as_json(cli("due", "--days", "15", "--json"))) == 4


@pytest.mark.parametrize("command, value", [("renewals", "0"), ("due", "367")])
def test_days_out_of_range_exit_2(cli, command, value):
    result = cli(command, "--days", value)
    assert result.returncode == 2 and f"--days must be a whole number from 1 to 366; {value} was given." in (
        result.stderr)


def test_a_missing_database_is_not_created(cli, tmp_path):
    missing = tmp_path / "none" / "agent21.db"
    for command in (["policies"], ["show", "1"], ["renewals"], ["due"], ["export"]):
        result = cli(*command, db=missing)
        assert result.returncode == 3 and f"The database {missing} does not exist yet." in (
            " ".join(result.stderr.split()))
    assert not missing.exists() and not missing.parent.exists()


# -- export -----------------------------------------------------------------------------------------
def test_export_csv_for_polish_excel(cli, tmp_path):
    result = cli("export")
    target = tmp_path / f"policies-{TODAY.isoformat()}.csv"
    assert result.returncode == 0, result.stderr
    assert f"Exported 5 policies to policies-{TODAY.isoformat()}.csv." in result.stdout
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert (os.stat(target).st_mode & 0o777) == 0o600
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    first = rows[0]
    assert first["Policy number"] == "909123456789" and first["Premium (zł)"] == "1234,56"
    assert first["End date"] == TODAY.isoformat() and first["PESEL"] == "84031233138"
    assert first["Policyholder"] == "Łukasz Wójcik" and first["Registration"] == "GD4F218"
    assert first["Production year"] == "2019" and first["Phone"] == "+48 601 234 567"
    tuz = next(r for r in rows if r["Insurer"] == "TUZ")
    assert tuz["Policyholder"] == MARKUP_NAME and tuz["NIP"] == "5274682865" and tuz["Registration"] == ""
    warta = next(r for r in rows if r["Insurer"] == "WARTA")
    assert warta["Policyholder"] == "'" + FORMULA_NAME and warta["Premium (zł)"] == "100,00"

    again = cli("export")
    assert again.returncode == 2 and "already exists. Give another --output, or add --force" in again.stderr
    filtered = cli("export", "--insurer", "TUZ", "--force")
    assert filtered.returncode == 0 and "Exported 1 policy to" in filtered.stdout
    with open(target, encoding="utf-8-sig", newline="") as handle:
        assert [r["Insurer"] for r in csv.DictReader(handle, delimiter=";")] == ["TUZ"]


def test_export_xlsx_has_real_numbers_and_dates(cli, tmp_path):
    from openpyxl import load_workbook

    result = cli("export", "--output", "out/polisy.xlsx")
    assert result.returncode == 2 and "The folder out does not exist." in result.stderr
    (tmp_path / "out").mkdir()
    result = cli("export", "--output", "out/polisy.xlsx", "wójcik")
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(tmp_path / "out" / "polisy.xlsx").active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:3] == ["Policy number", "Insurer", "App"] and sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2" and sheet.max_row == 4
    row = {header: cell for header, cell in zip(headers, sheet[2])}
    assert row["Policy number"].value == "909123456789"
    assert row["Premium (zł)"].value == pytest.approx(1234.56) and row["Premium (zł)"].data_type == "n"
    assert "zł" in row["Premium (zł)"].number_format
    assert isinstance(row["End date"].value, datetime) and row["End date"].value.date() == TODAY
    assert row["PESEL"].value == "84031233138" and row["PESEL"].data_type == "s"
    assert row["Production year"].value == 2019
    assert sheet.column_dimensions["A"].width > len("Policy number")


def test_export_xlsx_keeps_a_formula_like_name_as_text(cli, tmp_path):
    from openpyxl import load_workbook

    assert cli("export", "--format", "xlsx", "--insurer", "WARTA").returncode == 0
    sheet = load_workbook(tmp_path / f"policies-{TODAY.isoformat()}.xlsx").active
    headers = [cell.value for cell in sheet[1]]
    name = sheet.cell(row=2, column=headers.index("Policyholder") + 1)
    assert name.value == FORMULA_NAME and name.data_type == "s"


def test_export_installments_one_row_each(cli, tmp_path):
    from openpyxl import load_workbook

    result = cli("export", "--what", "installments", "--format", "xlsx", "--insurer", "ERGO_HESTIA")
    assert result.returncode == 0, result.stderr
    assert "installments to installments-" in result.stdout
    sheet = load_workbook(tmp_path / f"installments-{TODAY.isoformat()}.xlsx").active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:6] == ["Policy number", "Insurer", "Installment", "Due date", "Amount (zł)", "Paid"]
    body = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert ["909123456789", "ERGO_HESTIA", 2] == body[0][:3] or any(r[0] == "909123456789" for r in body)
    assert all(r[5] in ("yes", "no") for r in body) and {r[5] for r in body} == {"yes", "no"}
    dues = [r[3] for r in body]
    assert dues == sorted(dues)
    csv_result = cli("export", "--what", "installments", "--output", "raty.csv")
    assert csv_result.returncode == 0 and (tmp_path / "raty.csv").read_text(encoding="utf-8-sig").startswith(
        "Policy number;Insurer;Installment;Due date")


@pytest.mark.parametrize("args, sentence", [
    (("--format", "pdf"), "--format 'pdf' is not known. Use csv or xlsx."),
    (("--output", "polisy.xls"), "The file polisy.xls ends in .xls, a format a21import does not write."),
    (("--what", "clients"), "--what 'clients' is not known. Use policies or installments."),
    (("--format", "csv", "--output", "a.xlsx"), "The file a.xlsx ends in .xlsx, but --format is csv."),
    (("--output", "."), "The output path . is a folder."),
])
def test_export_bad_input(cli, args, sentence):
    result = cli("export", *args)
    assert result.returncode == 2 and sentence in " ".join(result.stderr.split())


# -- Datasette --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, deadline: float, process) -> object:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.2)


def test_datasette_shows_labels_and_polish_titles(cli, stored, tmp_path):
    result = cli("datasette-metadata", "--output", "meta.json")
    assert result.returncode == 0, result.stderr
    metadata = tmp_path / "meta.json"
    assert f"datasette {stored} --metadata meta.json" in result.stdout
    assert cli("datasette-metadata", "--output", "meta.json").returncode == 0  # our own file is refreshed
    (tmp_path / "other.json").write_text("{}")
    refused = cli("datasette-metadata", "--output", "other.json")
    assert refused.returncode == 2 and "already exists" in refused.stderr

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "datasette", str(stored), "--metadata", str(metadata), "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}/agent21"
        deadline = time.monotonic() + 60
        rows = _get_json(f"{base}/policies.json?_labels=on&_shape=array&number=909123456789", deadline, process)
        assert rows[0]["holder_id"] == {"value": "PESEL:84031233138", "label": "Łukasz Wójcik"}
        assert rows[0]["vehicle_id"] == {"value": "VIN:WVWZZZAUZLP512347", "label": "GD4F218"}
        installments = _get_json(f"{base}/installments.json?_labels=on&_shape=array&seq=4", deadline, process)
        assert installments[0]["policy_id"]["label"] == "909123456789"
        with urllib.request.urlopen(f"{base}/clients", timeout=10) as response:
            page = response.read().decode("utf-8")
        assert "Klienci" in page and "Imię i nazwisko albo nazwa firmy" in page
    finally:
        process.terminate()
        process.wait(timeout=10)
