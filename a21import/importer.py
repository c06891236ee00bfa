"""The import itself, free of any terminal code: choose the app's tab, confirm who is logged in,
list the policies, let the user choose, then read each one and store it.

The CLI passes a `UI` (prompts, the live table); tests can pass their own. Policies are read
with up to `concurrency` in-page fetches in flight and each is written as soon as it is read,
so a stop in the middle keeps everything imported before it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import sqlite_utils

from a21import import capture, ctrl_c
from a21import import db as database
from a21import import insurers
from a21import.browser import attach
from a21import.ctrl_c import INTERRUPTED_MESSAGE
from a21import.errors import (
    A21Error,
    BadInput,
    DatabaseLocked,
    EnvironmentProblem,
    Interrupted,
    PolicyError,
    WrongIdentity,
)
from a21import.formats import fmt_pl_date, mask_personal_ids
from a21import.importlock import one_import_at_a_time
from a21import.i18n import _, ngettext
from a21import.insurers.base import Adapter
from a21import.logs import log
from a21import.model import AppContext, ListedPolicy, insurer_name, policy_name
from a21import.periods import today_in_poland, windows
from a21import.text import clean, shorten
from a21import.queries import check_days
from a21import.session import (  # noqa: F401 - check_options and MAX_CONCURRENCY are used through importer too
    MAX_CONCURRENCY,
    _ask,
    _normalise_codes,
    _wait,
    check_options,
    connect,
)

LOCK_POLL_S = 0.1  # how often a write tries again while another program holds the database


class State(str, enum.Enum):
    MARKED = "marked"  # will be imported
    STORED = "stored"  # already in the database, left out
    SKIPPED = "skipped"  # outside what is imported (reason says why)
    EXCLUDED = "excluded"  # deselected by the user
    READING = "reading"
    DONE = "done"
    FAILED = "failed"
    NOT_READ = "not read"  # the import stopped before this one


@dataclass
class Row:
    index: int  # 1-based, as shown to the user
    item: ListedPolicy
    state: State
    reason: str | None = None


@dataclass
class Summary:
    rows: list[Row]
    stopped: A21Error | None = None  # the environment problem that stopped the import
    # The command (and its options) that reads a failed row again, its number(s) after it:
    # ("policy", "--app", "hestia") or ("refresh",).
    retry: tuple[str, ...] = ()

    def count(self, state: State) -> int:
        return sum(1 for row in self.rows if row.state is state)

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.rows if row.state is State.FAILED]


@dataclass
class Options:
    cdp: str
    db_path: Path
    app: str | None = None
    source: str | None = None
    identity: str | None = None
    yes: bool = False
    include_stored: bool = False
    exclude: Sequence[str] = ()
    concurrency: int = 1
    capture: Path | None = None  # --capture: a scrubbed bundle of each red policy goes here


class UI(Protocol):
    """What the import asks of the person at the keyboard (or of `--yes`)."""

    interactive: bool

    def note(self, message: str) -> None: ...

    def choose(self, question: str, options: list[tuple[str, str]]) -> str:
        """Returns the value of the chosen (value, label) option."""

    def confirm_context(self, context: AppContext) -> bool: ...

    def wait_for_switch(self, message: str) -> bool:
        """Shows what to do in the browser (log in, switch, open a tab) and waits until the user says it is
        done (True), or stops (False: `q`, or no answer)."""

    def select(self, rows: list[Row]) -> None:
        """Shows the listed policies; the user may set marked rows to EXCLUDED."""

    def import_started(self, rows: list[Row]) -> None: ...

    def row_changed(self, row: Row) -> None: ...

    def import_finished(self, summary: Summary) -> None: ...


# -- the import --------------------------------------------------------------------------------------
def _row(index: int, item: ListedPolicy, stored: set[str], options: Options, *, overwrite: bool) -> Row:
    if item.error:
        return Row(index, item, State.FAILED, item.error)
    if item.skip_reason:
        return Row(index, item, State.SKIPPED, item.skip_reason)
    if item.number in options.exclude:
        return Row(index, item, State.EXCLUDED, _("Left out with --exclude."))
    if item.key in stored and not (overwrite or options.include_stored):
        return Row(index, item, State.STORED)  # the state says it all: no reason repeating it
    return Row(index, item, State.MARKED)


async def import_rows(adapter: Adapter, db: sqlite_utils.Database, rows: list[Row], ui: UI,
                      concurrency: int = 1) -> A21Error | None:
    """Reads and stores the marked rows; returns the environment problem that stopped it, if any.

    `concurrency` workers take the marked rows in list order; the adapter's pacer keeps at most that
    many requests in flight and fewer when the app asks to slow down. Each policy is written as soon
    as it is read and then dropped: only the rows stay in memory."""
    adapter.pacer.reset(concurrency)
    stop: list[A21Error] = []
    queue = iter([row for row in rows if row.state is State.MARKED])

    async def one(row: Row) -> None:
        ctrl_c.check()  # a cancellation lost while the previous policy was read stops here
        if stop:
            row.state, row.reason = State.NOT_READ, _("Not read: the import stopped before this policy.")
            ui.row_changed(row)
            return
        row.state = State.READING
        ui.row_changed(row)
        try:
            with capture.recording() as taken:
                policy = await adapter.read_policy(row.item)
            if stop:  # another policy's save met a problem that stops the import: do not wait again
                row.state, row.reason = State.NOT_READ, _("Not read: the import stopped before this policy.")
                ui.row_changed(row)
                return
            await _save(db, policy, adapter.agent)
            # A green row shows what was stored (a look-up by number may have listed little more than it).
            row.item = ListedPolicy(number=policy.number, insurer=policy.insurer, product=policy.product,
                                    holder_name=policy.holder.name, issue_date=policy.issue_date,
                                    premium_gr=policy.premium_gr, ref=row.item.ref)
            row.state, row.reason = State.DONE, None
        except PolicyError as exc:  # Throttled too: the pacer already slowed down and tried again
            row.state, row.reason = State.FAILED, exc.reason
            capture.failed(adapter, row.item, exc, taken, mode=_capture_mode(adapter))
        except A21Error as exc:
            stop.append(exc)
            row.state, row.reason = State.NOT_READ, _("Not read: the import stopped at this policy.")
        except Exception as exc:  # one policy's surprise never stops the others
            row.state = State.FAILED
            row.reason = _("The app's answer for this policy could not be read ({error_type}: {error}).").format(
                error_type=type(exc).__name__, error=shorten(clean(str(exc)), 300))
            capture.failed(adapter, row.item, exc, taken, mode=_capture_mode(adapter), reason=row.reason)
        ui.row_changed(row)

    async def worker() -> None:
        for row in queue:  # one shared iterator: each row goes to exactly one worker
            await one(row)

    # A task group, not gather: on Ctrl-C it returns once every worker has stopped, so no write follows the summary.
    with database.short_lock_waits(db, LOCK_POLL_S):
        async with asyncio.TaskGroup() as workers:
            for _n in range(max(1, concurrency)):  # not `_`: that is the translation function here
                workers.create_task(worker())
    return stop[0] if stop else None


async def _save(db: sqlite_utils.Database, policy, agent: str | None) -> None:
    """Writes one policy; while another program holds the database locked, waits on the event loop
    (up to the database's busy timeout), so that Ctrl-C stops the import at once."""
    deadline = asyncio.get_running_loop().time() + getattr(db, "busy_timeout_s", database.BUSY_TIMEOUT_S)
    while True:
        ctrl_c.check()  # read, but Ctrl-C was pressed meanwhile: not written
        try:
            database.save_policy(db, policy, agent=agent)
            return
        except DatabaseLocked:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(LOCK_POLL_S)


class _Recorder:
    """Stands between the import and the UI: masks identifiers in the reasons the apps give, and
    writes each result to the log file."""

    def __init__(self, ui: UI, adapter: Adapter):
        self.ui = ui
        self.app = adapter.app_id

    def __getattr__(self, name: str):
        return getattr(self.ui, name)

    def row_changed(self, row: Row) -> None:
        if row.reason:
            row.reason = clean(mask_personal_ids(row.reason, keep=(row.item.number,)))
        if row.state is State.DONE:
            log.info("%s: imported %s.", self.app, row.item.key)
        elif row.state is State.FAILED:
            log.warning("%s: %s failed: %s", self.app, row.item.key, row.reason)
        self.ui.row_changed(row)


async def _run(batches: list[tuple[Adapter | Callable[[], Awaitable[Adapter]], list[Row]]], db: sqlite_utils.Database,
               rows: list[Row], ui: UI, options: Options, *, select: bool,
               stopped: A21Error | None = None, retry: tuple[str, ...] = ("refresh",)) -> Summary:
    """Shows the rows, lets the user deselect (`select`), then imports each batch of rows with its
    adapter. `stopped`: a problem met before the import (rows it concerns are already NOT_READ)."""
    if select:
        ui.select(rows)
    for row in rows:
        if row.reason:
            row.reason = mask_personal_ids(row.reason, keep=(row.item.number,))
    for adapter, batch in batches:
        log.info("%s: %d policies listed, %d marked for import.", getattr(adapter, "app_id", "?"), len(batch),
                 sum(1 for row in batch if row.state is State.MARKED))
    ui.import_started(rows)
    summary = Summary(rows, stopped=stopped, retry=retry)
    interrupted = False
    try:
        for adapter, batch in batches:
            if callable(adapter):  # a group read after the one before it: connect (and switch) only now
                try:
                    adapter = await adapter()
                except EnvironmentProblem as exc:  # this group's tab is missing or elsewhere: the others go on
                    summary.stopped = summary.stopped or exc
                    for row in batch:
                        row.state, row.reason = State.NOT_READ, _("Not read: {reason}").format(reason=exc.message)
                        ui.row_changed(row)
                    continue
            ctrl_c.check()
            problem = await import_rows(adapter, db, batch, _Recorder(ui, adapter), options.concurrency)
            summary.stopped = summary.stopped or problem
        ctrl_c.check()  # a worker that met a lost cancellation stopped alone: the task group did not raise
    except asyncio.CancelledError:  # Ctrl-C: asyncio cancelled the reads in flight; none was half-written
        interrupted = True
    for row in rows:
        if interrupted and row.state in (State.MARKED, State.READING):
            row.state, row.reason = State.NOT_READ, _("Not read: the import was interrupted.")
        elif row.state is State.MARKED:
            row.state, row.reason = State.NOT_READ, _("Not read: the import stopped before this policy.")
    if summary.stopped is not None:
        log.error("The import stopped: %s", summary.stopped.message)
    log.info("%d imported, %d failed, %d not read.", summary.count(State.DONE), summary.count(State.FAILED),
             summary.count(State.NOT_READ))
    ui.import_finished(summary)
    capture.tell(ui.note)
    if interrupted:
        log.warning("Interrupted with Ctrl-C.")
        raise Interrupted(_(INTERRUPTED_MESSAGE), summary=summary)
    return summary


async def run_period(options: Options, ui: UI, start: date, end: date) -> Summary:
    check_options(options)
    db = database.open_db(options.db_path)
    async with attach(options.cdp) as browser:
        adapter, _context = await connect(browser, options, ui, for_period=True)
        # Another import into this database first finishes: this one then leaves out what it stored.
        async with one_import_at_a_time(options.db_path, ui.note):
            stored = database.stored_ids(db)
            rows: list[Row] = []
            seen: set[str] = set()
            periods = windows(start, end)
            listing = getattr(ui, "listing", None)
            for number, (first, last) in enumerate(periods, 1):
                if listing is not None:  # which window and page is being read (terminals show it)
                    def progress(page: int, number: int = number, first: date = first, last: date = last) -> None:
                        listing(number, len(periods), first, last, page, len(rows))
                    adapter.listing_progress = progress
                    progress(1)
                try:
                    with capture.recording() as taken:
                        async for item in adapter.list_policies(first, last):
                            ctrl_c.check()  # a cancellation lost while the page was read stops here
                            if item.key in seen and item.insurer is not None:
                                continue
                            seen.add(item.key)
                            rows.append(_row(len(rows) + 1, item, stored, options, overwrite=False))
                            capture.listed(adapter, item, taken, mode="list", window=(first, last))
                except PolicyError as exc:  # without the whole list nothing can be chosen: stop cleanly
                    capture.failed(adapter, None, exc, taken, mode="list", window=(first, last))
                    raise EnvironmentProblem(_(
                        "The list of policies issued from {start} to {end} could not be read, so nothing was "
                        "imported. {reason}"
                    ).format(start=fmt_pl_date(first), end=fmt_pl_date(last), reason=exc.reason)) from exc
            adapter.listing_progress = None
            return await _run([(adapter, rows)], db, rows, ui, options, select=True, retry=_retry(adapter))


def _retry(adapter: Adapter) -> tuple[str, ...]:
    """`a21import policy` with the options that read this adapter's policies again by number."""
    source = ("--source", adapter.source) if adapter.source in adapter.sources else ()
    return ("policy", "--app", adapter.app_id, *source)


def _check_number(number: str) -> str:
    value = (number or "").strip()
    if not value:
        raise BadInput(_("The policy number is empty. Give the number as the app shows it."))
    if any(not ch.isprintable() and not ch.isspace() for ch in value):
        raise BadInput(_("The policy number {number!r} contains control characters.").format(number=clean(number)))
    # No app writes spaces inside its numbers: `909 123 456 789`, as often copied, is read as one number.
    return "".join(value.split())


async def run_policy(options: Options, ui: UI, numbers: Sequence[str] | str) -> Summary:
    """Imports the policies with these numbers (a stored one is overwritten), all from one app's tab."""
    numbers = list(dict.fromkeys(_check_number(n) for n in ([numbers] if isinstance(numbers, str) else numbers)))
    if not numbers:
        raise BadInput(_("The policy number is empty. Give the number as the app shows it."))
    check_options(options)
    db = database.open_db(options.db_path)
    async with attach(options.cdp) as browser:
        wanted = options
        while True:
            adapter, _context = await connect(browser, wanted, ui, for_period=False)
            checked, needed = [], {}
            for number in numbers:
                try:
                    checked.append(adapter.check_number(number))
                except WrongIdentity as exc:  # a number of another identity or section
                    needed.setdefault(exc.expected, exc)
            if not needed:
                break
            if len(needed) > 1 or checked:
                raise BadInput(_("These numbers belong to different identities or sections of {app}: {numbers}. "
                                 "Import each identity's numbers with a command of its own.").format(
                    app=adapter.title, numbers=", ".join(numbers)))
            problem = next(iter(needed.values()))
            await _wait(ui, options, problem)  # switch, then read them
            wanted = replace(options, app=adapter.app_id, identity=problem.expected,
                             source=type(adapter).source_for_identity(problem.expected) or options.source)
        async with one_import_at_a_time(options.db_path, ui.note):
            rows: list[Row] = []
            for number in checked:
                rows += await _looked_up(adapter, number, options, first=len(rows) + 1)
            return await _run([(adapter, rows)], db, rows, ui, options, select=False, retry=_retry(adapter))


async def _looked_up(adapter: Adapter, number: str, options: Options, *, first: int) -> list[Row]:
    """The rows of a look-up by number: red when the app does not find it or it is outside the scope."""
    try:
        with capture.recording() as taken:
            items = await adapter.lookup(number)
    except PolicyError as exc:
        capture.failed(adapter, ListedPolicy(number=number, insurer=None), exc, taken, mode="lookup")
        row = Row(first, ListedPolicy(number=number, insurer=None), State.FAILED,
                  clean(mask_personal_ids(exc.reason, keep=(number,))))
        log.warning("%s: %s failed: %s", adapter.app_id, row.item.key, row.reason)
        return [row]
    rows = [_row(i, item, set(), options, overwrite=True) for i, item in enumerate(items, first)]
    for item in items:  # a look-up that marks the policy red: its bundle (with --capture)
        capture.listed(adapter, item, taken, mode="lookup")
    for row in rows:
        if row.state is State.SKIPPED:  # asked for by number, but outside the import's scope: a failure
            row.state = State.FAILED
            row.reason = _("Not imported: {reason}").format(reason=row.reason)
    return rows


async def run_refresh(options: Options, ui: UI, number: str) -> Summary:
    number = _check_number(number)
    _normalise_codes(options)
    db = database.open_db(options.db_path)
    stored = database.find_stored(db, number)
    if options.app is not None:
        stored = [row for row in stored if row["source_app"] == options.app] or stored
    if not stored:
        raise BadInput(_("The policy {number} is not in the database. Import it first with: a21import policy "
                         "{number}").format(number=number))
    if len(stored) > 1:
        choices = [(row["id"], f"{row['number']} ({insurer_name(row['insurer'])}, {insurers.title(row['source_app'])})")
                   for row in stored]
        chosen = _ask(ui, options, _("Several stored policies have the number {number}.").format(number=number),
                      choices, "--app")
        stored = [row for row in stored if row["id"] == chosen]
    policy = stored[0]
    named = policy_name(policy["number"], policy["insurer"])
    app_id, source, identity = _refresh_target(policy)
    if options.app is not None and options.app != app_id:
        raise BadInput(_("The policy {policy} came from {app}, not from {wanted}. Leave --app out to refresh it "
                         "from where it came from.").format(policy=named, app=app_id, wanted=options.app))
    if options.source is not None and source is not None and options.source != source:
        raise BadInput(_("The policy {policy} came from source {source}, not {wanted}. Leave --source out to "
                         "refresh it from where it came from.").format(policy=named, source=source,
                                                                        wanted=options.source))
    if options.identity is not None and identity is not None and options.identity != identity:
        raise BadInput(_("The policy {policy} belongs to {identity}, not {wanted}.").format(
            policy=named, identity=identity, wanted=options.identity))
    options.app, options.source, options.identity = app_id, source, identity
    check_options(options)
    async with attach(options.cdp) as browser:
        adapter, _context = await connect(browser, options, ui, for_period=False)
        row = _stored_row(1, policy)
        async with one_import_at_a_time(options.db_path, ui.note):
            return await _run([(_Refresher(adapter), [row])], db, [row], ui, options, select=False)


def _capture_mode(adapter: Adapter) -> str:
    """How a replay reads the policy again: a refresh looks its number up first."""
    return "refresh" if isinstance(adapter, _Refresher) else "read"


def _refresh_target(policy: dict) -> tuple[str, str | None, str | None]:
    """(app, --source, identity) a stored policy is read again from."""
    adapter_cls = insurers.get(policy["source_app"])
    source, identity = adapter_cls.refresh_target(policy["source_system"], policy["insurer"])
    return policy["source_app"], source, identity


class _Refresher:
    """An adapter that reads a stored policy again: looks its number up, then reads the match."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter

    def __getattr__(self, name: str):
        return getattr(self.adapter, name)

    async def read_policy(self, item: ListedPolicy):
        found = [hit for hit in await self.adapter.lookup(item.number) if hit.key == item.key]
        if not found:
            raise PolicyError(_("{app} no longer finds the policy {policy}.").format(
                app=self.adapter.title, policy=policy_name(item.number, item.insurer)))
        if found[0].skip_reason:
            raise PolicyError(_("Not imported: {reason}").format(reason=found[0].skip_reason))
        return await self.adapter.read_policy(found[0])


async def run_refresh_due(options: Options, ui: UI, days: int) -> Summary:
    """Reads again every stored policy with an unpaid installment due within `days` days (overdue
    ones included), so that the paid status is current. Policies are grouped by the app, source
    and identity they came from; a group whose tab is missing is reported, the others go on."""
    check_days(days)  # the same range as `due`
    check_options(options)
    db = database.open_db(options.db_path)
    due_by = today_in_poland() + timedelta(days=days)
    stored = database.policies_with_unpaid(db, due_by.isoformat())
    if options.app is not None:
        stored = [policy for policy in stored if policy["source_app"] == options.app]
    groups: dict[tuple[str, str | None, str | None], list[Row]] = {}
    rows: list[Row] = []
    for policy in stored:
        row = _stored_row(len(rows) + 1, policy)
        rows.append(row)
        groups.setdefault(_refresh_target(policy), []).append(row)
    if not rows:
        ui.note(_("No stored policy has an unpaid installment due by {date}; nothing to refresh.").format(
            date=fmt_pl_date(due_by)))
        return Summary(rows)
    ui.note(ngettext("{n} stored policy has an unpaid installment due by {date}.",
                     "{n} stored policies have an unpaid installment due by {date}.", len(rows)).format(
        n=len(rows), date=fmt_pl_date(due_by)))
    async with attach(options.cdp) as browser:
        def reader(wanted: Options):
            async def connected() -> _Refresher:
                adapter, _context = await connect(browser, wanted, ui, for_period=False)
                return _Refresher(adapter)
            return connected

        # One group at a time: the tab shows one identity or section, so the user switches between groups
        # when asked, and a switch asked for is never an error.
        batches = [(reader(replace(options, app=app_id, source=source, identity=identity)), group)
                   for (app_id, source, identity), group in groups.items()]
        async with one_import_at_a_time(options.db_path, ui.note):
            return await _run(batches, db, rows, ui, options, select=False)


def _stored_row(index: int, policy: dict) -> Row:
    """A stored policy as a row to read again (the app is asked for it by number)."""
    issued = policy["issue_date"]
    item = ListedPolicy(number=policy["number"], insurer=policy["insurer"], product=policy["product"],
                        holder_name=policy.get("holder_name"), premium_gr=policy["premium_gr"],
                        issue_date=date.fromisoformat(issued) if issued else None)
    return Row(index, item, State.MARKED)
