"""The page's routes: the apps open in the browser, an import (period, one policy, refresh) followed
live, and the stored policies (search, renewals, installments due, one policy, export to xlsx).

Server-rendered Jinja2 templates (autoescaped: a name with markup shows as text) and one small script
of our own for what must be live (the apps' refresh, the import's questions and rows over server-sent
events). Every request first passes `security.Guard`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from a21import import i18n, insurers
from a21import.errors import A21Error, BadInput
from a21import.i18n import _
from a21import.importer import Options, check_options
from a21import.model import INSURERS, insurer_name
from a21import.periods import parse_period, today_in_poland
from a21import.web.display import FILTERS
from a21import.web.jobs import JobSpec, Jobs
from a21import.web.security import Guard, Keys
from a21import.web import texts
from a21import.web.texts import Texts

HERE = Path(__file__).resolve().parent
SSE_WAIT_S = 1.0  # how often a stream looks whether the server is stopping (and keeps the connection alive)
APPS_CACHE_S = 2.0


@dataclass
class Settings:
    cdp: str
    db_path: Path
    allow_remote_cdp: bool = False
    concurrency: int = 2


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    env.globals.update(texts.GLOBALS)
    return env


class Site:
    def __init__(self, settings: Settings, keys: Keys):
        self.settings = settings
        self.keys = keys
        self.jobs = Jobs()
        self.templates = Jinja2Templates(env=_environment())
        self._apps: tuple[float, Any] | None = None
        self._apps_lock = asyncio.Lock()
        self.closing = threading.Event()

    # -- rendering -----------------------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        job = self.jobs.current
        context = {"t": Texts(), "lang": i18n.language(), "csrf": request.scope["state"]["csrf"],
                   "nav": name.split(".")[0], "running": job is not None and not job.finished, **context}
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    # -- apps ----------------------------------------------------------------------------------------
    async def overview(self):
        from a21import.overview import read_overview

        async with self._apps_lock:
            now = anyio.current_time()
            if self._apps is None or now - self._apps[0] > APPS_CACHE_S:
                try:
                    found: Any = await anyio.to_thread.run_sync(lambda: asyncio.run(read_overview(
                        self.settings.cdp, allow_remote=self.settings.allow_remote_cdp)))
                except A21Error as exc:
                    found = exc.message
                self._apps = (anyio.current_time(), found)
            return self._apps[1]

    async def apps(self, request: Request) -> Response:
        # The list comes by the page's script once the page has loaded: attaching to the browser while this
        # very tab waits for its answer would stall the attach until the browser gives up on the tab.
        return self.page(request, "apps.html", overview=None)

    async def apps_list(self, request: Request) -> Response:
        return self.page(request, "apps_list.html", overview=await self.overview())

    # -- imports -------------------------------------------------------------------------------------
    def import_form(self, request: Request, *, error: str | None = None, values: dict | None = None,
                    status: int = 200) -> Response:
        today = today_in_poland()
        values = values or dict(request.query_params)
        values.setdefault("from", today.replace(day=1).isoformat())
        values.setdefault("to", today.isoformat())
        values.setdefault("days", "14")
        adapters = insurers.available()
        return self.page(request, "import.html", status, error=error, values=values, adapters=adapters,
                         job=self.jobs.current)

    async def import_page(self, request: Request) -> Response:
        return self.import_form(request)

    async def start_job(self, request: Request) -> Response:
        form = dict(await request.form())
        try:
            spec = self.spec(form)
        except A21Error as exc:
            return self.import_form(request, error=exc.message, values=form, status=400)
        if self.jobs.start(spec) is None:
            return self.import_form(request, error=_("An import is still running. Wait for it to end or stop it "
                                                     "first."), values=form, status=409)
        return RedirectResponse("/job", status_code=303)

    def spec(self, form: dict[str, str]) -> JobSpec:
        kind = form.get("kind", "")
        blank = lambda name: (form.get(name) or "").strip() or None  # noqa: E731
        options = Options(cdp=self.settings.cdp, db_path=self.settings.db_path, app=blank("app"),
                          source=blank("source"), identity=blank("identity"),
                          concurrency=self.settings.concurrency)
        if kind == "period":
            if not blank("from") or not blank("to"):
                raise BadInput(_("Give the first and the last issue date."))
            start, end, note = parse_period(form["from"], form["to"])
            check_options(options)
            return JobSpec("period", options, start=start, end=end, note=note)
        if kind in ("policy", "refresh"):
            number = blank("number")
            if number is None:
                raise BadInput(_("The policy number is empty. Give the number as the app shows it."))
            if kind == "policy":
                check_options(options)
            return JobSpec(kind, options, number=number)
        if kind == "due":
            try:
                days = int(form.get("days") or "14")
            except ValueError as exc:
                raise BadInput(_("Give the number of days as a whole number.")) from exc
            from a21import.queries import check_days

            check_days(days)
            check_options(options)
            return JobSpec("due", options, days=days)
        raise BadInput(_("Choose what to import."))

    async def job_page(self, request: Request) -> Response:
        job = self.jobs.current
        return self.page(request, "job.html", job=job, js_texts=texts.js_texts(),
                         job_description=texts.job_description(job) if job else "")

    async def events(self, request: Request) -> Response:
        job = self.jobs.current
        if job is None:
            return Response(status_code=204)
        try:
            position = int(request.headers.get("last-event-id", "-1")) + 1
        except ValueError:
            position = 0

        async def stream():
            nonlocal position
            yield f"event: job\ndata: {json.dumps({'id': job.id})}\n\n"
            while not self.closing.is_set():
                if await request.is_disconnected():
                    return
                events = await anyio.to_thread.run_sync(job.events_after, position, SSE_WAIT_S)
                if not events:
                    if job.finished:
                        return
                    yield ": waiting\n\n"
                    continue
                for event in events:
                    # json.dumps escapes line breaks: one event is always one data line.
                    yield f"id: {position}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
                    position += 1

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def answer(self, request: Request) -> Response:
        job = self.jobs.current
        try:
            document = await request.json()
            question, value = int(document["question"]), document["value"]
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        if job is None or not job.give(question, value):
            return Response(status_code=409)
        return Response(status_code=204)

    async def stop(self, request: Request) -> Response:
        job = self.jobs.current
        if job is not None and not job.finished:
            job.stop()
        return RedirectResponse("/job", status_code=303)

    async def retry(self, request: Request) -> Response:
        job = self.jobs.current
        if job is not None and job.finished and job.summary and job.summary.failed:
            self.jobs.start(job.spec.retry(job.summary.failed, job.confirmed))
        return RedirectResponse("/job", status_code=303)

    # -- the stored policies ---------------------------------------------------------------------------
    def filters(self, params) -> Any:
        from a21import.queries import parse_filters

        blank = lambda name: (params.get(name) or "").strip() or None  # noqa: E731
        return parse_filters(blank("q"), blank("insurer"), blank("app"), blank("from"), blank("to"))

    @contextmanager
    def database(self):
        """A read-only connection for one request, closed after it (each request runs in a thread of its own)."""
        from a21import.queries import open_existing

        db = open_existing(self.settings.db_path)
        try:
            yield db
        finally:
            db.conn.close()

    async def stored(self, request: Request, name: str, **extra: Any) -> Response:
        params = request.query_params
        base = {"values": dict(params), "insurers": [(code, insurer_name(code)) for code in INSURERS],
                "adapters": insurers.available(), "view": name}
        try:
            rows, more = await anyio.to_thread.run_sync(self.read_view, name, params)
        except A21Error as exc:
            return self.page(request, f"{name}.html", 400 if isinstance(exc, BadInput) else 200, error=exc.message,
                             rows=[], days=None, **base, **extra)
        more.setdefault("days", None)
        return self.page(request, f"{name}.html", error=None, rows=rows, count_text=texts.count_text(
            name, rows, more["days"]), left_out_text=texts.left_out_text(more.get("left_out", 0)), **base, **more,
            **extra)

    def read_view(self, name: str, params) -> tuple[list[Any], dict[str, Any]]:
        from a21import import queries

        filters = self.filters(params)
        today = today_in_poland()
        if name == "policies":
            with self.database() as db:
                return queries.search_policies(db, filters), {}
        days = self.days(params, 30 if name == "renewals" else 14)
        with self.database() as db:
            found = getattr(queries, name)(db, days, today=today, filters=filters)
        rows, left_out = queries.leave_out_ended(found, include_ended=bool(params.get("all")))
        return rows, {"days": days, "left_out": left_out, "today": today}

    @staticmethod
    def days(params, default: int) -> int:
        from a21import.queries import check_days

        try:
            days = int(params.get("days") or default)
        except ValueError as exc:
            raise BadInput(_("Give the number of days as a whole number.")) from exc
        return check_days(days)

    async def policies(self, request: Request) -> Response:
        return await self.stored(request, "policies")

    async def renewals(self, request: Request) -> Response:
        return await self.stored(request, "renewals")

    async def due(self, request: Request) -> Response:
        return await self.stored(request, "due")

    async def policy(self, request: Request) -> Response:
        from a21import import queries

        params = request.query_params

        def read():
            with self.database() as db:
                return queries.policy_details(db, params.get("number", ""),
                                              (params.get("insurer") or "").strip() or None)

        try:
            details = await anyio.to_thread.run_sync(read)
        except A21Error as exc:
            return self.page(request, "policy.html", 404, error=exc.message, details=[], today=today_in_poland(),
                             several_text="")
        return self.page(request, "policy.html", error=None, details=details, today=today_in_poland(),
                         several_text=texts.several_text(details))

    async def export(self, request: Request) -> Response:
        from a21import import export

        form = await request.form()
        view = form.get("view", "policies")
        if view not in ("policies", "renewals", "due"):
            return Response(status_code=400)

        def write() -> bytes:
            rows, _more = self.read_view(view, form)
            with self.database() as db:
                everything = export.export_rows(db, self.filters(form))
            if view != "policies":  # the policies of the list shown, in its order
                by_key = {(row["number"], row["insurer"]): row for row in everything}
                keys = [((r.policy if hasattr(r, "policy") else r).number,
                         (r.policy if hasattr(r, "policy") else r).insurer) for r in rows]
                everything = [by_key[key] for key in dict.fromkeys(keys) if key in by_key]
            with tempfile.TemporaryDirectory(prefix="a21import-") as folder:
                path = Path(folder) / "export.xlsx"
                export.write_atomically(path, lambda target: export._write_xlsx(everything, target))
                return path.read_bytes()

        try:
            content = await anyio.to_thread.run_sync(write)
        except A21Error as exc:
            return PlainTextResponse(exc.message, status_code=400)
        today = today_in_poland()
        name = export.default_name("xlsx", today).name if view == "policies" else f"{view}-{today.isoformat()}.xlsx"
        return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/apps", status_code=303)


def create_app(settings: Settings, keys: Keys) -> Guard:
    site = Site(settings, keys)
    routes = [
        Route("/", site.home),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/apps", site.apps),
        Route("/apps/list", site.apps_list),
        Route("/import", site.import_page),
        Route("/jobs", site.start_job, methods=["POST"]),
        Route("/job", site.job_page),
        Route("/job/events", site.events),
        Route("/job/answer", site.answer, methods=["POST"]),
        Route("/job/stop", site.stop, methods=["POST"]),
        Route("/job/retry", site.retry, methods=["POST"]),
        Route("/policies", site.policies),
        Route("/renewals", site.renewals),
        Route("/due", site.due),
        Route("/policy", site.policy),
        Route("/export", site.export, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.site = site
    guard = Guard(app, keys)
    guard.site = site
    return guard
