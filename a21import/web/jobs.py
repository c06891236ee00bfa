"""One import at a time, run for the page: the importer's own coroutine (run_period, run_policy,
run_refresh, run_refresh_due) in a worker thread with its own event loop, and `WebUI`, the importer's
`UI` for the page.

The importer calls the UI's methods synchronously from its coroutine. Here each call appends an event
to the job's log (the page follows the log as server-sent events), and a question (confirm the
identity, choose, switch and look again, choose the rows) blocks the worker thread until the page
answers or the job is stopped. Stopping cancels the job's task, exactly as Ctrl-C does in the CLI:
what was stored stays stored.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from a21import.errors import EXIT_FAILED, EXIT_OK, A21Error, Cancelled, EnvironmentProblem, Interrupted
from a21import.formats import mask_personal_ids
from a21import.i18n import _, ngettext
from a21import.importer import Options, Row, State, Summary, run_period, run_policy, run_refresh, run_refresh_due
from a21import.logs import log
from a21import.model import AppContext
from a21import.text import clean
from a21import.web.display import row_document

STOP_POLL_S = 0.2  # how often a blocked question looks whether the job was stopped


class Stopped(Cancelled):
    """The person pressed Stop while the import waited for an answer."""


@dataclass
class JobSpec:
    """What to run: `kind` is period, policy, refresh or due; the rest are its inputs."""

    kind: str
    options: Options
    start: date | None = None
    end: date | None = None
    number: str | None = None
    days: int = 14
    only: frozenset[str] | None = None  # period retry: import exactly these keys (the failed ones)
    confirmed: tuple[str, str | None, str | None] | None = None  # the identity already confirmed on the page
    note: str | None = None  # said before the import starts (a last date after today was cut to today)

    def retry(self, failed: list[Row], confirmed) -> JobSpec:
        if self.kind == "period":
            return replace(self, options=replace(self.options), only=frozenset(row.item.key for row in failed),
                           confirmed=confirmed, note=None)
        return replace(self, options=replace(self.options), confirmed=confirmed, note=None)


class Job:
    """One run of the importer: its log of events, its pending question, its outcome."""

    ids = itertools.count(1)

    def __init__(self, spec: JobSpec):
        self.id = next(self.ids)
        self.spec = spec
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.question: dict[str, Any] | None = None
        self.answer: Any = None
        self.stopping = False
        self.finished = False
        self.summary: Summary | None = None
        self.exit_code: int | None = None
        self.confirmed: tuple[str, str | None, str | None] | None = spec.confirmed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._main, name=f"a21import-job-{self.id}", daemon=True)
        self._questions = itertools.count(1)

    # -- the log the page follows ------------------------------------------------------------------
    def publish(self, kind: str, **data: Any) -> None:
        with self.changed:
            self.events.append({"type": kind, **data})
            self.changed.notify_all()

    def events_after(self, position: int, timeout: float) -> list[dict[str, Any]]:
        """The events from `position` on; waits up to `timeout` for one when there is none yet."""
        with self.changed:
            if len(self.events) <= position and not self.finished:
                self.changed.wait(timeout)
            return self.events[position:]

    # -- questions -----------------------------------------------------------------------------------
    def ask(self, kind: str, **data: Any) -> Any:
        """Publishes a question and blocks the worker thread until it is answered; Stop raises Stopped."""
        with self.changed:
            number = next(self._questions)
            self.question = {"id": number, "kind": kind, **data}
            self.answer = None
            self.events.append({"type": "ask", **self.question})
            self.changed.notify_all()
            while self.answer is None and not self.stopping:
                self.changed.wait(STOP_POLL_S)
            answer, self.question = self.answer, None
            self.events.append({"type": "answered", "id": number})
            self.changed.notify_all()
        if answer is None:
            raise Stopped(_("Stopped, as you asked. Every policy shown as imported is stored."))
        return answer

    def give(self, question: int, value: Any) -> bool:
        """The page's answer to question number `question`; False when that question is no longer open."""
        with self.changed:
            if self.question is None or self.question["id"] != question or value is None:
                return False
            self.answer = value
            self.changed.notify_all()
            return True

    # -- running -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            asked = self.question is not None  # the blocked question raises Stopped itself
            self.changed.notify_all()
        loop, task = self._loop, self._task
        if not asked and loop is not None and task is not None:
            # As Ctrl-C in the CLI: the reads in flight are cancelled, what was stored stays stored.
            loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _main(self) -> None:
        ui = WebUI(self)
        problem: A21Error | None = None
        if self.spec.note:
            ui.note(self.spec.note)
        try:
            self.summary = asyncio.run(self._guarded(self._coroutine(ui)))
            problem = self.summary.stopped
        except A21Error as exc:
            problem = exc
            self.summary = getattr(exc, "summary", None)
            if exc.__cause__ is not None:  # what the sentence stands for (a database's own error), for the log
                log.warning("Cause: %s: %s", type(exc.__cause__).__name__, exc.__cause__)
        except asyncio.CancelledError:  # stopped before the importer had a list to mark as not read
            problem = Interrupted(_("Stopped before anything was read, as you asked."))
        except Exception as exc:  # a bug: a sentence on the page and the log, never a dead page
            log.exception("Unexpected error in an import from the page")
            problem = EnvironmentProblem(_(
                "a21import stopped on something it could not handle ({error_type}). What was imported before is "
                "kept.").format(error_type=type(exc).__name__))
        if problem is not None:
            self.exit_code = problem.exit_code
            message = mask_personal_ids(clean(problem.message, lines=True), keep=(self.spec.number or "",))
            log.error("Stopped (exit code %d): %s", self.exit_code, message)
        else:
            self.exit_code = EXIT_FAILED if self.summary and self.summary.failed else EXIT_OK
            message = None
        with self.changed:
            self.finished = True
            self.events.append({"type": "end", "exit_code": self.exit_code, "error": message,
                                "stopped": self.stopping,
                                "can_retry": bool(self.summary and self.summary.failed)})
            self.changed.notify_all()

    async def _guarded(self, coroutine: Coroutine) -> Summary:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        if self.stopping:  # stopped before the thread got here
            coroutine.close()
            raise asyncio.CancelledError
        return await coroutine

    def _coroutine(self, ui: WebUI) -> Coroutine:
        spec = self.spec
        options = replace(spec.options)
        if spec.kind == "period":
            return run_period(options, ui, spec.start, spec.end)
        if spec.kind == "policy":
            return run_policy(options, ui, spec.number)
        if spec.kind == "refresh":
            return run_refresh(options, ui, spec.number)
        return run_refresh_due(options, ui, spec.days)


class WebUI:
    """The importer's UI (see importer.UI) for the page: every call becomes an event of the job."""

    interactive = True

    def __init__(self, job: Job):
        self.job = job

    def note(self, message: str) -> None:
        self.job.publish("note", text=message)

    def choose(self, question: str, options: list[tuple[str, str]]) -> str:
        values = {value for value, _label in options}
        while True:
            answer = self.job.ask("choose", text=question, options=[{"value": v, "label": l} for v, l in options])
            if answer in values:
                return answer

    def confirm_context(self, context: AppContext) -> bool:
        key = (context.app_id, context.identity, context.user)
        if self.job.confirmed == key:  # a retry of the same tab, identity and user: confirmed on the page before
            self.note(context.description)
            return True
        confirmed = self.job.ask("confirm", text=context.description) == "yes"
        if confirmed:
            self.job.confirmed = key
        return confirmed

    def wait_for_switch(self, message: str) -> bool:
        return self.job.ask("switch", text=message) == "again"

    def select(self, rows: list[Row]) -> None:
        only = self.job.spec.only
        if only is not None:  # a retry: exactly the rows that failed before, asked for with one click
            for row in rows:
                if row.item.key in only and row.state in (State.MARKED, State.STORED):
                    row.state = State.MARKED
                elif row.state is State.MARKED:
                    row.state = State.EXCLUDED
            return
        if not rows:
            self.note(_("The app lists no policy issued in this period."))
            return
        chosen = self.job.ask("select", rows=[row_document(row) for row in rows])
        if not isinstance(chosen, list):
            chosen = []
        wanted = {index for index in chosen if isinstance(index, int)}
        for row in rows:
            if row.index in wanted and row.state in (State.MARKED, State.STORED):
                row.state, row.reason = State.MARKED, None  # a stored one checked on the page is read again
            elif row.state is State.MARKED:
                row.state, row.reason = State.EXCLUDED, None

    def import_started(self, rows: list[Row]) -> None:
        self.job.publish("rows", rows=[row_document(row) for row in rows])

    def row_changed(self, row: Row) -> None:
        self.job.publish("row", row=row_document(row))

    def import_finished(self, summary: Summary) -> None:
        done, failed = summary.count(State.DONE), summary.count(State.FAILED)
        sentences = [ngettext("Imported {n} policy.", "Imported {n} policies.", done).format(n=done)]
        if failed:
            sentences.append(ngettext("{n} policy failed (the reason is in its row).",
                                      "{n} policies failed (the reason is in their rows).", failed).format(n=failed))
        for state, sentence in ((State.STORED, _("Policies already in the database, left out: {n}.")),
                                (State.NOT_READ, _("Policies not read because the import stopped: {n}."))):
            if summary.count(state):
                sentences.append(sentence.format(n=summary.count(state)))
        # The importer marks the rows it did not read at the end without a row_changed each: all rows again.
        self.job.publish("summary", text=" ".join(sentences), rows=[row_document(row) for row in summary.rows],
                         counts={state.value: summary.count(state) for state in State})


class Jobs:
    """The one job the page may run at a time, and the last one (its rows stay on the page)."""

    def __init__(self) -> None:
        self.current: Job | None = None
        self.lock = threading.Lock()

    def start(self, spec: JobSpec) -> Job | None:
        """Starts `spec` unless a job is still running (then None)."""
        with self.lock:
            if self.current is not None and not self.current.finished:
                return None
            self.current = Job(spec)
            self.current.start()
            return self.current

    def stop_all(self, timeout: float = 10) -> None:
        job = self.current
        if job is not None and not job.finished:
            job.stop()
            if timeout:
                job.join(timeout)
