"""Turn raw cells into typed field values (codes from Chinese labels, 是/否, dates), or a Chinese reason."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from typing import Any

from geo.io.layers import Field
from geo.uscc import uscc_problem

TRUE_WORDS = {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "涉及", "构成", "符合", "满足"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "f", "0", "×", "✗", "不涉及", "不构成", "不符合", "不满足"}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


class CellProblem(ValueError):
    """A cell that cannot become its field's value; the message is the Chinese reason."""


def is_blank(value: Any) -> bool:
    """None, NaN/NaT and whitespace-only strings are empty cells."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(value: Any) -> str:
    """A cell as text: whole numbers without '.0' (a code typed as a number in Excel)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item") and not isinstance(value, str):
        return as_text(value.item())
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


_LOOKUPS: dict[int, dict[str, str]] = {}


def _lookup(codes: Any) -> dict[str, str]:
    """Code, lower-case code, label and each part of a label like 商场/市场 → code (built once per list)."""
    found = _LOOKUPS.get(id(codes))
    if found is None:
        found = {}
        for code, label in codes.items():
            for key in (code, code.lower(), label, *label.split("/")):
                found.setdefault(key, code)
        _LOOKUPS[id(codes)] = found
    return found


def _code(text: str, codes: dict[str, str] | Any) -> str:
    """A code-list value from its code or Chinese label."""
    key = unicodedata.normalize("NFKC", text).strip()
    found = _lookup(codes).get(key) or _lookup(codes).get(key.lower())
    if found is None:
        raise CellProblem(f"不在代码表中（可填：{'、'.join(codes.values())}）")
    return found


INT_RANGE = (-(2**31), 2**31 - 1)
"""Integer columns are PostgreSQL integer (int4)."""


def _int(text: str) -> int:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise CellProblem("应为整数") from None
    if not number.is_integer():
        raise CellProblem("应为整数")
    if not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise CellProblem(f"超出整数范围（{INT_RANGE[0]}–{INT_RANGE[1]}）")
    return int(number)


def _float(text: str) -> float:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise CellProblem("应为数字") from None
    if not math.isfinite(number):
        raise CellProblem("应为数字")
    return number


def _bool(text: str) -> bool:
    key = unicodedata.normalize("NFKC", text).strip().lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise CellProblem("应为“是”或“否”")


def _date(value: Any, text: str) -> str:
    """ISO date from a date cell or text like 2024-03-05, 2024/3/5, 2024年3月5日, 20240305."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date().isoformat()
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if found:
            try:
                return dt.date(*(int(g) for g in found.groups())).isoformat()
            except ValueError:
                break
    raise CellProblem("应为日期（如 2024-03-05）")


def _json(value: Any) -> dict[str, Any]:
    """A JSON object (dossier fields) from a dict or its JSON text."""
    if isinstance(value, dict):
        return value
    try:
        found = json.loads(str(value))
    except json.JSONDecodeError:
        raise CellProblem("应为 JSON 对象（如 {\"占压物\": \"围墙\"}）") from None
    if not isinstance(found, dict):
        raise CellProblem("应为 JSON 对象（如 {\"占压物\": \"围墙\"}）")
    return found


def _wkt(text: str) -> str:
    """WKT of a polygon or multipolygon (checked here; converted to storage CRS by the importer)."""
    import numpy as np
    import shapely

    from geo.config import get_settings
    from geo.io.coords import usable

    try:
        with np.errstate(all="ignore"):
            geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException:
        raise CellProblem("WKT 无法解析") from None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise CellProblem("应为面（POLYGON/MULTIPOLYGON）的 WKT")
    if not usable(shapely.get_coordinates(geom)).all():
        raise CellProblem("坐标含非数字（NaN/无穷大）或数值超出范围")
    cap = get_settings().max_vertices
    if shapely.get_num_coordinates(geom) > cap:
        raise CellProblem(f"几何有 {shapely.get_num_coordinates(geom)} 个顶点，超过上限 {cap}"
                          "（RISKMAP_MAX_VERTICES），请先抽稀")
    if not geom.is_valid:
        raise CellProblem(f"几何无效：{shapely.is_valid_reason(geom)}")
    return text


def parse_cell(f: Field, value: Any) -> Any:
    """The typed value of one cell (JSON-ready: dates as ISO text), None for empty; CellProblem if bad."""
    if is_blank(value):
        if f.required:
            raise CellProblem("必填项为空")
        return f.default
    if f.kind == "json":
        return _json(value)
    if f.kind == "wkt":
        return _wkt(as_text(value))
    text = as_text(value)
    if f.kind == "date":
        return _date(value, text)
    if f.kind in ("int", "float"):
        number = _int(text) if f.kind == "int" else _float(text)
        if f.bounds is not None and number is not None and not f.bounds[0] <= number <= f.bounds[1]:
            raise CellProblem(f"应在 {f.bounds[0]:g}–{f.bounds[1]:g} 之间")
        return number
    if f.kind == "bool":
        return value if isinstance(value, bool) else _bool(text)
    if f.kind == "code":
        return _code(text, f.codes or {})
    if f.max_len is not None and len(text) > f.max_len:
        raise CellProblem(f"超过 {f.max_len} 个字符")
    return text


def normalize_code(f: Field, text: str) -> str:
    """Business codes as stored: USCC upper-case; 9-digit township codes padded to the 12-digit form."""
    if f.form == "uscc":
        return text.upper()
    if f.form == "township" and re.fullmatch(r"\d{9}", text):
        return text + "000"
    return text


def code_problem(f: Field, text: str) -> str | None:
    """Checks of a business code beyond its type: USCC check character, township code form."""
    if f.form == "uscc":
        return uscc_problem(text)
    if f.form == "township" and not re.fullmatch(r"\d{12}", text):
        return "乡镇代码应为 12 位（或 9 位）数字统计用区划代码"
    return None
