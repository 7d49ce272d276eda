"""The province roll-up: each county's townships with their current colour and reasons, in one table a city or
province reads (province → city → county → township) without touching any county's detail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from geo.province.config import County

# The county's current township levels (risk_assessment, kind township) with a simplified outline for the map.
TOWNSHIPS_SQL = """
SELECT t.code AS township_code, t.name AS township_name, a.level, a.score, a.reasons, a.computed_at,
       encode(ST_AsEWKB(ST_Multi(ST_SimplifyPreserveTopology(t.geom, 0.0005))), 'hex') AS geom
FROM risk_assessment a JOIN township t ON t.id = a.object_id
WHERE a.kind = 'township' AND a.valid_to IS NULL
ORDER BY t.code
"""

REPLACE_SQL = """
INSERT INTO province_township_level (county_code, county_name, city_code, city_name, township_code,
                                     township_name, level, score, reasons, computed_at, geom, service_url)
VALUES (:county_code, :county_name, :city_code, :city_name, :township_code, :township_name, :level, :score,
        CAST(:reasons AS jsonb), :computed_at, ST_Multi(ST_GeomFromEWKB(decode(:geom, 'hex'))), :service_url)
"""


def county_townships(conn: Connection) -> list[dict[str, Any]]:
    """The county's township colours as the roll-up keeps them (read in the county's database)."""
    return [dict(r) for r in conn.execute(text(TOWNSHIPS_SQL)).mappings()]


def replace_county(conn: Connection, county: County, townships: list[dict[str, Any]]) -> int:
    """Replace the county's rows of province_township_level (the roll-up database's transaction); returns rows."""
    conn.execute(text("DELETE FROM province_township_level WHERE county_code = :c"), {"c": county.code})
    if townships:
        conn.execute(text(REPLACE_SQL), [{
            **t, "reasons": json.dumps(t["reasons"], ensure_ascii=False, default=str),
            "county_code": county.code, "county_name": county.name, "city_code": county.city_code,
            "city_name": county.city_name, "service_url": county.service_url} for t in townships])
    return len(townships)


ROLLUP_SQL = """
SELECT city_code, city_name, county_code, county_name, township_code, township_name, level, score, reasons,
       computed_at, service_url
FROM province_township_level
WHERE (CAST(:city AS text) IS NULL OR city_code = :city) AND (CAST(:county AS text) IS NULL OR county_code = :county)
ORDER BY city_code, county_code, township_code
"""

LEVEL_ORDER = ("red", "orange", "yellow", "blue")


def detail_url(service_url: str | None, township: str | None = None) -> str | None:
    """The county's own map (its riskmap service, province.toml `service_url`): /maps, or a township's map."""
    from urllib.parse import quote

    if not service_url:
        return None
    return f"{service_url}/maps" + (f"/township/{quote(township, safe='')}" if township else "")


def rollup(conn: Connection, *, city: str | None = None, county: str | None = None) -> dict[str, Any]:
    """Province → city → county → township, each level the worst of its children (ThinkHazard's roll-up)."""
    rows = [dict(r) for r in conn.execute(text(ROLLUP_SQL), {"city": city, "county": county}).mappings()]

    def worst(levels: list[str]) -> str | None:
        return min(levels, key=LEVEL_ORDER.index) if levels else None  # nothing rolled up: no colour, not 蓝

    cities: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = cities.setdefault(r["city_code"], {"code": r["city_code"], "name": r["city_name"], "counties": {}})
        k = c["counties"].setdefault(r["county_code"], {"code": r["county_code"], "name": r["county_name"],
                                                         "map_url": detail_url(r["service_url"]), "townships": []})
        k["townships"].append({key: r[key] for key in ("township_code", "township_name", "level", "score",
                                                       "reasons", "computed_at")})
    out = []
    for c in cities.values():
        counties = []
        for k in c["counties"].values():
            k["level"] = worst([t["level"] for t in k["townships"]])
            counties.append(k)
        out.append({**c, "counties": counties, "level": worst([k["level"] for k in counties])})
    return {"cities": out, "level": worst([c["level"] for c in out if c["level"]])}


AREAS_SQL = (__import__("pathlib").Path(__file__).resolve().parent / "rollup_areas.sql").read_text(encoding="utf-8")


def rollup_areas(conn: Connection, *, city: str | None = None) -> list[dict[str, Any]]:
    """City, county and township areas of the roll-up with their colours, as GeoJSON features (EPSG:4490)."""
    out = []
    for r in conn.execute(text(AREAS_SQL), {"city": city}).mappings():
        props = {k: r[k] for k in ("tier", "code", "name", "county_name", "city_name", "level", "score", "reasons")}
        props["map_url"] = detail_url(r["service_url"], r["code"] if r["tier"] == "township" else None)
        out.append({"type": "Feature", "id": f"{r['tier']}:{r['code']}", "properties": props,
                    "geometry": json.loads(r["geometry"])})
    return out
