"""Generate a realistic GACC detailed query export (DOMAIN.md §3.2), deterministic by seed.

The columns of DOMAIN.md §3.2 with GACC's Chinese titles; one row per month × 10-digit HS code × partner × trade
mode (that key is unique, as in a real export); quantities in kilograms; one file in yuan (人民币) and one in US
dollars (美元) over the same rows. The shape, and why it matters for a benchmark:

- Trade relationships: each (code, partner, trade mode) is drawn once with a probability skewed towards big
  codes, big partners (US, Hong Kong, Japan, Korea, Vietnam …) and general trade, so a bigger file covers more of
  the long tail, as a bigger query does. Each month lists a random subset (about 80 %) of these relationships.
- Sizes: each code has a monthly world total in tonnes (rare-earth magnets 8505111000 ≈ 2,900–5,300 t a month,
  rising over the years, a February dip; DOMAIN.md §5) split over that month's rows with skewed, log-normal shares,
  so the totals are realistic at any row count and the quality gate's ranges hold (magnets 40–60 USD/kg).
- CNY = USD × the year's average exchange rate.
- Every random draw is DuckDB's hash of one distinct 64-bit number, so draws are independent (the hash of several
  arguments is not: its outputs correlate) and the same seed gives the same bytes. DuckDB writes the rows, so ten
  million take seconds.

    .venv/bin/python benchmarks/generate.py --rows 10000000 --out benchmarks/data
    .venv/bin/python benchmarks/generate.py --rows 50000 --months 1 --start 2026-01   # one monthly release
"""

from __future__ import annotations

import argparse
import gettext
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the heavy imports wait for generate(): run.py reads the stamp helpers without them
    import duckdb
    import numpy as np

# Real codes first: the rare-earth lines the project follows, then common manufactures and bulk goods, each with a
# plausible monthly world export in tonnes and a unit value in USD/kg.
HS_CODES = [
    ("8505111000", "稀土永磁体", 4_800, 50), ("2805301100", "钕", 40, 60), ("2846901100", "氧化镨", 60, 55),
    ("2846901900", "其他稀土氧化物", 300, 8), ("2846101000", "氧化铈", 600, 2),
    ("8541430000", "光伏电池组件", 250_000, 2), ("8507600090", "锂离子蓄电池", 150_000, 15),
    ("8703800090", "纯电动乘用车", 150_000, 15), ("8471300000", "便携式计算机", 30_000, 80),
    ("8517130000", "智能手机", 15_000, 400), ("7208510000", "热轧钢板", 500_000, 0.7),
    ("7606129000", "铝合金板", 150_000, 3.5), ("3102100010", "尿素", 300_000, 0.35), ("6204620000", "女裤", 20_000, 20),
    ("9403600000", "木家具", 150_000, 3), ("8418102000", "冷藏箱", 80_000, 4), ("8528720000", "彩色电视机", 60_000, 6),
    ("8415101000", "空调", 100_000, 5), ("6402999000", "鞋靴", 40_000, 10), ("9503008900", "玩具", 100_000, 8),
]  # fmt: skip
# The long tail: codes under these chapters (their first two digits), named after the chapter.
CHAPTERS = {
    3: "水产品", 8: "水果及坚果", 15: "动植物油脂", 25: "盐、硫磺、土及石料", 27: "矿物燃料", 28: "无机化学品",
    29: "有机化学品", 30: "药品", 32: "染料及涂料", 34: "洗涤剂", 38: "杂项化学产品", 39: "塑料及其制品",
    40: "橡胶及其制品", 42: "皮革制品及箱包", 44: "木及木制品", 48: "纸及纸板", 52: "棉花", 54: "化学纤维长丝",
    55: "化学纤维短纤", 60: "针织物", 61: "针织服装", 62: "非针织服装", 63: "纺织制成品", 64: "鞋靴", 69: "陶瓷产品",
    70: "玻璃及其制品", 72: "钢铁", 73: "钢铁制品", 74: "铜及其制品", 76: "铝及其制品", 81: "其他贱金属", 82: "工具",
    83: "贱金属杂项制品", 84: "机械器具", 85: "电机电气设备", 87: "车辆及其零件", 89: "船舶", 90: "光学及医疗仪器",
    94: "家具及灯具", 95: "玩具及运动用品", 96: "杂项制品",
}  # fmt: skip
TAIL_CODES = 3_000
TRADE_MODES = [("一般贸易", 0.62), ("进料加工贸易", 0.22), ("来料加工装配贸易", 0.04), ("保税监管场所进出境货物", 0.07),
               ("海关特殊监管区域物流货物", 0.05)]  # fmt: skip
HEADER = ["数据年月", "商品编码", "商品名称", "贸易伙伴编码", "贸易伙伴名称", "贸易方式", "第一数量", "第一计量单位",
          "第二数量", "第二计量单位"]  # fmt: skip
GACC_NAMES = {"KR": "韩国", "TW": "中国台湾", "HK": "中国香港", "RU": "俄罗斯联邦", "VN": "越南", "US": "美国"}
BIG_PARTNERS = ["US", "HK", "JP", "KR", "VN", "DE", "IN", "NL", "GB", "TW", "MX", "TH", "MY", "RU", "AU"]
# Yearly average CNY per USD; later years repeat the last.
CNY_PER_USD = {2016: 6.64, 2017: 6.75, 2018: 6.62, 2019: 6.91, 2020: 6.90, 2021: 6.45, 2022: 6.73, 2023: 7.08,
               2024: 7.19, 2025: 7.18}  # fmt: skip
SHARE_OF_RELATIONSHIPS_PER_MONTH = 0.8
# Raise when the output changes for the same arguments: run.py regenerates files whose stamp differs.
VERSION = 2


def partners() -> list[tuple[str, str]]:
    """(code, Chinese name) for every ISO country, the big trading partners first (they get most rows)."""
    import pycountry

    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    countries = sorted(pycountry.countries, key=lambda c: (c.alpha_2 not in BIG_PARTNERS, BIG_PARTNERS.index(c.alpha_2)
                                                           if c.alpha_2 in BIG_PARTNERS else 0, c.alpha_2))  # fmt: skip
    return [(f"{i + 101}", GACC_NAMES.get(c.alpha_2, chinese.gettext(c.name))) for i, c in enumerate(countries)]


def _uniform(seed: int, purpose: int, key: np.ndarray) -> np.ndarray:
    """Deterministic uniforms in [0, 1) from a 64-bit mix (splitmix64) of seed, purpose and key."""
    import numpy as np

    with np.errstate(over="ignore"):
        x = key.astype(np.uint64) * np.uint64(64) + np.uint64(purpose) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _codes(seed: int) -> list[tuple[str, str, float, float, float]]:
    """(code, name, monthly world tonnes, USD/kg, weight) for the named codes and the long tail."""
    import numpy as np

    codes = [(code, name, float(tonnes), float(usd), 1.0) for code, name, tonnes, usd in HS_CODES]
    keys = np.arange(TAIL_CODES)
    chapter, heading, tonnes, usd = (_uniform(seed, k, keys) for k in (1, 2, 3, 4))
    chapters = sorted(CHAPTERS)
    seen = {c[0] for c in codes}
    for i in range(TAIL_CODES):
        ch = chapters[int(chapter[i] * len(chapters))]
        code = f"{ch:02d}{1 + int(heading[i] * 96):02d}{i % 10_000:04d}00"
        if code in seen:
            continue
        seen.add(code)
        # Zipf-like: the i-th code of the tail is about 1/(i+2)^0.8 as big as a named code.
        weight = 0.6 / (i + 2) ** 0.8
        codes.append((code, f"{CHAPTERS[ch]}（{code[:8]}）", 20 + 200_000 * weight * tonnes[i], 0.5 + 60 * usd[i] ** 2,
                      weight))  # fmt: skip
    return codes


def _relationship_probability(weights: np.ndarray, wanted: float) -> np.ndarray:
    """min(1, c·w) with c chosen so that the expected number of relationships is `wanted` (bisection on c)."""
    import numpy as np

    if wanted >= len(weights):
        return np.ones_like(weights)
    ordered = np.sort(weights)
    below = np.concatenate([[0.0], np.cumsum(ordered)])  # below[k]: the sum of the k smallest weights

    def expected(c: float) -> float:  # sum(min(1, c·w)): weights under 1/c count c·w, the others 1 each
        k = int(np.searchsorted(ordered, 1 / c))
        return c * float(below[k]) + (len(ordered) - k)

    low, high = 0.0, 1.0
    while expected(high) < wanted:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if expected(middle) < wanted else (low, middle)
    return np.minimum(1.0, high * weights)


def generate(
    rows: int,
    out: Path,
    seed: int = 2025,
    months: int = 120,
    start: date = date(2016, 1, 1),
    name: str | None = None,
    monthly_files: bool = False,
) -> list[Path]:
    """Write <out>/<name>_cny.csv and _usd.csv (name: detailed_<rows>) with exactly `rows` rows over `months`
    months from `start`, or with `monthly_files` one pair per month, <name>_<YYYYMM>_cny.csv and _usd.csv, as GACC's
    monthly releases; return their paths."""
    import duckdb
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    name = name or f"detailed_{rows}"
    per_month = [rows // months + (m < rows % months) for m in range(months)]
    codes = _codes(seed)
    partner_list = [(code, pname) for code, pname in partners() if pname != "中国"]
    # Partner weights: the big partners by rank, the rest small and random (not by their alphabetical place).
    p_weight = np.array([1 / (i + 1) ** 0.9 if i < len(BIG_PARTNERS) else 0.004 + 0.03 * u
                         for i, u in enumerate(_uniform(seed, 5, np.arange(len(partner_list))))])  # fmt: skip
    h_weight = np.array([c[4] for c in codes])
    m_weight = np.array([w for _, w in TRADE_MODES])
    weights = (h_weight[:, None, None] * p_weight[None, :, None] * m_weight[None, None, :]).ravel()
    # Enough relationships that each month can list its rows as a random ~80 % of them.
    wanted = max(per_month) / SHARE_OF_RELATIONSHIPS_PER_MONTH + 20
    chosen = np.flatnonzero(_uniform(seed, 6, np.arange(weights.size)) < _relationship_probability(weights, wanted))
    if chosen.size < max(per_month):
        raise ValueError(f"{rows:,} rows over {months} months need more codes × partners × modes than there are")
    h, rest = np.divmod(chosen, len(partner_list) * len(TRADE_MODES))
    p, m = np.divmod(rest, len(TRADE_MODES))

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.register("hs_codes", _frame(["h", "code", "name", "tonnes", "usd_per_kg"],
                                    [(i, c, n, t, u) for i, (c, n, t, u, _) in enumerate(codes)]))  # fmt: skip
    con.register("partner", _frame(["p", "code", "name"], [(i, c, n) for i, (c, n) in enumerate(partner_list)]))
    con.register("mode", _frame(["m", "name"], [(i, n) for i, (n, _) in enumerate(TRADE_MODES)]))
    con.register("rel", _frame_arrays(rel=chosen.astype(np.int64), h=h, p=p, m=m, pw=p_weight[p] * m_weight[m]))
    calendar = [_add_months(start, k) for k in range(months)]
    con.register("month", _frame(["k", "period", "period_id", "n", "fx"], [
        (k, d, d.year * 12 + d.month, per_month[k], CNY_PER_USD.get(d.year, CNY_PER_USD[2025]))
        for k, d in enumerate(calendar)]))  # fmt: skip
    # u(x, purpose): an independent uniform draw per distinct integer x (DuckDB's hash of one integer mixes well),
    # the seed folded in by xor.
    seed_mix = int(_uniform(seed, 63, np.array([0]))[0] * (1 << 53))
    con.execute(
        f"CREATE MACRO u(x, purpose) AS hash(xor((x) * 64 + purpose, {seed_mix}))::DOUBLE / 18446744073709551616.0"
    )
    n_rel = len(codes) * len(partner_list) * len(TRADE_MODES)
    rows_sql = f"""
        WITH listed AS (  -- each month lists a random subset of the relationships, exactly n rows
            SELECT month.k, month.period, month.period_id, month.fx, rel.*
            FROM month, rel
            QUALIFY row_number() OVER (PARTITION BY month.k ORDER BY u(month.period_id * {n_rel} + rel.rel, 7))
                    <= month.n
        ),
        shared AS (  -- skewed, log-normal shares of the code's monthly world total
            SELECT l.*, l.pw * exp(1.5 * sqrt(-2 * ln(1 - u(l.period_id * {n_rel} + l.rel, 8)))
                                 * cos(2 * pi() * u(l.period_id * {n_rel} + l.rel, 9))) AS share
            FROM listed l
        ),
        sized AS (
            SELECT s.*, hs.code AS hs_code, hs.name AS hs_name, hs.usd_per_kg,
                   -- the code's world total this month: trend over the years, February dip, ±10 % noise
                   hs.tonnes * (0.6 + 0.05 * (year(s.period) - 2016) + 0.04 * (month(s.period) - 1) / 12)
                             * CASE month(s.period) WHEN 2 THEN 0.8 ELSE 1 END
                             * (0.9 + 0.2 * u(s.period_id * 100000 + s.h, 10)) * 1000
                             * s.share / sum(s.share) OVER (PARTITION BY s.k, s.h) AS kg
            FROM shared s JOIN hs_codes hs USING (h)
        )
        SELECT strftime(sized.period, '%Y%m') AS period, hs_code, hs_name, partner.code AS p_code,
               partner.name AS p_name, mode.name AS mode, greatest(1, round(kg))::BIGINT AS kg,
               greatest(1, round(kg)) * usd_per_kg * (0.85 + 0.3 * u(sized.period_id * {n_rel} + rel, 11)) AS usd,
               fx
        FROM sized JOIN partner USING (p) JOIN mode USING (m)
    """  # noqa: S608 - benchmark input built from our own constants
    con.execute(f"CREATE TEMP TABLE generated AS {rows_sql}")
    paths = []
    for period in [f"{d:%Y%m}" for d in calendar] if monthly_files else [None]:
        for currency, column, factor in (("cny", "人民币", "fx"), ("usd", "美元", "1")):
            path = out / (f"{name}_{period}_{currency}.csv" if period else f"{name}_{currency}.csv")
            _write_csv(con, path, column, factor, f"WHERE period = '{period}'" if period else "")
            paths.append(path)
    con.close()
    stamp(out, name).write_text(stamp_text(seed), encoding="utf-8")
    return paths


def stamp(out: Path, name: str) -> Path:
    """The file beside generated data that says which generator version and seed made it."""
    return out / f"{name}.generator"


def stamp_text(seed: int) -> str:
    return f"benchmarks/generate.py version {VERSION}, seed {seed}\n"


def _write_csv(con: duckdb.DuckDBPyConnection, path: Path, column: str, factor: str, where: str) -> None:
    con.execute(
        f"""
        COPY (
            SELECT period, hs_code, hs_name, p_code, p_name, mode, kg, '千克', NULL, NULL,
                   CAST(round(usd * {factor}) AS BIGINT)
            FROM generated {where} ORDER BY period, hs_code, p_code, mode
        ) TO '{path}' (HEADER false, DELIMITER ',')
        """  # noqa: S608 - benchmark input built from our own constants
    )
    # Write the header ourselves: the file must carry exactly GACC's column titles.
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as dst, path.open("rb") as src:
        dst.write((",".join([*HEADER, column]) + "\n").encode("utf-8"))
        while chunk := src.read(1 << 24):
            dst.write(chunk)
    tmp.replace(path)


def _add_months(start: date, k: int) -> date:
    return date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)


def _frame(columns: list[str], rows: list[tuple[object, ...]]) -> object:
    import pyarrow as pa

    return pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows])


def _frame_arrays(**arrays: np.ndarray) -> object:
    import pyarrow as pa

    return pa.table(arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--months", type=int, default=120, help="months covered (default 120: 2016-01 to 2025-12)")
    parser.add_argument("--start", default="2016-01", help="first month, YYYY-MM")
    parser.add_argument("--name", help="file name stem (default detailed_<rows>)")
    parser.add_argument("--monthly-files", action="store_true", help="one CNY and one USD file per month")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    year, month = (int(x) for x in args.start.split("-"))
    started = time.perf_counter()
    for path in generate(
        args.rows, args.out, args.seed, args.months, date(year, month, 1), args.name, args.monthly_files
    ):
        print(f"{path} {path.stat().st_size / 1e6:,.0f} MB")
    print(f"generated in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
