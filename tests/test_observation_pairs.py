"""Observation pairs: a detailed export staged and kept as one row per line, read back as long observations."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from conftest import FIXTURES, ROOT, loaded_lake
from reewatch.observation_pairs import LONG_COLUMNS, long_frame, long_sql, pair_columns
from reewatch.sources import parse_release_file
from reewatch.sources.base import BATCH_SCHEMA

MIXED = FIXTURES / "detailed" / "zh_mixed_hs_2025-06_cny.csv"  # 8 lines; 火星 and 'n/a' are quarantined


def test_the_long_columns_are_the_contracts() -> None:
    assert list(LONG_COLUMNS) == list(BATCH_SCHEMA)


def test_a_detailed_export_is_staged_as_one_row_per_line_and_reads_back_as_two_observations(tmp_path: Path) -> None:
    parsed = parse_release_file(MIXED, MIXED.name)
    target = tmp_path / "observations.parquet"
    try:
        parsed.write_observations(target)
    finally:
        parsed.close()
    pairs = pl.read_parquet(target)
    assert pairs.columns == pair_columns()
    assert pairs.height == parsed.rows_in == 8
    assert sorted(pairs["source_row"], key=int) == [str(line) for line in range(2, 10)]  # in any order

    long = long_frame(target).collect()
    assert long.columns == list(LONG_COLUMNS) and long.height == 16
    # Every line is one quantity (tonnes) and one value, with what was printed.
    us = long.filter(pl.col("source_row") == "2").sort("measure")
    assert us.select("measure", "value", "published_value", "published_unit").rows() == [
        ("quantity_t", 412.3, "412300", "千克"),
        ("value_cny", 141022000.0, "141022000", "元"),
    ]
    assert set(us["partner"]) == {"US"} and set(us["hs_code"]) == {"8505111000"}
    unparsed = long.filter(pl.col("source_row") == "9")  # 'n/a' kg: no number, the value still is one
    assert unparsed.filter(pl.col("measure") == "quantity_t")["value"].to_list() == [None]

    # DuckDB reads the same long rows (the warehouse inserts from this).
    con = duckdb.connect()
    try:
        in_sql = con.execute(f"SELECT * FROM {long_sql(target)}").pl()  # noqa: S608
        # A condition on the lines keeps both rows of the lines it holds for, and nothing else.
        lines = long_sql(target, "source_row IN ('2', '9')")
        some = con.execute(f"SELECT source_row, measure FROM {lines}")  # noqa: S608
        assert sorted(some.fetchall()) == [("2", "quantity_t"), ("2", "value_cny"), ("9", "quantity_t"),
                                           ("9", "value_cny")]  # fmt: skip
    finally:
        con.close()
    assert in_sql.columns == long.columns
    assert sorted(in_sql.rows(), key=str) == sorted(long.rows(), key=str)


def test_a_long_file_passes_through_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "observations.parquet"
    rows = pl.DataFrame(
        [{**dict.fromkeys(BATCH_SCHEMA), "source_row": "3", "series_id": "s", "measure": "quantity_t", "value": 1.5}],
        schema=BATCH_SCHEMA,
    )
    rows.write_parquet(target)
    assert long_frame(target).collect().equals(rows)
    con = duckdb.connect()
    try:
        assert con.execute(f"SELECT source_row, measure, value FROM {long_sql(target)}").fetchall() == [  # noqa: S608
            ("3", "quantity_t", 1.5)
        ]
        others = long_sql(target, "source_row <> '3'")
        assert con.execute(f"SELECT count(*) FROM {others}").fetchone() == (0,)  # noqa: S608
    finally:
        con.close()


def test_the_kept_detail_is_the_pairs_without_quarantined_lines_and_the_readme_query_runs(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with loaded_lake(lake, MIXED) as con:
        loaded = con.execute("SELECT count(*) FROM observations").fetchone()[0]  # type: ignore[index]
        quarantined = {row for (row,) in con.execute("SELECT DISTINCT source_row FROM quarantined_rows").fetchall()}
    assert quarantined == {"8", "9"}  # 火星 is no country; 'n/a' is no number
    assert loaded == 2 * 2  # the warehouse keeps the named series' two lines, as long rows

    (kept,) = (lake / "_state" / "observations").glob("*.parquet")
    detail = pl.read_parquet(kept)
    assert detail.columns == pair_columns()
    assert sorted(detail["source_row"]) == ["2", "3", "4", "5", "6", "7"]

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (query,) = [block for block in re.findall(r"```sql\n(.*?)```", readme, re.DOTALL) if "_state/observations" in block]
    query = query.strip().rstrip(";").replace("<lake>", str(lake))
    result = duckdb.sql(query)
    assert result.columns == ["period", "hs_code", "partner", "tonnes", "usd"]
    assert result.fetchall() == []  # the fixture is in yuan: no line has a dollar value
    by_cny = duckdb.sql(query.replace("'value_usd'", "'value_cny'") + " ORDER BY tonnes DESC LIMIT 1").fetchall()
    assert by_cny[0][1:] == ("8541430000", "NL", 1200.0, 98000000.0)


def test_an_export_of_the_named_series_alone_keeps_its_lines_too_and_other_layouts_keep_none(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    magnets = ROOT / "samples" / "detailed" / "2025_magnets_8505111000_usd.csv"  # 8505111000 only, by trade mode
    headline = ROOT / "samples" / "headline" / "2025-06_major_exports_usd.csv"
    with loaded_lake(lake, magnets, headline) as con:
        releases = dict(con.execute("SELECT file_name, release_id FROM releases").fetchall())
        lines = con.execute("SELECT rows_in FROM releases WHERE file_name = ?", [magnets.name]).fetchone()[0]  # type: ignore[index]
    kept = sorted((lake / "_state" / "observations").glob("*.parquet"))
    assert [path.stem for path in kept] == [releases[magnets.name]]
    detail = pl.read_parquet(kept[0])
    assert detail.height == lines > 0 and set(detail["series_id"]) == {"gacc_magnets_850511"}
    assert detail["trade_mode"].null_count() == 0  # the line's detail the warehouse sums away


def test_a_run_rewrites_the_long_kept_detail_of_an_older_reewatch_as_pairs_once(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    with loaded_lake(lake, MIXED) as con:
        con.execute("DELETE FROM schema_migrations WHERE name = 'kept_detail_as_pairs'")  # as an older reewatch left it
    (kept,) = (lake / "_state" / "observations").glob("*.parquet")
    pairs = pl.read_parquet(kept)
    long_frame(kept).collect().write_parquet(kept)  # the long rows an older reewatch kept

    upgraded = cli("run", "--lake", str(lake))
    assert upgraded.code == 0, upgraded.output
    assert "as observation pairs" in upgraded.output
    rewritten = pl.read_parquet(kept)
    assert rewritten.columns == pair_columns()
    assert sorted(rewritten.rows(), key=str) == sorted(pairs.rows(), key=str)

    # Recorded once: the next run looks at no file (a long file left now would stay as it is).
    long_frame(kept).collect().write_parquet(kept)
    again = cli("run", "--lake", str(lake))
    assert again.code == 0, again.output
    assert pl.read_parquet(kept).columns == list(LONG_COLUMNS)
