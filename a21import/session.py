"""The browser side of an import: the options checked before the browser is touched, the app's tab
found, its login and identity or section confirmed by the user. Nothing dead-ends interactively: a tab
that is not logged in, missing, or showing another identity or section is named with what to do, and
the import waits for the user; under --yes each stops with exit 3."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from a21import import capture, insurers
from a21import.browser import Browser, PageTab
from a21import.errors import A21Error, BadInput, Cancelled, NoTab, NotLoggedIn, WrongIdentity
from a21import.i18n import _
from a21import.insurers.base import Adapter
from a21import.model import AppContext

if TYPE_CHECKING:
    from a21import.importer import UI, Options

MAX_CONCURRENCY = 8
TABS_SETTLE_S = 0.5  # after a prompt, before the browser's tabs are looked at again


# -- checking options before the browser is touched -------------------------------------------------
def _normalise_codes(options: Options) -> None:
    """Codes are typed in any case: --app Hestia, --source iHestia, --identity mtu."""
    if options.app is not None:
        options.app = options.app.strip().lower()
    if options.source is not None:
        options.source = options.source.strip().lower()
    if options.identity is not None:
        options.identity = options.identity.strip().upper()


def check_options(options: Options) -> None:
    _normalise_codes(options)
    if options.app is not None:
        adapter = insurers.get(options.app)
        if options.source is not None and options.source not in adapter.sources:
            raise BadInput(_no_such_source(adapter, options.source))
        if options.identity is not None and options.identity not in adapter.identities:
            raise BadInput(_no_such_identity(adapter, options.identity))
    elif options.source is not None:
        known = sorted({s for a in insurers.available() for s in a.sources})
        if options.source not in known:
            raise BadInput(_("The source {source!r} is not known. Known sources are: {known}.").format(
                source=options.source, known=", ".join(known)))
    if not 1 <= options.concurrency <= MAX_CONCURRENCY:
        raise BadInput(_("--concurrency must be between 1 and {maximum}.").format(maximum=MAX_CONCURRENCY))


def _no_such_source(adapter: type[Adapter], source: str) -> str:
    if not adapter.sources:
        return _("{app} has no --source; leave the option out.").format(app=adapter.title)
    return _("{app} has no source {source!r}. Use one of: {sources}.").format(
        app=adapter.title, source=source, sources=", ".join(adapter.sources))


def _no_such_identity(adapter: type[Adapter], identity: str) -> str:
    if not adapter.identities:
        return _("{app} has no identity to choose; leave --identity out.").format(app=adapter.title)
    return _("{app} has no identity {identity!r}. Use one of: {identities}.").format(
        app=adapter.title, identity=identity, identities=", ".join(adapter.identities))


# -- finding the tab and confirming who is logged in ------------------------------------------------
async def connect(browser: Browser, options: Options, ui: UI, *, for_period: bool) -> tuple[Adapter, AppContext]:
    """The adapter over the right, logged-in tab, after the user confirmed identity or section.

    Interactively nothing dead-ends: a tab that is not logged in, missing, or showing another identity
    or section is named with what to do, and after Enter the browser's tabs are looked at again (the
    needed one may be a new tab: Warta's sections are two hosts). Under --yes each stops with exit 3."""
    capture.use(options.capture)
    wanted = replace(options)  # the identity (and Warta's source) may change when the user asks for another
    system: str | None = None
    while True:
        try:
            adapter_cls, tabs, source = _choose_tab(browser, wanted, ui)
            if for_period and adapter_cls.period_needs_source and source is None:
                system = system or _ask(ui, options, _("Which system of {app} should be listed?").format(
                    app=adapter_cls.title), [(value, _(label)) for value, label in adapter_cls.sources.items()],
                    "--source")
                source = system
            adapter, context = await _logged_in(adapter_cls, tabs, source)
        except (NotLoggedIn, NoTab) as exc:
            await _wait(ui, options, exc)
            continue
        if wanted.identity is not None and context.identity != wanted.identity:
            message = adapter.switch_instruction(wanted.identity, context.identity_label or context.identity)
            await _wait(ui, options, WrongIdentity(_("{instruction} Then run the command again.").format(
                instruction=message), expected=wanted.identity, actual=context.identity), shown=message)
            wanted.app = adapter_cls.app_id
            wanted.source = adapter_cls.source_for_identity(wanted.identity) or wanted.source
            continue
        if not ui.interactive or options.yes:
            ui.note(context.description)  # said, not asked: the record of what was read
            return adapter, context
        if ui.confirm_context(context):
            return adapter, context
        if not adapter.identities:
            raise Cancelled(_("Nothing was imported, as you asked."))
        wanted.identity = ui.choose(_("Which identity do you need?"), [(code, code) for code in adapter.identities])


async def _wait(ui: UI, options: Options, problem: A21Error, *, shown: str | None = None) -> None:
    """Waits for the user to mend `problem` in the browser; raises it under --yes, on `q` or with no answer."""
    if not ui.interactive or options.yes or not ui.wait_for_switch(shown or problem.message):
        raise problem
    # The prompt blocked the event loop: let the CDP connection take in what changed meanwhile (new tabs,
    # pages loaded) before the tabs are looked at again.
    await asyncio.sleep(TABS_SETTLE_S)


def _ask(ui: UI, options: Options, question: str, choices: list[tuple[str, str]], flag: str) -> str:
    if ui.interactive and not options.yes:
        return ui.choose(question, choices)
    names = ", ".join(value if label == value else f"{value} ({label})" for value, label in choices)
    raise BadInput(_("{question} Choose one with {option}: {choices}.").format(
        question=question, option=flag, choices=names))


def _choose_tab(browser: Browser, options: Options, ui: UI) -> tuple[type[Adapter], list[PageTab], str | None]:
    candidates = [insurers.get(options.app)] if options.app is not None else insurers.available()
    found = [(cls, tab) for tab in browser.tabs() for cls in candidates if cls.matches_host(tab.host)]
    if options.app is not None:
        wanted = candidates[0]
        if not found:
            raise NoTab(_("No tab of {app} is open in the browser. Open {app} in the browser, log in, and run the "
                          "command again.").format(app=wanted.title))
    if not found:
        raise NoTab(_("No tab of a supported sales app is open in the browser. Open the app, log in, and run the "
                      "command again."))
    order = list(insurers.ADAPTERS)
    apps = sorted({cls for cls, _ in found}, key=lambda cls: order.index(cls.app_id))
    adapter_cls = apps[0]
    if len(apps) > 1:
        chosen = _ask(ui, options, _("Tabs of several apps are open."),
                      [(cls.app_id, cls.title) for cls in apps], "--app")
        adapter_cls = insurers.get(chosen)
    tabs = [tab for cls, tab in found if cls is adapter_cls]
    source = options.source
    if source is not None:
        by_host = [tab for tab in tabs if adapter_cls.source_of_host(tab.host) in (None, source)]
        if not by_host:
            raise NoTab(_("No tab of {app} for {source!r} is open. Open it in the browser, log in, and run the "
                          "command again.").format(app=adapter_cls.title, source=source))
        tabs = by_host
    hosts = list(dict.fromkeys(tab.host for tab in tabs))
    if len(hosts) > 1:
        names = ", ".join(adapter_cls.tab_label(h) for h in hosts)
        if not any(adapter_cls.source_of_host(h) for h in hosts):
            # Several sessions of one app (e.g. Insly tenants): the user keeps the one to read.
            raise BadInput(_("Tabs of {app} on several hosts are open: {tabs}. Keep only the one to import from "
                             "open (close the others), then run the command again.").format(
                app=adapter_cls.title, tabs=names))
        if not ui.interactive or options.yes:
            raise BadInput(_("Tabs of {app} on several hosts are open: {tabs}. Choose one with --source, then run "
                             "the command again.").format(app=adapter_cls.title, tabs=names))
        host = ui.choose(_("Tabs of {app} on several hosts are open. Which one should be read?").format(
                             app=adapter_cls.title),
                         [(h, adapter_cls.tab_label(h)) for h in hosts])
        hosts = [host]
    tabs = [tab for tab in tabs if tab.host == hosts[0]]
    if source is None:
        source = adapter_cls.source_of_host(hosts[0])
    return adapter_cls, tabs, source


async def _logged_in(adapter_cls: type[Adapter], tabs: list[PageTab],
                     source: str | None) -> tuple[Adapter, AppContext]:
    """The first tab of the host that is logged in (sessionStorage apps differ from tab to tab)."""
    first_problem: NotLoggedIn | None = None
    for tab in tabs:
        adapter = adapter_cls(tab, source)
        try:
            with capture.recording() as taken:
                context = await adapter.context()
            adapter.agent = context.agent
            capture.keep_session(adapter, taken)
            return adapter, context
        except NotLoggedIn as exc:
            first_problem = first_problem or exc
    assert first_problem is not None
    raise first_problem
