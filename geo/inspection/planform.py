"""What the workbench's plan form asks for (week, township or county, teams and their depots, working hours),
checked field by field with Chinese messages, and the plan settings (plan.toml) it overrides for one plan."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput
from geo.inspection.due import COLOUR_LABELS, load_frequencies
from geo.inspection.plan import plan_range

MAX_FORM_TEAMS = 12
"""Teams the form offers (one depot choice each); the HTTP API takes up to 50."""
HOURS = (1.0, 12.0)
"""Working hours a day the form accepts."""
START_TIMES = ("05:00", "12:00")
"""Earliest and latest start of the working day."""
TIME_LIMIT_S = (1, 120)
"""Solver time limits (seconds) the form accepts; longer runs belong to the CLI."""


@dataclass(frozen=True)
class DepotChoice:
    """A place a team may leave from: the bureau office, a depot of plan.toml, or a township's centre."""

    key: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class PlanRequest:
    """A checked plan form."""

    week: str
    start: dt.date
    end: dt.date
    township: str | None
    teams: int
    depots: tuple[DepotChoice, ...]
    work_hours: float
    day_start: str
    time_limit_s: float

    def config(self, base: dict[str, Any]) -> dict[str, Any]:
        """plan.toml with this plan's working day and each team's depot."""
        cfg = copy.deepcopy(base)
        cfg["day"] = {**cfg["day"], "work_hours": self.work_hours, "start": self.day_start,
                      "time_limit_s": self.time_limit_s}
        cfg["depots"] = [{"team": k + 1, "name": d.name, "lon": d.lon, "lat": d.lat}
                         for k, d in enumerate(self.depots)]
        return cfg


def depot_choices(conn: Connection, cfg: dict[str, Any]) -> list[DepotChoice]:
    """The office, the [[depots]] of plan.toml, then each township (in the caller's scope) at a point inside it."""
    office = cfg["office"]
    out = [DepotChoice("office", str(office["name"]), float(office["lon"]), float(office["lat"]))]
    out += [DepotChoice(f"depot-{k}", str(d["name"]), float(d["lon"]), float(d["lat"]))
            for k, d in enumerate(cfg.get("depots", []), start=1)]
    rows = conn.execute(text("SELECT code, name, ST_X(p) AS lon, ST_Y(p) AS lat FROM "
                             "(SELECT code, name, ST_PointOnSurface(geom) AS p FROM township) t ORDER BY code")).all()
    out += [DepotChoice(f"township-{r.code}", f"{r.name}（乡镇内一点）", float(r.lon), float(r.lat)) for r in rows]
    return out


def township_choices(conn: Connection) -> list[tuple[str, str]]:
    """(code, name) of the townships the caller may plan for."""
    return [(r.code, r.name) for r in conn.execute(text("SELECT code, name FROM township ORDER BY code")).all()]


def _number(raw: str, cast: type, field: str, label: str, low: float, high: float,
            errors: dict[str, str]) -> Any:
    try:
        value = cast(raw.strip())
    except ValueError:
        errors[field] = f"{label}应为数字，收到“{raw}”"
        return None
    if not low <= value <= high:
        errors[field] = f"{label}应在 {low:g}–{high:g} 之间，收到 {value:g}"
        return None
    return value


def parse_plan_form(form: Mapping[str, str], *, depots: list[DepotChoice], townships: list[tuple[str, str]],
                    county_wide: bool = True) -> tuple[PlanRequest | None, dict[str, str]]:
    """The form's values checked: (request, {}) or (None, {field: Chinese message}) for every field at fault;
    a user of some townships only (county_wide False) must name one of them."""
    errors: dict[str, str] = {}
    week = (form.get("week") or "").strip()
    start = end = None
    if not week:
        errors["week"] = "请选择周次"
    elif not re.fullmatch(r"\d{4}-W\d{2}", week):
        errors["week"] = f"周次格式应为 2026-W48，收到“{week}”"
    else:
        try:
            start, end = plan_range(week=week)
        except InvalidInput as exc:
            errors["week"] = exc.message
    township = (form.get("township") or "").strip() or None
    if township is not None and township not in dict(townships):
        errors["township"] = f"没有乡镇代码 {township}，或不在你的辖区内"
    elif township is None and not county_wide:
        errors["township"] = "请选择乡镇：你的账号只管辖部分乡镇，不能制定全县计划"
    teams = _number(form.get("teams") or "", int, "teams", "巡查组数", 1, MAX_FORM_TEAMS, errors)
    by_key = {d.key: d for d in depots}
    chosen: list[DepotChoice] = []
    for k in range(1, (teams or 0) + 1):
        key = form.get(f"depot_{k}") or "office"
        if key not in by_key:
            errors[f"depot_{k}"] = f"第{k}组的驻地无效"
        else:
            chosen.append(by_key[key])
    hours = _number(form.get("work_hours") or "", float, "work_hours", "每日工作时长（小时）", *HOURS, errors)
    day_start = (form.get("day_start") or "").strip()
    if not re.fullmatch(r"\d{2}:\d{2}", day_start) or not START_TIMES[0] <= day_start <= START_TIMES[1] \
            or int(day_start[3:]) > 59:
        errors["day_start"] = f"出发时间应为 {START_TIMES[0]}–{START_TIMES[1]} 之间的时:分，收到“{day_start}”"
    limit = _number(form.get("time_limit_s") or "", float, "time_limit_s", "求解时限（秒）", *TIME_LIMIT_S, errors)
    if errors:
        return None, errors
    assert start is not None and end is not None
    return PlanRequest(week, start, end, township, int(teams), tuple(chosen), float(hours), day_start,
                       float(limit)), {}


def next_due_on(colour: str, inspected_on: dt.date) -> tuple[dt.date, int]:
    """The next inspection date after a visit: the colour's interval (frequencies.toml, 本地规定), and the days."""
    days = load_frequencies().interval_days[colour]
    return inspected_on + dt.timedelta(days=days), days


def colour_label(colour: str) -> str:
    return COLOUR_LABELS.get(colour, colour)
