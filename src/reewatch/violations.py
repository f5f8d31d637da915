"""A rule a row broke: what every check (contracts, identities) reports. Kept apart from the contracts so that code
which only reports violations does not import Pandera (a run with nothing new never does)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    source_row: str
    rule: str
    message: str
