"""The quality gate: GX suites from expectations/ run inside the warehouse's DuckDB on real curated tables, one test
per severity path (pass, warnings only, blocked), plus results rows, offline Data Docs and the suites themselves."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLES, loaded_lake
from reewatch.quality import (
    SEVERITIES,
    QualityConfigError,
    bind_suite,
    external_references,
    load_suites,
    run_gate,
    write_snapshot,
)

HEADLINE = sorted((SAMPLES / "headline").glob("*.csv"))
DETAILED = sorted((SAMPLES / "detailed").glob("*.csv"))
ALL_SAMPLES = sorted(path for path in SAMPLES.rglob("*") if path.is_file() and path.suffix != ".md")
CURATED = ("exports_monthly", "revisions", "licence_surveys", "survey_metrics", "world_production", "claim_checks",
           "releases")  # fmt: skip
# The samples run to December 2025; on this date both series are as fresh as the release calendar allows.
TODAY = date(2026, 1, 25)
MAY_2025_SHOCK = "gacc_magnets_850511 WORLD month within 2,500–7,000 t"


def _replace_line(source: Path, target: Path, old: str, new: str) -> Path:
    """A copy of a sample file with one line changed (bytes kept as they were otherwise, BOM included)."""
    data = source.read_bytes()
    assert data.count(old.encode()) == 1, old
    target.write_bytes(data.replace(old.encode(), new.encode()))
    return target


def test_suites_load_and_every_expectation_has_a_severity_and_a_reason() -> None:
    import great_expectations as gx

    suites = load_suites()
    assert sorted(suites) == sorted(CURATED)
    for name, suite in suites.items():
        assert suite["meta"]["table"] == name and suite["meta"]["grain"]
        assert suite["expectations"], name
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in SEVERITIES, expectation
            assert len(expectation["meta"]["why"]) > 10, expectation
        # GX 1.x reads each suite once the gate has bound it ({today} filled in, SQL lines joined).
        parsed = gx.ExpectationSuite(**bind_suite(suite, TODAY))
        assert len(parsed.expectations) == len(suite["expectations"])
        assert all(e.meta["severity"] in SEVERITIES for e in parsed.expectations)
    # The DOMAIN.md §5 rules are there, at the severity the issue asks for.
    exports = {e["description"]: e["meta"]["severity"] for e in suites["exports_monthly"]["expectations"]}
    assert exports["gacc_rare_earths WORLD month within 1,000–10,000 t"] == "error"
    assert exports["gacc_rare_earths WORLD month within 2,500–8,000 t"] == "warning"
    assert exports["gacc_magnets_850511 WORLD month within 500–8,000 t"] == "error"
    assert exports[MAY_2025_SHOCK] == "warning"
    assert exports["the sum of destinations does not exceed the world total"] == "error"
    assert exports["YTD identity: ytd(m) = ytd(m−1) + month(m) within ±2 t"] == "warning"
    assert exports["the latest month is as recent as the release calendar allows"] == "warning"


def test_a_suite_without_a_severity_is_refused(tmp_path: Path) -> None:
    (tmp_path / "exports_monthly.json").write_text(
        '{"name": "exports_monthly", "meta": {"table": "exports_monthly", "grain": ["series_id"]}, "expectations": '
        '[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "series_id"}, '
        '"description": "series_id is never null", "meta": {"why": "keys"}}]}',
        encoding="utf-8",
    )
    with pytest.raises(QualityConfigError, match="meta.severity must be error or warning"):
        load_suites(tmp_path)


def test_the_samples_pass_and_results_and_offline_docs_are_written(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    with loaded_lake(tmp_path / "lake", *ALL_SAMPLES) as con:  # customs, surveys, USGS and press samples
        result = run_gate(con, "run-samples", docs, today=TODAY)
        stored = con.execute(
            "SELECT run_id, suite, table_name, expectation, severity, success, unexpected_count, observed, checked_at "
            "FROM quality_results ORDER BY suite, expectation"
        ).fetchall()
        published = con.execute("SELECT count(*) FROM curated.quality_results WHERE run_id = 'run-samples'").fetchone()
        # Running again under the same run id replaces that run's rows.
        run_gate(con, "run-samples", tmp_path / "docs-again", today=TODAY, suites=["releases"])
        rerun = con.execute("SELECT count(DISTINCT suite) FROM quality_results").fetchone()
    # GX no longer holds the warehouse: it reopens at once with another configuration.
    duckdb.connect(str(tmp_path / "lake" / "_state" / "warehouse.duckdb"), read_only=True).close()

    assert not result.blocked, result.summary()
    assert result.failures == []
    # The one sample figure outside a plausible range is real: May 2025's licensing shock in magnets (1,238 t).
    assert [w.expectation for w in result.warnings] == [MAY_2025_SHOCK]
    assert result.warnings[0].examples[0]["period"] == "2025-05-01"
    assert set(result.counts) == set(CURATED)
    assert result.counts["exports_monthly"].warnings == 1 and result.counts["exports_monthly"].failed == 0
    assert sum(c.passed + c.warnings + c.failed for c in result.counts.values()) == len(result.outcomes)

    assert len(stored) == len(result.outcomes) and published == (len(stored),)
    assert {row[0] for row in stored} == {"run-samples"} and {row[4] for row in stored} <= set(SEVERITIES)
    shock = next(row for row in stored if row[3] == MAY_2025_SHOCK)
    assert shock[1:8] == ("exports_monthly", "exports_monthly", MAY_2025_SHOCK, "warning", False, 1, shock[7])
    assert "1 of 12" in shock[7]
    assert rerun == (1,)  # only the re-run's suite is left for that run id

    assert result.docs_index == docs / "index.html" and result.docs_index.exists()
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 1 + 2 * len(CURATED)  # index, one suite page and one validation page per table
    assert external_references(docs) == []
    index = result.docs_index.read_text(encoding="utf-8")
    assert "exports_monthly" in index and "passed with warnings" in index
    assert "<script" not in index


def test_a_month_inside_the_hard_range_but_outside_the_plausible_one_is_a_warning(tmp_path: Path) -> None:
    # December 2025 rare earths as 2,300 t, with value, YTD and YoY adjusted to match (the latest release, so no later
    # one restates it): inside the hard range 1,000–10,000 t, outside the plausible 2,500–8,000 t.
    december = SAMPLES / "headline" / "2025-12_major_exports_usd.csv"
    low = _replace_line(
        december,
        tmp_path / december.name,
        'Rare earths,Ton,"4,392.0","29.1","62,585.0","421.8","55,431.0","386.7",12.9,9.1',
        'Rare earths,Ton,"2,300.0","15.2","60,493.0","407.9","55,431.0","386.7",9.1,5.5',
    )
    files = [path for path in HEADLINE if path.name != december.name] + [low, *DETAILED]
    with loaded_lake(tmp_path / "lake", *files) as con:
        result = run_gate(con, "run-warning", tmp_path / "docs", today=TODAY)

    assert not result.blocked, result.summary()
    warnings = {w.expectation: w for w in result.warnings}
    assert set(warnings) == {"gacc_rare_earths WORLD month within 2,500–8,000 t", MAY_2025_SHOCK}
    low_month = warnings["gacc_rare_earths WORLD month within 2,500–8,000 t"]
    assert low_month.unexpected_count == 1
    assert low_month.examples == ({"series_id": "gacc_rare_earths", "period": "2025-12-01", "partner": "WORLD",
                                   "quantity_t": 2300.0},)  # fmt: skip


@pytest.mark.parametrize("with_world_total", [False, True], ids=["destinations only", "with a world total row"])
def test_a_hidden_scale_error_the_row_rules_miss_blocks_publishing(tmp_path: Path, with_world_total: bool) -> None:
    """US July 2025 magnets, general trade, filed 5× too heavy (2,393,680 kg for 478,736 kg): the loader's unit check
    looks for ~1,000× slips and lets it through; the gate's unit values (and parts ≤ whole) do not."""
    bad_files = []
    for source in DETAILED:
        bad = _replace_line(
            source,
            tmp_path / source.name,
            "202507,8505111000,稀土永磁体,502,美国,一般贸易,478736,千克,,,",
            "202507,8505111000,稀土永磁体,502,美国,一般贸易,2393680,千克,,,",
        )
        if with_world_total:  # the file also carries the published world total of the month
            value = "276621902" if source.name.endswith("_usd.csv") else "1977846600"
            data = bad.read_bytes()
            newline = b"\r\n" if b"\r\n" in data else b"\n"
            world = f"202507,8505111000,稀土永磁体,,总计,,5577000,千克,,,{value}".encode()
            bad.write_bytes(data.rstrip(b"\r\n") + newline + world + newline)
        bad_files.append(bad)

    with loaded_lake(tmp_path / "lake", *bad_files) as con:
        statuses = con.execute("SELECT DISTINCT status FROM releases").fetchall()
        quarantined = con.execute("SELECT count(*) FROM quarantined_rows").fetchone()
        result = run_gate(con, "run-blocked", tmp_path / "docs", today=TODAY, suites=["exports_monthly"])
        stored = con.execute(
            "SELECT expectation, severity, success, unexpected_count FROM quality_results "
            "WHERE run_id = 'run-blocked' AND NOT success AND severity = 'error'"
        ).fetchall()

    assert statuses == [("loaded",)] and quarantined == (0,)  # the row-level rules saw nothing wrong
    assert result.blocked
    failures = {f.expectation: f for f in result.failures}
    unit_value = failures["gacc_magnets_850511 unit value within 15–500 USD/kg"]
    assert unit_value.severity == "error" and unit_value.unexpected_count == 1
    (row,) = unit_value.examples
    assert (row["partner"], row["period"]) == ("US", "2025-07-01") and row["unit_value_usd_per_kg"] < 15
    if with_world_total:
        parts = failures["the sum of destinations does not exceed the world total"]
        assert parts.unexpected_count == 1
        assert parts.examples[0]["period"] == "2025-07-01" and parts.examples[0]["world_t"] == pytest.approx(5577)
        assert parts.examples[0]["destinations_t"] > 5577 + 1900
    assert {name for name, *_ in stored} == set(failures)
    assert "quality gate blocked publishing" in result.summary()


def test_a_gx_worker_gives_the_same_verdict_and_a_dead_one_leaves_the_gate_to_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run validates in a worker process (reewatch.gx_worker) on a snapshot of the curated tables: the outcomes,
    example rows included, are those of validating here; a worker that cannot answer costs time, not the verdict."""
    from reewatch.gx_worker import GxWorker

    late = date(2026, 6, 30)  # the lake's latest month is then overdue: a failing SQL check, with example rows
    snapshots: dict[str, list[Path]] = {}  # what `meanwhile` saw, per run: the gate's snapshots made by then
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # this test's gates make their snapshots here

    def meanwhile(run: str) -> Callable[[], None]:
        return lambda: snapshots.setdefault(run, []).extend(scratch.glob("reewatch-gate-*/*"))

    with loaded_lake(tmp_path / "lake", *HEADLINE, *DETAILED) as con:
        here = run_gate(con, "run-here", tmp_path / "here", today=late, record=False, meanwhile=meanwhile("here"))
        worker = GxWorker()
        there = run_gate(con, "run-there", tmp_path / "there", today=late, record=False, worker=worker,
                         meanwhile=meanwhile("there"), template_cache=tmp_path / "templates")  # fmt: skip
        dead = GxWorker()
        dead.stop()
        with caplog.at_level(logging.WARNING, logger="reewatch.quality"):
            instead = run_gate(con, "run-instead", tmp_path / "instead", today=late, record=False, worker=dead,
                               meanwhile=meanwhile("instead"))  # fmt: skip

    # The comparison covers example rows of both kinds of check: a column check's and an SQL check's.
    freshness = next(o for o in here.outcomes if o.expectation.startswith("the latest month is as recent"))
    assert not freshness.success and freshness.examples
    assert any(not o.success and o.examples and o is not freshness for o in here.outcomes)
    assert there.outcomes == here.outcomes and instead.outcomes == here.outcomes
    # The worker builds its Data Docs after answering: they are there once the gate's result says so.
    assert there.wait_for_docs() == tmp_path / "there" / "index.html" == there.docs_index
    assert there.docs_index.is_file() and instead.wait_for_docs() == instead.docs_index
    # The worker validates in two processes (reewatch.gx_worker._validate): its Data Docs still hold every suite's
    # pages, and its index lists them all.
    def pages(docs: Path) -> set[str]:  # expectations/<suite>.html and validations/<suite>, one each per suite
        return {"/".join(page.relative_to(docs).parts[:2]) for page in docs.glob("*/**/*.html")}

    suites = {o.suite for o in here.outcomes}
    assert pages(tmp_path / "there") == pages(tmp_path / "here") and len(pages(tmp_path / "here")) == 2 * len(suites)
    listed = (tmp_path / "there" / "index.html").read_text()
    assert all(f">{suite}</a></td><td>run-there</td>" in listed for suite in suites)
    assert not list(tmp_path.glob("there.fork*"))
    assert "snapshot" in there.seconds and "snapshot" not in here.seconds
    # `meanwhile` ran once per gate; with a worker, once the worker's snapshot was made, not before.
    assert set(snapshots) == {"here", "there", "instead"}
    assert [p.name for p in snapshots["there"]] == ["snapshot.duckdb"] and not snapshots["here"]
    said = [r.getMessage() for r in caplog.records if r.name == "reewatch.quality"]
    assert len(said) == 1 and said[0].startswith("the GX worker had stopped"), said
    assert said[0].endswith("; validating in this process instead")


STAND_INS_PROBE = """
import json, sys
from pathlib import Path
from reewatch.gx_worker import UNUSED_BY_OUR_SUITES, import_on_first_use
from reewatch.quality import load_gx, run_gate

def stand_ins():
    return sorted(n for n in UNUSED_BY_OUR_SUITES if type(sys.modules.get(n)).__name__ == "_ImportedOnFirstUse")

import_on_first_use(UNUSED_BY_OUR_SUITES)
load_gx()
result = run_gate(sys.argv[1], "probe", Path(sys.argv[2]), record=False)
after_gate = stand_ins()
from scipy import stats
import altair
used = [round(float(stats.entropy([0.5, 0.5], [0.9, 0.1])), 4), altair.Chart.__name__]
print(json.dumps({"checks": len(result.outcomes), "after_gate": after_gate, "used": used, "after_use": stand_ins()}))
"""


def test_the_gx_worker_imports_what_only_unused_expectations_need_on_first_use(tmp_path: Path) -> None:
    """The worker leaves scipy.stats and altair unimported (0.8 s of GX's import): a whole gate, Data Docs included,
    never touches them, and a first use imports the real module."""
    import json

    from reewatch.quality import write_snapshot

    snapshot = tmp_path / "snapshot.duckdb"
    with loaded_lake(tmp_path / "lake", *HEADLINE, *DETAILED) as con:
        tables = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'curated'"
                                                " AND database_name = current_database()").fetchall()]  # fmt: skip
        write_snapshot(con, "curated", tables, snapshot)
    done = subprocess.run([sys.executable, "-c", STAND_INS_PROBE, str(snapshot), str(tmp_path / "docs")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.splitlines()[-1])
    assert probe["checks"] > 50 and (tmp_path / "docs" / "index.html").is_file()
    assert probe["after_gate"] == ["altair", "scipy.stats"]
    assert probe["used"] == [pytest.approx(0.5108, abs=1e-4), "Chart"] and probe["after_use"] == []


def test_a_gx_worker_that_fails_says_why(tmp_path: Path) -> None:
    from datetime import datetime

    from reewatch.gx_worker import GxWorker, GxWorkerError, Request
    from reewatch.quality import Validation

    missing = tmp_path / "no-such-snapshot.duckdb"
    request = Request(missing, Validation({}, "curated", "run-x", datetime(2026, 1, 25), tmp_path / "docs"))
    with pytest.raises(GxWorkerError, match=r"(?s)the GX worker failed:.*no-such-snapshot\.duckdb"):
        worker = GxWorker()
        worker.submit(request)
        worker.answer()


def test_a_gx_worker_killed_after_its_answer_leaves_the_data_docs_to_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker answers first and builds the Data Docs after (the run publishes meanwhile); killed in between,
    it has built none, and waiting for them builds them in the run's own process, every suite's."""
    from reewatch.gx_worker import GxWorker

    with loaded_lake(tmp_path / "lake", *HEADLINE, *DETAILED) as con:
        worker = GxWorker()
        gate = run_gate(con, "run-x", tmp_path / "docs", today=date(2026, 6, 30), record=False, worker=worker)
        worker.stop()  # the docs take a tenth of a second or more: it is building them
        assert not (tmp_path / "docs" / "index.html").exists()
        with caplog.at_level(logging.WARNING, logger="reewatch.quality"):
            index = gate.wait_for_docs()
    assert index == tmp_path / "docs" / "index.html" and index.is_file()
    suites = {o.suite for o in gate.outcomes}
    assert all(f">{suite}</a></td><td>run-x</td>" in index.read_text() for suite in suites)
    said = [r.getMessage() for r in caplog.records if r.name == "reewatch.quality"]
    assert len(said) == 1 and said[0].endswith("; building the Data Docs in this process instead"), said


def test_a_gx_worker_that_dies_before_answering_says_how(tmp_path: Path) -> None:
    """The answer is read when the worker closes its pipe, not when it exits: one that dies first gave none."""
    import signal
    from datetime import datetime

    from reewatch.gx_worker import GxWorker, GxWorkerError, Request
    from reewatch.quality import Validation

    request = Request(tmp_path / "snapshot.duckdb", Validation({}, "curated", "run-x", datetime(2026, 1, 25), tmp_path))
    worker = GxWorker()
    worker.submit(request)
    worker._process.send_signal(signal.SIGKILL)  # importing GX still: seconds before it could answer
    with pytest.raises(GxWorkerError, match="the GX worker exited with code -9"):
        worker.answer()
    worker.stop()


def test_freshness_is_judged_against_the_injected_date(tmp_path: Path) -> None:
    with loaded_lake(tmp_path / "lake", *HEADLINE[-2:]) as con:  # November (two vintages) and December 2025
        fresh = run_gate(con, "run-fresh", tmp_path / "a", today=date(2026, 1, 15), suites=["exports_monthly"])
        stale = run_gate(con, "run-stale", tmp_path / "b", today=date(2026, 6, 30), suites=["exports_monthly"])
        future = run_gate(con, "run-past", tmp_path / "c", today=date(2025, 12, 10), suites=["exports_monthly"])
    freshness = "the latest month is as recent as the release calendar allows"
    assert freshness not in {w.expectation for w in fresh.warnings}
    (late,) = [w for w in stale.warnings if w.expectation == freshness]
    assert late.examples == ({"series_id": "gacc_rare_earths", "latest_period": "2025-12-01",
                              "expected_period": "2026-05-01", "today": "2026-06-30"},)  # fmt: skip
    assert not stale.blocked
    # Seen from 10 December 2025, a December figure is from the future: a parsing error, which blocks.
    assert "no period after the last complete month" in {f.expectation for f in future.failures}


def test_survey_identities_the_loaders_missed_block_publishing(tmp_path: Path) -> None:
    """The survey suites on the curated tables the models build: 150 approved of 141 applications."""
    from reewatch.curate import build_curated

    with loaded_lake(tmp_path / "lake", HEADLINE[-1]) as con:
        release = "a" * 64
        con.execute(
            "INSERT INTO releases (release_id, file_name, layout, vintage, vintage_rank, status, rows_in, rows_loaded, "
            "rows_quarantined, landed_at, ingested_at) VALUES (?, 'survey.csv', 'survey_csv', 'survey', 0, 'loaded', "
            "4, 4, 0, now(), now())",
            [release],
        )
        for row, (metric, value) in enumerate([("applications", 141), ("approved", 150), ("pending", 121),
                                               ("rejected", 1)], start=2):  # fmt: skip
            con.execute(
                "INSERT INTO survey_results (release_id, source_row, survey_id, publisher, fieldwork_start, "
                "fieldwork_end, as_of, published_on, unit_of_count, metric, value, unit, basis) VALUES (?, ?, "
                "'test_2025_09_licences', 'A chamber', DATE '2025-08-01', DATE '2025-08-20', DATE '2025-09-01', "
                "DATE '2025-09-10', 'application', ?, ?, 'count', 'published')",
                [release, str(row), metric, value],
            )
        build_curated(con)
        result = run_gate(con, "run-surveys", tmp_path / "docs", today=TODAY,
                          suites=["licence_surveys", "survey_metrics"])  # fmt: skip

    assert result.blocked
    failures = {(f.suite, f.expectation) for f in result.failures}
    assert ("licence_surveys", "approved ≤ applications") in failures
    assert ("licence_surveys", "approved + pending + rejected = applications when all are given") in failures
    assert ("licence_surveys", "approval_rate_pct within 0–100") in failures
    assert ("survey_metrics", "approved ≤ applications, affected ≤ respondents") in failures
    example = next(f for f in result.failures if f.expectation == "approved ≤ applications").examples[0]
    assert example == {"survey_id": "test_2025_09_licences", "applications": 141, "approved": 150}


def test_a_check_that_cannot_run_fails_closed(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "releases.json").write_text(
        '{"name": "releases", "meta": {"table": "releases", "grain": ["release_id"]}, "expectations": ['
        '{"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT no_such_column FROM {batch}"},'
        ' "description": "a broken check", "meta": {"severity": "error", "why": "its SQL names a missing column"}},'
        '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "release_id"},'
        ' "description": "release_id is never null", "meta": {"severity": "error", "why": "keys"}}]}',
        encoding="utf-8",
    )
    with loaded_lake(tmp_path / "lake", HEADLINE[-1]) as con:
        result = run_gate(con, "run-broken", tmp_path / "docs", today=TODAY, suites_directory=suites)
    assert result.blocked
    (broken,) = result.failures
    assert broken.expectation == "a broken check" and broken.observed.startswith("check could not run:")
    assert "no_such_column" in broken.observed and broken.unexpected_count is None


def test_importing_the_gate_does_not_import_great_expectations() -> None:
    program = "import sys, reewatch.quality; print('great_expectations' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_gx_gathers_an_expectations_kwargs_as_before_building_its_configuration_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """reewatch.gx_tuning: the same kwargs as GX's own methods give, for every expectation of the suites, from one
    configuration built per gathering instead of one per keyword."""
    import great_expectations as gx
    import great_expectations.expectations.expectation as gx_expectation

    from reewatch import gx_tuning

    assert gx_tuning.speed_up_kwargs(), f"GX {gx.__version__} is not {gx_tuning.GX_VERSION}: look at gx_tuning again"
    built = []

    class Counted(gx_expectation.ExpectationConfiguration):  # type: ignore[misc]
        def __init__(self, *args: object, **kwargs: object) -> None:
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(gx_expectation, "ExpectationConfiguration", Counted)
    suites = [gx.ExpectationSuite(**bind_suite(suite, TODAY)) for suite in load_suites().values()]
    expectations = [expectation for suite in suites for expectation in suite.expectations]

    def gathered() -> tuple[list[tuple[dict[str, object], ...]], int]:
        built.clear()
        kwargs = [(e._get_runtime_kwargs(), e._get_success_kwargs(), e._get_domain_kwargs()) for e in expectations]
        return kwargs, len(built)

    tuned, tuned_builds = gathered()
    with monkeypatch.context() as as_gx_ships:  # GX's own property and methods, for this block
        as_gx_ships.setattr(gx_expectation.Expectation, "configuration", gx_tuning._built)
        for name in gx_tuning.KWARG_METHODS:
            as_gx_ships.setattr(gx_expectation.Expectation, name, getattr(gx_expectation.Expectation, name).__wrapped__)
        shipped, shipped_builds = gathered()
    assert tuned == shipped
    assert tuned_builds == 3 * len(expectations)  # one per gathering
    assert shipped_builds > 5 * tuned_builds


def test_the_data_docs_keep_their_compiled_templates_for_the_next_gates(tmp_path: Path) -> None:
    """reewatch.gx_tuning: GX compiles the Data Docs' templates for every build; given a folder (a run's state
    folder) each is compiled once there, and the next gates load it and render the same pages."""
    cache = tmp_path / "templates"
    with loaded_lake(tmp_path / "lake", *HEADLINE) as con:
        run_gate(con, "run-x", tmp_path / "plain", today=TODAY, record=False)
        run_gate(con, "run-x", tmp_path / "cold", today=TODAY, record=False, template_cache=cache)
        compiled = {page.name: page.stat().st_mtime_ns for page in cache.iterdir()}
        run_gate(con, "run-x", tmp_path / "warm", today=TODAY, record=False, template_cache=cache)

    assert len(compiled) >= 10 and all(name.startswith("__jinja2_") for name in compiled), compiled
    assert {page.name: page.stat().st_mtime_ns for page in cache.iterdir()} == compiled  # loaded, none compiled anew

    def rendered(docs: Path) -> dict[str, str]:  # each page, without what differs from build to build
        def same(text: str) -> str:
            text = re.sub(r"\d{8}T\d{6}\.\d{6}Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)
            return re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "<element id>", text)

        return {same(str(page.relative_to(docs))): same(page.read_text()) for page in docs.rglob("*.html")}

    plain = rendered(tmp_path / "plain")
    assert len(plain) >= 1 + 2 * len(CURATED) and rendered(tmp_path / "warm") == plain == rendered(tmp_path / "cold")


def test_the_gx_worker_shares_the_suites_between_two_processes_by_their_expectations(tmp_path: Path) -> None:
    from datetime import datetime

    from reewatch.gx_worker import _halves
    from reewatch.quality import Validation

    suites = {name: bind_suite(suite, TODAY) for name, suite in load_suites().items()}
    mine, theirs = _halves(Validation(suites, "curated", "run-x", datetime(2026, 1, 25), tmp_path)) or (None, None)
    assert mine is not None and theirs is not None
    assert sorted([*mine.suites, *theirs.suites]) == sorted(suites) and not set(mine.suites) & set(theirs.suites)
    weights = [sum(len(s["expectations"]) for s in half.suites.values()) for half in (mine, theirs)]
    biggest = max(len(s["expectations"]) for s in suites.values())
    assert abs(weights[0] - weights[1]) <= biggest  # no better split moves a whole suite across
    one = {"exports_monthly": suites["exports_monthly"]}
    assert _halves(Validation(one, "curated", "run-x", datetime(2026, 1, 25), tmp_path)) is None


def test_a_gx_worker_killed_mid_gate_does_not_leave_its_fork_behind(tmp_path: Path) -> None:
    """The run kills its worker when the gate times out or the run fails: the worker's fork, validating half the
    suites, ends too (its answer meets a broken pipe) instead of living on or carrying on as the worker."""
    import time
    from datetime import datetime

    from reewatch.gx_worker import GxWorker, Request
    from reewatch.quality import Validation

    snapshot = tmp_path / "snapshot.duckdb"
    with loaded_lake(tmp_path / "lake", *HEADLINE, *DETAILED) as con:
        write_snapshot(con, "curated", CURATED, snapshot)
    suites = {name: bind_suite(suite, TODAY) for name, suite in load_suites().items()}
    worker = GxWorker()
    worker.submit(Request(snapshot, Validation(suites, "curated", "run-x", datetime(2026, 1, 25), tmp_path / "d")))
    pid = worker._process.pid

    def children() -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    deadline = time.monotonic() + 60  # GX imports first (seconds), then the fork validates for about half a second
    while not (forks := children()) and worker._process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert forks, "the worker never forked (or answered before it was seen)"
    worker.stop()

    def alive(child: int) -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().split(") ")[1][0] != "Z"  # a zombie has ended
        except OSError:
            return False

    deadline = time.monotonic() + 5
    while alive(forks[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(forks[0])
