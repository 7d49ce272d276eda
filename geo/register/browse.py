"""The workbench's ledgers: filtered, sorted, paged lists of encroachments, hazards, enterprises and major hazard
sources, and the same filter written to xlsx with a title row (what the filter was, for which county, when).

Every query runs on the caller's connection, so row-level security keeps a township official inside its
townships. Filters are bound parameters; sort keys are looked up in fixed maps, never spliced from input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Connection, text

from geo.codes import ENCROACHMENT_KINDS, ENCROACHMENT_NATURES, HAZARD_LEVELS, INDUSTRY_CATEGORIES
from geo.errors import InvalidInput
from geo.io.xlsx import append_row
from geo.register.core import get_lifecycle
from geo.risk.rules import LEVEL_LABELS
from geo.timefmt import today as local_today

PAGE_SIZE = 50
"""Rows per ledger page: small pages keep every page light whatever the county's size."""
MAX_PAGE_SIZE = 1000
EXPORT_MAX_ROWS = 100_000
"""Most rows one xlsx export holds (a ×10 county has 200k hazards: filter first)."""
COLOURS = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
MAJOR_GRADES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


@dataclass(frozen=True)
class LedgerFilter:
    """What a ledger page was asked for; the same names are the page's query parameters."""

    township: str | None = None
    status: str | None = None
    level: str | None = None
    kind: str | None = None
    nature: str | None = None
    colour: str | None = None
    category: str | None = None
    grade: int | None = None
    pipeline: str | None = None
    enterprise: int | None = None
    overdue: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str | None = None
    sort: str | None = None
    page: int = 1
    size: int = PAGE_SIZE

    def query(self, **changes: Any) -> dict[str, str]:
        """The filter as query parameters (empty ones left out), with `changes` applied (e.g. page=2)."""
        f = replace(self, **changes)
        pairs = {"township": f.township, "status": f.status, "level": f.level, "kind": f.kind,
                 "nature": f.nature, "colour": f.colour, "category": f.category, "grade": f.grade,
                 "pipeline": f.pipeline, "enterprise": f.enterprise, "overdue": "1" if f.overdue else None,
                 "from": f.date_from, "to": f.date_to, "q": f.q, "sort": f.sort,
                 "page": f.page if f.page > 1 else None, "size": f.size if f.size != PAGE_SIZE else None}
        return {k: str(v) for k, v in pairs.items() if v not in (None, "")}


@dataclass
class LedgerPage:
    """One page of a ledger: its rows, the total matching the filter and the page arithmetic."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int
    columns: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


# --- filters -------------------------------------------------------------------------------------------------

def _check(value: str | None, choices: dict[str, str], what: str) -> None:
    if value is not None and value not in choices:
        listed = "、".join(f"{label}（{code}）" for code, label in choices.items())
        raise InvalidInput(f"筛选条件 {what}“{value}”无效；可选：{listed}")


def _where(f: LedgerFilter, clauses: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """AND of the clauses whose filter is set (fixed SQL fragments), and their bound values."""
    values = {"township": f.township, "status": f.status, "level": f.level, "kind": f.kind, "nature": f.nature,
              "colour": f.colour, "category": f.category, "grade": f.grade, "pipeline": f.pipeline,
              "enterprise": f.enterprise, "overdue": True if f.overdue else None, "from": f.date_from,
              "to": f.date_to, "q": f"%{f.q}%" if f.q else None}
    used = [sql for name, sql in clauses.items() if values.get(name) is not None]
    params = {name: v for name, v in values.items() if v is not None and name in clauses}
    return (" AND ".join(used) or "true"), params


def _order(f: LedgerFilter, sorts: dict[str, str], default: str, tiebreak: str) -> str:
    key = (f.sort or default).lstrip("-")
    if key not in sorts:
        raise InvalidInput(f"排序列“{key}”无效；可选：{'、'.join(sorts)}")
    direction = "DESC" if (f.sort or default).startswith("-") else "ASC"
    return f"{sorts[key]} {direction} NULLS LAST, {tiebreak}"


def _page(conn: Connection, sql: str, where: str, params: dict[str, Any], order: str, f: LedgerFilter,
          *, limit: int | None = None) -> LedgerPage:
    total = conn.execute(text(f"SELECT count(*) FROM ({sql}) x WHERE {where}"), params).scalar_one()
    size = max(1, min(f.size, MAX_PAGE_SIZE)) if limit is None else limit
    page = max(1, f.page) if limit is None else 1
    rows = conn.execute(text(f"SELECT * FROM ({sql}) x WHERE {where} ORDER BY {order} LIMIT :lim OFFSET :off"),
                        {**params, "lim": size, "off": (page - 1) * size})
    return LedgerPage(rows=[dict(r._mapping) for r in rows], total=int(total), page=page, size=size)


# --- encroachments ------------------------------------------------------------------------------------------

ENCROACHMENT_SQL = """
    SELECT e.id, e.code, e.kind, e.nature, e.status, e.description, e.found_on, e.formed_on, e.deadline,
           e.closed_on, e.closed_by, e.measure, e.responsible_operator, e.source,
           p.code AS pipeline_code, p.name AS pipeline_name, t.code AS township_code, t.name AS township_name,
           (e.deadline < CAST(:today AS date) AND e.status NOT IN ('rectified', 'closed')) IS TRUE AS is_overdue
    FROM encroachment e
    LEFT JOIN pipeline p ON p.id = e.pipeline_id
    LEFT JOIN township t ON t.id = e.township_id
"""
ENCROACHMENT_WHERE = {
    "township": "township_code = :township", "status": "status = :status", "kind": "kind = :kind",
    "nature": "nature = :nature", "pipeline": "pipeline_code = :pipeline", "overdue": "is_overdue",
    "from": "found_on >= :from", "to": "found_on <= :to",
    "q": "(code ILIKE :q OR description ILIKE :q OR responsible_operator ILIKE :q)",
}
ENCROACHMENT_SORTS = {"code": "code", "found_on": "found_on", "deadline": "deadline", "status": "status",
                      "township": "township_code", "pipeline": "pipeline_code", "kind": "kind"}
ENCROACHMENT_COLUMNS = [("code", "编号"), ("kind", "类型"), ("nature", "性质"), ("status", "状态"),
                        ("pipeline", "管道"), ("township", "责任乡镇"), ("operator", "管道企业"),
                        ("description", "情况描述"), ("found_on", "发现日期"), ("deadline", "整改期限"),
                        ("closed_on", "销号日期")]


def check_encroachment_filter(f: LedgerFilter) -> None:
    _check(f.status, get_lifecycle("encroachment").statuses, "状态 status")
    _check(f.kind, ENCROACHMENT_KINDS, "类型 kind")
    _check(f.nature, ENCROACHMENT_NATURES, "性质 nature")


def encroachments(conn: Connection, f: LedgerFilter, *, today: dt.date | None = None,
                  limit: int | None = None) -> LedgerPage:
    """One page of the encroachment register (占压点台账) matching `f`, sorted as asked (default: newest first)."""
    check_encroachment_filter(f)
    where, params = _where(f, ENCROACHMENT_WHERE)
    params["today"] = today or local_today()
    order = _order(f, ENCROACHMENT_SORTS, "-found_on", "code DESC")
    out = _page(conn, ENCROACHMENT_SQL, where, params, order, f, limit=limit)
    out.columns = ENCROACHMENT_COLUMNS
    return out


# --- hazards ------------------------------------------------------------------------------------------------

HAZARD_SQL = """
    SELECT h.id, h.code, h.level, h.status, h.description, h.found_on, h.deadline, h.rectified_on, h.closed_on,
           h.closed_by, h.supervising_department, h.source, en.id AS enterprise_id, en.name AS enterprise_name,
           en.uscc AS enterprise_uscc, t.code AS township_code, t.name AS township_name,
           (h.deadline < CAST(:today AS date) AND h.status NOT IN ('rectified', 'closed')) IS TRUE AS is_overdue
    FROM hazard h
    JOIN enterprise en ON en.id = h.enterprise_id
    LEFT JOIN township t ON t.id = en.township_id
"""
HAZARD_WHERE = {
    "township": "township_code = :township", "status": "status = :status", "level": "level = :level",
    "enterprise": "enterprise_id = :enterprise", "overdue": "is_overdue",
    "from": "found_on >= :from", "to": "found_on <= :to",
    "q": "(code ILIKE :q OR description ILIKE :q OR enterprise_name ILIKE :q)",
}
HAZARD_SORTS = {"code": "code", "found_on": "found_on", "deadline": "deadline", "status": "status",
                "level": "level", "township": "township_code", "enterprise": "enterprise_name"}
HAZARD_COLUMNS = [("code", "编号"), ("level", "级别"), ("status", "状态"), ("enterprise", "企业名称"),
                  ("township", "责任乡镇"), ("description", "隐患描述"), ("found_on", "发现日期"),
                  ("deadline", "整改期限"), ("supervising", "督办部门"), ("closed_on", "销号日期")]


def check_hazard_filter(f: LedgerFilter) -> None:
    _check(f.status, get_lifecycle("hazard").statuses, "状态 status")
    _check(f.level, HAZARD_LEVELS, "级别 level")


def hazards(conn: Connection, f: LedgerFilter, *, today: dt.date | None = None,
            limit: int | None = None) -> LedgerPage:
    """One page of the hazard ledger (隐患台账) matching `f`, sorted as asked (default: newest first)."""
    check_hazard_filter(f)
    where, params = _where(f, HAZARD_WHERE)
    params["today"] = today or local_today()
    order = _order(f, HAZARD_SORTS, "-found_on", "code DESC")
    out = _page(conn, HAZARD_SQL, where, params, order, f, limit=limit)
    out.columns = HAZARD_COLUMNS
    return out


# --- enterprises and major hazard sources -------------------------------------------------------------------

ENTERPRISE_SQL = """
    SELECT en.id, en.uscc, en.name, en.category, en.address, en.employees, en.major_hazard_source,
           t.code AS township_code, t.name AS township_name, a.level AS colour, a.score,
           (SELECT count(*) FROM hazard h WHERE h.enterprise_id = en.id
              AND h.status NOT IN ('rectified', 'closed')) AS open_hazards
    FROM enterprise en
    LEFT JOIN township t ON t.id = en.township_id
    LEFT JOIN risk_assessment a ON a.kind = 'enterprise' AND a.object_id = en.id AND a.valid_to IS NULL
"""
ENTERPRISE_WHERE = {"township": "township_code = :township", "colour": "colour = :colour",
                    "category": "category = :category", "q": "(name ILIKE :q OR uscc ILIKE :q)"}
ENTERPRISE_SORTS = {"name": "name", "colour": "CASE colour WHEN 'red' THEN 4 WHEN 'orange' THEN 3 "
                    "WHEN 'yellow' THEN 2 WHEN 'blue' THEN 1 END", "score": "score",
                    "township": "township_code", "category": "category", "hazards": "open_hazards"}
ENTERPRISE_COLUMNS = [("name", "企业名称"), ("uscc", "统一社会信用代码"), ("colour", "风险等级"),
                      ("category", "行业类别"), ("township", "乡镇"), ("hazards", "未整改隐患")]


def enterprises(conn: Connection, f: LedgerFilter, *, limit: int | None = None) -> LedgerPage:
    """One page of enterprises with their current risk colour (riskiest first unless sorted otherwise)."""
    _check(f.colour, COLOURS, "风险颜色 colour")
    _check(f.category, INDUSTRY_CATEGORIES, "行业类别 category")
    where, params = _where(f, ENTERPRISE_WHERE)
    out = _page(conn, ENTERPRISE_SQL, where, params, _order(f, ENTERPRISE_SORTS, "-colour", "score DESC, id"), f,
                limit=limit)
    out.columns = ENTERPRISE_COLUMNS
    return out


MAJOR_HAZARD_SQL = """
    SELECT en.id AS enterprise_id, en.name AS enterprise_name, en.uscc, t.code AS township_code,
           t.name AS township_name, u ->> 'unit' AS unit, CAST(u ->> 's' AS double precision) AS s,
           CAST(u ->> 'r' AS double precision) AS r, CAST(u ->> 'grade' AS integer) AS grade, a.level AS colour
    FROM risk_assessment a
    JOIN enterprise en ON en.id = a.object_id
    LEFT JOIN township t ON t.id = en.township_id
    CROSS JOIN LATERAL jsonb_array_elements(COALESCE(a.details -> 'units', '[]'::jsonb)) u
    WHERE a.kind = 'enterprise' AND a.valid_to IS NULL AND u ->> 'grade' IS NOT NULL
"""
MAJOR_HAZARD_WHERE = {"township": "township_code = :township", "grade": "grade = :grade",
                      "enterprise": "enterprise_id = :enterprise", "q": "(enterprise_name ILIKE :q OR unit ILIKE :q)"}
MAJOR_HAZARD_SORTS = {"grade": "grade", "r": "r", "enterprise": "enterprise_name", "township": "township_code"}
MAJOR_HAZARD_COLUMNS = [("grade", "级别"), ("r", "R 值"), ("unit", "危险化学品单元"), ("enterprise", "企业名称"),
                        ("township", "乡镇"), ("s", "S＝Σq/Q")]


def major_hazards(conn: Connection, f: LedgerFilter, *, limit: int | None = None) -> LedgerPage:
    """Major hazard sources (重大危险源): units whose S ≥ 1, graded by R (GB 18218-2018 §4.2–4.3), as the last
    risk computation identified them; most severe first."""
    if f.grade is not None and f.grade not in MAJOR_GRADES:
        raise InvalidInput("筛选条件 级别 grade 只能是 1–4（一级至四级）")
    where, params = _where(f, MAJOR_HAZARD_WHERE)
    out = _page(conn, MAJOR_HAZARD_SQL, where, params, _order(f, MAJOR_HAZARD_SORTS, "grade", "r DESC, unit"), f,
                limit=limit)
    out.columns = MAJOR_HAZARD_COLUMNS
    return out


# --- choices for filter forms, words for titles ----------------------------------------------------------------

def choices(conn: Connection) -> dict[str, list[tuple[str, str]]]:
    """Townships and pipelines the caller sees, for the filter forms (code, name)."""
    towns = conn.execute(text("SELECT code, name FROM township ORDER BY code")).all()
    pipes = conn.execute(text("SELECT code, name FROM pipeline ORDER BY code")).all()
    return {"townships": [(r.code, r.name) for r in towns], "pipelines": [(r.code, r.name) for r in pipes]}


def describe(conn: Connection, kind: str, f: LedgerFilter) -> str:
    """The filter in Chinese words, for page headings and the export's title row."""
    parts: list[str] = []
    if f.township:
        name = conn.execute(text("SELECT name FROM township WHERE code = :c"), {"c": f.township}).scalar()
        parts.append(f"乡镇：{name or f.township}")
    if f.pipeline:
        name = conn.execute(text("SELECT name FROM pipeline WHERE code = :c"), {"c": f.pipeline}).scalar()
        parts.append(f"管道：{name or f.pipeline}")
    if f.enterprise is not None:
        name = conn.execute(text("SELECT name FROM enterprise WHERE id = :i"), {"i": f.enterprise}).scalar()
        parts.append(f"企业：{name or f.enterprise}")
    if f.status and kind in ("encroachment", "hazard"):
        parts.append(f"状态：{get_lifecycle(kind).status_label(f.status)}")
    if f.level:
        parts.append(f"级别：{HAZARD_LEVELS.get(f.level, f.level)}")
    if f.kind:
        parts.append(f"类型：{ENCROACHMENT_KINDS.get(f.kind, f.kind)}")
    if f.nature:
        parts.append(f"性质：{ENCROACHMENT_NATURES.get(f.nature, f.nature)}")
    if f.colour:
        parts.append(f"风险等级：{LEVEL_LABELS.get(f.colour, f.colour)}")
    if f.category:
        parts.append(f"行业：{INDUSTRY_CATEGORIES.get(f.category, f.category)}")
    if f.grade:
        parts.append(f"级别：{MAJOR_GRADES.get(f.grade, f.grade)}重大危险源")
    if f.overdue:
        parts.append("仅逾期未整改")
    if f.date_from or f.date_to:
        parts.append(f"发现日期：{f.date_from or '不限'} 至 {f.date_to or '不限'}")
    if f.q:
        parts.append(f"关键字：{f.q}")
    return "；".join(parts) or "全部"


def _cells(kind: str, row: dict[str, Any]) -> list[Any]:
    """One exported row of `kind` (labels in Chinese, dates as dates)."""
    if kind == "encroachment":
        lc = get_lifecycle(kind)
        return [row["code"], ENCROACHMENT_KINDS.get(row["kind"], row["kind"]),
                ENCROACHMENT_NATURES.get(row["nature"] or "", row["nature"] or ""), lc.status_label(row["status"]),
                row["pipeline_name"] or "", row["township_name"] or "", row["responsible_operator"] or "",
                row["description"] or "", row["found_on"], row["deadline"], "是" if row["is_overdue"] else "否",
                row["closed_on"], row["closed_by"] or "", row["measure"] or ""]
    if kind == "hazard":
        lc = get_lifecycle(kind)
        return [row["code"], HAZARD_LEVELS.get(row["level"], row["level"]), lc.status_label(row["status"]),
                row["enterprise_name"], row["enterprise_uscc"], row["township_name"] or "", row["description"] or "",
                row["found_on"], row["deadline"], "是" if row["is_overdue"] else "否", row["rectified_on"],
                row["closed_on"], row["closed_by"] or "", row["supervising_department"] or ""]
    return [MAJOR_GRADES.get(row["grade"], row["grade"]), round(row["r"], 2), round(row["s"], 3), row["unit"] or "",
            row["enterprise_name"], row["uscc"], row["township_name"] or ""]


EXPORT_HEADERS = {
    "encroachment": ("编号", "类型", "性质", "状态", "管道", "责任乡镇", "管道企业", "情况描述", "发现日期",
                     "整改期限", "是否逾期", "销号日期", "核查人", "整改措施"),
    "hazard": ("编号", "级别", "状态", "企业名称", "统一社会信用代码", "责任乡镇", "隐患描述", "发现日期", "整改期限",
               "是否逾期", "整改完成日期", "销号日期", "核查人", "督办部门"),
    "major_hazard": ("级别", "R 值", "S＝Σq/Q", "危险化学品单元", "企业名称", "统一社会信用代码", "乡镇"),
}
EXPORT_TITLES = {"encroachment": "管道占压点台账", "hazard": "隐患排查治理台账", "major_hazard": "重大危险源清单"}
_LISTERS = {"encroachment": encroachments, "hazard": hazards, "major_hazard": major_hazards}


def write_filtered_xlsx(conn: Connection, path: Path, *, kind: str, f: LedgerFilter,
                        today: dt.date | None = None) -> Path:
    """The ledger of `kind` as filtered by `f`, to xlsx: a title row (county, ledger, filter in words, date),
    then the Chinese header and every matching row (at most EXPORT_MAX_ROWS)."""
    day = today or local_today()
    county = conn.execute(text("SELECT name FROM county ORDER BY code LIMIT 1")).scalar() or ""
    lister = _LISTERS[kind]
    kwargs: dict[str, Any] = {"limit": EXPORT_MAX_ROWS}
    if kind != "major_hazard":
        kwargs["today"] = day
    data = lister(conn, replace(f, page=1), **kwargs)
    wb = Workbook()
    ws = wb.active
    ws.title = EXPORT_TITLES[kind]
    title = f"{county}{EXPORT_TITLES[kind]}（筛选：{describe(conn, kind, f)}；导出日期：{day.isoformat()}；共 {data.total} 条）"
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, EXPORT_HEADERS[kind])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in data.rows:
        append_row(ws, _cells(kind, row))
    ws.freeze_panes = "A3"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def enterprise_choices(conn: Connection, *, limit: int = 500) -> list[tuple[str, str]]:
    """(USCC, name) of enterprises the caller sees, by name, for the hazard form's list (typing any code works)."""
    rows = conn.execute(text("SELECT uscc, name FROM enterprise ORDER BY name, id LIMIT :n"), {"n": limit})
    return [(r.uscc, r.name) for r in rows]


def confirmed_candidates(conn: Connection) -> dict[int, str]:
    """Candidate id → code of the encroachment it was confirmed as (认定), for the candidates page."""
    rows = conn.execute(text("SELECT c.id, e.code FROM encroachment_candidate c "
                             "JOIN encroachment e ON e.id = c.encroachment_id WHERE c.status = 'open'"))
    return {int(r.id): str(r.code) for r in rows}
