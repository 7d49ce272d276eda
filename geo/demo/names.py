"""Seeded generators of synthetic Chinese names, phone numbers and codes for the demo county.

Company names are built from syllables (never a list of real companies); person names from
common surnames and given-name characters; phone numbers are random 1xx-xxxx-xxxx strings.
"""

from __future__ import annotations

import numpy as np

from geo.uscc import make_uscc

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国军平华明丽英红伟敏静芳强磊洋艳勇杰娟涛超秀兰霞刚桂林斌鹏宇浩凯文辉波志鑫海峰婷娜春燕玉珍雪梅晓亮俊东永生德福宏胜利增荣"
TRADE_SYLLABLES = "鑫泰恒源瑞丰盛达兴隆昌宏晋汇通安康顺利广聚祥云金诚福远华新嘉正宇和润峰晟弘"
"""Syllables of 字号 (trade names); two of them make one, e.g. 恒晟."""
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "hazchem": ("化工", "能源化工", "精细化工", "石化销售", "气体", "化学品经营"),
    "coal_mine": ("煤业",),
    "non_coal_mine": ("矿业", "石料", "建材矿业"),
    "metallurgy": ("冶炼", "铁合金", "镁业", "铸造"),
    "fireworks": ("烟花爆竹经营", "烟花爆竹批发"),
    "construction": ("建筑工程", "路桥工程", "建设工程"),
    "gas": ("燃气", "天然气", "液化气"),
    "industry_trade": ("机械制造", "商贸", "粮油加工", "建材", "包装", "食品", "木业", "纺织", "物流"),
    "other": ("仓储", "农业开发", "环保科技", "电力工程"),
}
COMPANY_FORMS = ("有限公司", "有限责任公司")
COUNTY_PREFIX = "河曲县"


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct synthetic Chinese person names (surname + one or two given characters)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        given_len = 1 if rng.random() < 0.3 else 2
        name = SURNAMES[rng.integers(len(SURNAMES))] + "".join(
            GIVEN[i] for i in rng.integers(len(GIVEN), size=given_len))
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def phone_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct synthetic mobile numbers formatted 1xx-xxxx-xxxx."""
    out: list[str] = []
    seen: set[str] = set()
    prefixes = ("135", "137", "139", "150", "152", "158", "183", "187", "198")
    while len(out) < n:
        digits = "".join(str(d) for d in rng.integers(10, size=8))
        phone = f"{prefixes[rng.integers(len(prefixes))]}-{digits[:4]}-{digits[4:]}"
        if phone not in seen:
            seen.add(phone)
            out.append(phone)
    return out


def company_names(rng: np.random.Generator, categories: list[str]) -> list[tuple[str, str]]:
    """(name, 字号) per category entry, names distinct: 河曲县 + 字号 + industry word + company form."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for category in categories:
        while True:
            a, b = rng.choice(len(TRADE_SYLLABLES), size=2, replace=False)
            words = INDUSTRY_WORDS[category]
            trade = TRADE_SYLLABLES[a] + TRADE_SYLLABLES[b]
            name = (COUNTY_PREFIX + trade + words[rng.integers(len(words))]
                    + COMPANY_FORMS[rng.integers(len(COMPANY_FORMS))])
            if name not in seen:
                seen.add(name)
                out.append((name, trade))
                break
    return out


def organisation_code(digits8: str) -> str:
    """Complete 8 digits to a 9-character 组织机构代码 (GB 11714-1997 check: weights 3,7,9,10,5,8,4,2)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(digits8, weights, strict=True)) % 11
    return digits8 + {10: "X", 11: "0"}.get(check, str(check))


def usccs(rng: np.random.Generator, n: int, *, county_code: str) -> list[str]:
    """n distinct USCCs for enterprises of the county: 9 (工商) 1 (企业) + county code + org code + check."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        org = organisation_code("".join(str(d) for d in rng.integers(10, size=8)))
        code = make_uscc("91" + county_code + org)
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out
