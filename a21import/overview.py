"""Which supported apps are open in the attached browser, for `a21import apps`.

For every tab whose host belongs to an app, the adapter reads what it reads before an import
(`context()`: logged in, identity or section) and nothing else: it never logs in, clicks,
navigates or reloads. Each logged-in tab gets the command that imports from it.
"""

from __future__ import annotations

import asyncio
import enum
import shlex
from dataclasses import dataclass, field
from datetime import date

from a21import import insurers
from a21import.browser import DEFAULT_CDP, PageTab, attach
from a21import.errors import A21Error, NoRights, NotLoggedIn, PolicyError
from a21import.i18n import _, ngettext
from a21import.insurers.base import Adapter
from a21import.model import AppContext

CONTEXT_TIMEOUT_S = 15.0


class TabState(str, enum.Enum):
    LOGGED_IN = "logged in"
    NOT_LOGGED_IN = "not logged in"
    NO_RIGHTS = "no rights"
    PROBLEM = "problem"


@dataclass(frozen=True)
class TabStatus:
    state: TabState
    message: str  # the app's description of the session, or the sentence saying what is wrong
    context: AppContext | None = None
    command: str | None = None  # what imports from this tab (logged-in tabs only)


@dataclass
class OpenApp:
    """The tabs of one app on one host."""

    app_id: str
    title: str
    host: str
    source: str | None  # the --source the host stands for, if any
    label_kind: str  # "section" where the host is the section (Warta), else "identity"
    tabs: list[TabStatus] = field(default_factory=list)
    other_sources: dict[str, str] = field(default_factory=dict)  # --source values the command could use instead


@dataclass
class Overview:
    cdp: str
    apps: list[OpenApp]
    supported: list[tuple[str, str]]  # (app id, title) of every supported app, in registry order


async def read_overview(cdp: str, *, today: date | None = None, allow_remote: bool = False) -> Overview:
    """Attaches to the browser at `cdp` (already checked by `check_cdp`) and reads every supported app's tabs."""
    registry = insurers.available()
    async with attach(cdp) as browser:
        apps: dict[tuple[str, str], OpenApp] = {}
        for adapter_cls in registry:  # registry order, then the tabs' order
            for tab in browser.tabs():
                if adapter_cls.matches_host(tab.host):
                    entry = apps.get((adapter_cls.app_id, tab.host))
                    if entry is None:
                        entry = apps[(adapter_cls.app_id, tab.host)] = _open_app(adapter_cls, tab.host)
                    entry.tabs.append(await _status(adapter_cls, tab, entry, cdp, today or date.today(),
                                                    allow_remote))
    return Overview(cdp=cdp, apps=list(apps.values()),
                    supported=[(cls.app_id, cls.title) for cls in registry])


def _open_app(adapter_cls: type[Adapter], host: str) -> OpenApp:
    source = adapter_cls.source_of_host(host)
    if source is None and adapter_cls.period_needs_source:
        chosen = next(iter(adapter_cls.sources))
        others = {value: label for value, label in adapter_cls.sources.items() if value != chosen}
    else:
        chosen, others = source, {}
    return OpenApp(app_id=adapter_cls.app_id, title=adapter_cls.title, host=host, source=chosen,
                   label_kind="section" if source is not None and adapter_cls.identities else "identity",
                   other_sources=others)


async def _status(adapter_cls: type[Adapter], tab: PageTab, entry: OpenApp, cdp: str, today: date,
                  allow_remote: bool) -> TabStatus:
    adapter = adapter_cls(tab, adapter_cls.source_of_host(tab.host))
    try:
        async with asyncio.timeout(CONTEXT_TIMEOUT_S):  # not wait_for: it can drop a Ctrl-C (Python 3.11)
            context = await adapter.context()
    except NotLoggedIn as exc:
        return TabStatus(TabState.NOT_LOGGED_IN, exc.message)
    except NoRights as exc:
        return TabStatus(TabState.NO_RIGHTS, exc.message)
    except A21Error as exc:
        return TabStatus(TabState.PROBLEM, exc.message)
    except PolicyError as exc:
        return TabStatus(TabState.PROBLEM, _("What the {app} tab shows could not be read: {reason}").format(
            app=adapter_cls.title, reason=exc.reason))
    except TimeoutError:
        seconds = round(CONTEXT_TIMEOUT_S)
        return TabStatus(TabState.PROBLEM, ngettext(
            "The {app} tab did not answer within {seconds} second. Close any dialog open in it and run the command "
            "again.",
            "The {app} tab did not answer within {seconds} seconds. Close any dialog open in it and run the command "
            "again.", seconds).format(app=adapter_cls.title, seconds=seconds))
    command = period_command(entry, context, today, cdp=cdp, allow_remote=allow_remote)
    return TabStatus(TabState.LOGGED_IN, context.description, context=context, command=command)


def period_command(entry: OpenApp, context: AppContext, today: date, *, cdp: str = DEFAULT_CDP,
                   allow_remote: bool = False) -> str:
    """`a21import period` for this month so far, with the options that pick this tab."""
    args = ["a21import", "period", "--from", today.replace(day=1).isoformat(), "--to", today.isoformat(),
            "--app", entry.app_id]
    if entry.source is not None:
        args += ["--source", entry.source]
    if context.identity is not None:
        args += ["--identity", context.identity]
    if cdp != DEFAULT_CDP:
        args += ["--cdp", cdp]
    if allow_remote:
        args.append("--allow-remote-cdp")
    return shlex.join(args)
