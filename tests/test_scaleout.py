"""Scale-out: releases staged on a local Dask cluster (prefect-dask) end in the same warehouse and catalog as a run
that stages them one by one in its own process."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from conftest import FIXTURES, ROOT, query_catalog

SAMPLES = ROOT / "samples"
# Curated tables whose every column is a function of the data (releases and quality_results carry run times).
DATA_TABLES = ("exports_monthly", "revisions", "licence_surveys", "survey_metrics", "world_production",
               "claim_checks", "quarantined_rows")  # fmt: skip


def _land_backfill(lake: Path) -> None:
    """Every sample, a detailed export, a file twice under two names, a partly bad file and an unreadable one."""
    landing = lake / "landing"
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix in {".csv", ".xlsx", ".xls", ".json"}:
            target = landing / path.relative_to(SAMPLES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    extra = landing / "extra"
    extra.mkdir()
    for detailed in ("en_magnets_2025-07_usd_gb18030.csv", "zh_mixed_hs_2025-06_cny.csv"):
        shutil.copyfile(FIXTURES / "detailed" / detailed, extra / detailed)
    shutil.copyfile(SAMPLES / "headline" / "2025-08_major_exports_usd.csv", extra / "copy_of_2025-08.csv")
    shutil.copyfile(FIXTURES / "headline" / "malformed_2025-09.csv", extra / "malformed_2025-09.csv")
    shutil.copyfile(FIXTURES / "headline" / "no_title.csv", extra / "no_title.csv")


def _warehouse_facts(lake: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything a run loaded, without run ids and clock times."""
    con = duckdb.connect(str(lake / "_state" / "warehouse.duckdb"), read_only=True)
    try:
        detail = sorted((lake / "_state" / "observations").glob("*.parquet"))
        return {
            "releases": con.execute(
                "SELECT release_id, file_name, landing_key, layout, vintage, vintage_rank, published_on, size_bytes, "
                "rows_in, rows_loaded, rows_quarantined, status, message FROM releases ORDER BY ALL"
            ).fetchall(),
            "observations": con.execute("SELECT * FROM observations ORDER BY ALL").fetchall(),
            "quarantined_rows": con.execute("SELECT * FROM quarantined_rows ORDER BY ALL").fetchall(),
            "load_warnings": con.execute("SELECT release_id, rule, message FROM load_warnings ORDER BY ALL").fetchall(),
            "detail": con.execute(
                "SELECT * FROM read_parquet(?, filename = true) ORDER BY ALL", [[str(p) for p in detail]]
            ).fetchall()
            if detail
            else [],
        }
    finally:
        con.close()


def _catalog_facts(lake: Path) -> dict[str, list[tuple[object, ...]]]:
    catalog = str(lake / "catalog.duckdb")
    return {table: query_catalog(catalog, f"SELECT * FROM ree.{table} ORDER BY ALL") for table in DATA_TABLES}


def test_a_backfill_on_dask_gives_the_same_results_as_one_process(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    one, dask = tmp_path / "one-process", tmp_path / "dask"
    for lake in (one, dask):
        _land_backfill(lake)

    sequential = cli("run", "--lake", str(one))
    scaled = cli("run", "--lake", str(dask), "--workers", "2")
    assert sequential.code == 0, sequential.output
    assert scaled.code == 0, scaled.output
    assert "staging" in scaled.output and "on Dask" in scaled.output  # it really ran on the cluster

    # Detail files are named by release: compare their rows with the lake's own path taken out.
    one_facts, dask_facts = _warehouse_facts(one), _warehouse_facts(dask)
    for facts, lake in ((one_facts, one), (dask_facts, dask)):
        facts["detail"] = [tuple(str(v).replace(str(lake), "<lake>") for v in row) for row in facts["detail"]]
    assert one_facts["releases"], "the backfill loaded nothing"
    statuses = {status for *_, status, _ in one_facts["releases"]}
    assert {"loaded", "partly_quarantined", "duplicate", "failed"} <= statuses
    assert one_facts["detail"], "the detailed export kept no other HS codes"
    for table in one_facts:
        assert dask_facts[table] == one_facts[table], f"{table} differs between one process and Dask"
    assert _catalog_facts(dask) == _catalog_facts(one)
    # The workers' stages are cleaned up once committed.
    assert not list((dask / "_state" / "staging").rglob("*.parquet"))

    # A replay of everything on Dask reloads the same rows.
    replayed = cli("replay", "--all", "--lake", str(dask), "--workers", "2")
    assert replayed.code == 0, replayed.output
    again = _warehouse_facts(dask)
    again["detail"] = [tuple(str(v).replace(str(dask), "<lake>") for v in row) for row in again["detail"]]
    for table in ("observations", "quarantined_rows", "load_warnings", "detail"):
        assert again[table] == one_facts[table], f"{table} differs after a replay on Dask"
