"""The due list from the database: each enterprise's current colour, last inspection, overdue hazards and new
encroachments, fed to geo.inspection.due.list_due (the frequencies and priorities live there)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from geo.errors import NotFound
from geo.inspection.due import DueItem, EnterpriseStatus, Frequencies, list_due_and_held

MSG = {"township": "没有乡镇代码 {code}"}


@dataclass(frozen=True)
class DueStop:
    """A due enterprise with what the route sheet shows: place (lon/lat, EPSG:4490), address, contact."""

    item: DueItem
    category: str
    address: str | None
    township: str | None
    contact: str | None
    lon: float
    lat: float


def load_due(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    township: str | None = None,
    frequencies: Frequencies | None = None,
    with_held: bool = False,
) -> list[DueStop]:
    """Enterprises due between start and end (inclusive), most urgent first; township = 12-digit code or None.
    With `with_held`, also those the annual cap holds back (item.held_back, the reason among item.reasons).

    A hazard counts as overdue when its deadline falls before `start` and it is neither rectified nor closed;
    an encroachment counts when its status is 'found' and its responsible operator (or its pipeline's
    operator) is the enterprise, by name.
    """
    if township is not None and conn.execute(
            text("SELECT 1 FROM township WHERE code = :c"), {"c": township}).first() is None:
        raise NotFound(MSG["township"].format(code=township))
    sql = Path(__file__).with_name("due.sql").read_text(encoding="utf-8")
    rows = conn.execute(text(sql), {"start": start, "end": end, "township": township}).all()
    by_id = {r.id: r for r in rows}
    statuses = [EnterpriseStatus(r.id, r.name, r.colour, r.last_on, bool(r.overdue_hazards),
                                 bool(r.new_encroachment), r.category, int(r.inspections_this_year)) for r in rows]
    out = []
    for item in list_due_and_held(statuses, start, end, frequencies=frequencies):
        if item.held_back and not with_held:
            continue
        r = by_id[item.enterprise_id]
        contact = f"网格员 {r.officer_name} {r.officer_phone or ''}".strip() if r.officer_name else None
        out.append(DueStop(item, r.category, r.address, r.township_name, contact, float(r.lon), float(r.lat)))
    return out
