"""Input types PostgreSQL can store: constrained strings and instants for parameters and body fields.

PostgreSQL text cannot hold NUL (U+0000), and a timestamptz's zone offset must stay within ±15:59; psycopg2 or
the server refused such values only at the query, which surfaced as a 500. Declared here, they are refused as
422 before any route runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

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
