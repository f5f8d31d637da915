"""Curated tables: each `models/<table>.sql` is a SELECT over the warehouse, rebuilt into the `curated` schema.

A model's header comment is its documentation: the first line names and describes the table, `-- column x:`
lines describe its columns. The same words become the catalog's COMMENTs and the data dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from reewatch.warehouse import transaction

# Build order; later models may read earlier ones.
CURATED_TABLES = (
    "exports_monthly", "revisions", "licence_surveys", "survey_metrics", "world_production", "claim_checks",
    "releases", "quarantined_rows", "quality_results",
)  # fmt: skip

_COLUMN = re.compile(r"^--\s*column\s+(\w+)\s*:\s*(.+)$")
_TITLE = re.compile(r"^--\s*(\w+)\s*:\s*(.+)$")


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    columns: dict[str, str]
    sql: str


def load_model(name: str) -> Model:
    text = (resources.files("reewatch") / "models" / f"{name}.sql").read_text(encoding="utf-8")
    description = ""
    columns: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if m := _COLUMN.match(line):
            columns[m[1]] = m[2].strip()
        elif (m := _TITLE.match(line)) and m[1] == name:
            description = m[2].strip()
    return Model(name, description, columns, text)


def models() -> list[Model]:
    return [load_model(name) for name in CURATED_TABLES]


def build_curated(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild every curated table in one transaction; return row counts."""
    counts: dict[str, int] = {}
    with transaction(con):
        con.execute("CREATE SCHEMA IF NOT EXISTS curated")
        for model in models():
            con.execute(f"CREATE OR REPLACE TABLE curated.{model.name} AS {model.sql}")
            row = con.execute(f"SELECT count(*) FROM curated.{model.name}").fetchone()  # noqa: S608 - model names
            counts[model.name] = int(row[0]) if row else 0
    return counts
