"""How urgent a notice is, lowest first: what each person's channels are chosen by."""

from __future__ import annotations

import enum


class Severity(enum.StrEnum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Its place from the lowest (info, 0) to the highest (critical, 3)."""
        return list(Severity).index(self)
