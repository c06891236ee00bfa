"""Warta: eAgent (Majątek, TUiR Warta) and ePlatforma (Życie, TUnŻ Warta) — docs/portals/warta.md.

One app id, two sections on two hosts, each read by a reader of its own: Majątek's JSON API in
warta_majatek.py, Życie's server HTML in warta_zycie.py. `--source` picks the section and so the
host; the adapter reads only from a tab of that host and never moves between them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from a21import.errors import BadInput, ParseError, WrongIdentity
from a21import.i18n import _
from a21import.insurers.base import Adapter, SectionReader, Tab, normal_host
from a21import.insurers.warta_majatek import (  # noqa: F401 (the public names of the Majątek section)
    MajatekReader,
    majatek_error,
    parse_app_config,
    parse_app_config_html,
    parse_majatek_holder,
    parse_majatek_installments,
    parse_majatek_list,
    parse_majatek_policy,
    parse_majatek_vehicle,
)
from a21import.insurers.warta_zycie import (  # noqa: F401 (the public names of the Życie section)
    INSURED_FIELDS,
    NO_RIGHTS_MESSAGE,
    ZycieReader,
    parse_zycie_context,
    parse_zycie_holder,
    parse_zycie_installments,
    parse_zycie_insured,
    parse_zycie_list,
    parse_zycie_number,
    parse_zycie_policy,
    zycie_error,
)
from a21import.insurers.warta_sections import APP_ID, MAJATEK, ZYCIE
from a21import.model import AppContext, ListedPolicy, Policy, agent_id

READERS: dict[str, type[SectionReader]] = {reader.section.code: reader for reader in (MajatekReader, ZycieReader)}
SECTIONS = {code: reader.section for code, reader in READERS.items()}
HOSTS = {section.host: code for code, section in SECTIONS.items()}
IDENTITY = {code: section.identity for code, section in SECTIONS.items()}


def check_warta_number(number: str, section: str) -> str:
    """A number typed for `section` → the number; another section's format → WrongIdentity."""
    value = (number or "").strip()
    this = SECTIONS[section]
    if this.number_format.match(value):
        return value
    other = next(s for code, s in SECTIONS.items() if code != section)
    if other.number_format.match(value):
        raise WrongIdentity(
            _("The number {number} is a {other_app} ({other_section}) policy number, not a {app} ({section}) one. "
              "Run the command again with --source {source} and a logged-in {other_app} tab ({host}).").format(
                number=value, other_app=other.app_name, other_section=other.name, app=this.app_name,
                section=this.name, source=other.code, host=other.host),
            expected=other.identity,
            actual=this.identity,
        )
    raise BadInput(_(
        "The number {number!r} is not a Warta policy number: eAgent (Majątek) numbers are "
        "{majatek}, ePlatforma (Życie) numbers are {zycie}."
    ).format(number=number, majatek=_(MAJATEK.number_description), zycie=_(ZYCIE.number_description)))


# tests/test_capture.py reaches the strict readers by these older names.
class WartaAdapter(Adapter):
    """Picks the section's reader (by `--source`, else the tab's host) and hands every request to it."""

    app_id = APP_ID
    title = "Warta eAgent / ePlatforma"
    hosts = tuple(HOSTS)
    # Labels marked for translation: whoever shows them passes them through _().
    sources = {code: section.source_label for code, section in SECTIONS.items()}
    identities = tuple(IDENTITY.values())

    def __init__(self, tab: Tab, source: str | None = None):
        super().__init__(tab, source)
        self._readers: dict[str, SectionReader] = {}

    @classmethod
    def source_of_host(cls, host: str) -> str | None:
        return HOSTS.get(normal_host(host))

    @classmethod
    def tab_label(cls, host: str) -> str:
        section = HOSTS.get(host)
        return f"{SECTIONS[section].app_name} ({host})" if section else super().tab_label(host)

    @classmethod
    def source_for_identity(cls, identity: str | None) -> str | None:
        return next((source for source, code in IDENTITY.items() if code == identity), None)

    def switch_instruction(self, expected: str, actual: str | None) -> str:
        # A section is a host of its own: the user switches tabs and --source, never inside the app.
        wanted = SECTIONS.get(self.source_for_identity(expected) or "")
        if wanted is None:
            return _("Warta has no section {section}; the sections are {sections}.").format(
                section=expected, sections=", ".join(self.identities))
        if actual:
            return _("The Warta tab shows {actual}, but {needed} is needed. Use --source {source} with a logged-in "
                     "{app} tab ({host}).").format(actual=actual, needed=wanted.identity_label, source=wanted.code,
                                                   app=wanted.app_name, host=wanted.host)
        return _("The Warta tab shows another section, but {needed} is needed. Use --source {source} with a logged-in "
                 "{app} tab ({host}).").format(needed=wanted.identity_label, source=wanted.code,
                                               app=wanted.app_name, host=wanted.host)

    @property
    def section(self) -> str:
        """The section the command reads: `--source`, else the one of the tab's host."""
        section = self.source or HOSTS.get(self.tab.host)
        if section not in SECTIONS:
            raise BadInput(
                _("The Warta source {source!r} is not known. Use --source majatek or --source zycie.").format(
                    source=self.source))
        return section

    def _reader(self) -> SectionReader:
        """The section's reader, once the tab is found to be on its host."""
        code = self.section
        section = SECTIONS[code]
        if self.tab.host != section.host:
            raise WrongIdentity(
                _("The section {section} is read from a {app} tab ({host}), but the tab found is on {found}. "
                  "Open and log in to {app} in a tab, or choose the other --source, and run the command again.").format(
                    section=section.identity_label, app=section.app_name, host=section.host, found=self.tab.host),
                expected=section.identity,
                actual=IDENTITY.get(HOSTS.get(self.tab.host, ""), None),
            )
        if code not in self._readers:
            self._readers[code] = READERS[code](self)
        return self._readers[code]

    async def context(self) -> AppContext:
        reader = self._reader()
        user, description = await reader.context()
        return AppContext(app_id=APP_ID, user=user, description=description, identity=reader.section.identity,
                          identity_label=reader.section.identity_label, agent=agent_id(APP_ID, reader.agent))

    def check_number(self, number: str) -> str:
        return check_warta_number(number, self.section)

    async def list_policies(self, date_from: date, date_to: date) -> AsyncIterator[ListedPolicy]:
        async for item in self._reader().list_policies(date_from, date_to):
            yield item

    async def lookup(self, number: str) -> list[ListedPolicy]:
        reader = self._reader()
        return await reader.lookup(check_warta_number(number, reader.section.code))

    async def read_policy(self, item: ListedPolicy) -> Policy:
        reader = self._reader()
        # A look-up already holds the detail; a list row holds only the number.
        detail = item.ref.get("detail") if isinstance(item.ref, dict) else None
        number = self.listed_number(item.number, reader.section.number_format)
        policy = await reader.read_policy(number, detail)
        if policy.number != number:
            raise ParseError(_("{app} answered the request for policy {number} with policy {found}.").format(
                app=reader.section.app_name, number=number, found=policy.number))
        return policy

