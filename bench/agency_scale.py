"""How the agency's PostgreSQL store holds up at scale (a script, not a test).

    .venv/bin/python bench/agency_scale.py                      # 1,000,000 policies (2,000 sub-agents × 500)
    .venv/bin/python bench/agency_scale.py --policies 20000     # a quick look
    .venv/bin/python bench/agency_scale.py --report out.txt     # also write what it prints to a file

It starts a throw-away PostgreSQL cluster (a21import/pgcluster.py: the Debian package `postgresql`, a
temporary folder, a free loopback port; removed at the end), shapes the agency store with
migrations.migrate_pg, and fills it with generated policies through COPY (psycopg's `cursor.copy()`):
per policy one policyholder and, for 30 % of them, a separate insured person (1.3 clients a policy), a
vehicle for the motor policies (60 %), 3–12 installments and 2–6 coverages, sold by sub-agents who each
sell under one to three agent identifiers (`APP:ID`) and issued over the last `--years` years. Then it
measures what a21import runs, through a21import's own functions, as the owner (every row) and as one
sub-agent's login under row-level security:
- table and index sizes (pg_total_relation_size per table, pg_relation_size per index);
- `renewals` (30 days) and `due` (14 days): queries.renewals and queries.due, and the CLI command whole;
- `policies` searched by a client's name, `show` by number, one policy saved (db.save_policy) new and again;
- EXPLAIN (ANALYZE, BUFFERS) of the SQL renewals and due send, so the indexes used are seen.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from a21import import db as database  # noqa: E402
from a21import import migrations, pg, pgcluster, queries  # noqa: E402
from a21import.model import Client, Coverage, Installment, Policy, Vehicle  # noqa: E402

OWNER_LOGIN, OWNER_PASSWORD = "bench_owner", "owner-throwaway"
SUB_LOGIN, SUB_PASSWORD = "bench_subagent", "subagent-throwaway"

# app → (how its agent identifier looks, its insurers, source_system, the lines it sells)
APPS: dict[str, tuple[str, tuple[str, ...], str | None, tuple[str, ...]]] = {
    "hestia": ("number", ("ERGO_HESTIA", "ERGO_HESTIA", "ERGO_HESTIA", "MTU"), "IHESTIA",
               ("motor", "property", "travel")),
    "generali": ("number", ("GENERALI",), None, ("motor", "property", "life")),
    "proama": ("proama", ("PROAMA",), None, ("motor", "property")),
    "warta": ("ouid", ("WARTA",), "MAJATEK", ("motor", "property")),
    "warta_zycie": ("name", ("WARTA_ZYCIE",), "ZYCIE", ("life",)),
    "tuz": ("name", ("TUZ",), None, ("motor", "property")),
    "insly": ("name", ("LINK4", "UNIQA", "COMPENSA", "INTERRISK", "WIENER"), None, ("motor", "property", "travel")),
    "unimarket": ("login", ("UNIQA", "ALLIANZ", "COMPENSA"), None, ("motor", "property", "life")),
    "hiperio": ("name", ("TRASTI", "BALCIA", "BEESAFE", "LINK4"), None, ("motor",)),
    "skaner2": ("name", ("GENERALI", "PZU", "WARTA", "HDI"), "PUNKTA", ("motor", "property", "other")),
}
APP_WEIGHTS = {"hestia": 18, "generali": 12, "proama": 6, "warta": 16, "warta_zycie": 4, "tuz": 6, "insly": 12,
               "unimarket": 10, "hiperio": 8, "skaner2": 8}
LINE_WEIGHTS = {"motor": 60, "property": 20, "life": 12, "travel": 5, "other": 3}
PRODUCTS = {"motor": ("OC komunikacyjne", "Auto Pakiet", "OC/AC"), "property": ("Dom i Mieszkanie", "Mój Dom"),
            "life": ("Ochrona Życia", "Plan na Życie"), "travel": ("Podróże",), "other": ("OC w życiu prywatnym",)}
COVERAGES = {
    "motor": (("OC", "OC posiadaczy pojazdów"), ("AC", "Autocasco"), ("NNW", "Następstwa nieszczęśliwych wypadków"),
              ("ASS", "Assistance"), ("SZYBY", "Szyby"), ("OPONY", "Opony")),
    "property": (("MUR", "Mury"), ("RUCH", "Ruchomości"), ("KRADZ", "Kradzież"), ("OC_PRYW", "OC prywatne"),
                 ("POWODZ", "Powódź"), ("ASS", "Assistance domowy")),
    "life": (("ZGON", "Zgon"), ("ZGON_NW", "Zgon w wypadku"), ("SZPITAL", "Pobyt w szpitalu"),
             ("CHOROBA", "Poważne zachorowanie"), ("INWAL", "Inwalidztwo"), ("OPERACJA", "Operacje")),
    "travel": (("KL", "Koszty leczenia"), ("NNW", "NNW"), ("BAGAZ", "Bagaż"), ("OC", "OC w podróży"),
               ("ASS", "Assistance"), ("SPORT", "Sporty")),
    "other": (("OC", "OC"), ("NNW", "NNW"), ("ASS", "Assistance"), ("PRAWNA", "Ochrona prawna"),
              ("SZKODY", "Szkody"), ("INNE", "Inne")),
}
STATUSES = {"active": ("Aktywna", "W mocy", "ACTIVE", "AKTYWNA"), "cancelled": ("Anulowana", "CANCELLED", "Rozwiązana")}
MAKES = (("Toyota", "Corolla"), ("Skoda", "Octavia"), ("Volkswagen", "Golf"), ("Opel", "Astra"), ("Ford", "Focus"),
         ("Kia", "Ceed"), ("Hyundai", "i30"), ("Renault", "Clio"), ("Dacia", "Duster"), ("Fiat", "Tipo"))
REG_PREFIXES = ("WA", "WE", "KR", "PO", "GD", "WR", "LU", "SK", "DW", "EL", "ZS", "BI", "CB", "TK", "OP", "RZ")


def names() -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Polish first names (male, female), surnames (male, female) and cities, from Faker's pl_PL lists."""
    from faker.providers.address.pl_PL import Provider as Address
    from faker.providers.person.pl_PL import Provider as Person

    male_first, female_first = list(Person.first_names_male), list(Person.first_names_female)
    male_last = list(Person.male_last_names) + list(Person.unisex_last_names)
    female_last = [n[:-1] + "a" if n.endswith(("ski", "cki", "dzki")) else n for n in male_last]
    return male_first, female_first, male_last, female_last, list(Address.cities)


class Generator:
    """Writes the generated store as COPY text, one stream a table; every value is plain (no tab, newline or \\)."""

    def __init__(self, policies: int, sub_agents: int, years: int, seed: int, today: date):
        self.rng = random.Random(seed)
        self.policies, self.sub_agents, self.years, self.today = policies, sub_agents, years, today
        self.male_first, self.female_first, self.male_last, self.female_last, self.cities = names()
        span = 365 * years
        self.first_day = today - timedelta(days=span)
        self.day = [(self.first_day + timedelta(days=d)).isoformat() for d in range(span + 2 * 366 + 30)]
        self.today_index = span
        self.agents = self._agents()
        self.counters = {"client": 0, "vehicle": 0, "policy": 0}

    def _agents(self) -> list[list[tuple[str, str]]]:
        """Per sub-agent: its agent identifiers as (app key, APP:ID); one to three apps each."""
        rng, result = self.rng, []
        apps, weights = list(APP_WEIGHTS), list(APP_WEIGHTS.values())
        for n in range(self.sub_agents):
            person = f"{rng.choice(self.male_first)} {rng.choice(self.male_last)} {n}"  # names shown by the apps
            chosen = []
            for app in rng.choices(apps, weights, k=rng.choice((1, 2, 2, 3))):
                if app in (a for a, _ in chosen):
                    continue
                kind = APPS[app][0]
                shown = {"number": f"0{4000000 + n * 7 + len(chosen)}", "proama": f"PA-{100000 + n:06d}",
                         "ouid": f"A{5000000000 + n:011d}", "name": person,
                         "login": f"agent{n:05d}"}[kind]
                chosen.append((app, f"{app.removesuffix('_zycie')}:{shown}"))
            result.append(chosen)
        return result

    def subagent_with_most_agents(self) -> int:
        return max(range(len(self.agents)), key=lambda n: (len(self.agents[n]), -n))

    def _next(self, what: str) -> int:
        self.counters[what] += 1
        return self.counters[what]

    def _client(self, out: list[str], rng: random.Random) -> str:
        n = self._next("client")
        city = rng.choice(self.cities)
        postal = f"{rng.randrange(100):02d}-{rng.randrange(1000):03d}"
        street = f"ul. {rng.choice(self.male_last)}a {rng.randrange(1, 120)}"
        if rng.random() < 0.9:
            female = rng.random() < 0.5
            first = rng.choice(self.female_first if female else self.male_first)
            last = rng.choice(self.female_last if female else self.male_last)
            name = f"{first} {last}"
            pesel = f"{(n * 7919 + 44051401359) % 10**11:011d}"
            key, kind, nip = f"PESEL:{pesel}", "person", "\\N"
        else:
            name = f"{rng.choice(self.male_last)} i Wspólnicy sp. j. {n}"
            nip = f"{(n * 7907 + 5260250274) % 10**10:010d}"
            key, kind, pesel = f"NIP:{nip}", "company", "\\N"
        phone = f"+48 {rng.randrange(500, 900)} {rng.randrange(1000):03d} {rng.randrange(1000):03d}"
        email = f"klient{n}@example.pl" if rng.random() < 0.7 else "\\N"
        out.append(f"{key}\t{kind}\t{name}\t{pesel}\t{nip}\t\\N\t{street}\t{postal}\t{city}\t{phone}\t{email}\t\\N\n")
        return key

    def _vehicle(self, out: list[str], rng: random.Random) -> str:
        n = self._next("vehicle")
        vin = f"WVWZZZ{(n * 7877 + 1234567) % 10**11:011d}"
        registration = f"{rng.choice(REG_PREFIXES)}{n % 100000:05d}{chr(65 + n % 26)}"
        make, model = rng.choice(MAKES)
        out.append(f"VIN:{vin}\t{registration}\t{vin}\t{make}\t{model}\t{rng.randrange(2000, 2026)}\t0\n")
        return f"VIN:{vin}"

    def rows(self) -> Iterator[tuple[str, list[str]]]:
        """Yields (table, COPY lines) in chunks; policies come in issue order, as imports would add them."""
        rng, today = self.rng, self.today_index
        tables = ("clients", "vehicles", "policies", "installments", "coverages")
        out: dict[str, list[str]] = {t: [] for t in tables}
        lines, line_weights = list(LINE_WEIGHTS), list(LINE_WEIGHTS.values())
        span = 365 * self.years
        per_agent = [self.policies // self.sub_agents + (1 if n < self.policies % self.sub_agents else 0)
                     for n in range(self.sub_agents)]
        owners = [n for n, count in enumerate(per_agent) for _ in range(count)]
        rng.shuffle(owners)
        issue_days = sorted(rng.randrange(span) for _ in range(len(owners)))
        for sub_agent, issued in zip(owners, issue_days):
            app, agent = rng.choice(self.agents[sub_agent])
            _kind, insurers, system, app_lines = APPS[app]
            line = rng.choices(lines, line_weights)[0]
            if line not in app_lines:  # a line the app does not sell: one it does
                line = rng.choice(app_lines)
            insurer = rng.choice(insurers)
            holder = self._client(out["clients"], rng)
            insured = self._client(out["clients"], rng) if rng.random() < 0.3 else "\\N"
            vehicle = self._vehicle(out["vehicles"], rng) if line == "motor" else "\\N"
            start = issued + rng.randrange(15)
            end = start + 364
            number = f"{insurer[:3]}{self._next('policy'):011d}"
            premium = rng.randrange(30_000, 450_000)
            status = rng.choice(STATUSES["cancelled" if rng.random() < 0.04 else "active"])
            src_app = app.removesuffix("_zycie")
            out["policies"].append(
                f"{insurer}:{number}\t{number}\t{insurer}\t{src_app}\t{system or chr(92) + 'N'}\t{line}\t"
                f"{rng.choice(PRODUCTS[line])}\t{status}\t{self.day[issued]}\t{self.day[start]}\t{self.day[end]}\t"
                f"{premium}\tPLN\t{holder}\t{vehicle}\t{insured}\t{self.day[issued]}T10:00:00+00\t{agent}\t"
                f"{SUB_LOGIN if sub_agent == 0 else 'import'}\n")
            count = rng.randint(3, 12)
            step = 365 // count
            amount = premium // count
            for seq in range(1, count + 1):
                due = start + (seq - 1) * step
                late = today - due
                paid = (rng.random() < (0.85 if late < 30 else 0.995)) if late > 0 else rng.random() < 0.03
                out["installments"].append(
                    f"{insurer}:{number}\t{seq}\t{self.day[due]}\t{amount}\t{int(paid)}\n")
            for code, name in rng.sample(COVERAGES[line], rng.randint(2, 6)):
                out["coverages"].append(
                    f"{insurer}:{number}\t{code}\t{name}\t{rng.randrange(10, 500) * 100_000}\t{premium // 4}\n")
            for table in tables:
                if len(out[table]) >= 2000:
                    yield table, out[table]
                    out[table] = []
        for table in tables:
            if out[table]:
                yield table, out[table]


# -- the store -------------------------------------------------------------------------------------------
def admin_sql(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for statement in statements:
            con.execute(statement)


def load(url: str, generator: Generator, say: Callable[[str], None]) -> dict[str, float]:
    """Shapes the store (migrate_pg), drops its secondary indexes and the big tables' primary keys, COPYs the
    rows on one connection a table (the server parses five streams at once), then builds what was dropped
    and runs VACUUM ANALYZE. Returns the seconds of each step."""
    import psycopg
    from psycopg.copy import QueuedLibpqWriter

    timings: dict[str, float] = {}
    store = pg.connect(url)
    migrations.migrate_pg(store)
    store.close()
    tables = migrations.DATA_TABLES
    with psycopg.connect(url, autocommit=True) as con:
        indexes = con.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
                WHERE i.indrelid::regclass::text = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [list(tables)]).fetchall()
        keys = con.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE contype = 'p' AND conrelid::regclass::text IN ('installments', 'coverages')""").fetchall()
        for name, _ in indexes:
            con.execute(f"DROP INDEX {name}")
        for table, name, _ in keys:
            con.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    started = time.monotonic()
    columns = {t: list(database.SCHEMA[t][0]) for t in tables}
    connections = {t: psycopg.connect(url) for t in tables}
    counts = dict.fromkeys(tables, 0)
    try:
        with contextlib.ExitStack() as stack:
            copies = {}
            for table, con in connections.items():
                con.execute("SET session_replication_role = replica")  # the foreign keys are checked below, once
                cursor = stack.enter_context(con.cursor())
                copies[table] = stack.enter_context(cursor.copy(
                    f"COPY {table} ({', '.join(columns[table])}) FROM STDIN", writer=QueuedLibpqWriter(cursor)))
            last_said = time.monotonic()
            for table, rows in generator.rows():
                copies[table].write("".join(rows))
                counts[table] += len(rows)
                if time.monotonic() - last_said > 15:
                    last_said = time.monotonic()
                    say(f"  {counts['policies']:,} policies so far ({last_said - started:.0f} s)")
        for con in connections.values():
            con.commit()
    finally:
        for con in connections.values():
            con.close()
    timings["generate and COPY"] = time.monotonic() - started
    say(f"  COPY done in {timings['generate and COPY']:.0f} s: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET maintenance_work_mem = '512MB'")
        for table, name, definition in keys:
            con.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for _, definition in indexes:
            con.execute(definition)
        timings["primary keys and indexes"] = time.monotonic() - started
        started = time.monotonic()
        orphans = con.execute(
            """SELECT (SELECT count(*) FROM installments n
                        WHERE NOT EXISTS (SELECT 1 FROM policies p WHERE p.id = n.policy_id))
                    + (SELECT count(*) FROM policies p
                        WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = p.holder_id))""").fetchone()[0]
        if orphans:
            raise RuntimeError(f"{orphans} generated rows point at nothing")
        timings["foreign keys checked"] = time.monotonic() - started
        started = time.monotonic()
        con.execute("VACUUM ANALYZE")
        timings["VACUUM ANALYZE"] = time.monotonic() - started
    return timings


def add_logins(cluster: pgcluster.Cluster, agents: list[str]) -> None:
    """The owner's login and one sub-agent's login mapped to `agents`, made as `a21import agency add-user` makes
    them."""
    from a21import import agency

    agency.add_user(cluster.url(), OWNER_LOGIN, [], True, OWNER_PASSWORD)
    agency.add_user(cluster.url(), SUB_LOGIN, agents, False, SUB_PASSWORD)


# -- measuring -------------------------------------------------------------------------------------------
class Recorder:
    """Notes the SQL (and its parameters) a21import sends through PgDatabase.query, to EXPLAIN it afterwards."""

    def __init__(self, db: pg.PgDatabase):
        self.db, self.calls = db, []
        self._query = db.query
        db.query = self._record  # type: ignore[method-assign]

    def _record(self, sql: str, params=()):
        self.calls.append((sql, list(params)))
        return self._query(sql, params)


def timed(action: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """(the first run's seconds, the median of the runs after it, the last result)."""
    times, result = [], None
    for _ in range(runs + 1):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:]) if runs else times[0], result


def explain(db: pg.PgDatabase, sql: str, params: list[Any]) -> str:
    rows = db.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + pg._sql(sql), params).fetchall()
    return "\n".join(row[0] for row in rows)


def cli_seconds(url: str, password: str, *args: str) -> float:
    env = {**os.environ, "PGPASSWORD": password, "A21IMPORT_LOG": "off", "A21IMPORT_LANG": "en"}
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "a21import", *args, "--json", "--db", url], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"a21import {' '.join(args)} ended with {run.returncode}: {run.stderr[-2000:]}")
    return time.monotonic() - started


def sample_policy(number: str, agent: str, app: str, today: date) -> Policy:
    holder = Client(kind="person", name="Zofia Testowa", pesel="44051401359", street="ul. Długa 5/12",
                    postal_code="00-001", city="Warszawa", phone="+48 600 100 200", email="zofia@example.pl")
    start = today + timedelta(days=3)
    return Policy(
        number=number, insurer="TUZ" if app == "tuz" else "ERGO_HESTIA", source_app=app, source_system=None,
        product_line="motor", product="Auto Pakiet", status="Aktywna", issue_date=today, start_date=start,
        end_date=start + timedelta(days=364), premium_gr=123_456, holder=holder,
        vehicle=Vehicle(registration="WA12345", vin="WVWZZZ1KZ6W000001", make="Skoda", model="Octavia",
                        production_year=2019),
        installments=tuple(Installment(seq, start + timedelta(days=91 * (seq - 1)), 30_864, False)
                           for seq in range(1, 5)),
        coverages=(Coverage("OC", "OC posiadaczy pojazdów", 5_210_000_00, 90_000),
                   Coverage("AC", "Autocasco", 45_000_00, 33_456)))


def measure(cluster: pgcluster.Cluster, sub_agents: list[str], runs: int, out: Callable[[str], None],
            owner: bool = True) -> None:
    from a21import.periods import today_in_poland

    today = today_in_poland()
    owner_url = cluster.url(OWNER_LOGIN, OWNER_PASSWORD)
    sub_url = cluster.url(SUB_LOGIN, SUB_PASSWORD)
    admin = pg.connect(cluster.url())
    try:  # the sub-agent's latest policy: its number for `show`, its policyholder's name for the search
        latest = next(admin.query(
            "SELECT p.number, h.name FROM policies p JOIN clients h ON h.id = p.holder_id WHERE p.agent = ? "
            "AND h.kind = 'person' ORDER BY p.issue_date DESC LIMIT 1", [sub_agents[0]]))
    finally:
        admin.close()
    number, search = latest["number"], latest["name"]
    plans: list[tuple[str, str]] = []
    out("")
    out(f"{'what a21import runs':<58} {'login':<9} {'rows':>8} {'first':>9} {'then':>9}")
    logins = (("owner", owner_url, OWNER_PASSWORD),) if owner else ()
    for who, url, password in (*logins, ("sub-agent", sub_url, SUB_PASSWORD)):
        db = queries.open_existing(url)
        recorder = Recorder(db)
        checks = (
            ("renewals --days 30 (queries.renewals)", lambda: queries.renewals(db, 30, today=today)),
            ("due --days 14 (queries.due)", lambda: queries.due(db, 14, today=today)),
            (f"policies {search!r} (queries.search_policies)",
             lambda: queries.search_policies(db, queries.parse_filters(search=search))),
            (f"show {number} (queries.policy_details)", lambda: queries.policy_details(db, number)),
        )
        for label, action in checks:
            recorder.calls.clear()
            first, then, result = timed(action, runs)
            out(f"{label:<58} {who:<9} {len(result):>8,} {first * 1000:>7.0f} ms {then * 1000:>6.0f} ms")
            if label.startswith(("renewals", "due")) or (who == "owner" and label.startswith("policies")):
                sql, params = recorder.calls[-1]
                plans.append((f"{label}, as the {who}", explain(db, sql, params)))
        db.close()
        for command in (["renewals", "--days", "30"], ["due", "--days", "14"]):
            seconds = cli_seconds(url, password, *command)
            out(f"{'a21import ' + ' '.join(command) + ' --json (the whole CLI run)':<58} {who:<9} {'':>8} "
                f"{seconds * 1000:>7.0f} ms")
    app = sub_agents[0].split(":", 1)[0]
    for who, url, agent in ((("owner", owner_url, sub_agents[0]),) if owner else ()) + (
            ("sub-agent", sub_url, sub_agents[0]),):
        store = database.open_db(url)
        policy = sample_policy(f"BENCH-{who}", agent, app, today)
        first, _, _ = timed(lambda: database.save_policy(store, policy, agent=agent), 0)
        _, again, _ = timed(lambda: database.save_policy(store, policy, agent=agent), 3)
        store.close()
        out(f"{'one policy saved (db.save_policy): new / again':<58} {who:<9} {1:>8} {first * 1000:>7.0f} ms "
            f"{again * 1000:>6.0f} ms")
    for title, plan in plans:
        out("")
        out(f"EXPLAIN (ANALYZE, BUFFERS): {title}")
        out(plan)


def sizes(url: str, out: Callable[[str], None]) -> None:
    import psycopg

    with psycopg.connect(url) as con:
        rows = con.execute(
            """SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), pg_indexes_size(c.oid),
                      pg_total_relation_size(c.oid)
                 FROM pg_class c WHERE c.relname = ANY(%s) ORDER BY pg_total_relation_size(c.oid) DESC""",
            [list(migrations.DATA_TABLES)]).fetchall()
        indexes = con.execute(
            """SELECT t.relname, i.relname, pg_relation_size(i.oid) FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(%s) ORDER BY t.relname, pg_relation_size(i.oid) DESC""",
            [list(migrations.DATA_TABLES)]).fetchall()
        database_size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    out("")
    out(f"{'table':<14} {'rows':>12} {'table':>10} {'indexes':>10} {'total':>10}   (pg_total_relation_size)")
    for name, count, heap, index, total in rows:
        out(f"{name:<14} {count:>12,} {mb(heap):>10} {mb(index):>10} {mb(total):>10}")
    out(f"{'the database':<14} {'':>12} {'':>10} {'':>10} {mb(database_size):>10}")
    out("")
    out(f"{'index':<40} {'size':>10}   (pg_relation_size)")
    for table, name, size in indexes:
        out(f"{name:<40} {mb(size):>10}")


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size / 1024:,.0f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", type=int, default=1_000_000, help="Policies to generate (default 1,000,000).")
    parser.add_argument("--sub-agents", type=int, default=2000, help="Sub-agents they are spread over (default 2,000).")
    parser.add_argument("--years", type=int, default=2, help="Years of issue dates back from today (default 2).")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="Runs of each query after the first (median shown).")
    parser.add_argument("--report", type=Path, help="Also write what is printed to this file.")
    parser.add_argument("--sub-agent-only", action="store_true",
                        help="Measure the queries as the sub-agent only, not as the owner.")
    args = parser.parse_args()
    if args.policies < args.sub_agents or args.sub_agents < 1:
        parser.error("--policies must be at least --sub-agents, and --sub-agents at least 1.")
    report = io.StringIO()

    def out(text: str) -> None:
        print(text, flush=True)
        report.write(text + "\n")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    from a21import.periods import today_in_poland

    generator = Generator(args.policies, args.sub_agents, args.years, args.seed, today_in_poland())
    chosen = generator.subagent_with_most_agents()
    # The measured sub-agent comes first, so that its policies are marked as imported by its login.
    generator.agents.insert(0, generator.agents.pop(chosen))
    mine = [agent for _, agent in generator.agents[0]]
    started = time.monotonic()
    with pgcluster.start() as cluster:
        version = subprocess.run([str(cluster.programs / "postgres"), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        say(f"{version}: a throw-away cluster on 127.0.0.1:{cluster.port}; generating {args.policies:,} policies "
            f"of {args.sub_agents:,} sub-agents …")
        timings = load(cluster.url(), generator, say)
        add_logins(cluster, mine)
        settings = dict(cluster_settings(cluster.url()))
        out(f"a21import agency store at scale: {args.policies:,} policies of {args.sub_agents:,} sub-agents "
            f"({args.policies // args.sub_agents:,} each), issued over {args.years} years; {version}; "
            f"{os.cpu_count()} CPU cores; shared_buffers {settings['shared_buffers']}, work_mem "
            f"{settings['work_mem']} (the defaults); fsync off (a throw-away cluster).")
        out("Loading: " + "; ".join(f"{step} {seconds:.0f} s" for step, seconds in timings.items()) + ".")
        sizes(cluster.url(), out)
        out("")
        out(f"The sub-agent's login {SUB_LOGIN} sees the agents {', '.join(mine)}.")
        measure(cluster, mine, args.runs, out, owner=not args.sub_agent_only)
    out("")
    out(f"Whole run {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end.")
    if args.report:
        args.report.write_text(report.getvalue(), encoding="utf-8")


def cluster_settings(url: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute("SELECT name, current_setting(name) FROM pg_settings "
                           "WHERE name IN ('shared_buffers', 'work_mem')").fetchall()


if __name__ == "__main__":
    main()
