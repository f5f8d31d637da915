"""Pandera contracts for every tidy table a parser produces (polars backend, lazy validation).

`observations` (customs figures) lives in observations.py; each other source family registers its tables'
contracts in its own module. `check_table` is what the loader calls.
"""

from __future__ import annotations

import polars as pl

from reewatch.contracts.base import TableContract, Violation, validate
from reewatch.contracts.observations import OBSERVATIONS, check_observations, check_observations_file

CONTRACTS: dict[str, TableContract] = {OBSERVATIONS.table: OBSERVATIONS}


def register(contract: TableContract) -> None:
    CONTRACTS[contract.table] = contract


def check_table(table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Violation]]:
    """Validate rows bound for a warehouse table; unknown tables are a programming error."""
    return validate(CONTRACTS[table], frame)


# Source families register their contracts on import (kept last: they import `register` from here).
from reewatch.contracts import reference, surveys  # noqa: E402, F401

__all__ = [
    "CONTRACTS", "TableContract", "Violation", "check_observations", "check_observations_file", "check_table",
    "register", "validate",
]  # fmt: skip
