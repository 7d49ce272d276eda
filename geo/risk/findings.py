"""Findings (one rule firing on one object) and how they combine into an assessment: highest level wins."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from geo.county import metric_srid
from geo.risk.rules import LEVEL_RANK, highest


@dataclass
class Finding:
    """One rule firing on one object: its level (None = informational), risk points and Chinese reason."""

    kind: str
    object_id: int
    code: str
    level: str | None
    points: float
    text: str
    clause: str = ""
    value: dict[str, Any] = field(default_factory=dict)

    def as_reason(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "points": round(self.points, 2), "text": self.text,
                "clause": self.clause, "value": self.value}


@dataclass
class Assessment:
    """The result for one object: level, score (sum of risk points, higher = riskier) and reasons."""

    kind: str
    object_id: int
    level: str
    score: float
    reasons: list[dict[str, Any]]
    details: dict[str, Any]
    township_id: int | None


def combine_findings(kind: str, object_id: int, findings: list[Finding], *, township_id: int | None,
                     details: dict[str, Any] | None = None, base_level: str = "blue") -> Assessment:
    """Level = highest level any finding gives (就高); score = sum of points; reasons most severe first."""
    level = highest([f.level for f in findings if f.level] + [base_level])
    ordered = sorted(findings, key=lambda f: (-LEVEL_RANK.get(f.level or "", 0), -f.points, f.code))
    score = round(sum(f.points for f in findings), 2)
    return Assessment(kind=kind, object_id=object_id, level=level, score=score,
                      reasons=[f.as_reason() for f in ordered], details=details or {}, township_id=township_id)


def dict_rows(result: Any) -> list[dict[str, Any]]:
    """All rows of a result as dicts, the column names looked up once (dict(row._mapping) looks them up per row)."""
    keys = list(result.keys())
    return [dict(zip(keys, row)) for row in result.all()]


def fmt_number(value: float, digits: int = 1) -> str:
    """Round for a reason text and drop a trailing .0 (126.0 → '126', 1.84 → '1.8')."""
    return f"{round(float(value), digits):g}" if abs(value) < 1e15 else str(value)


def degree_margin(conn: Connection, distance_m: float) -> tuple[float, float]:
    """(dx, dy) in degrees covering `distance_m` anywhere in the county, for a GiST `&&` prefilter only.

    Distances themselves are always measured in the county's Gauss–Krüger zone; this box merely lets the
    planner use the EPSG:4490 GiST index before the metric test (5 % margin, northernmost latitude).
    """
    max_lat = northernmost_latitude(conn)
    dy = distance_m / 110_574.0 * 1.05 + 1e-6
    dx = distance_m / (111_320.0 * math.cos(math.radians(min(abs(float(max_lat)), 85.0)))) * 1.05 + 1e-6
    return dx, dy


_LATITUDES: dict[tuple[str, str, object, object], float] = {}


def northernmost_latitude(conn: Connection) -> float:
    """The county outline's northernmost latitude, read once per outline (keyed on its row version, no detoast)
    and looked up once per transaction (a run asks for it once per distance rule: each ask was a round trip)."""
    txn = conn.get_transaction()
    memo = conn.info.get("northernmost_latitude")
    if txn is not None and memo is not None and memo[0] is txn:
        return memo[1]
    row = conn.execute(text("SELECT code, updated_at, version FROM county ORDER BY code LIMIT 1")).first()
    if row is None:
        return 60.0
    key = (str(conn.engine.url), str(row[0]), row[1], row[2])
    if key not in _LATITUDES:
        lat = conn.execute(text("SELECT ST_YMax(geom) FROM county WHERE code = :c"), {"c": row[0]}).scalar()
        _LATITUDES[key] = float(lat) if lat is not None else 60.0
    if txn is not None:
        conn.info["northernmost_latitude"] = (txn, _LATITUDES[key])
    return _LATITUDES[key]


def county_srid(conn: Connection) -> int:
    """The county's metric SRID (geo.county.metric_srid); every distance and area is computed in it."""
    return metric_srid(conn)
