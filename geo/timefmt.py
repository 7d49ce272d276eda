"""Times as a person in the bureau reads them: Asia/Shanghai (北京时间), to the minute."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)


def local_minute(value: Any) -> str:
    """'YYYY-MM-DD HH:MM' in Asia/Shanghai for a datetime (naive ones are taken as UTC, as the server keeps them),
    ISO text for a date, '' for None; an ISO string is parsed first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def today() -> dt.date:
    """Today's date in Asia/Shanghai (the server clock may run in UTC)."""
    return dt.datetime.now(TZ).date()
