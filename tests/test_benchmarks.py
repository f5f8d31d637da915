"""The benchmark harness: its generated input is a realistic detailed export, and its measurements are honest.

The figures themselves are made by `make bench` (benchmarks/RESULTS.md); these tests keep the inputs and the
measuring right so that those figures mean what they say.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import run  # noqa: E402


def _read(path: Path) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(f"FROM read_csv('{path}', all_varchar = true)")


def test_generated_export_is_deterministic_exact_and_keyed_like_gacc(tmp_path: Path) -> None:
    first = generate.generate(24_000, tmp_path / "one", months=12)
    again = generate.generate(24_000, tmp_path / "two", months=12)
    other_seed = generate.generate(24_000, tmp_path / "three", seed=7, months=12)
    assert [p.name for p in first] == ["detailed_24000_cny.csv", "detailed_24000_usd.csv"]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, again, strict=True))
    assert first[0].read_bytes() != other_seed[0].read_bytes()

    cny, usd = first
    assert cny.read_text(encoding="utf-8").splitlines()[0].split(",") == [*generate.HEADER, "人民币"]
    assert usd.read_text(encoding="utf-8").splitlines()[0].split(",")[-1] == "美元"
    rows, keys, months, codes = duckdb.sql(
        f"SELECT count(*), count(DISTINCT (数据年月, 商品编码, 贸易伙伴编码, 贸易方式)), count(DISTINCT 数据年月), "
        f"count(DISTINCT 商品编码) FROM read_csv('{cny}', all_varchar = true)"
    ).fetchone()  # type: ignore[misc]
    assert (rows, keys, months) == (24_000, 24_000, 12)  # exactly the rows asked for, one per GACC key
    assert codes > 100 and all(len(c) == 10 for (c,) in _read(cny).select("商品编码").distinct().fetchall())
    # The two currency files list the same rows; yuan are dollars at the year's rate.
    same, rate = duckdb.sql(
        f"SELECT bool_and(c.第一数量 = u.第一数量), sum(c.人民币::DOUBLE) / sum(u.美元::DOUBLE) "
        f"FROM read_csv('{cny}', all_varchar = true) c POSITIONAL JOIN read_csv('{usd}', all_varchar = true) u"
    ).fetchone()  # type: ignore[misc]
    assert same and rate == pytest.approx(generate.CNY_PER_USD[2016], rel=0.01)


def test_magnet_totals_are_realistic_whatever_the_size(tmp_path: Path) -> None:
    """The quality gate's magnet ranges (500–8,000 t a month, 40–60 USD/kg) hold at any row count, so reewatch's
    path publishes instead of stopping at the gate, and a bigger file is more rows, not more tonnes."""
    totals = {}
    for rows in (12_000, 60_000):
        cny, usd = generate.generate(rows, tmp_path / str(rows), months=12)
        monthly = duckdb.sql(
            f"SELECT sum(第一数量::BIGINT) / 1000 AS t, sum(美元::BIGINT) / sum(第一数量::BIGINT) AS usd_per_kg "
            f"FROM read_csv('{usd}', all_varchar = true) WHERE 商品编码 = '8505111000' GROUP BY 数据年月"
        ).fetchall()
        assert len(monthly) == 12
        assert all(1_500 <= t <= 7_000 and 40 <= usd_per_kg <= 60 for t, usd_per_kg in monthly)
        totals[rows] = sum(t for t, _ in monthly)
    assert totals[60_000] == pytest.approx(totals[12_000], rel=0.15)


def test_monthly_files_are_one_release_per_month(tmp_path: Path) -> None:
    paths = generate.generate(3_000, tmp_path, months=3, start=date(2026, 1, 1), name="m", monthly_files=True)
    assert [p.name for p in paths] == [f"m_2026{m:02d}_{c}.csv" for m in (1, 2, 3) for c in ("cny", "usd")]
    for path in paths:
        periods = _read(path).select("数据年月").distinct().fetchall()
        assert periods == [(path.name.split("_")[1],)] and len(_read(path)) == 1_000
    assert generate.stamp(tmp_path, "m").read_text() == generate.stamp_text(2025)


def test_measure_counts_the_whole_process_tree_and_reports_failures(tmp_path: Path) -> None:
    # A parent that holds 50 MB and a child that holds 300 MB: the peak is the tree's, not the parent's alone.
    program = (
        "import subprocess, sys, time; held = bytearray(50_000_000); "
        "subprocess.run([sys.executable, '-c', 'import time; b = bytearray(300_000_000); time.sleep(1)'])"
    )
    sample = run.measure([sys.executable, "-c", program], {}, tmp_path / "tree.log")
    assert 340 <= sample.rss_mb <= 600 and sample.wall >= 1
    assert 340 <= sample.pss_mb <= sample.rss_mb  # nothing shared: the pages count once either way
    assert sample.cpu_s < 0.9 * sample.wall  # both mostly sleep

    # CPU time counts the children too: a parent and a child that each spin for 0.5 s, one after the other.
    spin = "import time; end = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    busy = f"import subprocess, sys\n{spin}\nsubprocess.run([sys.executable, '-c', {spin!r}])"
    worked = run.measure([sys.executable, "-c", busy], {}, tmp_path / "busy.log")
    assert 1.0 <= worked.cpu_s <= worked.wall + 0.3

    # A parent and its fork sharing 300 MB: RSS counts those pages in both, PSS once.
    forked = "import os, time; held = b'x' * 300_000_000; os.fork(); time.sleep(1)"
    shared = run.measure([sys.executable, "-c", forked], {}, tmp_path / "fork.log")
    assert shared.rss_mb >= 600 and 300 <= shared.pss_mb <= 450
    # The log says when the peak came and what each process held then: the parent and its fork, ~300 MB each.
    assert re.fullmatch(r"\d+\.\d s: -c [\d,]+ \+ -c [\d,]+", shared.at_peak), shared.at_peak

    with pytest.raises(RuntimeError, match=r"exited 3:\n.*went wrong"):
        run.measure([sys.executable, "-c", "import sys; print('went wrong'); sys.exit(3)"], {}, tmp_path / "x.log")


def test_results_go_to_the_end_of_their_section_and_keep_the_others(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    before = f"# Results\n\n## Older\n\n| old row |\n\n{run.SECTION}\n\nHow it is measured.\n\n## Later\n\nkept\n"
    results.write_text(before, encoding="utf-8")
    run.write_results("### run 1\n", results)
    run.write_results("### run 2\n", results)
    text = results.read_text(encoding="utf-8")
    assert (
        text.index("How it is measured.") < text.index("### run 1") < text.index("### run 2") < text.index("## Later")
    )
    assert "| old row |" in text and text.endswith("## Later\n\nkept\n")


def test_margin_is_the_extra_time_of_b_over_the_extra_time_of_a() -> None:
    def sizes(rows: int, a: list[float], b: list[float]) -> run.Comparison:
        return run.Comparison(rows, 1.0, {"a": [run.Sample(s, 1.0) for s in a], "b": [run.Sample(s, 1.0) for s in b]})

    small, large = sizes(1_000_000, [0.5, 0.7, 0.6], [8.0, 7.0, 9.0]), sizes(10_000_000, [6.6, 7.0, 6.4], [20.0, 19.0])
    # Medians: a 0.6 → 6.6 s, b 8.0 → 19.5 s: 11.5 s more for b against 6.0 s more for a, in either order given.
    for given in ([small, large], [large, small]):
        row = "".join(run._margin(given))
        assert "from 1,000,000 to 10,000,000 rows" in row and "| 1.92 (11.5 s / 6.0 s) |" in row, row
    assert run._margin([large]) == []
    assert run._margin([large, sizes(20_000_000, [6.0], [30.0])]) == []  # a no slower at twice the rows: no margin
