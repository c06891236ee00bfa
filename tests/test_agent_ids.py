"""Who is logged in, as an agent id `APP:ID` (issue 16, point 2): every adapter's context() reads it from
the app's own tab (docs/portals/<app>.md), and hostile text in the header never reaches AppContext.agent."""

from __future__ import annotations

import asyncio

import pytest

from a21import.errors import EnvironmentProblem
from a21import.insurers.generali import GeneraliAdapter
from a21import.insurers.hestia import HestiaAdapter
from a21import.insurers.hiperio import HiperioAdapter
from a21import.insurers.insly import InslyAdapter
from a21import.insurers.proama import ProamaAdapter
from a21import.insurers.skaner2 import Skaner2Adapter
from a21import.insurers.tuz import TuzAdapter
from a21import.insurers.unimarket import UnimarketAdapter
from a21import.insurers.warta import WartaAdapter
from a21import.model import MAX_AGENT, AppContext, agent_id
from tests.fixtures.generali_portal import GeneraliPortal
from tests.fixtures.hestia_portal import HestiaPortal
from tests.fixtures.hiperio_portal import HiperioPortal
from tests.fixtures.inprocess import PortalTab, login
from tests.fixtures.insly_portal import InslyPortal
from tests.fixtures.proama_portal import ProamaPortal
from tests.fixtures.skaner2_portal import ARRANT, Skaner2Portal
from tests.fixtures.tuz_portal import TuzPortal
from tests.fixtures.unimarket_portal import UnimarketPortal
from tests.fixtures.warta_portal import WartaPortal
from tests.test_proama_parse import ProAgentTab


def context_of(adapter) -> AppContext:
    return asyncio.run(adapter.context())


class ShownTab(PortalTab):
    """The tab after the app put `shown` where the fixture writes `original` (the header's agent or user)."""

    def __init__(self, portal, original: str, shown: str, **options):
        self.original, self.shown = original, shown
        super().__init__(portal, **options)

    async def html(self) -> str:
        page = await super().html()
        assert page.count(self.original) >= 1, self.original
        return page.replace(self.original, self.shown)


# -- every app, from its in-process tab --------------------------------------------------------------
TABS = {
    "hestia": lambda: HestiaAdapter(PortalTab(HestiaPortal(count=1))),
    "generali": lambda: GeneraliAdapter(PortalTab(GeneraliPortal(count=1))),
    "proama": lambda: ProamaAdapter(ProAgentTab(ProamaPortal(count=1))),
    "tuz": lambda: TuzAdapter(PortalTab(TuzPortal(count=1))),
    "insly": lambda: InslyAdapter(PortalTab(InslyPortal(count=1))),
    "unimarket": lambda: UnimarketAdapter(PortalTab(UnimarketPortal(count=1))),
    "hiperio": lambda: HiperioAdapter(PortalTab(HiperioPortal(count=1))),
    "skaner2": lambda: Skaner2Adapter(PortalTab(Skaner2Portal(count=1), host=ARRANT)),
    "warta-majatek": lambda: WartaAdapter(login(WartaPortal(count=1), host="eagent.warta.pl", page="/view360/"),
                                          "majatek"),
    "warta-zycie": lambda: WartaAdapter(login(WartaPortal(count=1), host="eplatforma.warta.pl", page="/start"),
                                        "zycie"),
}
EXPECTED = {
    "hestia": "hestia:0412345",  # #nrAgenta
    "generali": "generali:1200345",  # #mrk-agent
    "proama": "proama:PA-004512",  # sessionStorage proagent.auth → agent.numer
    "tuz": "tuz:Jan Kowalski",  # #user-panel .user-name (SOBOL shows no number)
    "insly": "insly:Anna Nowak",  # #topbar .user-name
    "unimarket": "unimarket:a.nowak",  # #um-app[data-user], the login
    "hiperio": "hiperio:Anna Nowak",  # #zalogowany
    "skaner2": "skaner2:Łukasz Wójcik",  # nav#skaner-nav .agent of the ARRANT host
    "warta-majatek": "warta:A00005152001",  # window.__APP_CONFIG__.agentOuid (here: the page's script text)
    "warta-zycie": "warta:Anna Nowak",  # #uzytkownik (ePlatforma shows no number)
}


@pytest.mark.parametrize("app", list(TABS))
def test_context_names_the_logged_in_agent(app):
    context = context_of(TABS[app]())
    assert context.agent == EXPECTED[app]
    assert context.agent.split(":", 1)[0] == context.app_id


def test_context_reads_no_more_than_the_tab():
    # The agent comes from what context() already reads: no request leaves the tab.
    for app, make in TABS.items():
        adapter = make()
        adapter.tab.requests.clear()
        context_of(adapter)
        assert adapter.tab.requests == [], app


def test_agent_follows_what_the_tab_shows():
    assert context_of(GeneraliAdapter(PortalTab(GeneraliPortal(count=1, agent="7700123")))).agent == "generali:7700123"
    tab = ProAgentTab(ProamaPortal(count=1, agent_number="PA-999001", agent_name="Jan Nowak"))
    assert context_of(ProamaAdapter(tab)).agent == "proama:PA-999001"
    portal = WartaPortal(count=1, agent_ouid="A00000000042", agent_name="Zofia Król")
    majatek = WartaAdapter(login(portal, host="eagent.warta.pl", page="/view360/"), "majatek")
    assert context_of(majatek).agent == "warta:A00000000042"
    zycie = WartaAdapter(login(portal, host="eplatforma.warta.pl", page="/start"), "zycie")
    assert context_of(zycie).agent == "warta:Zofia Król"
    hestia = HestiaAdapter(ShownTab(HestiaPortal(count=1), "0412345", "\n  0998877\t"))
    assert context_of(hestia).agent == "hestia:0998877"


def test_a_tab_without_the_number_has_no_agent():
    generali = GeneraliAdapter(ShownTab(GeneraliPortal(count=1), '<span id="mrk-agent">1200345</span>', ""))
    context = context_of(generali)
    assert (context.user, context.agent) == ("Anna Nowak", None)  # never the name in place of the number
    hestia = HestiaAdapter(ShownTab(HestiaPortal(count=1), '<span id="nrAgenta">0412345</span>',
                                    '<span id="nrAgenta">  </span>'))
    assert context_of(hestia).agent is None


# -- hostile text in the header --------------------------------------------------------------------
HOSTILE = [
    "04\x1b[2J12345",  # a terminal escape sequence
    "0412345\x9b31m",  # a C1 control (8-bit CSI)
    "\u202e5432140",  # a bidirectional override
    "04\u200b12345",  # an invisible zero-width space
    "0412345\x07",  # BEL
    "1" * (MAX_AGENT + 1),  # longer than any agent's number
]


@pytest.mark.parametrize("shown", HOSTILE)
def test_hostile_header_text_never_reaches_the_agent(shown):
    contexts = [
        context_of(HestiaAdapter(ShownTab(HestiaPortal(count=1), "0412345", shown))),
        context_of(GeneraliAdapter(PortalTab(GeneraliPortal(count=1, agent=shown)))),
        context_of(ProamaAdapter(ProAgentTab(ProamaPortal(count=1, agent_number=shown)))),
        context_of(TuzAdapter(PortalTab(TuzPortal(count=1, user_name=shown)))),
        context_of(InslyAdapter(PortalTab(InslyPortal(count=1, user_name=shown)))),
        context_of(UnimarketAdapter(ShownTab(UnimarketPortal(count=1), 'data-user="a.nowak"',
                                             f'data-user="{shown}"'))),
        context_of(HiperioAdapter(ShownTab(HiperioPortal(count=1), ">Anna Nowak<", f">{shown}<"))),
        context_of(Skaner2Adapter(ShownTab(Skaner2Portal(count=1), ">Anna Nowak<", f">{shown}<"))),
        context_of(WartaAdapter(login(WartaPortal(count=1, agent_name=shown), host="eplatforma.warta.pl",
                                      page="/start"), "zycie")),
    ]
    assert [(c.app_id, c.agent) for c in contexts] == [(c.app_id, None) for c in contexts]


def test_a_hostile_warta_agent_ouid_is_refused_before_any_agent_id():
    tab = login(WartaPortal(count=1, agent_ouid="A0000515200\x1b"), host="eagent.warta.pl", page="/view360/")
    with pytest.raises(EnvironmentProblem):
        context_of(WartaAdapter(tab, "majatek"))


def test_app_context_keeps_only_an_agent_id_of_its_own_app():
    def agent(value):
        return AppContext(app_id="hestia", user=None, description="d", agent=value).agent

    assert agent("hestia:0412345") == "hestia:0412345"
    assert agent("hestia:a:b") == "hestia:a:b"
    for refused in ("generali:1200345", "0412345", "hestia:", "hestia: 0412345", "HESTIA:0412345",
                    "hestia:04\x1b[31m12345", "hestia:04\x0012345", "hestia:\u202e0412345",
                    "hestia:" + "1" * (MAX_AGENT + 1), 412345, b"hestia:1"):
        assert agent(refused) is None, refused


@pytest.mark.parametrize(("app", "raw", "expected"), [
    ("hestia", " 0412345 ", "hestia:0412345"),
    ("Warta", "A00005152001", "warta:A00005152001"),
    ("tuz", "Jan\u00a0\n  Kowalski", "tuz:Jan Kowalski"),
    ("skaner2", "Zofia Dąbrowska-Król", "skaner2:Zofia Dąbrowska-Król"),
    ("insly", "x" * MAX_AGENT, "insly:" + "x" * MAX_AGENT),
    ("insly", "x" * (MAX_AGENT + 1), None),
    ("hestia", "", None),
    ("hestia", " \t\n", None),
    ("hestia", None, None),
    ("hestia", 412345, None),
    ("hestia", "04\x1f12345", None),
    ("hestia", "04\x7f12345", None),
    ("hestia", "04\u206612345", None),
    ("", "0412345", None),
])
def test_agent_id(app, raw, expected):
    assert agent_id(app, raw) == expected
