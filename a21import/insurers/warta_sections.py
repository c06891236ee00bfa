"""The two sections of Warta, as the Overview table of docs/portals/warta.md declares them: each a host,
an app and an insurer of its own behind the one app id. Their readers (warta_majatek.py, warta_zycie.py)
and the adapter (warta.py) read them from here.
"""

from __future__ import annotations

import re

from a21import.i18n import N_
from a21import.insurers.base import Section

APP_ID = "warta"
CURRENCY = "PLN"  # the only currency either section imports

# Section(--source, host, app, section name, identity, identity label, insurer, number format,
#         number description, description=, source_label=); a section's source_system is its identity.
MAJATEK = Section("majatek", "eagent.warta.pl", "Warta eAgent", "Majątek", "MAJATEK", "Majątek (eAgent)", "WARTA",
                  re.compile(r"^908\d{9}$"), N_("908 followed by 9 digits"),
                  description=N_("Majątek (TUiR Warta motor, property, travel and accident policies)"),
                  source_label=N_("Warta eAgent (eagent.warta.pl): Majątek, TUiR Warta motor, property, travel and "
                                  "accident policies"))

ZYCIE = Section("zycie", "eplatforma.warta.pl", "Warta ePlatforma", "Życie", "ZYCIE", "Życie (ePlatforma)",
                "WARTA_ZYCIE", re.compile(r"^80\d{8}$"), N_("80 followed by 8 digits"),
                description=N_("Życie (TUnŻ Warta life policies)"),
                source_label=N_("Warta ePlatforma (eplatforma.warta.pl): Życie, TUnŻ Warta life policies"))
