"""Great Expectations 1.24 on DuckDB, inside the caller's own DuckDB connection (STACK.md §4).

Two gaps, two small fixes:

1. GX has no DuckDB dialect. Its SQL execution engine hands each metric query a pooled connection, returns the
   connection to the pool, and only then reads the rows. A duckdb-engine cursor *is* its connection, so the pool's
   reset discards the rows and every SQL metric fails with `list index out of range`. GX already keeps one connection
   open for the dialects that need that (sqlite, mssql, bigquery, databricks: `_PERSISTED_CONNECTION_DIALECTS`,
   which also makes it build the engine with a StaticPool); `enable_duckdb()` adds duckdb to that list.

2. DuckDB lets a process hold one database instance per file: a second `duckdb.connect(path)` with another
   configuration fails, and another process cannot open a file that is being written. So GX never opens the
   warehouse file: its SQLAlchemy engines are built with `creator=DuckDBCursors(con)`, which hands out cursors of
   the caller's connection. Cursors share that database instance (no copy, no second open) and read its committed
   state. After validation `close_gx(context, cursors)` disposes every engine GX made and closes every cursor, so
   nothing of GX keeps the database alive once the caller closes its connection.

Import this module only where validation happens: it imports GX (seconds; STACK.md §6).
"""

from __future__ import annotations

import contextlib
from typing import Any

import duckdb
import great_expectations.execution_engine.sqlalchemy_execution_engine as gx_sql_engine
from duckdb_engine import ConnectionWrapper


class _DuckDBDialect:
    """Stands in for a `GXSqlDialect` member: GX checks `connection_string.startswith(member.value)` when it builds
    an engine, and `dialect_name in _PERSISTED_CONNECTION_DIALECTS` (string equality) when it hands out connections."""

    value = "duckdb"

    def __eq__(self, other: object) -> bool:
        return str(getattr(other, "value", other)).lower() == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def enable_duckdb() -> None:
    """Make GX keep one persisted connection for duckdb engines (idempotent)."""
    dialects = gx_sql_engine._PERSISTED_CONNECTION_DIALECTS
    if not any(isinstance(d, _DuckDBDialect) for d in dialects):
        gx_sql_engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect())  # type: ignore[assignment]


class DuckDBCursors:
    """A SQLAlchemy `creator`: each call returns a new cursor of `con` (wrapped as duckdb-engine wraps its own
    connections), with `search_path` set so GX's unqualified table names resolve in the given schema."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        self._con = con
        self._schema = schema
        self._opened: list[duckdb.DuckDBPyConnection] = []

    def __call__(self) -> ConnectionWrapper:
        cursor = self._con.cursor()
        cursor.execute(f"SET search_path = '{self._schema.replace(chr(39), chr(39) * 2)}'")
        self._opened.append(cursor)
        return ConnectionWrapper(cursor)

    def close(self) -> None:
        for cursor in self._opened:
            with contextlib.suppress(duckdb.Error):
                cursor.close()
        self._opened.clear()


def close_gx(context: Any, cursors: DuckDBCursors) -> None:
    """Dispose every SQLAlchemy engine GX built for the context's datasources, then close every cursor handed out."""
    for datasource in context.data_sources.all().values():
        execution_engine = getattr(datasource, "_execution_engine", None)
        if execution_engine is not None:
            connection = getattr(execution_engine, "_connection", None)
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
                execution_engine._connection = None
            with contextlib.suppress(Exception):
                execution_engine.engine.dispose()
        engine = getattr(datasource, "_engine", None)
        if engine is not None:
            with contextlib.suppress(Exception):
                engine.dispose()
    cursors.close()
