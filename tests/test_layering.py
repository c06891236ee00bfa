"""Layering (issue 13, point 9): which module may import which, host matching declared once per adapter,
and the app ids in the help taken from the registry."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from a21import import errors, formats, insurers, tab
from a21import.insurers.base import Adapter, normal_host

PACKAGE = Path(__file__).resolve().parent.parent / "a21import"
ROOT = PACKAGE.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions (`from a21import import ui` → a21import.ui)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def loaded_after(module: str) -> list[str]:
    """The a21import modules a fresh interpreter holds after importing `module`."""
    code = (f"import sys, json, {module}; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('a21import'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(result.stdout)


# -- the tab protocol --------------------------------------------------------------------------------------
def test_browser_does_not_import_the_adapters():
    assert not {m for m in imported_modules(PACKAGE / "browser.py") if m.startswith("a21import.insurers")}
    assert not [m for m in loaded_after("a21import.browser") if m.startswith("a21import.insurers")]


def test_the_tab_protocol_has_its_own_module():
    from a21import.insurers import base

    assert base.FetchResponse is tab.FetchResponse and base.Tab is tab.Tab  # the adapters' names still work
    defined = {node.name for node in ast.parse((PACKAGE / "insurers" / "base.py").read_text()).body
               if isinstance(node, ast.ClassDef)}
    assert not {"Tab", "FetchResponse"} & defined


# -- read-only commands without the import's UI ----------------------------------------------------------
@pytest.mark.parametrize("name", ["views", "export", "queries", "overview_view", "datasette/__init__"])
def test_read_only_commands_do_not_import_the_import_ui(name):
    assert not {"a21import.ui", "a21import.importer"} & imported_modules(PACKAGE / f"{name}.py")


def test_views_load_neither_the_import_ui_nor_the_importer():
    loaded = loaded_after("a21import.views")
    assert "a21import.ui" not in loaded and "a21import.importer" not in loaded


def test_money_lives_in_formats():
    from a21import import ui

    assert formats.money(123456789) == "1\u00a0234\u00a0567,89 zł" and formats.money(None) == ""
    assert formats.money(-5) == "-0,05 zł"
    assert ui.money is formats.money
    assert "money" not in {node.name for node in ast.parse((PACKAGE / "ui.py").read_text()).body
                           if isinstance(node, ast.FunctionDef)}


# -- errors ---------------------------------------------------------------------------------------------
def test_every_error_class_is_declared_in_errors():
    from a21import import queries

    assert queries.NotStored is errors.NotStored
    assert errors.Cancelled("x").exit_code == errors.EXIT_BAD_INPUT
    assert errors.NotStored("x").exit_code == errors.EXIT_FAILED
    for path in (PACKAGE / "importer.py", PACKAGE / "queries.py"):
        classes = {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)}
        assert not {"Cancelled", "NotStored"} & classes, path


# -- hosts ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("written, host", [
    ("ihestia.ergohestia.pl", "ihestia.ergohestia.pl"), ("IHestia.ErgoHestia.PL", "ihestia.ergohestia.pl"),
    ("ihestia.ergohestia.pl.", "ihestia.ergohestia.pl"), ("ihestia.ergohestia.pl:8443", "ihestia.ergohestia.pl"),
    ("ihestia.ergohestia.pl.:443", "ihestia.ergohestia.pl"), ("", ""), (None, ""), ("[bad", ""),
])
def test_one_host_normaliser(written, host):
    assert normal_host(written) == host


def adapters() -> list[type[Adapter]]:
    return [insurers.get(app_id) for app_id in insurers.ADAPTERS]


@pytest.mark.parametrize("adapter", adapters(), ids=list(insurers.ADAPTERS))
def test_every_adapter_declares_its_hosts(adapter):
    assert "hosts" in vars(adapter) and isinstance(adapter.hosts, tuple)
    spec = (ROOT / "docs" / "portals" / f"{adapter.app_id}.md").read_text(encoding="utf-8")
    if not adapter.hosts:  # an app of tenants (INSLY): declares their suffix instead, and matches by it
        assert "tenant_suffix" in vars(adapter) and "matches_host" in vars(adapter)
        suffix = adapter.tenant_suffix
        assert suffix.lstrip(".") in spec
        hosts = ["biuro" + suffix]
        others = ["www" + suffix, "a.b" + suffix, suffix.lstrip("."), "biuro" + suffix + ".evil.example"]
    else:
        assert "matches_host" not in vars(adapter), "the default matches_host reads `hosts`"
        hosts = list(adapter.hosts)
        for host in hosts:
            assert host in spec, f"{host} is not in the spec of {adapter.app_id}"
        others = [other for host in hosts for other in (host + ".evil.example", "evil-" + host, host.split(".", 1)[1])]
    for host in hosts:
        assert host == normal_host(host)
        for seen in (host, host.upper(), host + ".", host + ":443"):
            assert adapter.matches_host(seen), seen
    for other in others:
        assert not adapter.matches_host(other), other


def test_each_host_is_one_app():
    owners = {}
    for adapter in adapters():
        for host in adapter.hosts:
            assert owners.setdefault(host, adapter.app_id) == adapter.app_id, host


# -- the help built from the registry ------------------------------------------------------------------
def help_text(*args: str, tenth: bool = False) -> tuple[str, list[str]]:
    code = ("import sys, json\n"
            "from a21import import insurers\n"
            + ("insurers.ADAPTERS['tenth'] = 'a21import.insurers.tenth:TenthAdapter'\n" if tenth else "")
            + f"sys.argv = ['a21import', *{list(args)!r}, '--help', '--lang', 'en']\n"
            "from a21import.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('a21import'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"COLUMNS": "1000", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    text, _newline, modules = result.stdout.rstrip().rpartition("\n")
    return " ".join(text.split()), json.loads(modules)


@pytest.mark.parametrize("command", ["period", "policy", "policies", "export"])
def test_the_help_lists_every_registered_app(command):
    text, loaded = help_text(command)
    assert ", ".join(insurers.ADAPTERS) + "." in text
    assert not [m for m in loaded if m.startswith("a21import.insurers.")], "--help imports no adapter"
    text, _loaded = help_text(command, tenth=True)
    assert ", ".join([*insurers.ADAPTERS, "tenth"]) + "." in text
