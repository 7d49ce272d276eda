"""Who is due for inspection in a date range, by risk colour, with route-solver priorities.

Pure functions over plain records (the database query comes elsewhere). Frequencies, priorities and the annual
caps on inspections per enterprise (国办发〔2024〕54号 asks for published caps) are read from frequencies.toml beside
this module (本地规定).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.codes import INDUSTRY_CATEGORIES as CATEGORY_LABELS
from geo.errors import InvalidInput

FREQUENCIES_FILE = Path(__file__).with_name("frequencies.toml")
COLOURS = ("red", "orange", "yellow", "blue")
COLOUR_LABELS = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
UNRATED_AS = "blue"
"""A unit the risk engine has not rated yet is inspected at the blue frequency (and says so)."""

MSG = {
    "week_format": "周次格式应为 2026-W48：{text!r}",
    "week_range": "不存在的周次：{text}",
    "range_order": "日期范围无效：开始 {start} 晚于结束 {end}",
    "colour": "企业 {id} 的风险颜色无效：{colour!r}（应为 red/orange/yellow/blue）",
    "freq_missing": "巡查频次配置缺少 [{section}] {key}",
    "freq_value": "巡查频次配置 [{section}] {key} 必须是正整数：{value!r}",
    "future_inspection": "企业 {id} 的上次检查日期 {date} 晚于计划结束日 {end}",
    "never": "从未检查",
    "due_on": "按{label}色频次（每 {days} 天）{date} 到期",
    "overdue": "已逾期 {days} 天",
    "hazard": "有逾期未整改隐患",
    "encroachment": "新发现占压",
    "unrated": "未评定风险等级，按蓝色频次",
    "cap_value": "巡查频次配置 [annual_cap] {key} 必须是正整数：{value!r}",
    "capped": "已达年度行政检查次数上限（{who}每年不超过 {cap} 次，{year} 年已检查 {n} 次），本期不安排"
              "（国办发〔2024〕54号 严格控制涉企行政检查频次；上限为本地规定）",
    "cap_exempt": "已达年度行政检查次数上限（{who}每年不超过 {cap} 次，{year} 年已检查 {n} 次），"
                  "因逾期隐患或新发现占压的问题线索仍安排（本地规定）",
}


@dataclass(frozen=True)
class Frequencies:
    """Days between inspections per colour and the priority weights (frequencies.toml)."""

    interval_days: dict[str, int]
    base_priority: dict[str, int]
    overdue_hazard: int
    new_encroachment: int
    overdue_per_period: int
    overdue_cap: int
    annual_cap: dict[str, int] = field(default_factory=dict)
    """Most inspections per enterprise and calendar year, per colour (empty: no cap)."""
    annual_cap_by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per industry category (enterprise.category), caps per colour that replace annual_cap's."""
    cap_exempts_leads: bool = True
    """Overdue hazards and new encroachments (problem leads) still make a capped unit due."""

    def cap_for(self, category: str | None, colour: str) -> int | None:
        """The annual cap of an enterprise of `category` and `colour`, None when none is set."""
        return self.annual_cap_by_category.get(category or "", {}).get(colour, self.annual_cap.get(colour))


@dataclass(frozen=True)
class EnterpriseStatus:
    """What the due list needs to know about one enterprise; colour None = not rated yet."""

    enterprise_id: int
    name: str
    colour: str | None
    last_inspected_on: dt.date | None
    overdue_hazards: bool = False
    new_encroachment: bool = False
    category: str | None = None
    inspections_this_year: int = 0
    """Inspections in the calendar year of the range's first day, up to its last day (for the annual cap)."""


@dataclass(frozen=True)
class DueItem:
    """An enterprise due in the range: its due date (None if never inspected), priority and reasons."""

    enterprise_id: int
    name: str
    colour: str
    due_on: dt.date | None
    priority: int
    reasons: tuple[str, ...]
    held_back: bool = False
    """Due by its colour, but the annual cap holds the visit back (the reasons say so)."""

    @property
    def reason_text(self) -> str:
        return "；".join(self.reasons)


def frequencies_data(path: Path | None = None) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """The frequencies file as data; the shipped file gets the bureau override file's [frequencies] table merged in.
    Also returns the value paths the override set."""
    from geo.risk.rules import merge_listed, read_override

    with open(path or FREQUENCIES_FILE, "rb") as f:
        raw = tomllib.load(f)
    if path is not None:
        return raw, set()
    return merge_listed(raw, read_override().get("frequencies", {}))


def load_frequencies(path: Path | None = None) -> Frequencies:
    """Read and check the frequencies file (default: the shipped geo/inspection/frequencies.toml)."""
    raw, _ = frequencies_data(path)
    interval = {c: _positive(raw, "interval_days", c) for c in COLOURS}
    base = {c: _positive(raw, "priority", c) for c in COLOURS}
    extras = {k: _positive(raw, "priority", k, allow_zero=True)
              for k in ("overdue_hazard", "new_encroachment", "overdue_per_period", "overdue_cap")}
    caps = raw.get("annual_cap", {})
    default = {c: _cap(c, v) for c, v in caps.items() if c in COLOURS}
    by_category = {cat: {c: _cap(f"{cat}.{c}", v) for c, v in table.items() if c in COLOURS}
                   for cat, table in caps.items() if isinstance(table, dict)}
    return Frequencies(interval, base, **extras, annual_cap=default, annual_cap_by_category=by_category,
                       cap_exempts_leads=bool(caps.get("exempt_problem_leads", True)))


def _cap(key: str, value: object) -> int:
    """One annual cap, checked (a positive integer)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(MSG["cap_value"].format(key=key, value=value))
    return value


def _positive(raw: dict, section: str, key: str, *, allow_zero: bool = False) -> int:
    """One integer setting, checked (positive, or non-negative for bonuses)."""
    try:
        value = raw[section][key]
    except KeyError as exc:
        raise InvalidInput(MSG["freq_missing"].format(section=section, key=key)) from exc
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise InvalidInput(MSG["freq_value"].format(section=section, key=key, value=value))
    return value


def parse_iso_week(text: str) -> tuple[dt.date, dt.date]:
    """'2026-W48' → (Monday, Sunday) of that ISO 8601 week, both days included."""
    m = re.fullmatch(r"\s*(\d{4})-?[Ww](\d{1,2})\s*", text or "")
    if not m:
        raise InvalidInput(MSG["week_format"].format(text=text))
    year, week = int(m.group(1)), int(m.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidInput(MSG["week_range"].format(text=text.strip())) from exc
    return monday, monday + dt.timedelta(days=6)


def list_due(
    enterprises: Iterable[EnterpriseStatus],
    start: dt.date,
    end: dt.date,
    *,
    frequencies: Frequencies | None = None,
) -> list[DueItem]:
    """Enterprises due between start and end (inclusive), most urgent first.

    Due when never inspected, when last inspection + the colour's interval falls on or before `end`
    (already overdue included), or when it has overdue hazards or a newly found encroachment.
    """
    if start > end:
        raise InvalidInput(MSG["range_order"].format(start=start, end=end))
    return [i for i in list_due_and_held(enterprises, start, end, frequencies=frequencies) if not i.held_back]


def list_due_and_held(
    enterprises: Iterable[EnterpriseStatus],
    start: dt.date,
    end: dt.date,
    *,
    frequencies: Frequencies | None = None,
) -> list[DueItem]:
    """As list_due, plus the units an annual cap holds back (held_back=True, with the reason), most urgent first."""
    if start > end:
        raise InvalidInput(MSG["range_order"].format(start=start, end=end))
    freq = frequencies or load_frequencies()
    items = [item for e in enterprises if (item := _due_item(e, start, end, freq)) is not None]
    return sorted(items, key=lambda i: (-i.priority, i.due_on or dt.date.min, i.enterprise_id))


def _due_item(e: EnterpriseStatus, start: dt.date, end: dt.date, freq: Frequencies) -> DueItem | None:
    """One enterprise's due entry, or None when it is not due in the range."""
    colour = e.colour or UNRATED_AS
    if colour not in COLOURS:
        raise InvalidInput(MSG["colour"].format(id=e.enterprise_id, colour=e.colour))
    if e.last_inspected_on is not None and e.last_inspected_on > end:
        raise InvalidInput(MSG["future_inspection"].format(id=e.enterprise_id, date=e.last_inspected_on, end=end))
    days = freq.interval_days[colour]
    reasons: list[str] = [] if e.colour else [MSG["unrated"]]
    priority = freq.base_priority[colour]
    due_on: dt.date | None = None
    by_schedule = True
    if e.last_inspected_on is None:
        reasons.append(MSG["never"])
        priority += freq.overdue_cap * freq.overdue_per_period
    else:
        due_on = e.last_inspected_on + dt.timedelta(days=days)
        by_schedule = due_on <= end
        if by_schedule:
            reasons.append(MSG["due_on"].format(label=COLOUR_LABELS[colour], days=days, date=due_on.isoformat()))
        if due_on < start:
            late = (start - due_on).days
            reasons.append(MSG["overdue"].format(days=late))
            priority += min(freq.overdue_cap, late // days + 1) * freq.overdue_per_period
    if e.overdue_hazards:
        reasons.append(MSG["hazard"])
        priority += freq.overdue_hazard
    if e.new_encroachment:
        reasons.append(MSG["encroachment"])
        priority += freq.new_encroachment
    if not by_schedule and not (e.overdue_hazards or e.new_encroachment):
        return None
    cap = freq.cap_for(e.category, colour)
    if cap is not None and e.inspections_this_year >= cap:
        kind = CATEGORY_LABELS.get(e.category or "", "") if e.category in freq.annual_cap_by_category else ""
        who = f"{COLOUR_LABELS[colour]}色{kind}企业"
        words = {"who": who, "cap": cap, "year": start.year, "n": e.inspections_this_year}
        if freq.cap_exempts_leads and (e.overdue_hazards or e.new_encroachment):
            reasons.append(MSG["cap_exempt"].format(**words))
        else:
            reasons.append(MSG["capped"].format(**words))
            return DueItem(e.enterprise_id, e.name, colour, due_on, priority, tuple(reasons), held_back=True)
    return DueItem(e.enterprise_id, e.name, colour, due_on, priority, tuple(reasons))
