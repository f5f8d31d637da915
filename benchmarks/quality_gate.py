"""Time the quality gate (GX suites inside DuckDB) on a 10-million-row exports_monthly-like table, beside the same
checks written as plain DuckDB SQL.

A warehouse file gets `curated.exports_monthly` with the model's columns and derived figures (unit values, YTD,
m/m and y/y changes, shares) computed the way the model computes them, so every check does its real work; magnets
carry the May 2025 collapse, so one warning fires as in the samples. Then, alternating, each path runs in its own
process (wall time and peak RSS of that process):

- plain SQL: every expectation of expectations/exports_monthly.json as one hand-written DuckDB query (a count of
  the offending rows), on the same file, with the same DuckDB settings;
- the gate: `run_gate(..., suites=["exports_monthly"])` — GX validation, `quality_results` rows, offline Data Docs.

Both paths must agree on every count. The medians go into benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/quality_gate.py --rows 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## Quality gate (`benchmarks/quality_gate.py`)"
TODAY = date(2026, 1, 25)  # the generated months end in December 2025: fresh on this date
MEMORY_LIMIT = "1GB"  # the pipeline's default (Settings.duckdb_memory_limit)
SUITE = "exports_monthly"


def generate(path: Path, rows: int) -> int:
    """An exports_monthly-like table of about `rows` rows: series × 240 months × 200 partners (WORLD first)."""
    from reewatch.warehouse import connect, migrate

    months, partners = 240, 200
    series = max(2, round(rows / (months * partners)))
    con = connect(path, memory_limit="8GB")
    migrate(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS curated")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE curated.exports_monthly AS
        WITH s AS (
            SELECT i AS s, CASE i WHEN 0 THEN 'gacc_rare_earths' WHEN 1 THEN 'gacc_magnets_850511'
                                  ELSE 'comtrade_' || (280000 + i) END AS series_id,
                   CASE i WHEN 0 THEN 6.5 WHEN 1 THEN 50 ELSE 5 + i % 40 END AS unit_value
            FROM range({series}) t(i)
        ),
        p AS (
            SELECT i AS p, CASE WHEN i = 0 THEN 'WORLD'
                                ELSE chr(CAST(65 + i // 26 AS INTEGER)) || chr(CAST(65 + i % 26 AS INTEGER)) END
                           AS partner
            FROM range({partners}) t(i)
        ),
        m AS (SELECT i AS m, CAST(DATE '2006-01-01' + to_months(i) AS DATE) AS period FROM range({months}) t(i)),
        base AS (
            SELECT s.series_id, m.period, p.partner, s.unit_value,
                   -- world: 3,000–7,000 t with a seasonal swing (magnets collapse in May 2025); destinations share
                   -- at most 95 % of it
                   (5000 + 2000 * sin(m.m / 3.0 + s.s)) * CASE WHEN s.s = 1 AND m.period = DATE '2025-05-01'
                                                               THEN 0.25 ELSE 1 END
                   * CASE WHEN p.p = 0 THEN 1 ELSE 0.95 * (1 + hash(s.s, p.p) % 100) / 10100.0 END AS q
            FROM s CROSS JOIN m CROSS JOIN p
        ),
        figures AS (
            SELECT series_id, period, 'month' AS period_kind, partner,
                   CASE WHEN partner = 'WORLD' THEN 'World' ELSE 'Partner ' || partner END AS partner_name,
                   round(q, 3) AS quantity_t, round(q * 1000 * unit_value, 0) AS value_usd,
                   round(q * 1000 * unit_value * 7.1, 0) AS value_cny
            FROM base
        ),
        derived AS (
            SELECT f.*,
                   round(value_usd / nullif(quantity_t * 1000, 0), 4) AS unit_value_usd_per_kg,
                   sum(quantity_t) OVER (PARTITION BY series_id, partner, year(period) ORDER BY period)
                       AS ytd_quantity_t,
                   round(100 * (quantity_t / nullif(lag(quantity_t) OVER w, 0) - 1), 2) AS mom_pct,
                   round(100 * (quantity_t / nullif(lag(quantity_t, 12) OVER w, 0) - 1), 2) AS yoy_pct,
                   round(100 * quantity_t / nullif(max(quantity_t) FILTER (WHERE partner = 'WORLD')
                       OVER (PARTITION BY series_id, period), 0), 2) AS share_of_world_pct
            FROM figures f
            WINDOW w AS (PARTITION BY series_id, partner ORDER BY period)
        )
        SELECT *, NULL::BOOLEAN AS is_record, NULL::DATE AS highest_since, 'detailed' AS vintage,
               CAST(period + INTERVAL 50 DAY AS DATE) AS published_on,
               md5(series_id) || md5(series_id || 'release') AS release_id
        FROM derived
        ORDER BY series_id, partner, period
        """
    )
    con.execute("CHECKPOINT")
    count = con.execute("SELECT count(*) FROM curated.exports_monthly").fetchone()
    con.close()
    return int(count[0]) if count else 0


# --- the same checks as plain SQL ----------------------------------------------------------------------------------


def _condition(row_condition: dict[str, Any] | None) -> str:
    if not row_condition:
        return "TRUE"
    parts = row_condition["conditions"] if row_condition["type"] == "and" else [row_condition]
    return " AND ".join(f"{c['column']['name']} = '{c['parameter']}'" for c in parts)


def plain_sql(expectation: dict[str, Any], table: str) -> str:
    """The count of offending rows of one expectation, as a person would write it in DuckDB."""
    kind, kw = expectation["type"], expectation["kwargs"]
    column = kw.get("column")
    if kind == "expect_column_values_to_not_be_null":
        return f"SELECT count(*) FROM {table} WHERE {column} IS NULL"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(f"'{v}'" for v in kw["value_set"])
        return f"SELECT count(*) FROM {table} WHERE {column} NOT IN ({values})"
    if kind == "expect_column_value_lengths_to_equal":
        return f"SELECT count(*) FROM {table} WHERE length({column}) <> {kw['value']}"
    if kind == "expect_column_values_to_be_between":
        bounds = []
        if "min_value" in kw:
            bounds.append(f"{column} < {kw['min_value']}")
        if "max_value" in kw:
            bounds.append(f"{column} > {kw['max_value']}")
        return f"SELECT count(*) FROM {table} WHERE {_condition(kw.get('row_condition'))} AND ({' OR '.join(bounds)})"
    if kind in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        columns = ", ".join(kw.get("column_list") or [column])
        return f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table} GROUP BY {columns} HAVING n > 1)"
    if kind == "expect_table_row_count_to_be_between":
        return f"SELECT CASE WHEN count(*) >= {kw['min_value']} THEN 0 ELSE 1 END FROM {table}"
    if kind == "unexpected_rows_expectation":
        return f"SELECT count(*) FROM ({kw['unexpected_rows_query'].format(batch=table)})"
    raise ValueError(f"no plain SQL for {kind}")


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not `ru_maxrss` from wait4: Linux carries the parent's high-water mark
    into a forked child, so every child of a parent that generated the table would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_sql(path: Path) -> dict[str, Any]:
    from reewatch.quality import bind_suite, load_suites
    from reewatch.warehouse import connect

    started = time.perf_counter()
    suite = bind_suite(load_suites()[SUITE], TODAY)
    con = connect(path, memory_limit=MEMORY_LIMIT)
    counts = {}
    for expectation in suite["expectations"]:
        row = con.execute(plain_sql(expectation, "curated.exports_monthly")).fetchone()
        counts[expectation["description"]] = int(row[0]) if row else 0
    con.close()
    return {"seconds": time.perf_counter() - started, "counts": counts, "peak_rss_mb": peak_rss_mb()}


def worker_gate(path: Path, docs: Path) -> dict[str, Any]:
    from reewatch.quality import run_gate
    from reewatch.warehouse import connect

    started = time.perf_counter()
    con = connect(path, memory_limit=MEMORY_LIMIT)
    result = run_gate(con, f"bench-{time.time_ns()}", docs, today=TODAY, suites=[SUITE])
    con.close()
    counts = {o.expectation: o.unexpected_count if o.unexpected_count is not None else int(not o.success)
              for o in result.outcomes}  # fmt: skip
    return {
        "seconds": time.perf_counter() - started,
        "gate_seconds": result.seconds,
        "counts": counts,
        "peak_rss_mb": peak_rss_mb(),
    }


# --- driver ---------------------------------------------------------------------------------------------------------


def measure(command: list[str]) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, peak RSS in MB, the worker's JSON) of one worker process."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env={**os.environ}, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[2:4]} failed: {done.stderr.decode()[-3000:]}")
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return wall, float(report.get("peak_rss_mb", 0.0)), report


HEADER = f"""
{SECTION}

`run_gate` with the exports_monthly suite (39 expectations: GX column expectations and `unexpected_rows_expectation`
SQL, in DuckDB on the caller's connection) against the same checks as plain DuckDB queries (one count per check), on
a generated exports_monthly-like table (`curated`, 1 GB DuckDB memory limit); both must agree on every count. Wall
time / peak RSS (VmHWM) of each process: the gate's process also imports GX, records `quality_results` and builds
offline Data Docs; its validation alone is the "GX validation" column. Load: the 1-minute load average when the run
started (other work on the same 2 cores slows both paths).

| date | machine | rows | plain SQL | gate process | × plain | GX validation | × plain | GX import | docs |
|---|---|---|---|---|---|---|---|---|---|
"""


def append_result(line: str) -> None:
    """Add a row to this script's table in RESULTS.md (creating the section at the end the first time), leaving every
    other section as it is."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if SECTION not in text:
        RESULTS.write_text(text.rstrip("\n") + "\n" + HEADER + line + "\n", encoding="utf-8")
        return
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    end = len(text) if following < 0 else following + 1
    lines = text[start:end].splitlines()
    last_row = max(i for i, row in enumerate(lines) if row.startswith("|"))
    lines.insert(last_row + 1, line)
    RESULTS.write_text(text[:start] + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    parser.add_argument("--worker", choices=["generate", "sql", "gate"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "generate":
        print(json.dumps({"rows": generate(args.db, args.rows)}))
        return
    if args.worker == "sql":
        print(json.dumps(worker_sql(args.db)))
        return
    if args.worker == "gate":
        print(json.dumps(worker_gate(args.db, args.docs)))
        return

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="reewatch-gate-bench-") as work:
        db = Path(work) / "warehouse.duckdb"
        me = [sys.executable, __file__]
        load = os.getloadavg()[0]
        # Generated in its own process, so this one stays small while the workers run.
        took, _, generated = measure([*me, "--worker", "generate", "--db", str(db), "--rows", str(args.rows)])
        rows = int(generated["rows"])
        print(f"generated {rows:,} rows in {took:.1f} s ({db.stat().st_size / 1e6:,.0f} MB)")
        sql_runs, gate_runs = [], []
        for repeat in range(args.repeat):
            sql_runs.append(measure([*me, "--worker", "sql", "--db", str(db)]))
            gate_runs.append(measure([*me, "--worker", "gate", "--db", str(db), "--docs", f"{work}/docs-{repeat}"]))
            (sql_wall, sql_rss, sql_out), (gate_wall, gate_rss, gate_out) = sql_runs[-1], gate_runs[-1]
            print(f"[{repeat + 1}/{args.repeat}] plain SQL {sql_wall:.2f} s / {sql_rss:,.0f} MB; gate {gate_wall:.2f} s"
                  f" / {gate_rss:,.0f} MB (GX {gate_out['gate_seconds']})")  # fmt: skip
            if sql_out["counts"] != gate_out["counts"]:
                differ = {k: (v, gate_out["counts"].get(k)) for k, v in sql_out["counts"].items()
                          if gate_out["counts"].get(k) != v}  # fmt: skip
                raise SystemExit(f"plain SQL and the gate disagree: {differ}")

    def median(values: list[float]) -> float:
        return statistics.median(values)

    sql_wall, sql_rss = median([r[0] for r in sql_runs]), median([r[1] for r in sql_runs])
    gate_wall, gate_rss = median([r[0] for r in gate_runs]), median([r[1] for r in gate_runs])
    validate = median([r[2]["gate_seconds"]["validate"] for r in gate_runs])
    gx_import = median([r[2]["gate_seconds"]["import"] for r in gate_runs])
    docs = median([r[2]["gate_seconds"]["docs"] for r in gate_runs])
    machine = f"{os.cpu_count()} cores, {platform.machine()}, load {load:.1f}"
    line = (
        f"| {date.today().isoformat()} | {machine} | {rows:,} | {sql_wall:.2f} s / {sql_rss:,.0f} MB | "
        f"{gate_wall:.2f} s / {gate_rss:,.0f} MB | {gate_wall / sql_wall:.2f} | {validate:.2f} s | "
        f"{validate / sql_wall:.2f} | {gx_import:.2f} s | {docs:.2f} s |"
    )
    print(line)
    if not args.no_record:
        append_result(line)
        print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
