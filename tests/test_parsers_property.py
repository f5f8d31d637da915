"""Property-based tests of every parser: any bytes give a parse or a clean `UnreadableRelease`, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from reewatch.sources import LAYOUTS, parse_release
from reewatch.sources.base import UnreadableRelease

# Real files as seeds: mutations of them reach deep into each parser, random bytes alone rarely would.
SEEDS = [
    (SAMPLES / "headline" / "2025-08_major_exports_usd.csv").read_bytes(),
    (SAMPLES / "detailed" / "2025_magnets_8505111000_usd.csv").read_bytes()[:3000],
    (SAMPLES / "surveys" / "reported_survey_results.csv").read_bytes(),
    (SAMPLES / "usgs" / "usgs_mcs_rare_earths.csv").read_bytes(),
    (SAMPLES / "press" / "reported_export_figures.csv").read_bytes()[:3000],
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
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
        parsed = parse_release(data, "fuzz.csv")
        try:
            for _ in parsed.batches():  # streaming layouts do their work here
                pass
        finally:
            parsed.close()
    except UnreadableRelease:
        return


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
