"""The registry: app id → adapter class. Adding an app is adding one module and one line here.

Modules are imported on first use, so `a21import --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from a21import.errors import BadInput
from a21import.i18n import _

if TYPE_CHECKING:
    from a21import.insurers.base import Adapter

ADAPTERS: dict[str, str] = {
    "hestia": "a21import.insurers.hestia:HestiaAdapter",
    "generali": "a21import.insurers.generali:GeneraliAdapter",
    "proama": "a21import.insurers.proama:ProamaAdapter",
    "tuz": "a21import.insurers.tuz:TuzAdapter",
    "warta": "a21import.insurers.warta:WartaAdapter",
    "insly": "a21import.insurers.insly:InslyAdapter",
    "unimarket": "a21import.insurers.unimarket:UnimarketAdapter",
    "hiperio": "a21import.insurers.hiperio:HiperioAdapter",
    "skaner2": "a21import.insurers.skaner2:Skaner2Adapter",
}


def get(app_id: str) -> type[Adapter]:
    """The adapter class of an app id. Raises BadInput for an unknown id."""
    target = ADAPTERS.get(app_id)
    if target is None:
        raise BadInput(_("The app {app_id!r} is not supported. Supported apps are: {apps}.").format(
            app_id=app_id, apps=", ".join(ADAPTERS)))
    module_name, _colon, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)


def available() -> list[type[Adapter]]:
    """Every adapter whose module is present, in registry order."""
    found = []
    for app_id, target in ADAPTERS.items():
        try:
            found.append(get(app_id))
        except ModuleNotFoundError as exc:
            if exc.name != target.partition(":")[0]:
                raise
    return found


def title(app_id: str | None) -> str:
    """The app as the agent knows it (`Ergo Hestia iHestia`), from its id; an id this version does not
    know (an older database) is shown as it is."""
    try:
        return get(app_id or "").title
    except BadInput:
        return app_id or ""
