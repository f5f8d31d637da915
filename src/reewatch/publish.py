"""Versioned, atomic publication: curated tables → `published/<version>/*.parquet`, then one swap of
`catalog.duckdb` (views over that version, every table and column with a COMMENT).

Readers only ever see a finished version: the Parquet files are complete before the catalog that points at
them replaces the old one (a rename on a local lake, a single PUT on S3).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reewatch.config import Settings
from reewatch.curate import Model, models
from reewatch.lake import Lake, LakeError
from reewatch.warehouse import connect, sql_literal

log = logging.getLogger(__name__)

PUBLISHED = "published/"
CATALOG_KEY = "catalog.duckdb"
PUBLICATIONS_COLUMNS = {
    "version": "Version name: published/<version>/ in the lake.",
    "run_id": "The run that published it.",
    "published_at": "When it was published (UTC).",
    "catalog": "That version's own catalog: ATTACH it to query the version as it was.",
}


@dataclass(frozen=True)
class Publication:
    version: str
    rows: dict[str, int]  # rows per table, as written (after the gate refreshed quality_results)
    catalog_uri: str


def publish(con: duckdb.DuckDBPyConnection, lake: Lake, settings: Settings, version: str, run_id: str) -> Publication:
    """Write every curated table of this version, then swap the catalog to it and prune old versions."""
    tables = models()
    prefix = f"{PUBLISHED}{version}/"
    if not lake.is_s3:
        Path(lake.uri(prefix.rstrip("/"))).mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for model in tables:
        target = lake.uri(f"{prefix}{model.name}.parquet")
        with _storage_errors(f"writing {target}"):
            written = con.execute(
                f"COPY curated.{model.name} TO {sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)"  # noqa: S608
            ).fetchone()
        rows[model.name] = int(written[0]) if written else 0  # COPY answers with the rows it wrote
    published_at = datetime.now(UTC).replace(tzinfo=None)
    earlier = con.execute(
        "SELECT version, run_id, published_at FROM publications WHERE version <> ? ORDER BY version", [version]
    ).fetchall()
    history = [*earlier, (version, run_id, published_at)][-settings.keep_versions :]  # what stays after pruning

    with tempfile.TemporaryDirectory(prefix="reewatch-catalog-") as tmp:
        catalog = Path(tmp) / "catalog.duckdb"
        with _storage_errors(f"building the catalog of version {version}"):  # its views read the Parquet files
            _build_catalog(catalog, lake, settings, prefix, tables, history)
        # The version's own catalog first (time travel), then the swap readers see.
        lake.write_file(f"{prefix}catalog.duckdb", catalog)
        lake.write_file(CATALOG_KEY, catalog)
    # Recorded only after the swap, and idempotently: a task retried after a storage error must not trip on it.
    con.execute(
        "INSERT OR REPLACE INTO publications VALUES (?, ?, ?, ?)",
        [version, run_id, published_at, [m.name for m in tables]],
    )
    log.info("published version %s (%d tables)", version, len(tables))
    _prune(con, lake, settings.keep_versions)
    return Publication(version, rows, lake.uri(CATALOG_KEY))


def _build_catalog(
    path: Path,
    lake: Lake,
    settings: Settings,
    prefix: str,
    tables: list[Model],
    history: list[tuple[str, str, datetime]],
) -> None:
    con = connect(path, s3=settings.s3() if lake.is_s3 else None)
    try:
        for model in tables:
            source = lake.uri(f"{prefix}{model.name}.parquet")
            con.execute(f"CREATE VIEW {model.name} AS SELECT * FROM read_parquet({sql_literal(source)})")  # noqa: S608
            con.execute(f"COMMENT ON VIEW {model.name} IS {sql_literal(model.description)}")
            for column, text in model.columns.items():
                con.execute(f"COMMENT ON COLUMN {model.name}.{column} IS {sql_literal(text)}")
        # A view over its rows, not a table: a table's rows are read at the first query, not at ATTACH, and over
        # S3 that read can land on the next publication's catalog once it is swapped in (torn bytes, or this
        # version's views beside another version's list). A catalog of views alone is read whole at ATTACH.
        kept = [(v, r, at, lake.uri(f"{PUBLISHED}{v}/catalog.duckdb")) for v, r, at in history]
        rows = ", ".join("(" + ", ".join(map(sql_literal, row)) + ")" for row in kept)
        con.execute(
            "CREATE VIEW publications AS SELECT version::VARCHAR AS version, run_id::VARCHAR AS run_id, "  # noqa: S608
            "published_at::TIMESTAMP AS published_at, catalog::VARCHAR AS catalog "
            f"FROM (VALUES {rows}) AS kept(version, run_id, published_at, catalog)"
        )
        con.execute(
            "COMMENT ON VIEW publications IS 'Every publication still kept in the lake, newest last; "
            "ATTACH a version''s catalog to query it as it was.'"
        )
        for column, text in PUBLICATIONS_COLUMNS.items():
            con.execute(f"COMMENT ON COLUMN publications.{column} IS {sql_literal(text)}")
    finally:
        con.close()


def _prune(con: duckdb.DuckDBPyConnection, lake: Lake, keep: int) -> None:
    """Drop versions beyond the newest `keep` (their catalog first, so no kept catalog points at them), and the
    unfinished versions of runs that stopped before their catalog swap (killed, or their storage failed)."""
    versions = [row[0] for row in con.execute("SELECT version FROM publications ORDER BY version").fetchall()]
    for version in versions[:-keep]:
        lake.delete_prefix(f"{PUBLISHED}{version}/")
        con.execute("DELETE FROM publications WHERE version = ?", [version])
        log.info("pruned published version %s (keeping %d)", version, keep)
    # Only the writer publishes, and it holds the lock: a folder no publication names is no one's work in progress.
    for version in sorted(_version_folders(lake) - set(versions[-keep:])):
        if lake.is_s3:
            lake.delete_prefix(f"{PUBLISHED}{version}/")
        else:  # the folder itself too, and any temp file a killed writer left in it
            shutil.rmtree(lake.uri(f"{PUBLISHED}{version}"), ignore_errors=True)
        log.info("removed unfinished version %s: its run stopped before the catalog swap", version)


def _version_folders(lake: Lake) -> set[str]:
    if lake.is_s3:
        return {obj.key[len(PUBLISHED) :].split("/", 1)[0] for obj in lake.list(PUBLISHED)}
    root = Path(lake.uri(PUBLISHED.rstrip("/")))
    return {path.name for path in root.iterdir() if path.is_dir()} if root.is_dir() else set()


@contextlib.contextmanager
def _storage_errors(doing: str) -> Iterator[None]:
    """DuckDB's own S3 and file errors (after httpfs's retries) as LakeError: the flow retries the publication,
    the command line says it in one line. DuckDB's messages name the URL, never the credentials."""
    try:
        yield
    except duckdb.IOException as exc:
        raise LakeError(f"{doing} failed: {exc}") from exc
