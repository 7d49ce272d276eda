"""Who is due for inspection in a date range, by risk colour, with route-solver priorities.

Pure functions over plain records (the database query comes elsewhere). Frequencies and priorities are
read from frequencies.toml beside this module (bureau practice: 本地规定).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class EnterpriseStatus:
    """What the due list needs to know about one enterprise; colour None = not rated yet."""

    enterprise_id: int
    name: str
    colour: str | None
    last_inspected_on: dt.date | None
    overdue_hazards: bool = False
    new_encroachment: bool = False


@dataclass(frozen=True)
class DueItem:
    """An enterprise due in the range: its due date (None if never inspected), priority and reasons."""

    enterprise_id: int
    name: str
    colour: str
    due_on: dt.date | None
    priority: int
    reasons: tuple[str, ...]

    @property
    def reason_text(self) -> str:
        return "；".join(self.reasons)


def load_frequencies(path: Path | None = None) -> Frequencies:
    """Read and check the frequencies file (default: the shipped geo/inspection/frequencies.toml)."""
    with open(path or FREQUENCIES_FILE, "rb") as f:
        raw = tomllib.load(f)
    interval = {c: _positive(raw, "interval_days", c) for c in COLOURS}
    base = {c: _positive(raw, "priority", c) for c in COLOURS}
    extras = {k: _positive(raw, "priority", k, allow_zero=True)
              for k in ("overdue_hazard", "new_encroachment", "overdue_per_period", "overdue_cap")}
    return Frequencies(interval, base, **extras)


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
    return DueItem(e.enterprise_id, e.name, colour, due_on, priority, tuple(reasons))
