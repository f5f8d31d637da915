"""Trade partners as ISO 3166-1 alpha-2 codes, from the names and numbers the sources print.

pycountry supplies ISO codes, English names, UN M49 numbers (Comtrade's partnerCode) and Chinese names; GACC's
own spellings (韩国, 中国台湾, 俄罗斯联邦 …) differ from the ISO Chinese names, so they are listed here as aliases.
"""

from __future__ import annotations

import gettext
import re
from functools import cache

import pycountry

from reewatch.units import nfkc

WORLD = "WORLD"

# GACC and press spellings that are not the ISO Chinese or English short names.
_ALIASES: dict[str, str] = {
    "韩国": "KR", "南韩": "KR", "朝鲜": "KP", "中国台湾": "TW", "台湾": "TW", "台湾省": "TW", "中国香港": "HK",
    "香港": "HK", "中国澳门": "MO", "澳门": "MO", "俄罗斯联邦": "RU", "俄罗斯": "RU", "越南": "VN", "美国": "US",
    "英国": "GB", "伊朗": "IR", "叙利亚": "SY", "老挝": "LA", "玻利维亚": "BO", "委内瑞拉": "VE", "坦桑尼亚": "TZ",
    "摩尔多瓦": "MD", "捷克": "CZ", "捷克共和国": "CZ", "斯洛伐克": "SK", "荷兰": "NL", "土耳其": "TR",
    # GACC's country table where pycountry's Chinese names differ (柬埔塞, 孟加拉 …) or GACC shortens them.
    "孟加拉国": "BD", "柬埔寨": "KH", "阿拉伯联合酋长国": "AE", "阿联酋": "AE", "吉尔吉斯斯坦": "KG", "中非": "CF",
    "刚果（布）": "CG", "刚果（金）": "CD", "埃斯瓦蒂尼": "SZ", "马耳他": "MT", "马其顿": "MK", "北马其顿": "MK",
    "波黑": "BA", "多米尼加": "DO", "多米尼加共和国": "DO", "危地马拉": "GT", "特立尼达和多巴哥": "TT",
    "法属波利尼西亚": "PF",
    "south korea": "KR", "korea": "KR", "korea, rep.": "KR", "rep. of korea": "KR", "republic of korea": "KR",
    "north korea": "KP", "taiwan": "TW", "chinese taipei": "TW", "other asia, nes": "TW", "hong kong": "HK",
    "china, hong kong sar": "HK", "macao": "MO", "macau": "MO", "china, macao sar": "MO", "russia": "RU",
    "vietnam": "VN", "viet nam": "VN", "usa": "US", "united states": "US", "united states of america": "US",
    "uk": "GB", "united kingdom": "GB", "iran": "IR", "laos": "LA", "turkey": "TR", "türkiye": "TR",
    "czech republic": "CZ", "czechia": "CZ", "netherlands": "NL", "the netherlands": "NL",
}  # fmt: skip
_WORLD_NAMES = {"world", "全球", "世界", "总计", "合计", "总值", "all partners", "total"}


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", nfkc(text)).strip().lower()


@cache
def _names() -> dict[str, str]:
    """Every known spelling (folded) → alpha-2."""
    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for name in {country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)}:
            if name:
                table[_fold(name)] = country.alpha_2
                table[_fold(chinese.gettext(name))] = country.alpha_2
        table[_fold(country.alpha_2)] = country.alpha_2
        table[_fold(country.alpha_3)] = country.alpha_2
    table.update({_fold(k): v for k, v in _ALIASES.items()})
    return table


def partner_code(name: str | None) -> str | None:
    """ISO alpha-2 (or WORLD) for a printed partner name, or None when the name is unknown."""
    if name is None:
        return None
    folded = _fold(name)
    if folded in _WORLD_NAMES:
        return WORLD
    return _names().get(folded)


@cache
def partner_from_m49(code: int) -> str | None:
    """Comtrade's partnerCode: 0 is the world; 490 is 'Other Asia, nes' (Taiwan); others are ISO numeric."""
    if code == 0:
        return WORLD
    if code == 490:
        return "TW"
    if code == 842:  # Comtrade's USA (incl. territories)
        return "US"
    if code == 251:  # Comtrade's France (incl. Monaco)
        return "FR"
    if code == 699:  # Comtrade's India (pre-2010 code)
        return "IN"
    country = pycountry.countries.get(numeric=f"{code:03d}")
    return country.alpha_2 if country else None


def partner_name(alpha2: str) -> str:
    """English name for the catalog ('World' for WORLD)."""
    if alpha2 == WORLD:
        return "World"
    country = pycountry.countries.get(alpha_2=alpha2)
    if country is None:
        return alpha2
    return str(getattr(country, "common_name", None) or country.name)


def partner_table() -> list[tuple[str, str]]:
    """(folded spelling, alpha-2) pairs, for joining inside DuckDB instead of mapping row by row."""
    # GACC's own spellings as printed too: the detailed typing folds white space and case, not full-width forms.
    printed = [(name.lower(), code) for name, code in _ALIASES.items() if _fold(name) != name.lower()]
    return [*_names().items(), *printed, *((name, WORLD) for name in _WORLD_NAMES)]
