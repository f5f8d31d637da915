"""Generate a realistic GACC detailed query export (DOMAIN.md §3.2), deterministic by seed.

Ten years of months × a skewed mix of real-looking 10-digit HS codes × partners (Chinese names) × trade modes,
quantities in kilograms, one file in yuan (人民币) and one in US dollars (美元) over the same rows. DuckDB
writes the rows, so ten million of them take seconds, not minutes.

    .venv/bin/python benchmarks/generate.py --rows 10000000 --out benchmarks/data
"""

from __future__ import annotations

import argparse
import gettext
import time
from pathlib import Path

import duckdb
import pycountry

# A spread of China's export lines: rare-earth magnets and compounds first, then common manufactures.
HS_CODES = [
    ("8505111000", "稀土永磁体"), ("2805301100", "钕"), ("2846901100", "氧化镨"), ("2846901900", "其他稀土氧化物"),
    ("2846101000", "氧化铈"), ("8541430000", "光伏电池组件"), ("8507600090", "锂离子蓄电池"),
    ("8703800090", "纯电动乘用车"), ("8471300000", "便携式计算机"), ("8517130000", "智能手机"),
    ("7208510000", "热轧钢板"), ("7606129000", "铝合金板"), ("3102100010", "尿素"), ("6204620000", "女裤"),
    ("9403600000", "木家具"), ("8418102000", "冷藏箱"), ("8528720000", "彩色电视机"), ("8415101000", "空调"),
    ("6402999000", "鞋靴"), ("9503008900", "玩具"),
]  # fmt: skip
TRADE_MODES = ["一般贸易", "进料加工贸易", "来料加工装配贸易", "保税监管场所进出境货物", "海关特殊监管区域物流货物"]
HEADER = ["数据年月", "商品编码", "商品名称", "贸易伙伴编码", "贸易伙伴名称", "贸易方式", "第一数量", "第一计量单位",
          "第二数量", "第二计量单位"]  # fmt: skip
GACC_NAMES = {"KR": "韩国", "TW": "中国台湾", "HK": "中国香港", "RU": "俄罗斯联邦", "VN": "越南", "US": "美国"}


def partners() -> list[tuple[str, str]]:
    """(code, Chinese name) for every ISO country, the big trading partners first (they get most rows)."""
    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    first = ["US", "HK", "JP", "KR", "VN", "DE", "IN", "NL", "GB", "TW", "MX", "TH", "MY", "RU", "AU"]
    countries = sorted(pycountry.countries, key=lambda c: (c.alpha_2 not in first, first.index(c.alpha_2)
                                                           if c.alpha_2 in first else 0, c.alpha_2))  # fmt: skip
    return [(f"{i + 101}", GACC_NAMES.get(c.alpha_2, chinese.gettext(c.name))) for i, c in enumerate(countries)]


def generate(rows: int, out: Path, seed: int = 2025, months: int = 120) -> list[Path]:
    """Write <out>/detailed_<rows>_cny.csv and _usd.csv; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE hs (i INTEGER, code VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO hs VALUES (?, ?, ?)", [(i, c, n) for i, (c, n) in enumerate(HS_CODES)])
    con.execute("CREATE TABLE partner (i INTEGER, code VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO partner VALUES (?, ?, ?)", [(i, c, n) for i, (c, n) in enumerate(partners())])
    n_partners = con.execute("SELECT count(*) FROM partner").fetchone()[0]  # type: ignore[index]
    modes = "[" + ", ".join(f"'{m}'" for m in TRADE_MODES) + "]"
    # u(i, k): an independent uniform draw in [0, 1) per row and purpose; powers skew towards the first entries.
    con.execute(f"CREATE MACRO u(i, k) AS hash(i, {seed}, k)::DOUBLE / 18446744073709551616.0")
    base = f"""
        SELECT i,
               strftime(DATE '2016-01-01' + to_months(CAST(i * {months} // {rows} AS INTEGER)), '%Y%m') AS period,
               CAST(floor(pow(u(i, 1), 2) * {len(HS_CODES)}) AS INTEGER) AS h,
               CAST(floor(pow(u(i, 2), 3) * {n_partners}) AS INTEGER) AS p,
               {modes}[1 + CAST(floor(pow(u(i, 3), 2) * 5) AS INTEGER)] AS mode,
               CAST(exp(4 + 10 * u(i, 4)) AS BIGINT) AS kg,
               5 + 55 * u(i, 5) AS usd_per_kg
        FROM range({rows}) r(i)
    """
    paths = []
    for currency, column, factor in (("cny", "人民币", 7.15), ("usd", "美元", 1.0)):
        path = out / f"detailed_{rows}_{currency}.csv"
        con.execute(
            f"""
            COPY (
                SELECT b.period, hs.code, hs.name, partner.code, partner.name, b.mode, b.kg, '千克', NULL, NULL,
                       CAST(round(b.kg * b.usd_per_kg * {factor}) AS BIGINT)
                FROM ({base}) b JOIN hs ON hs.i = b.h JOIN partner ON partner.i = b.p
                ORDER BY b.i
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
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    started = time.perf_counter()
    for path in generate(args.rows, args.out, args.seed):
        print(f"{path} {path.stat().st_size / 1e6:,.0f} MB")
    print(f"generated in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
