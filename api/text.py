"""Input types PostgreSQL can store: constrained strings and instants for parameters and body fields.

PostgreSQL text cannot hold NUL (U+0000), and a timestamptz's zone offset must stay within ±15:59; psycopg2 or
the server refused such values only at the query, which surfaced as a 500. Declared here, they are refused as
422 before any route runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

from geo.models import EARLIEST_DAY, LATEST_DAY, TEXT_MAX, max_length

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
"""Any string without NUL characters (不得包含 NUL 字符)."""

MAX_UTC_OFFSET = dt.timedelta(hours=14)
"""The widest zone offset in use on Earth (UTC+14, Line Islands; the westmost is UTC−12)."""


def _plausible_offset(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValueError(f"时区偏移 {offset} 超出 ±14:00")
    return value


Instant = Annotated[dt.datetime, AfterValidator(_plausible_offset)]
"""An ISO 8601 date-time whose zone offset, if any, is within ±14:00 (Python allows ±23:59, PostgreSQL ±15:59)."""


def column_text(table: str, column: str) -> Any:
    """A NUL-free string no longer than the column `table.column` holds (its varchar length, or TEXT_MAX for text),
    read from geo.models so the limit is declared once, by the column."""
    return Annotated[str, StringConstraints(pattern=r"^[^\x00]*$", max_length=max_length(table, column))]


LongText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$", max_length=TEXT_MAX)]
"""Free text for a text column (说明、措施、备注): at most TEXT_MAX characters."""

Person = column_text("hazard", "closed_by")
"""A person's name as the register keeps it (经办人、核查人: varchar(50), as register_event.changed_by of 0003)."""

def _working_day(value: dt.date) -> dt.date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"日期 {value} 应在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间")
    return value


def _past_day(value: dt.date) -> dt.date:
    if not dt.date(1900, 1, 1) <= value <= LATEST_DAY:
        raise ValueError(f"日期 {value} 应在 1900-01-01 至 {LATEST_DAY} 之间")
    return value


Day = Annotated[dt.date, AfterValidator(_working_day)]
"""A working date: inspection, finding, deadline, plan (2000-01-01 … 2100-12-31)."""
PastDay = Annotated[dt.date, AfterValidator(_past_day)]
"""A date that may lie long ago, e.g. when an encroaching building was put up (1900-01-01 … 2100-12-31)."""
