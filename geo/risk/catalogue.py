"""The rules in force as a catalogue a person reads: sections of rules, each with its values, units, the document
and clause it follows, whether a national text fixes it or it is 本地规定, and which values the bureau's override
file set. Built generically from the rules files (geo/risk/rules.toml merged with RISKMAP_RULES_FILE,
geo/encroachment/zones.toml, geo/inspection/frequencies.toml), so new entries appear without code changes.

Conventions read from a rules table (see docs/rules.md): `label` (the rule's Chinese name, preferred to the
names kept here), `clause` (document and clause; `<prefix>_clause` and `<prefix>_label` for the keys starting with
`<prefix>_`), "本地规定" in the clause (whole rule local when the clause starts with it), an optional
`local = ["key", …]` list of keys that are local policy, and an optional `local_note` (why the default was chosen).
Wording keys (`text`, `*_text`, `text_*`, `*labels`) are not values. A few tables that are tables in the source
document (应急〔2018〕19号 评估诊断分级表, GB 18218-2018 表1、表2/表4) are shown as such tables (TABLE_BUILDERS).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from geo.risk.rules import LEVEL_LABELS, LEVEL_RANK, Rules, load_rules

LOCAL = "本地规定"
LOCAL_MARK = "本地规定（可在规则文件中修改）"
MARK_LABELS = {
    "national": "国家规定",
    "mixed": "国家规定；部分数值为本地规定（可在规则文件中修改）",
    "local": LOCAL_MARK,
    "unstated": "规则文件未注明依据",
}

SECTION_TITLES = {
    "levels": "四色等级",
    "accident_grades": "生产安全事故等级",
    "enterprise": "企业风险规则",
    "gb18218": "重大危险源辨识与分级",
    "population": "常住人口计数",
    "diagnostic": "危险化学品企业安全风险诊断评分",
    "pipeline": "油气管道（动态分段、地区等级、高后果区）",
    "mine": "矿山",
    "rollup": "网格与乡镇等级汇总（就高）",
    "line_zone": "管道保护范围（中心线两侧）",
    "facility_zone": "管道附属设施周边范围",
    "crossing": "交叉穿越",
    "interval_days": "巡查频次（天）",
    "priority": "巡查路线优先级",
    "river_zone": "管道穿越河流处两侧范围",
    "tunnel_zone": "管道专用隧道两侧范围",
    "annual_cap": "年度行政检查次数上限",
}
"""Chinese titles of known top-level tables; an unknown table is shown under its own key."""

RULE_LABELS = {
    "accident_grades": "事故分级阈值", "accident_grades.larger": "较大事故（任一项达到）",
    "accident_grades.major": "重大事故（任一项达到）",
    "accident_grades.especially_major": "特别重大事故（任一项达到）",
    "enterprise.key_sector": "重点行业领域", "enterprise.open_major_hazard": "未销号重大隐患",
    "enterprise.serious_accident": "较大及以上事故", "enterprise.recent_accident": "近年一般事故",
    "enterprise.overdue_general_hazard": "逾期未整改一般隐患", "enterprise.major_hazard_source": "重大危险源分级",
    "enterprise.declared_major_hazard_source": "已申报重大危险源但库存未达临界量",
    "enterprise.unknown_substance": "未列入表1且无表2类别的物质", "enterprise.mine": "所属矿山的违法违规情形",
    "gb18218": "辨识与分级（R = α·Σβq/Q）", "gb18218.classes": "表2 临界量与表4 校正系数 β（按危险性类别）",
    "population": "常住人口计数", "population.persons_per_floor": "每层计入的常住人口（按建筑用途）",
    "diagnostic": "诊断评分：满分与未评分项目", "diagnostic.inherent": "固有危险性扣分",
    "diagnostic.surroundings": "周边环境扣分", "diagnostic.management": "安全管理扣分",
    "diagnostic.direct_red": "直接判定为红色的情形",
    "pipeline": "动态分段", "pipeline.impact_radius": "潜在影响半径",
    "pipeline.class_location": "地区等级划分", "pipeline.hca": "高后果区识别与分级",
    "pipeline.encroachment": "占压（中心线两侧 5 米）", "pipeline.mine_nearby": "管道两侧 200 米内的矿山",
    "pipeline.crossing": "交叉穿越",
    "mine": "在产矿山（基础等级）", "mine.no_mining_zone": "禁采区内开采", "mine.restricted_zone": "位于限采区",
    "mine.over_boundary": "越界开采", "mine.pipeline_nearby": "距管道 200 米内",
    "mine.blasting_dwellings": "露天爆破距居民建筑", "mine.not_scored": "未评分项目",
    "diagnostic.band": "按得分分档（四色）", "mine.base": "在产矿山（基础等级）",
    "rollup": "区域等级汇总", "interval_days": "按颜色的巡查间隔", "priority": "路线规划优先级",
    "diagnostic.items": "评估诊断分级表（逐项逐行）", "gb18218.substances": "表1 危险化学品名称及其临界量",
    "gb18218.other_substances": "表1 以外的常见物质（按表2类别辨识）",
    "annual_cap": "各颜色企业每年检查次数上限",
}

KEY_LABELS = {
    "level": "等级", "levels": "等级", "level_with_deaths": "有死亡时的等级", "points": "分值",
    "categories": "行业类别", "open_statuses": "计为未销号的状态", "min_grade": "最低事故等级",
    "lookback_years": "回溯年数", "orange_from": "达到此项数为橙", "population_radius_m": "人口统计半径",
    "alpha": "表5 校正系数 α（按常住人口）", "grades": "表6 分级（按 R）", "classes": "表2/表4（按类别）",
    "substances": "表1 物质（临界量 Q 与 β）", "full_score": "满分", "bands": "分档（得分 ≥ 下限）",
    "not_scored": "数据库中无数据、未评分的项目", "items": "项目", "order": "等级顺序",
    "deaths": "死亡人数", "serious_injuries": "重伤人数", "loss_10k_yuan": "直接经济损失",
    "major_hazard_grade": "按重大危险源等级", "key_process": "涉及重点监管危险化工工艺",
    "key_chemical": "涉及重点监管危险化学品", "external_safety_distance_m": "外部安全防护距离",
    "protected_target": "每类防护目标位于防护距离内", "outside_chemical_park": "未进入化工园区",
    "pipeline_site_radius_m": "视为厂区的点位半径", "pipeline_crossing": "油气管道穿越厂区",
    "standardisation": "安全生产标准化等级", "overdue_general_hazard": "每项逾期一般隐患",
    "overdue_general_hazard_max": "逾期隐患扣分上限", "accident_recent": "近三年每起事故",
    "accident_recent_max": "事故扣分上限", "major_hazard_grade_1_with_target": "一级重大危险源且防护距离内有防护目标",
    "open_major_hazard": "存在未销号重大隐患", "fatal_accident_years": "近若干年发生死亡事故（年数）",
    "segment_length_m": "分段长度", "base_level": "基础等级", "coefficient": "系数",
    "strip_m": "中心线两侧条带宽度", "window_m": "沿线统计窗口长度", "class_1_2_max": "一级二类地区户数上限",
    "class_3_min": "三级地区户数下限", "class4_tall_floors": "四层及以上建筑的层数",
    "class4_min_share": "四级地区：四层及以上建筑占比", "class4_min_buildings": "四级地区：窗口内建筑数下限",
    "low_rise_max_floors": "按一户计的最高层数", "households_per_floor": "较高建筑每层户数",
    "dwelling_uses": "计入户数的建筑用途", "special_site_uses": "特定场所（建筑用途）",
    "flammable_site_categories": "易燃易爆场所（企业类别）", "flammable_site_facility_kinds": "易燃易爆场所（管道设施）",
    "major_road_classes": "高速公路、国道、省道（道路等级）", "table_for_medium": "介质所用的表",
    "band_m": "中心线两侧宽度", "distance_m": "距离", "open_pit_level": "露天开采时的等级",
    "road_classes": "计入的道路等级", "base_level_operating": "在产矿山基础等级", "base_points": "基础分值",
    "min_area_ha": "最小越界面积", "method": "汇总方法", "density_threshold_per_km2": "红橙对象密度阈值",
    "kinds": "汇总的对象类型", "max_distance_m": "最大距离", "feature_types": "检查的对象",
    "kind": "记为", "code": "代码", "grade": "级别", "min_diameter_mm": "管径大于",
    "max_diameter_mm": "管径小于", "min_pressure_mpa": "压力大于", "max_pressure_mpa": "压力小于",
    "min_households": "户数不少于", "reading": "本表读法", "red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝",
    "overdue_hazard": "有逾期未整改隐患（加）", "new_encroachment": "新发现占压（加）",
    "overdue_per_period": "每错过一个周期（加）", "overdue_cap": "逾期加分上限",
    "default_radius_m": "未填报厂区边界时的点位外扩半径", "max_score": "加分后总分上限",
    "boundary_m": "地段两端距最外侧建筑", "units_per_floor": "未登记户数的多层住宅每层户数",
    "settlement_eps_m": "村镇：相邻住宅间距不大于", "min_depth_m": "最小越出深度", "depth_step_m": "深度量算步长",
    "exempt_problem_leads": "问题线索（逾期隐患复查、新发现占压）不受上限限制", "applies": "适用",
    "other_substances": "表1 以外的常见物质", "years": "年数", "larger_count": "较大事故起数",
    "fatal_general_years": "亡人一般事故回溯年数", "fatal_general_count": "亡人一般事故起数",
    "fact": "判定所用数据", "beta": "β", "q_t": "临界量 Q", "hazard_class": "表2类别", "basis": "依据",
    "not_stored": "本系统未收录数据的项目注明", "not_filled": "企业未填报的项目注明",
    "flammable_site_uses": "易燃易爆场所（建筑用途）", "band": "在地图上画成沿线条带", "media": "适用的管道介质",
    "min_score": "得分不低于", "min_persons": "常住人口不少于（人）", "min_r": "R 不小于",
    "name": "名称", "cas": "CAS 号", "aliases": "别名", "condition": "浓度条件",
}

UNITS = (("_per_km2", "个/km²"), ("_10k_yuan", "万元"), ("_km2", "km²"), ("_mpa", "MPa"), ("_mm", "mm"),
         ("_ha", "公顷"), ("_years", "年"), ("_days", "天"), ("_t", "吨"), ("_m", "米"))
"""Unit of a value by the suffix of its key."""

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
"""A {placeholder} of an explanation template, shown as … where a template serves as a label."""

NOTE_KEYS = {"clause", "local", "local_note", "label", "name"}


def _code_labels() -> dict[str, str]:
    """Chinese names of the codes rules files use (categories, uses, road classes, statuses, kinds)."""
    from geo import codes

    out: dict[str, str] = {"found": "发现", "confirmed": "已确认", "rectifying": "整改中", "rectified": "已整改",
                           "closed": "销号", "general": "一般", "larger": "较大", "major": "重大",
                           "especially_major": "特别重大", "none": "无", "oil": "输油表", "depot": "油库",
                           "highest": "就高", "highest_with_density": "就高，密度达阈值上调一级"}
    for name in ("ROAD_CLASSES", "INDUSTRY_CATEGORIES", "BUILDING_USES", "PIPELINE_MEDIA", "ENCROACHMENT_KINDS",
                 "FACILITY_KINDS", "MINE_TYPES", "MINING_METHODS", "MINE_ZONE_KINDS", "KIND_LABELS"):
        out.update({str(k): str(v) for k, v in getattr(codes, name, {}).items()})  # later lists win
    out.update({"building": "建筑物", "road": "道路", "pipeline": "管道"})
    return out


CODE_LABELS = _code_labels()


@dataclass
class Value:
    """One value of a rule: its key, Chinese label, the value, how it reads, unit and marks."""

    key: str
    label: str
    value: Any
    display: str
    unit: str = ""
    local: bool = False
    overridden: bool = False
    rows: list[dict[str, str]] | None = None
    """A list of tables (e.g. GB 18218 表1) shown as rows of (column → text)."""
    columns: list[str] | None = None


@dataclass
class Cell:
    """One cell of a document table; rowspan > 1 spans the rows below, which then leave this column out."""

    text: str
    rowspan: int = 1
    cls: str = ""
    """rm-num: a number, kept on one line."""


@dataclass
class Table:
    """A table shown as in its source document (e.g. 应急〔2018〕19号 评估诊断分级表), full width under its rule."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    folded: bool = False
    """Long tables start folded (<details>) on screen; printing unfolds them."""


@dataclass
class Rule:
    """One rule (a table of a rules file) with where it comes from."""

    id: str
    label: str
    clause: str
    mark: str
    mark_label: str
    values: list[Value] = field(default_factory=list)
    note: str = ""
    overridden: bool = False
    tables: list[Table] = field(default_factory=list)


@dataclass
class Section:
    """Rules of one top-level table of one rules file."""

    id: str
    title: str
    source: str
    overridable: bool
    rules: list[Rule] = field(default_factory=list)


@dataclass
class Catalogue:
    """Every rule in force, with the rules' version and SHA-256 and the override file, if any."""

    version: str
    rules_hash: str
    name: str
    note: str
    override_file: str | None
    overridden: int
    sections: list[Section]
    levels: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fmt(value: Any) -> str:
    """A scalar as a person reads it: 3 not 3.0, colours by their Chinese label, 是/否."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:g}"
    if isinstance(value, str) and value in LEVEL_RANK:
        return LEVEL_LABELS[value]
    if isinstance(value, str) and value in CODE_LABELS:
        return CODE_LABELS[value]
    return str(value)


def key_label(key: str) -> str:
    """Chinese label of a key: known keys, colours, codes; else the key itself."""
    if key in LEVEL_RANK:
        return LEVEL_LABELS[key].split()[0]
    return KEY_LABELS.get(key) or CODE_LABELS.get(key) or key


def unit_of(key: str) -> str:
    """Unit from the key's suffix (`distance_m` → 米); '' when none."""
    return next((unit for suffix, unit in UNITS if key.endswith(suffix)), "")


def is_wording(key: str) -> bool:
    """Explanation templates and display labels: wording, not rule values."""
    return (key == "text" or key.endswith("_text") or key.startswith("text_") or key.endswith("labels")
            or key.endswith(("_note", "_notes")) or key.startswith(("legend", "basis_")))


def display(value: Any) -> str:
    """Any value as one line: lists joined with 、, tables as key：value pairs."""
    if isinstance(value, list):
        return "、".join(display(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{key_label(str(k))}：{display(v)}{unit_of(str(k))}" for k, v in value.items()
                        if not is_wording(str(k)))
    return fmt(value)


def table_rows(items: list[dict[str, Any]] | dict[str, dict[str, Any]]) -> tuple[list[str], list[dict[str, str]]]:
    """Rows of a list of tables (or a table of tables, its keys first) for a sub-table on the page."""
    pairs = list(items.items()) if isinstance(items, dict) else [(None, it) for it in items]
    columns: list[str] = ["类别"] if isinstance(items, dict) else []
    rows: list[dict[str, str]] = []
    for key, item in pairs:
        row = {"类别": str(key)} if key is not None else {}
        for k, v in item.items():
            if is_wording(str(k)):
                continue
            label = key_label(str(k)) + (f"（{unit_of(str(k))}）" if unit_of(str(k)) else "")
            if label not in columns:
                columns.append(label)
            row[label] = condition_text(v) if k == "condition" else display(v)
        rows.append(row)
    return columns, rows


def mark_of(clause: str, local_keys: list[str]) -> str:
    """national / mixed / local / unstated, from the clause text and the table's `local` list."""
    if not clause:
        return "local" if local_keys else "unstated"
    if clause.startswith(LOCAL):
        return "local"
    if LOCAL in clause or local_keys:
        return "mixed"
    return "national"


def make_value(key: str, value: Any, *, path: tuple[str, ...], local: bool, overridden: set[tuple[str, ...]]) -> Value:
    """One value of a rule, with its unit, local mark and whether the override file set it (or part of it)."""
    full = (*path, key)
    hit = any(p[:len(full)] == full for p in overridden)
    label = key_label(key)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        label = PLACEHOLDER.sub("…", value["text"])  # e.g. one row of GB 32167 表2
    v = Value(key=key, label=label, value=value, display=display(value), unit=unit_of(key),
              local=local, overridden=hit)
    tables = (isinstance(value, list) and value and all(isinstance(i, dict) for i in value)) or \
             (isinstance(value, dict) and value and all(isinstance(i, dict) for i in value.values()))
    if tables:
        v.columns, v.rows = table_rows(value)
        v.display = f"{len(v.rows)} 行"
    return v


def is_rule_table(value: Any, *, path: tuple[str, ...], parent_has_values: bool) -> bool:
    """A nested table shown as a rule of its own, not as one value of its parent: it has a clause or a known
    label, or it mixes values with tables, or it holds plain values under a parent that has none of its own."""
    if not isinstance(value, dict) or not value:
        return False
    if "clause" in value or ".".join(path) in RULE_LABELS:
        return True
    plain = [v for k, v in value.items() if not is_wording(str(k))]
    if not plain or all(isinstance(v, dict) for v in plain):
        return False
    if all(not isinstance(v, (dict, list)) for v in plain):
        return not parent_has_values and not all(isinstance(v, str) for v in plain)
    return True


def rules_of(node: dict[str, Any], path: tuple[str, ...], *, inherited: str, overridden: set[tuple[str, ...]],
             label: str | None = None) -> list[Rule]:
    """The rule of this table (when it holds values) followed by the rules of its nested tables, in file order."""
    clause = str(node.get("clause") or inherited or "")
    local_keys = [str(k) for k in node.get("local", [])] if isinstance(node.get("local"), list) else []
    prefixes = {k[: -len("_clause")]: str(v) for k, v in node.items()
                if k.endswith("_clause") and isinstance(v, str)}
    prefix_labels = {f"{p}_label" for p in prefixes}
    own: list[tuple[str, Any]] = []
    nested: list[tuple[str, Any]] = []
    by_prefix: dict[str, list[tuple[str, Any]]] = {p: [] for p in prefixes}
    has_values = "clause" in node or any(not isinstance(v, dict) for k, v in node.items()
                                         if k not in NOTE_KEYS and not k.endswith("_clause") and not is_wording(str(k)))
    for key, value in node.items():
        key = str(key)
        if key in NOTE_KEYS or key in prefix_labels or key.endswith("_clause") or is_wording(key):
            continue
        if (*path, key) in TABLE_BUILDERS or is_rule_table(value, path=(*path, key), parent_has_values=has_values):
            nested.append((key, value))
            continue
        prefix = next((p for p in prefixes if key.startswith(p + "_") or key == p + "s"), None)
        (by_prefix[prefix] if prefix else own).append((key, value))
    out: list[Rule] = []
    rid = ".".join(path)

    def rule(rule_id: str, rule_clause: str, items: list[tuple[str, Any]], rule_label: str) -> Rule:
        mark = mark_of(rule_clause, local_keys)
        values = [make_value(k, v, path=path, local=mark == "local" or k in local_keys, overridden=overridden)
                  for k, v in items]
        note = str(node.get("local_note", ""))
        return Rule(id=rule_id, label=rule_label, clause=rule_clause, mark=mark, mark_label=MARK_LABELS[mark],
                    values=values, note=note, overridden=any(v.overridden for v in values))

    if own or ("clause" in node and not any(by_prefix.values()) and not nested):
        out.append(rule(rid, clause, own, label or rule_label_of(rid, node)))
    for prefix, items in by_prefix.items():
        if items:
            out.append(rule(f"{rid}.{prefix}", prefixes[prefix], items, rule_label_of(rid, node, prefix=prefix)))
    for key, value in nested:
        builder = TABLE_BUILDERS.get((*path, key))
        if builder is None:
            out.extend(rules_of(value, (*path, key), inherited=clause, overridden=overridden))
            continue
        sub_id = ".".join((*path, key))
        sub_clause = str(value.get("clause") or clause) if isinstance(value, dict) else clause
        sub = Rule(id=sub_id, label=rule_label_of(sub_id, value if isinstance(value, dict) else {}),
                   clause=sub_clause, mark=mark_of(sub_clause, []), mark_label=MARK_LABELS[mark_of(sub_clause, [])],
                   tables=[builder(value, node)])
        full = (*path, key)
        sub.overridden = any(p[:len(full)] == full for p in overridden)
        out.append(sub)
    return out


def rule_label_of(rule_id: str, node: dict[str, Any], *, prefix: str | None = None) -> str:
    """Chinese label: the table's own `label` (`<prefix>_label`), else a known rule by id, else the table's name,
    else its explanation text, else its key."""
    own = node.get(f"{prefix}_label" if prefix else "label")
    if isinstance(own, str) and own:
        return own
    if prefix is not None and f"{rule_id}.{prefix}" in RULE_LABELS:
        return RULE_LABELS[f"{rule_id}.{prefix}"]
    if rule_id in RULE_LABELS:
        return RULE_LABELS[rule_id]
    if isinstance(node.get("name"), str):
        return str(node["name"])
    text = node.get(f"{prefix}_text" if prefix else "text")
    if isinstance(text, str):
        return PLACEHOLDER.sub("…", text)
    return rule_id


PER_LABELS = {"each": "逐个累计", "once": "计一次"}
CONDITION_FIELDS = {"concentration_pct": "含量", "combustible_pct": "可燃物含量"}
CONDITION_OPS = (("above", ">"), ("at_least", "≥"), ("below", "<"), ("at_most", "≤"))


def signed(points: Any) -> str:
    """Points of a line as the guideline writes them: −2 deducted, +2 added (加分)."""
    value = float(points)
    if value > 0:
        return f"+{fmt(value)} 加分"
    return f"−{fmt(-value)}" if value < 0 else "0"


def condition_text(condition: Any) -> str:
    """A Table 1 concentration condition as it reads: 含量 > 90%."""
    if not isinstance(condition, dict):
        return ""
    field_label = CONDITION_FIELDS.get(str(condition.get("field")), str(condition.get("field", "")))
    return "，".join(f"{field_label} {op} {fmt(condition[key])}%" for key, op in CONDITION_OPS if key in condition)


def diagnostic_table(items: dict[str, Any], parent: dict[str, Any]) -> Table:
    """应急〔2018〕19号 评估诊断分级表: every item with its category, cap and clause, and every line of it with its
    content, points (deduction or bonus), how it counts and the data riskmap reads for it."""
    not_stored = str(parent.get("not_stored", "本系统未收录此项数据"))
    entries = [(code, item, list(item.get("lines", {}).values())) for code, item in items.items()]
    rows: list[list[Cell]] = []
    for i, (code, item, lines) in enumerate(entries):
        category = str(item.get("category", ""))
        starts_category = i == 0 or entries[i - 1][1].get("category") != category
        run = 0
        if starts_category:
            for _, other, other_lines in entries[i:]:
                if other.get("category") != category:
                    break
                run += max(len(other_lines), 1)
        cap = float(item.get("cap", 0))
        cap_text = f"{fmt(cap)} 分" if cap > 0 else "加分项"
        for j, line in enumerate(lines or [{}]):
            row: list[Cell] = []
            if starts_category and j == 0:
                row.append(Cell(category, run))
            if j == 0:
                row += [Cell(str(item.get("label", code)), max(len(lines), 1)),
                        Cell(cap_text, max(len(lines), 1), cls="rm-num")]
            per = PER_LABELS.get(str(line.get("per", "")), "")
            if "max" in line:
                per += f"，本行最多 {fmt(line['max'])} 分"
            fact = str(line.get("fact") or "") or f"{not_stored}，列为未评分"
            if fact.startswith("企业."):
                fact = "企业登记项：" + fact.removeprefix("企业.")
            row += [Cell(str(line.get("text", ""))), Cell(signed(line.get("points", 0)) if line else "", cls="rm-num"),
                    Cell(per), Cell(fact)]
            if j == 0:
                row.append(Cell(str(item.get("clause", "")), max(len(lines), 1)))
            rows.append(row)
    caps = sum(float(item.get("cap", 0)) for _, item, _ in entries)
    return Table(title=f"应急〔2018〕19号 评估诊断分级表：{len(entries)} 个项目，{len(rows)} 行",
                 columns=["类别", "项目", "项目分值", "评估内容", "分值", "计分方式", "本系统所用数据", "依据"],
                 rows=rows,
                 note=f"从满分 {fmt(parent.get('full_score', 100))} 分起算；各项目扣分以项目分值为限（扣完为止，最低为 0 分，"
                      f"各项目分值合计 {fmt(caps)} 分）；加分项另加，总分不超过 {fmt(parent.get('max_score', 100))} 分。"
                      "本系统无数据或企业未填报的行不扣分、不加分，在说明中列为未评分。")


def direct_red_table(node: dict[str, Any], parent: dict[str, Any]) -> Table:
    """应急〔2018〕19号: the situations judged red whatever the score, with the data each reads."""
    cases = [v for v in node.values() if isinstance(v, dict)]
    rows = [[Cell(str(i), cls="rm-num"), Cell(str(c.get("text", ""))), Cell(str(c.get("fact") or "本系统未收录此项数据"))]
            for i, c in enumerate(cases, start=1)]
    return Table(title=f"直接判定为红色的 {len(rows)} 种情形", columns=["序号", "情形", "本系统所用数据"], rows=rows,
                 note="任一情形成立即为红色（最高风险等级），不论得分；数据未填报的情形在说明中列为未评分。")


def classes_table(classes: dict[str, Any], parent: dict[str, Any]) -> Table:
    """GB 18218-2018 表2 (Q by hazard class) and 表4 (β by class) as one table."""
    rows = [[Cell(str(symbol), cls="rm-num"), Cell(str(c.get("name", ""))), Cell(fmt(c.get("q_t", "")), cls="rm-num"),
             Cell(fmt(c.get("beta", "")), cls="rm-num")]
            for symbol, c in classes.items() if isinstance(c, dict)]
    return Table(title=f"GB 18218-2018 表2 临界量与表4 校正系数 β（{len(rows)} 个类别）",
                 columns=["类别符号", "危险性类别（表2）", "临界量 Q（吨）", "校正系数 β（表4）"], rows=rows,
                 note="未列入表1 的危险化学品按其危险性类别（GHS）取表2 的临界量、表4 的校正系数；"
                      "同属多个类别时取临界量最小者（GB 18218-2018 §4.2）。")


def substances_table(substances: list[dict[str, Any]], parent: dict[str, Any]) -> Table:
    """GB 18218-2018 表1: every named substance with its number, CAS, Q, β (表3 or its 表4 class) and the
    concentration Table 1 names, if any."""
    rows = []
    for s in substances:
        cas = "、".join(str(c) for c in s.get("cas", []))
        if cas and s.get("cas_alone") is False:
            cas += "（多个条目共用，须按名称识别）"
        rows.append([Cell(fmt(s.get("no", "")), cls="rm-num"), Cell(str(s.get("name", ""))),
                     Cell("、".join(s.get("aliases", []))), Cell(cas), Cell(fmt(s.get("q_t", "")), cls="rm-num"),
                     Cell(fmt(s.get("beta", "")), cls="rm-num"),
                     Cell(str(s.get("beta_basis", ""))), Cell(condition_text(s.get("condition")))])
    return Table(title=f"GB 18218-2018 表1 危险化学品名称及其临界量（全部 {len(rows)} 种）",
                 columns=["序号", "名称", "别名", "CAS 号", "临界量 Q（吨）", "校正系数 β", "β 依据", "浓度条件"],
                 rows=rows, folded=len(rows) > 20,
                 note="库存按名称、别名或 CAS 号对应表1 条目；表1 注明浓度的条目，只有填报的含量满足条件"
                      "（含量未填时名称中写明该浓度）才按该条目计；其余物质按表2 类别辨识。")


TABLE_BUILDERS = {
    ("diagnostic", "items"): diagnostic_table,
    ("diagnostic", "direct_red"): direct_red_table,
    ("gb18218", "classes"): classes_table,
    ("gb18218", "substances"): substances_table,
}
"""Tables of the source documents shown as those tables, by their path in the rules file."""


def file_sections(data: dict[str, Any], *, source: str, overridable: bool,
                  overridden: set[tuple[str, ...]] | None = None) -> list[Section]:
    """One section per top-level table (or list of tables) of a rules file."""
    overridden = overridden or set()
    sections: list[Section] = []
    top_clause = str(data.get("clause", ""))
    for key, value in data.items():
        if key in ("meta", "clause") or is_wording(key):
            continue
        section = Section(id=key, title=SECTION_TITLES.get(key, key), source=source, overridable=overridable)
        if isinstance(value, dict):
            if key == "levels":
                continue
            section.rules = rules_of(value, (key,), inherited=top_clause, overridden=overridden)
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                label = str(item.get("label") or item.get("name") or item.get("code") or f"{key}[{i}]")
                section.rules.extend(rules_of(item, (key, str(i)), inherited=top_clause, overridden=overridden,
                                              label=label))
        else:
            section.rules.append(Rule(id=key, label=KEY_LABELS.get(key, key), clause=top_clause,
                                      mark=mark_of(top_clause, []), mark_label=MARK_LABELS[mark_of(top_clause, [])],
                                      values=[make_value(key, value, path=(), local=False, overridden=overridden)]))
        if section.rules:
            sections.append(section)
    return sections


def build_catalogue(rules: Rules | None = None) -> Catalogue:
    """Every rule of the three rules files in force (the bureau's overrides merged in), in file order, for the
    /risk/rules page and its JSON."""
    from geo.encroachment.zones import zones_data
    from geo.inspection.due import frequencies_data

    rules = rules or load_rules()
    overridden = set(rules.overridden)
    meta = rules.data.get("meta", {})
    sections = file_sections(rules.data, source="风险等级规则", overridable=True, overridden=overridden)
    zones, zones_set = zones_data()
    sections += file_sections(zones, source="管道保护范围（占压排查）", overridable=True, overridden=zones_set)
    frequencies, frequencies_set = frequencies_data()
    sections += file_sections(frequencies, source="巡查频次与路线优先级", overridable=True,
                              overridden=frequencies_set)
    levels = [{"code": lv, "label": rules.label(lv)} for lv in sorted(LEVEL_RANK, key=LEVEL_RANK.get, reverse=True)]
    return Catalogue(version=rules.version, rules_hash=rules.rules_hash, name=str(meta.get("name", "")),
                     note=str(meta.get("note", "")), override_file=rules.override_file,
                     overridden=len(overridden) + len(zones_set) + len(frequencies_set),
                     sections=sections, levels=levels)
