"""How urgent a notice is, lowest first: what each person's channels are chosen by."""

from __future__ import annotations

import enum

from models.messages import N_


class Severity(enum.StrEnum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Its place from the lowest (info, 0) to the highest (critical, 3)."""
        return list(Severity).index(self)


# What each is called wherever a person chooses or reads one (a checklist item, a corrective
# action, the lowest a notice group hears of): one word for each, everywhere.
SEVERITY_LABELS = {
    Severity.INFO: N_("Information"),
    Severity.MINOR: N_("Minor"),
    Severity.MAJOR: N_("Major"),
    Severity.CRITICAL: N_("Critical"),
}
