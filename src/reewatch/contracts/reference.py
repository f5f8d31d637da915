"""Contracts for reference statistics (`usgs_figures`, DOMAIN.md §3.5) and press claims (`press_claims`).

Row rules only: each failing row comes back with a message naming its values. The one cross-row rule — a
country's figure within the world row of the same edition and year — needs the whole file and is checked by the
USGS parser (rule `country_within_world`).
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from reewatch.contracts import register
from reewatch.contracts.base import MAX_MAGNITUDE, PARTNER_PATTERN, RowRule, TableContract, within_magnitude

EDITION_PATTERN = r"^MCS\d{4}$"
FIRST_YEAR, LAST_YEAR = 1990, 2100
CLAIM_BASES = ("month", "ytd", "year")
_MONTH_PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
_YEAR_PERIOD = r"^\d{4}$"


def _edition_ok() -> pl.Expr:
    return pl.col("edition").str.contains(EDITION_PATTERN)


def _edition_year() -> pl.Expr:
    return pl.col("edition").str.slice(3).cast(pl.Int64, strict=False)


def _non_negative(column: str) -> pl.Expr:
    return ~(pl.col(column).is_nan() | (pl.col(column) < 0)).fill_null(False)


def _tonnes(row: dict[str, object], column: str) -> str:
    value = row[column]
    return f"{value:,.0f}" if isinstance(value, float) else repr(value)


USGS_FIGURES = TableContract(
    table="usgs_figures",
    columns={
        "source_row": pa.Column(str),
        "edition": pa.Column(str),
        "country": pa.Column(str),
        "year": pa.Column(pl.Int64),
        "mine_production_t_reo": pa.Column(pl.Float64, nullable=True),
        "reserves_t_reo": pa.Column(pl.Float64, nullable=True),
        "note": pa.Column(str, nullable=True),
        "source": pa.Column(str, nullable=True),
    },
    rules=(
        RowRule(
            "edition_format",
            _edition_ok,
            lambda r: f"edition {r['edition']!r} is not written MCS<year> (e.g. MCS2025)",
        ),
        RowRule(
            "country_named",
            lambda: pl.col("country").str.strip_chars().str.len_chars() > 0,
            lambda r: "the row names no country",
        ),
        RowRule(
            "year_plausible",
            lambda: pl.col("year").is_between(FIRST_YEAR, LAST_YEAR),
            lambda r: f"year {r['year']} is outside {FIRST_YEAR}–{LAST_YEAR}",
        ),
        RowRule(
            # An edition reports the years before it (MCS 2025: 2023 and 2024e), never later ones.
            "year_within_edition",
            lambda: ~(_edition_ok() & (pl.col("year") > _edition_year())).fill_null(False),
            lambda r: f"{r['edition']} cannot report year {r['year']}: an edition covers earlier years",
        ),
        RowRule(
            "production_non_negative",
            lambda: _non_negative("mine_production_t_reo"),
            lambda r: f"{r['country']} {r['year']} mine production is negative: {_tonnes(r, 'mine_production_t_reo')}",
        ),
        RowRule(
            "reserves_non_negative",
            lambda: _non_negative("reserves_t_reo"),
            lambda r: f"{r['country']} {r['year']} reserves are negative: {_tonnes(r, 'reserves_t_reo')}",
        ),
        RowRule(
            "plausible_magnitude",
            lambda: within_magnitude("mine_production_t_reo") & within_magnitude("reserves_t_reo"),
            lambda r: (
                f"{r['country']} {r['year']}: production {_tonnes(r, 'mine_production_t_reo')} t or reserves "
                f"{_tonnes(r, 'reserves_t_reo')} t is beyond {MAX_MAGNITUDE:.0e}"
            ),
        ),
    ),
)


def _period_matches_basis() -> pl.Expr:
    month_like = pl.col("basis").is_in(["month", "ytd"])
    return (
        pl.when(month_like)
        .then(pl.col("period").str.contains(_MONTH_PERIOD))
        .when(pl.col("basis") == "year")
        .then(pl.col("period").str.contains(_YEAR_PERIOD))
        .otherwise(True)  # an unknown basis is reported by basis_known
    )


def _period_not_in_future() -> pl.Expr:
    today = date.today()
    latest = pl.when(pl.col("basis") == "year").then(pl.lit(str(today.year))).otherwise(pl.lit(f"{today:%Y-%m}"))
    return ~(pl.col("period") > latest).fill_null(False)  # text compare: YYYY-MM and YYYY sort as dates do


def _value_positive() -> pl.Expr:
    value = pl.col("value")
    return (value.is_not_null() & value.is_finite() & (value > 0)).fill_null(False)


def _period_message(row: dict[str, object]) -> str:
    wanted = "YYYY" if row["basis"] == "year" else "YYYY-MM"
    return f"period {row['period']!r} of a {row['basis']} figure is not written {wanted}"


PRESS_CLAIMS = TableContract(
    table="press_claims",
    columns={
        "source_row": pa.Column(str),
        "series_id": pa.Column(str),
        "period": pa.Column(str),
        "basis": pa.Column(str),
        "partner": pa.Column(str),
        "value": pa.Column(pl.Float64, nullable=True),  # null: rule value_positive
        "unit": pa.Column(str, nullable=True),
        "outlet": pa.Column(str, nullable=True),
        "source_url": pa.Column(str, nullable=True),
    },
    rules=(
        RowRule(
            "series_named",
            lambda: pl.col("series_id").str.strip_chars().str.len_chars() > 0,
            lambda r: "the claim names no series_id",
        ),
        RowRule(
            "basis_known",
            lambda: pl.col("basis").is_in(CLAIM_BASES),
            lambda r: f"basis {r['basis']!r} is not one of {', '.join(CLAIM_BASES)}",
        ),
        RowRule("period_format", _period_matches_basis, _period_message),
        RowRule(
            "period_not_in_future",
            _period_not_in_future,
            lambda r: f"period {r['period']} lies in the future: no figure can have been reported for it yet",
        ),
        RowRule(
            "partner_code",
            lambda: pl.col("partner").str.contains(PARTNER_PATTERN),
            lambda r: f"partner {r['partner']!r} is neither an ISO 3166-1 alpha-2 code nor WORLD",
        ),
        RowRule(
            "value_positive",
            _value_positive,
            lambda r: f"value {r['value']!r} is not a positive number of tonnes",
        ),
        RowRule(
            "plausible_magnitude",
            lambda: within_magnitude("value"),
            lambda r: f"value {r['value']:.3g} t is beyond {MAX_MAGNITUDE:.0e}: no claim is that large",
        ),
        RowRule(
            "unit_is_tonnes",
            lambda: (pl.col("unit") == "t").fill_null(False),
            lambda r: f"unit {r['unit']!r} is not a mass unit reewatch converts to tonnes (t, kg, 万吨 …)",
        ),
    ),
)

register(USGS_FIGURES)
register(PRESS_CLAIMS)
