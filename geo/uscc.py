"""统一社会信用代码 (USCC): check character by GB 32100-2015 §4 / Annex B."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 code characters (no I, O, Z, S, V) with their values 0–30 (GB 32100-2015 Table 1)."""
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of positions 1–17: 3^(i-1) mod 31 (GB 32100-2015 Annex B)."""


def check_character(first17: str) -> str:
    """The 18th character for the first 17: C18 = 31 − (Σ Ci·Wi mod 31), 31 → '0'."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None when `code` is a valid USCC, else the reason in Chinese."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位"
    bad = [c for c in code if c not in CHARSET]
    if bad:
        return f"统一社会信用代码含非法字符 {''.join(sorted(set(bad)))}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误（应为 {expected}，实为 {code[17]}）"
    return None


def make_uscc(body17: str) -> str:
    """Complete 17 characters with their check character (used by the demo and scale generators)."""
    return body17 + check_character(body17)
