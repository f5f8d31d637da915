"""Licence-survey results: published aggregates and respondent microdata (DOMAIN.md §3.4, §5 Surveys).

Files: samples/surveys/ (the reference aggregates, and SYNTHETIC application microdata whose totals are the EU
Chamber's 141 / 19 / 121 / 1) and tests/fixtures/surveys/ (Chinese-header aggregates in GB18030, SYNTHETIC
respondent microdata with the November flash survey's 131 respondents / 75 affected), all written by
scripts/make_survey_samples.py. Workbooks are built here with openpyxl.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import polars as pl
import pytest

from conftest import FIXTURES, SAMPLES, loaded_lake
from reewatch.contracts import CONTRACTS, check_table
from reewatch.contracts.surveys import survey_identity_violations
from reewatch.sources import comtrade, detailed, headline, surveys
from reewatch.sources.base import VINTAGE_RANK, ParsedRelease, UnreadableRelease
from reewatch.surveys_check import survey_mismatch_warnings

AGGREGATES = SAMPLES / "surveys" / "reported_survey_results.csv"
APPLICATIONS = SAMPLES / "surveys" / "euccc_2025_09_licences_applications.csv"
ZH_AGGREGATES = FIXTURES / "surveys" / "reported_survey_results_zh.csv"
RESPONDENTS = FIXTURES / "surveys" / "euccc_2025_11_flash_respondents.csv"
SEPT = "euccc_2025_09_licences"
NOV = "euccc_2025_11_flash"
AMCHAM = "amcham_2025_05_flash"
HEADER = (
    "survey_id,publisher,fieldwork_start,fieldwork_end,as_of,published_on,scope,unit_of_count,metric,value,unit,"
    "source_url"
)
SEPT_FIELDS = "euccc_2025_09_licences,EU Chamber,,2025-09-09,2025-09-09,2025-09-17,licences"
NOV_FIELDS = "euccc_2025_11_flash,EU Chamber,2025-11-06,2025-11-24,2025-11-24,2025-12-01,export controls"
MICRO_META = (
    "# survey_id: euccc_2025_09_licences\n# publisher: EU Chamber\n# fieldwork_start: 2025-08-01\n"
    "# fieldwork_end: 2025-09-09\n# as_of: 2025-09-09\n# published_on: 2025-09-17\n"
)
APPLICATION_HEADER = "respondent_id,application_id,sector,applied_on,status,decided_on"
RESPONDENT_HEADER = "respondent_id,sector,affected,applications,approvals,expected_stoppage_month"


# --- helpers ------------------------------------------------------------------------------------------------------


def _parse(path: Path) -> ParsedRelease:
    return surveys.parse(path.read_bytes(), path.name)


def _text(text: str, name: str = "survey.csv") -> ParsedRelease:
    return surveys.parse(text.encode(), name)


def _aggregate(*lines: str) -> ParsedRelease:
    """A small aggregate CSV: the template header, then one row per line."""
    return _text("\n".join([HEADER, *lines]) + "\n")


def _rows(parsed: ParsedRelease) -> pd.DataFrame:
    return parsed.tables["survey_results"]


def _metrics(parsed: ParsedRelease, survey_id: str) -> dict[str, float]:
    frame = _rows(parsed)
    frame = frame[frame.survey_id == survey_id]
    return {str(metric): float(value) for metric, value in zip(frame.metric, frame.value, strict=True)}


def _violations(parsed: ParsedRelease) -> list[tuple[str, str, str]]:
    _, found = check_table("survey_results", pl.from_pandas(_rows(parsed)))
    return [(v.source_row, v.rule, v.message) for v in found]


def _rejects(parsed: ParsedRelease) -> list[tuple[str, str, str]]:
    return [(r.source_row, r.rule, r.message) for r in parsed.rejects]


def _accounted(parsed: ParsedRelease) -> None:
    """Every microdata row is counted into a metric row's span, or rejected: never both, never neither."""
    rejected = {r.source_row for r in parsed.rejects}
    counted = set()
    for span in set(_rows(parsed).source_row):
        for run in span.removeprefix("lines ").removeprefix("line ").split(", "):
            first, _, last = run.partition("-")
            counted |= {str(n) for n in range(int(first), int(last or first) + 1)}
    assert not counted & rejected
    assert len(counted) + len(rejected) == parsed.rows_in


def _workbook(sheets: dict[str, list[list[Any]]], percent_cells: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    for ref in percent_cells:
        title, _, cell = ref.partition("!")
        book[title][cell].number_format = "0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


# --- detection ----------------------------------------------------------------------------------------------------


def test_survey_files_are_detected_by_content_and_claimed_by_no_other_layout() -> None:
    files = [AGGREGATES, APPLICATIONS, ZH_AGGREGATES, RESPONDENTS]
    for path in files:
        data = path.read_bytes()
        assert surveys.detect(data, "whatever.bin"), path
        assert not any(layout.detect(data, path.name) for layout in (headline, comtrade, detailed)), path
    book = _workbook({"Results": _csv_rows(AGGREGATES)})
    assert surveys.detect(book, "results.dat")
    assert not any(layout.detect(book, "results.xlsx") for layout in (headline, comtrade, detailed))
    for other in (
        SAMPLES / "headline" / "2025-08_major_exports_usd.csv",
        SAMPLES / "detailed" / "2025_magnets_8505111000_cny.csv",
        FIXTURES / "comtrade" / "china_exports_850511_2025.csv",
    ):
        assert not surveys.detect(other.read_bytes()[:65536], other.name), other
    # A header alone is no survey: some other table with a 'value' column.
    assert not surveys.detect(b"series_id,period,value\nx,2025-01,1\n", "x.csv")


def test_vintage_is_registered() -> None:
    assert VINTAGE_RANK["survey"] == 0
    assert CONTRACTS["survey_results"].table == "survey_results"


# --- published aggregates -----------------------------------------------------------------------------------------


def test_english_aggregate_csv_parses_all_three_surveys() -> None:
    parsed = _parse(AGGREGATES)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("survey_aggregate_csv", "survey", 16)
    assert parsed.published_on == date(2025, 12, 1)  # the newest publication in the file
    assert parsed.rejects == [] and parsed.warnings == [] and parsed.observations.empty
    assert _violations(parsed) == []
    assert _metrics(parsed, SEPT) == {
        "applications": 141, "approved": 19, "pending": 121, "rejected": 1, "production_stoppages_2025_08": 7,
        "production_stoppages_expected_2025_09": 46,
    }  # fmt: skip
    rows = _rows(parsed).set_index("source_row")
    first = rows.loc["2"]
    assert (first.survey_id, first.metric, first.unit, first.unit_of_count, first.basis) == (
        SEPT, "applications", "count", "application", "published"
    )  # fmt: skip
    assert pd.isna(first.fieldwork_start)
    assert (first.fieldwork_end, first.as_of, first.published_on) == (
        date(2025, 9, 9), date(2025, 9, 9), date(2025, 9, 17)
    )  # fmt: skip
    assert first.publisher == "European Union Chamber of Commerce in China"
    assert first.source_url == "https://en.ckhq.net/html/6845fc5a2464840bb17d5027f89018b9.html"
    share = rows.loc["10"]
    assert (share.survey_id, share.metric, share.value, share.unit, share.unit_of_count) == (
        NOV, "affected_share", 57.0, "pct", "company"
    )  # fmt: skip
    assert rows.loc["6"].unit_of_count == "company"  # production stoppages count companies, not applications
    amcham = rows.loc["16"]
    assert (amcham.survey_id, amcham.value, amcham.fieldwork_start) == (AMCHAM, 112.0, date(2025, 5, 23))
    assert pd.isna(amcham.published_on)


def test_reference_header_spelling_and_bom_parse_the_same() -> None:
    """reference/reported_survey_results.csv names the column `published`; a BOM changes nothing."""
    english = _rows(_parse(AGGREGATES))
    text = AGGREGATES.read_text(encoding="utf-8").replace(",published_on,", ",published,", 1)
    for data in (text.encode(), b"\xef\xbb\xbf" + AGGREGATES.read_bytes()):
        again = surveys.parse(data, "reference.csv")
        assert again.rejects == []
        pd.testing.assert_frame_equal(_rows(again), english)


def test_chinese_header_gb18030_csv_gives_the_same_figures() -> None:
    parsed = _parse(ZH_AGGREGATES)
    assert (parsed.layout, parsed.rows_in, parsed.rejects) == ("survey_aggregate_csv", 14, [])
    assert _violations(parsed) == []
    english = _parse(AGGREGATES)
    for survey in (SEPT, NOV):
        assert _metrics(parsed, survey) == _metrics(english, survey)
    rows = _rows(parsed).set_index("source_row")
    assert (rows.loc["2"].metric, rows.loc["2"].unit, rows.loc["2"].unit_of_count) == (
        "applications", "count", "application"
    )  # fmt: skip  # 申请数, 个, 申请
    assert (rows.loc["10"].metric, rows.loc["10"].value, rows.loc["10"].unit) == ("affected_share", 57.0, "pct")
    assert rows.loc["8"].unit_of_count == "company"  # 企业
    assert (rows.loc["2"].fieldwork_end, rows.loc["2"].published_on) == (date(2025, 9, 9), date(2025, 9, 17))
    assert rows.loc["2"].publisher == "中国欧盟商会"  # text as published


def test_xlsx_aggregates_with_date_cells_percent_formats_and_a_notes_sheet() -> None:
    rows = _csv_rows(AGGREGATES)
    header, body = rows[0], rows[1:]

    def typed(row: list[str]) -> list[Any]:
        out: list[Any] = list(row)
        for i in range(2, 6):
            out[i] = datetime.fromisoformat(row[i]) if row[i] else None
        out[9] = int(row[9]) / 100 if row[10] == "pct" else int(row[9])
        return out

    eu = [typed(row) for row in body if row[0] != AMCHAM]
    am = [typed(row) for row in body if row[0] == AMCHAM]
    percent = tuple(f"EU Chamber!J{i + 2}" for i, row in enumerate(eu) if row[10] == "pct") + ("AmCham!J3",)
    data = _workbook(
        {"EU Chamber": [header, *eu], "AmCham": [header, *am], "Notes": [["Compiled from press reports"]]},
        percent_cells=percent,
    )
    parsed = surveys.parse(data, "surveys.xlsx")
    assert (parsed.layout, parsed.rows_in, parsed.rejects) == ("survey_aggregate_xlsx", 16, [])
    assert parsed.warnings == ["sheet Notes has no survey header row: not read"]
    assert _violations(parsed) == []
    english = _parse(AGGREGATES)
    for survey in (SEPT, NOV, AMCHAM):
        assert _metrics(parsed, survey) == _metrics(english, survey)
    frame = _rows(parsed).set_index("source_row")
    assert frame.loc["EU Chamber!10"].metric == "affected_share" and frame.loc["EU Chamber!10"].value == 57.0
    assert frame.loc["AmCham!2"].as_of == date(2025, 5, 28)


# --- microdata ----------------------------------------------------------------------------------------------------


def test_application_microdata_aggregates_to_the_published_counts() -> None:
    parsed = _parse(APPLICATIONS)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("survey_microdata_applications_csv", "survey", 141)
    assert parsed.rejects == [] and _violations(parsed) == []
    assert _metrics(parsed, SEPT) == {"applications": 141, "approved": 19, "pending": 121, "rejected": 1}
    frame = _rows(parsed)
    assert set(frame.source_row) == {"lines 10-150"}  # 8 '#' lines, the header, then 141 rows
    assert set(frame.basis) == {"microdata"} and set(frame.unit_of_count) == {"application"}
    first = frame.iloc[0]
    assert (first.publisher, first.fieldwork_end, first.as_of, first.published_on) == (
        "European Union Chamber of Commerce in China", date(2025, 9, 9), date(2025, 9, 9), date(2025, 9, 17)
    )  # fmt: skip
    assert pd.isna(first.fieldwork_start) and first.scope == "rare-earth export licences"
    assert parsed.published_on == date(2025, 9, 17)
    assert parsed.raw_records["10"]["status"] in {"approved", "pending", "rejected"}
    _accounted(parsed)


def test_respondent_microdata_with_survey_columns() -> None:
    parsed = _parse(RESPONDENTS)
    assert (parsed.layout, parsed.rows_in, parsed.rejects) == ("survey_microdata_respondents_csv", 131, [])
    assert _violations(parsed) == []
    rows = _csv_rows(RESPONDENTS)[1:]
    expected_applications = sum(int(row[9]) for row in rows)
    expected_approvals = sum(int(row[10]) for row in rows)
    december = sum(row[11] == "2025-12" for row in rows)
    metrics = _metrics(parsed, NOV)
    assert metrics["respondents"] == 131 and metrics["affected"] == 75
    assert metrics["affected_share"] == 57.3  # 75 / 131, to 0.1
    assert (metrics["applications"], metrics["approved"]) == (expected_applications, expected_approvals)
    assert metrics["production_stoppages_expected_2025_12"] == december > 0
    frame = _rows(parsed).set_index("metric")
    assert frame.loc["respondents"].unit_of_count == "company"
    assert frame.loc["applications"].unit_of_count == "application"  # the sum of each company's applications
    assert frame.loc["affected_share"].unit == "pct"
    assert frame.loc["respondents"].fieldwork_start == date(2025, 11, 6)
    assert set(frame.source_row) == {"lines 2-132"}
    _accounted(parsed)


def test_application_microdata_xlsx_with_meta_rows() -> None:
    body = _csv_rows(APPLICATIONS)[9:]
    meta: list[list[Any]] = [
        ["# survey_id:", SEPT],
        ["# publisher:", "EU Chamber"],
        ["# as_of:", datetime(2025, 9, 9)],
        [],
    ]
    parsed = surveys.parse(_workbook({"Applications": [*meta, _csv_rows(APPLICATIONS)[8], *body]}), "m.xlsx")
    assert (parsed.layout, parsed.rows_in, parsed.rejects) == ("survey_microdata_applications_xlsx", 141, [])
    assert _metrics(parsed, SEPT) == {"applications": 141, "approved": 19, "pending": 121, "rejected": 1}
    frame = _rows(parsed)
    assert set(frame.source_row) == {"Applications!6-146"}
    assert (frame.iloc[0].publisher, frame.iloc[0].as_of) == ("EU Chamber", date(2025, 9, 9))


def test_respondent_microdata_chinese_headers() -> None:
    text = (
        "# 调查编号: euccc_2025_11_flash\n# 截至日期: 2025年11月24日\n"
        "受访者编号,行业,是否受影响,申请数,获批数,预计停产月份\n"
        "A,汽车,是,3,1,2025年12月\nB,机械,否,0,0,\nC,电子,是,2,2,2026-01\n"
    )
    parsed = surveys.parse(text.encode("gb18030"), "zh.csv")
    assert (parsed.layout, parsed.rows_in, parsed.rejects) == ("survey_microdata_respondents_csv", 3, [])
    assert _metrics(parsed, NOV) == {
        "respondents": 3, "affected": 2, "affected_share": 66.7, "applications": 5, "approved": 3,
        "production_stoppages_expected_2025_12": 1, "production_stoppages_expected_2026_01": 1,
    }  # fmt: skip
    assert _rows(parsed).iloc[0].as_of == date(2025, 11, 24)


@pytest.mark.parametrize(
    ("row", "rule", "fragment"),
    [
        ("R1,A9,auto,2025-06-01,withdrawn,", "unknown_status", "status 'withdrawn' is none of approved"),
        (",A9,auto,2025-06-01,pending,", "respondent_id_given", "no respondent_id"),
        ("R1,A9,auto,2025-06-31,pending,", "date_parses", "applied_on '2025-06-31' is not a date"),
        ("R1,A9,auto,2025-06-10,approved,2025-06-01", "decided_after_applied", "decided_on 2025-06-01 is before"),
        ("R1,A9,auto,2025-06-10,pending,2025-07-01", "pending_undecided", "decided_on 2025-07-01 is given"),
        ("R1,A9,auto,2025-09-12,pending,", "dated_by_as_of", "applied_on 2025-09-12 is after the survey's as-of"),
        ("R1,A1,auto,2025-06-10,pending,", "duplicate_application", "application_id A1 is also in row 8"),
        ("R1,A9,auto,2025-06-10,pending,,extra", "row_shape", "past the header's 6 columns"),
    ],
)
def test_bad_application_rows_are_rejected_and_not_counted(row: str, rule: str, fragment: str) -> None:
    good = ["R1,A1,auto,2025-06-01,approved,2025-07-15", "R2,A2,chem,2025-06-02,pending,"]
    parsed = _text(MICRO_META + "\n".join([APPLICATION_HEADER, *good, row]) + "\n")
    assert parsed.rows_in == 3
    ((source_row, found_rule, message),) = _rejects(parsed)
    assert (source_row, found_rule) == ("10", rule)
    assert fragment in message
    assert _metrics(parsed, SEPT) == {"applications": 2, "approved": 1, "pending": 1, "rejected": 0}
    assert set(_rows(parsed).source_row) == {"lines 8-9"}
    assert parsed.raw_records["10"]["respondent_id"] == row.split(",")[0]
    _accounted(parsed)


@pytest.mark.parametrize(
    ("row", "rule", "fragment"),
    [
        ("R9,auto,maybe,1,0,", "unknown_affected", "affected 'maybe' is neither yes nor no"),
        ("R9,auto,yes,1.5,0,", "count_parses", "applications '1.5' is not a whole number"),
        ("R9,auto,yes,-1,0,", "count_parses", "applications '-1' is not a whole number"),
        ("R9,auto,yes,1,2,", "approved_within_applications", "respondent R9: approvals 2 exceed applications 1"),
        ("R9,auto,yes,,1,", "approved_within_applications", "approvals 1 exceed applications (not given)"),
        ("R1,auto,yes,1,0,", "duplicate_respondent", "respondent_id R1 is also in row 8"),
        ("R9,auto,yes,1,0,next spring", "month_parses", "expected_stoppage_month 'next spring' is not a month"),
    ],
)
def test_bad_respondent_rows_are_rejected_and_not_counted(row: str, rule: str, fragment: str) -> None:
    good = ["R1,auto,yes,2,1,2025-10", "R2,chem,no,0,0,"]
    parsed = _text(MICRO_META + "\n".join([RESPONDENT_HEADER, *good, row]) + "\n")
    ((source_row, found_rule, message),) = _rejects(parsed)
    assert (source_row, found_rule) == ("10", rule)
    assert fragment in message
    assert _metrics(parsed, SEPT) == {
        "respondents": 2, "affected": 1, "affected_share": 50.0, "applications": 2, "approved": 1,
        "production_stoppages_expected_2025_10": 1,
    }  # fmt: skip
    _accounted(parsed)


def test_microdata_needs_a_survey_id_and_agreeing_survey_fields() -> None:
    no_id = _text("\n".join([APPLICATION_HEADER, "R1,A1,auto,2025-06-01,pending,"]) + "\n")
    assert _rejects(no_id)[0][1:] == (
        "survey_id_given",
        "no survey_id: give a '# survey_id: …' line above the header or a survey_id column",
    )
    assert _rows(no_id).empty and no_id.rows_in == 1
    columns = "survey_id,as_of,respondent_id,status\n"
    parsed = _text(columns + "s1,2025-09-09,R1,pending\ns1,2025-09-10,R2,pending\ns2,2025-10-01,R3,approved\n")
    assert _rejects(parsed) == [
        ("3", "survey_fields_agree", "survey s1: as_of 2025-09-10 here, but 2025-09-09 in row 2")
    ]
    assert _metrics(parsed, "s1")["applications"] == 1 and _metrics(parsed, "s2")["approved"] == 1


def test_microdata_survey_breaking_the_contract_quarantines_every_counted_row() -> None:
    """as_of before fieldwork_end is a property of the survey: none of its rows can be loaded."""
    meta = MICRO_META.replace("# as_of: 2025-09-09", "# as_of: 2025-09-01")
    rows = ["R1,A1,auto,2025-06-01,approved,2025-07-15", "R2,A2,chem,2025-06-02,pending,"]
    parsed = _text(meta + "\n".join([APPLICATION_HEADER, *rows]) + "\n")
    assert _rows(parsed).empty
    rejects = _rejects(parsed)
    assert {(row, rule) for row, rule, _ in rejects} == {("8", "dates_in_order"), ("9", "dates_in_order")}
    assert "fieldwork_end 2025-09-09 is after as_of 2025-09-01" in rejects[0][2]
    assert "none of the survey's 2 counted rows is loaded" in rejects[0][2]


def test_broken_date_in_a_meta_line_rejects_each_row_by_name() -> None:
    parsed = _text(MICRO_META.replace("2025-09-17", "17/09/2025") + APPLICATION_HEADER + "\nR1,A1,x,,pending,\n")
    assert _rejects(parsed) == [("8", "date_parses", "published_on '17/09/2025' ('#' line) is not a date (YYYY-MM-DD)")]


def test_a_file_with_no_survey_table_is_unreadable() -> None:
    with pytest.raises(UnreadableRelease, match="no survey table"):
        _text("a,b\n1,2\n")


# --- contract rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule", "fragment"),
    [
        (",EU,,2025-09-09,2025-09-09,2025-09-17,s,application,applications,141,count,", "survey_id_given",
         "no survey_id for metric 'applications'"),
        (f"{SEPT_FIELDS},application,,141,count,", "metric_given",
         f"survey {SEPT}: a value 141.0 count with no metric name"),
        (f"{SEPT_FIELDS},application,applications,,count,", "value_given", f"survey {SEPT} metric applications: no value"),
        (f"{SEPT_FIELDS},application,applications,141,tonnes,", "unit_known", "unit 'tonnes' is not one of count, pct"),
        (f"{NOV_FIELDS},company,affected_share,157,pct,", "pct_within_0_100",
         f"survey {NOV} metric affected_share = 157 pct is outside 0–100%"),
        (f"{NOV_FIELDS},company,affected_share,-3,pct,", "pct_within_0_100", "= -3 pct is outside 0–100%"),
        (f"{SEPT_FIELDS},application,applications,-141,count,", "count_non_negative",
         "metric applications = -141 count: a count cannot be negative"),
        (f"{SEPT_FIELDS},application,applications,141.5,count,", "count_integral",
         "metric applications = 141.5 count: a count must be a whole number"),
        (f"{SEPT_FIELDS},applicants,applications,141,count,", "unit_of_count_known",
         "unit_of_count 'applicants' is not application or company"),
        (f"{SEPT_FIELDS},,applications,141,count,", "unit_of_count_known", "unit_of_count None is not application"),
        ("s,EU,2025-09-10,2025-09-09,2025-09-09,2025-09-17,x,company,respondents,10,count,", "dates_in_order",
         "survey s: fieldwork_start 2025-09-10 is after fieldwork_end 2025-09-09"),
        ("s,EU,,2025-09-09,2025-09-08,2025-09-17,x,company,respondents,10,count,", "dates_in_order",
         "fieldwork_end 2025-09-09 is after as_of 2025-09-08"),
        ("s,EU,,,2025-09-20,2025-09-17,x,company,respondents,10,count,", "dates_in_order",
         "as_of 2025-09-20 is after published_on 2025-09-17"),
        ("s,EU,2025-09-20,,,2025-09-17,x,company,respondents,10,count,", "dates_in_order",
         "fieldwork_start 2025-09-20 is after published_on 2025-09-17"),
    ],
)  # fmt: skip
def test_each_contract_rule_quarantines_a_breaking_row(line: str, rule: str, fragment: str) -> None:
    good = f"{NOV_FIELDS},company,respondents,131,count,"
    parsed = _aggregate(good, line)
    assert parsed.rejects == []
    violations = _violations(parsed)
    assert [(row, found) for row, found, _ in violations] == [("3", rule)], violations
    assert fragment in violations[0][2]


def test_contract_allows_missing_dates_and_checks_basis() -> None:
    parsed = _aggregate("s,EU,,,,,x,company,respondents,10,count,")
    assert _violations(parsed) == []
    frame = pl.from_pandas(_rows(parsed)).with_columns(basis=pl.lit("guessed"))
    passed, found = check_table("survey_results", frame)
    assert passed.is_empty()
    assert [(v.source_row, v.rule, v.message) for v in found] == [
        ("2", "basis_known", "survey s metric respondents: basis 'guessed' is not published or microdata")
    ]


@pytest.mark.parametrize(
    ("line", "rule", "fragment"),
    [
        (f"{SEPT_FIELDS},application,applications,about 140,count,", "value_parses",
         "value 'about 140' of metric applications is not a number"),
        ("s,EU,,Sept 2025,,,x,company,respondents,10,count,", "date_parses",
         "fieldwork_end 'Sept 2025' (column) is not a date"),
        (f"{SEPT_FIELDS},application,applications,141,count,,surplus", "row_shape", "past the header's 12 columns"),
        (f"{SEPT_FIELDS},application,approved,20,count,", "duplicate_metric",
         f"survey {SEPT} metric approved given twice: 19 in row 3 and 20 here"),
        (f"{SEPT},EU Chamber,,2025-09-09,2025-09-09,2025-09-18,licences,company,respondents,60,count,",
         "survey_fields_agree",
         f"survey {SEPT}: published_on 2025-09-18 here, but 2025-09-17 in row 2"),
    ],
)  # fmt: skip
def test_parser_rules_reject_rows_naming_the_text(line: str, rule: str, fragment: str) -> None:
    sept = [
        f"{SEPT_FIELDS},application,{metric},{value},count,"
        for metric, value in (("applications", 141), ("approved", 19), ("pending", 121), ("rejected", 1))
    ]
    parsed = _aggregate(*sept, line)
    ((source_row, found_rule, message),) = _rejects(parsed)
    assert (source_row, found_rule) == ("6", rule)
    assert fragment in message
    assert parsed.rows_in == 5 and len(_rows(parsed)) == 4
    assert _metrics(parsed, SEPT) == {"applications": 141, "approved": 19, "pending": 121, "rejected": 1}


# --- identities across a survey's rows ----------------------------------------------------------------------------


def _sept(applications: int, approved: int, pending: int, rejected: int) -> list[str]:
    return [
        f"{SEPT_FIELDS},application,{metric},{value},count,"
        for metric, value in (
            ("applications", applications), ("approved", approved), ("pending", pending), ("rejected", rejected)
        )
    ]  # fmt: skip


def test_parts_must_sum_to_applications() -> None:
    parsed = _aggregate(*_sept(141, 19, 121, 2), f"{NOV_FIELDS},company,respondents,131,count,")
    rejects = _rejects(parsed)
    assert {(row, rule) for row, rule, _ in rejects} == {(str(n), "parts_sum_to_applications") for n in range(2, 6)}
    assert rejects[0][2] == (
        f"survey {SEPT}: approved 19 + pending 121 + rejected 2 = 142, not applications 141 (published)"
    )
    assert list(_rows(parsed).survey_id) == [NOV]  # the other survey loads


def test_approved_must_not_exceed_applications() -> None:
    parsed = _aggregate(
        f"{SEPT_FIELDS},application,applications,141,count,", f"{SEPT_FIELDS},application,approved,150,count,"
    )
    assert _rejects(parsed) == [
        ("2", "approved_within_applications", f"survey {SEPT}: approved 150 exceeds applications 141 (published)"),
        ("3", "approved_within_applications", f"survey {SEPT}: approved 150 exceeds applications 141 (published)"),
    ]
    assert _rows(parsed).empty and parsed.rows_in == 2


def test_approved_above_applications_breaks_both_identities_when_all_parts_are_given() -> None:
    parsed = _aggregate(*_sept(141, 150, 121, 1))
    rules = {rule for _, rule, _ in _rejects(parsed)}
    assert rules == {"approved_within_applications", "parts_sum_to_applications"}


def test_affected_must_not_exceed_respondents() -> None:
    parsed = _aggregate(
        f"{NOV_FIELDS},company,respondents,131,count,",
        f"{NOV_FIELDS},company,affected,140,count,",
        f"{NOV_FIELDS},company,affected_share,57,pct,",
    )
    message = f"survey {NOV}: affected 140 exceeds respondents 131 (published)"
    assert _rejects(parsed) == [
        ("3", "affected_within_respondents", message),
        ("2", "affected_within_respondents", message),
    ]
    assert list(_rows(parsed).metric) == ["affected_share"]


def test_counts_an_identity_relates_must_count_the_same_thing() -> None:
    # The "19 of 141" trap: 141 companies against 19 approved applications is no ratio. Both identities' rows are
    # quarantined, named, rather than compared (the respondents' and affected counts here would hold as numbers).
    parsed = _aggregate(
        f"{SEPT_FIELDS},company,applications,141,count,",
        f"{SEPT_FIELDS},application,approved,19,count,",
        f"{NOV_FIELDS},company,respondents,131,count,",
        f"{NOV_FIELDS},application,affected,75,count,",
        f"{NOV_FIELDS},company,affected_share,57,pct,",
    )
    assert _rejects(parsed) == [
        ("2", "one_unit_of_count", f"survey {SEPT}: applications counts companies, approved counts applications: no "
                                   "identity or ratio holds across units of count (published)"),
        ("3", "one_unit_of_count", f"survey {SEPT}: applications counts companies, approved counts applications: no "
                                   "identity or ratio holds across units of count (published)"),
        ("4", "one_unit_of_count", f"survey {NOV}: respondents counts companies, affected counts applications: no "
                                   "identity or ratio holds across units of count (published)"),
        ("5", "one_unit_of_count", f"survey {NOV}: respondents counts companies, affected counts applications: no "
                                   "identity or ratio holds across units of count (published)"),
    ]  # fmt: skip
    assert list(_rows(parsed).metric) == ["affected_share"]


def test_identities_hold_for_the_reference_figures_and_skip_rows_the_contract_rejects() -> None:
    assert survey_identity_violations(pl.from_pandas(_rows(_parse(AGGREGATES))).to_dicts()) == []
    # approved -5 breaks count_non_negative: the contract quarantines it, the identities do not pile on.
    parsed = _aggregate(*_sept(141, -5, 121, 1))
    assert parsed.rejects == []
    assert [(row, rule) for row, rule, _ in _violations(parsed)] == [("3", "count_non_negative")]


# --- in the warehouse ---------------------------------------------------------------------------------------------


def _microdata_without_one_pending(tmp_path: Path) -> Path:
    lines = APPLICATIONS.read_text(encoding="utf-8").splitlines()
    dropped = next(i for i, line in enumerate(lines) if line.endswith(",pending,"))
    path = tmp_path / "applications_140.csv"
    path.write_text("\n".join(lines[:dropped] + lines[dropped + 1 :]) + "\n", encoding="utf-8")
    return path


def _licence_survey(con: Any, survey_id: str) -> tuple[Any, ...]:
    row = con.execute(
        "SELECT applications, approved, pending, rejected, approval_rate_pct, unit_of_count, basis "
        "FROM curated.licence_surveys WHERE survey_id = ?",
        [survey_id],
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_licence_surveys_from_published_aggregates(tmp_path: Path) -> None:
    with loaded_lake(tmp_path / "lake", AGGREGATES, APPLICATIONS, RESPONDENTS) as con:
        assert _licence_survey(con, SEPT) == (141, 19, 121, 1, 13.5, "application", "published")
        sept = con.execute(
            "SELECT publisher, fieldwork_start, fieldwork_end, as_of, published_on, source_url "
            "FROM curated.licence_surveys WHERE survey_id = ?",
            [SEPT],
        ).fetchone()
        assert sept == (
            "European Union Chamber of Commerce in China", None, date(2025, 9, 9), date(2025, 9, 9),
            date(2025, 9, 17), "https://en.ckhq.net/html/6845fc5a2464840bb17d5027f89018b9.html",
        )  # fmt: skip
        # No published application counts for the November flash: the respondent microdata fill in.
        assert _licence_survey(con, NOV)[:2] == (137, 59)
        assert _licence_survey(con, NOV)[2:] == (None, None, 43.1, "application", "microdata")
        assert _licence_survey(con, AMCHAM) == (None, None, None, None, None, "company", None)
        metrics = {
            (metric, basis): value
            for metric, basis, value in con.execute(
                "SELECT metric, basis, value FROM curated.survey_metrics WHERE survey_id = ?", [NOV]
            ).fetchall()
        }
        assert metrics[("respondents", "published")] == 131
        assert metrics[("affected_share", "published")] == 57  # not the microdata's 57.3
        assert metrics[("applications", "microdata")] == 137
        assert con.execute("SELECT count(*) FROM curated.survey_metrics").fetchone() == (
            20,
        )  # 16 published, 4 from microdata only
        releases = con.execute(
            "SELECT layout, rows_in, rows_loaded, rows_quarantined, status FROM releases ORDER BY layout"
        ).fetchall()
        assert releases == [
            ("survey_aggregate_csv", 16, 16, 0, "loaded"),
            ("survey_microdata_applications_csv", 141, 141, 0, "loaded"),
            ("survey_microdata_respondents_csv", 131, 131, 0, "loaded"),
        ]
        # The synthetic microdata agree with the published figures (57.3% vs 57%: within rounding).
        assert survey_mismatch_warnings(con) == []


def test_microdata_alone_fill_licence_surveys(tmp_path: Path) -> None:
    with loaded_lake(tmp_path / "lake", APPLICATIONS) as con:
        assert _licence_survey(con, SEPT) == (141, 19, 121, 1, 13.5, "application", "microdata")


def test_microdata_disagreeing_with_the_published_aggregate_is_a_warning_naming_both(tmp_path: Path) -> None:
    micro = _microdata_without_one_pending(tmp_path)
    with loaded_lake(tmp_path / "lake", AGGREGATES, micro) as con:
        assert _licence_survey(con, SEPT)[:5] == (141, 19, 121, 1, 13.5)  # the published figures stand
        micro_id = con.execute("SELECT release_id FROM releases WHERE file_name = ?", [micro.name]).fetchone()
        warnings = survey_mismatch_warnings(con)
    assert [(release, rule) for release, rule, _ in warnings] == [
        (micro_id[0] if micro_id else None, "survey_microdata_mismatch")
    ] * 2
    messages = [message for _, _, message in warnings]
    assert messages[0].startswith(
        f"survey {SEPT} metric applications: published 141 (reported_survey_results.csv row 2), "
        "but the microdata give 140 (applications_140.csv lines 10-149): off by -1"
    )
    assert f"survey {SEPT} metric pending: published 121" in messages[1] and "give 120" in messages[1]


def test_a_later_file_republishing_a_survey_wins(tmp_path: Path) -> None:
    correction = tmp_path / "correction.csv"
    fields = SEPT_FIELDS.replace("2025-09-17", "2025-09-20")
    correction.write_text(
        "\n".join([HEADER, *(line.replace(SEPT_FIELDS, fields) for line in _sept(141, 20, 120, 1))]) + "\n",
        encoding="utf-8",
    )
    with loaded_lake(tmp_path / "lake", AGGREGATES, correction) as con:
        assert _licence_survey(con, SEPT)[:5] == (141, 20, 120, 1, 14.2)
        published = con.execute("SELECT published_on FROM curated.licence_surveys WHERE survey_id = ?", [SEPT])
        assert published.fetchone() == (date(2025, 9, 20),)


def test_quarantined_survey_rows_are_accounted_in_the_warehouse(tmp_path: Path) -> None:
    bad = tmp_path / "bad_surveys.csv"
    bad.write_text(
        "\n".join([HEADER, *_sept(141, 19, 121, 2), f"{NOV_FIELDS},company,affected_share,157,pct,"]) + "\n",
        encoding="utf-8",
    )
    with loaded_lake(tmp_path / "lake", bad) as con:
        assert con.execute("SELECT rows_in, rows_loaded, rows_quarantined, status FROM releases").fetchone() == (
            5, 0, 5, "quarantined"
        )  # fmt: skip
        rules = con.execute("SELECT source_row, rule FROM quarantined_rows ORDER BY source_row").fetchall()
        assert rules == [(str(n), "parts_sum_to_applications") for n in range(2, 6)] + [("6", "pct_within_0_100")]
        assert con.execute("SELECT count(*) FROM survey_results").fetchone() == (0,)
