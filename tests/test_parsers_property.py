"""Property-based tests of every parser: any bytes give a parse or a clean `UnreadableRelease`, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, SAMPLES
from reewatch.sources import LAYOUTS, parse_release
from reewatch.sources.base import ParsedRelease, UnreadableRelease

# Real files as seeds, per layout (every module of LAYOUTS has some): mutations of them reach deep into each
# parser, random bytes alone rarely would. Workbooks are seeds too: a mutated zip or OLE2 file is a damaged one.
SEEDS_BY_LAYOUT: dict[str, list[bytes]] = {
    "headline": [
        (SAMPLES / "headline" / "2025-08_major_exports_usd.csv").read_bytes(),
        (FIXTURES / "headline" / "zh_preliminary_2025-06_gb18030.csv").read_bytes(),
        (FIXTURES / "headline" / "en_bulletin_2025-07_usd.xlsx").read_bytes(),
        (FIXTURES / "headline" / "zh_bulletin_2025-08_cny.xls").read_bytes(),
    ],
    "comtrade": [
        (FIXTURES / "comtrade" / "china_exports_850511_2025.csv").read_bytes()[:3000],
        (FIXTURES / "comtrade" / "china_exports_2805_2846.json").read_bytes()[:3000],
        (FIXTURES / "hostile" / "comtrade_hostile_records.json").read_bytes(),
    ],
    "detailed": [
        (SAMPLES / "detailed" / "2025_magnets_8505111000_usd.csv").read_bytes()[:3000],
        (FIXTURES / "detailed" / "en_magnets_2025-07_usd_gb18030.csv").read_bytes(),
    ],
    "surveys": [
        (SAMPLES / "surveys" / "reported_survey_results.csv").read_bytes(),
        (SAMPLES / "surveys" / "euccc_2025_09_licences_applications.csv").read_bytes()[:3000],
    ],
    "usgs": [
        (SAMPLES / "usgs" / "usgs_mcs_rare_earths.csv").read_bytes(),
        (SAMPLES / "usgs" / "mcs2025_rare_earths_world_mine_production.csv").read_bytes(),
    ],
    "press": [(SAMPLES / "press" / "reported_export_figures.csv").read_bytes()[:3000]],
}
SEEDS = [seed for seeds in SEEDS_BY_LAYOUT.values() for seed in seeds]


def _name(layout: object) -> str:
    return str(layout.__name__).rsplit(".", 1)[-1]  # type: ignore[attr-defined]


def test_every_layout_has_seeds() -> None:
    assert sorted(SEEDS_BY_LAYOUT) == sorted(_name(layout) for layout in LAYOUTS)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes] = SEEDS) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[where : where + draw(st.integers(1, 200))]
        else:
            data[where:where] = draw(st.binary(max_size=40))
    return bytes(data)


def _parse_all(data: bytes) -> None:
    """What the loader does with a file; UnreadableRelease (whenever it comes) is the clean failure."""
    try:
        _consume(parse_release(data, "fuzz.csv"))
    except UnreadableRelease:
        return


def _consume(parsed: ParsedRelease) -> None:
    try:
        for _ in parsed.batches():  # streaming layouts do their work here
            pass
        parsed.raw_records_for({"2", "3"})  # the quarantine's look-up of raw rows
    finally:
        parsed.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_files_parse_or_fail_cleanly(data: bytes) -> None:
    _parse_all(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    _parse_all(data)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=1500))
def test_each_layout_detect_never_raises(layout: object, data: bytes) -> None:
    assert layout.detect(data, "fuzz.csv") in (True, False)  # type: ignore[attr-defined]


@pytest.mark.parametrize("layout", LAYOUTS, ids=_name)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_parser_on_its_own_mutated_files(layout: object, data: st.DataObject) -> None:
    """Each parser called directly, whatever its detect says: damaged files of its own layout."""
    content = data.draw(mutated(SEEDS_BY_LAYOUT[_name(layout)]))
    try:
        _consume(layout.parse(content, "fuzz.csv"))  # type: ignore[attr-defined]
    except UnreadableRelease:
        return
