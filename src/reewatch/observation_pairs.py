"""Observation pairs: how a detailed export's rows are staged and kept, one row per line of the file.

Every line of a GACC detailed export is two observations, its quantity and its value, which share everything
else (period, HS code, partner, trade mode). Writing them as two long rows doubles what a ten-million-line file
costs to type, write, check and keep (10M lines: 5.8 s to write long rows, 3.5 s as pairs). So the detailed
parser writes one row per line, with each observation's four own columns side by side:

    <shared columns> | quantity_measure, quantity, quantity_published, quantity_unit
                     | value_measure, value, value_published, value_unit

`long_frame` and `long_sql` turn such a file back into the long observation rows every other layout writes (the
contract checks those, the warehouse stores those); a file that is already long passes through unchanged.
The stage's file is kept as it is (`_state/observations/<release_id>.parquet`), so analysts get the pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# The long observation columns, in the contract's order (sources.base.BATCH_SCHEMA).
LONG_COLUMNS = (
    "source_row", "series_id", "commodity", "hs_code", "period", "basis", "partner", "partner_name", "trade_mode",
    "measure", "value", "published_value", "published_unit",
)  # fmt: skip
# Each observation of a pair: its long columns, taken from the pair's columns `<name>` + these suffixes.
OWN_COLUMNS = {"measure": "_measure", "value": "", "published_value": "_published", "published_unit": "_unit"}
SHARED_COLUMNS = tuple(column for column in LONG_COLUMNS if column not in OWN_COLUMNS)
PAIR = ("quantity", "value")  # the two observations of a line, in this order
# The long measures each observation of a pair can have.
PAIR_MEASURES = {"quantity": ("quantity_t", "quantity"), "value": ("value_cny", "value_usd")}


def pair_columns() -> list[str]:
    """The columns of a pairs file, in order."""
    return [*SHARED_COLUMNS, *(f"{name}{suffix}" for name in PAIR for suffix in OWN_COLUMNS.values())]


def is_paired(path: Path) -> bool:
    """Whether a Parquet file of observations holds pairs (read from its footer: no row is read)."""
    import polars as pl

    return "quantity_measure" in pl.read_parquet_schema(path)


def long_frame(path: Path) -> pl.LazyFrame:
    """A stage's observations file as long rows, lazily: first every line's quantity, then every line's value."""
    import polars as pl

    rows = pl.scan_parquet(path)
    if not is_paired(path):
        return rows.select(LONG_COLUMNS)
    halves = [
        rows.select(*SHARED_COLUMNS, *(pl.col(f"{name}{suffix}").alias(long) for long, suffix in OWN_COLUMNS.items()))
        for name in PAIR
    ]
    return pl.concat(halves).select(LONG_COLUMNS)


def long_sql(path: Path, where: str = "true") -> str:
    """The same as a DuckDB relation (a parenthesised SELECT) of the lines for which `where`, an SQL condition on
    the shared columns, holds. The lines are filtered once, before they become long rows: a commit keeps only the
    named series' few lines of ten million (10M-line file: 0.27 s to filter the long rows, 0.13 s the lines)."""
    from reewatch.warehouse import sql_literal

    source = f"read_parquet({sql_literal(str(path))})"
    if not is_paired(path):
        return f"(SELECT {', '.join(LONG_COLUMNS)} FROM {source} WHERE {where})"  # noqa: S608 - our own names
    halves = []
    for name in PAIR:
        own = ", ".join(f'"{name}{suffix}" AS {long}' for long, suffix in OWN_COLUMNS.items())
        halves.append(f"SELECT {', '.join(SHARED_COLUMNS)}, {own} FROM lines")  # noqa: S608 - our own names
    # MATERIALIZED: else DuckDB inlines the CTE into both halves and scans the file twice.
    return f"(WITH lines AS MATERIALIZED (FROM {source} WHERE {where}) {' UNION ALL '.join(halves)})"  # noqa: S608


def pairs_from_long_sql(path: Path) -> str:
    """A long file of a detailed export (as reewatch kept them before pairs) as pairs: a SELECT for DuckDB."""
    from reewatch.warehouse import sql_literal

    own = []
    for name in PAIR:
        measures = ", ".join(sql_literal(measure) for measure in PAIR_MEASURES[name])
        for long, suffix in OWN_COLUMNS.items():
            own.append(f'any_value({long}) FILTER (WHERE measure IN ({measures})) AS "{name}{suffix}"')
    source = f"read_parquet({sql_literal(str(path))})"
    # One group per line: its shared columns are the same in both of its rows.
    return f"SELECT {', '.join(SHARED_COLUMNS)}, {', '.join(own)} FROM {source} GROUP BY ALL"  # noqa: S608
