"""The weekly due list: which enterprises the bureau must visit in week 2026-W48, and in what order.

Pure logic over plain records (no database): 红 every 7 days, 橙 10, 黄 15, 蓝 30 (frequencies.toml).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from geo.errors import InvalidInput
from geo.inspection.due import EnterpriseStatus, list_due, load_frequencies, parse_iso_week

D = dt.date
WEEK = (D(2026, 11, 23), D(2026, 11, 29))  # 2026-W48, Monday to Sunday


def unit(eid: int, colour: str | None, last: dt.date | None, **flags: bool) -> EnterpriseStatus:
    return EnterpriseStatus(eid, f"企业{eid}", colour, last, **flags)


def due_ids(*units: EnterpriseStatus, start: dt.date = WEEK[0], end: dt.date = WEEK[1]) -> list[int]:
    return [i.enterprise_id for i in list_due(units, start, end)]


def test_iso_week_is_monday_to_sunday() -> None:
    assert parse_iso_week("2026-W48") == WEEK
    assert parse_iso_week("2026W01") == (D(2025, 12, 29), D(2026, 1, 4))
    assert parse_iso_week("2026-W53") == (D(2026, 12, 28), D(2027, 1, 3))  # 2026 has 53 ISO weeks


@pytest.mark.parametrize("text", ["2026-48", "W48", "2026-W", "二〇二六年第48周", ""])
def test_badly_written_week_is_refused_in_chinese(text: str) -> None:
    with pytest.raises(InvalidInput, match="周次格式"):
        parse_iso_week(text)


def test_week_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidInput, match="不存在的周次"):
        parse_iso_week("2025-W53")  # 2025 has 52 ISO weeks


@pytest.mark.parametrize(
    ("colour", "days"), [("red", 7), ("orange", 10), ("yellow", 15), ("blue", 30)]
)
def test_each_colour_is_due_exactly_on_the_last_day_and_not_a_day_later(colour: str, days: int) -> None:
    """Inspected `days` before Sunday → due on Sunday (in the list); one day later → not yet due."""
    on_boundary = unit(1, colour, WEEK[1] - dt.timedelta(days=days))
    one_day_late = unit(2, colour, WEEK[1] - dt.timedelta(days=days - 1))
    items = list_due([on_boundary, one_day_late], *WEEK)
    assert [i.enterprise_id for i in items] == [1]
    assert items[0].due_on == WEEK[1]
    assert f"每 {days} 天" in items[0].reason_text


def test_due_on_the_first_day_of_the_week_is_not_overdue() -> None:
    """Red unit inspected a week before Monday is due on Monday itself: due, but not yet overdue."""
    item = list_due([unit(1, "red", WEEK[0] - dt.timedelta(days=7))], *WEEK)[0]
    assert item.due_on == WEEK[0]
    assert "逾期" not in item.reason_text


def test_overdue_from_earlier_weeks_stays_due_and_says_by_how_much() -> None:
    item = list_due([unit(1, "blue", D(2026, 9, 1))], *WEEK)[0]  # due 2026-10-01
    assert item.due_on == D(2026, 10, 1)
    assert "已逾期 53 天" in item.reason_text


def test_never_inspected_is_always_due() -> None:
    items = list_due([unit(7, "blue", None)], *WEEK)
    assert [(i.enterprise_id, i.due_on) for i in items] == [(7, None)]
    assert "从未检查" in items[0].reason_text


def test_recently_inspected_unit_with_overdue_hazard_is_due_anyway() -> None:
    """Inspected last Friday but a hazard's rectification deadline has passed: due, reason says why."""
    items = list_due([unit(3, "yellow", D(2026, 11, 20), overdue_hazards=True)], *WEEK)
    assert [i.enterprise_id for i in items] == [3]
    assert items[0].reason_text == "有逾期未整改隐患"


def test_newly_found_encroachment_makes_a_unit_due() -> None:
    assert due_ids(unit(4, "blue", D(2026, 11, 20), new_encroachment=True)) == [4]
    assert due_ids(unit(4, "blue", D(2026, 11, 20))) == []


def test_priority_red_over_orange_over_yellow_over_blue() -> None:
    units = [unit(i, c, WEEK[0] - dt.timedelta(days=30)) for i, c in enumerate(["blue", "yellow", "red", "orange"])]
    items = list_due(units, *WEEK)
    assert [i.colour for i in items] == ["red", "orange", "yellow", "blue"]
    assert items[0].priority > items[1].priority > items[2].priority > items[3].priority


def test_overdue_hazard_raises_priority_within_its_colour_but_not_above_the_next_colour() -> None:
    last = WEEK[0] - dt.timedelta(days=15)
    plain = unit(1, "yellow", last)
    hazard = unit(2, "yellow", last, overdue_hazards=True)
    orange = unit(3, "orange", last)
    items = {i.enterprise_id: i for i in list_due([plain, hazard, orange], *WEEK)}
    assert items[2].priority > items[1].priority
    assert items[3].priority > items[2].priority
    assert due_ids(plain, hazard, orange) == [3, 2, 1]


def test_unrated_unit_uses_the_blue_frequency_and_says_so() -> None:
    item = list_due([unit(5, None, WEEK[1] - dt.timedelta(days=30))], *WEEK)[0]
    assert item.colour == "blue"
    assert "未评定风险等级" in item.reason_text


def test_a_bureau_can_set_its_own_frequencies(tmp_path: Path) -> None:
    """A bureau that checks red units every 3 days: inspected 3 days before Sunday → due this week."""
    shipped = Path(__file__).resolve().parent.parent / "geo" / "inspection" / "frequencies.toml"
    own = tmp_path / "frequencies.toml"
    own.write_text(shipped.read_text(encoding="utf-8").replace("red = 7 ", "red = 3 "), encoding="utf-8")
    freq = load_frequencies(own)
    assert freq.interval_days["red"] == 3
    assert [i.enterprise_id for i in list_due([unit(1, "red", D(2026, 11, 26))], *WEEK, frequencies=freq)] == [1]
    assert list_due([unit(1, "red", D(2026, 11, 26))], *WEEK) == []


def test_broken_frequencies_file_is_refused_in_chinese(tmp_path: Path) -> None:
    bad = tmp_path / "f.toml"
    bad.write_text("[interval_days]\nred = 0\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="必须是正整数"):
        load_frequencies(bad)


def test_bad_colour_and_reversed_range_are_refused() -> None:
    with pytest.raises(InvalidInput, match="风险颜色无效"):
        list_due([unit(1, "green", None)], *WEEK)
    with pytest.raises(InvalidInput, match="日期范围无效"):
        list_due([], WEEK[1], WEEK[0])


def test_due_items_feed_the_route_solver_as_priorities() -> None:
    """The priorities are whole numbers ≥ 1, as solve_routes expects."""
    items = list_due([unit(i, c, None) for i, c in enumerate(["red", "orange", "yellow", "blue"])], *WEEK)
    assert all(isinstance(i.priority, int) and i.priority >= 1 for i in items)
