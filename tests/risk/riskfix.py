"""Constructed data for the risk engine inside 河曲县: a local metric frame around (111.30°E, 39.20°N).

`site` places things by metres east/north of the origin in the county's Gauss–Krüger zone (EPSG:4546) and
stores them in EPSG:4490, so distances in the tests are the distances the engine measures.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)

_TO_GEO = Transformer.from_crs(4546, 4490, always_xy=True)
_TO_GK = Transformer.from_crs(4490, 4546, always_xy=True)
X0, Y0 = _TO_GK.transform(111.30, 39.20)
_counter = itertools.count(1)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    return _TO_GEO.transform(X0 + dx, Y0 + dy)


def pt(dx: float, dy: float) -> str:
    lon, lat = lonlat(dx, dy)
    return f"POINT({lon:.9f} {lat:.9f})"


def rect(x0: float, y0: float, x1: float, y1: float) -> str:
    ring = [lonlat(x0, y0), lonlat(x1, y0), lonlat(x1, y1), lonlat(x0, y1), lonlat(x0, y0)]
    return "MULTIPOLYGON(((" + ", ".join(f"{x:.9f} {y:.9f}" for x, y in ring) + ")))"


def line(*points: tuple[float, float]) -> str:
    return "MULTILINESTRING((" + ", ".join("{:.9f} {:.9f}".format(*lonlat(x, y)) for x, y in points) + "))"


class Site:
    """Inserts constructed rows; every method returns the new id."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, sql: str, **params: Any) -> int:
        return int(self.conn.execute(text(sql + " RETURNING id"), params).scalar_one())

    def township(self, code: str, name: str, x0: float, y0: float, x1: float, y1: float) -> int:
        return self._insert("INSERT INTO township (code, name, county_code, geom) "
                            "VALUES (:c, :n, '140930', ST_GeomFromText(:g, 4490))",
                            c=code, n=name, g=rect(x0, y0, x1, y1))

    def grid_cell(self, code: str, township_id: int, x0: float, y0: float, x1: float, y1: float) -> int:
        return self._insert("INSERT INTO grid_cell (code, name, township_id, geom) "
                            "VALUES (:c, :c, :t, ST_GeomFromText(:g, 4490))",
                            c=code, t=township_id, g=rect(x0, y0, x1, y1))

    def enterprise(self, name: str, category: str, at: tuple[float, float], **cols: Any) -> int:
        n = next(_counter)
        fields = {"uscc": f"91140930TST{n:07d}", "name": name, "category": category, **cols}
        names = ", ".join(fields) + ", geom"
        values = ", ".join(f":{k}" for k in fields) + ", ST_GeomFromText(:g, 4490)"
        return self._insert(f"INSERT INTO enterprise ({names}) VALUES ({values})", g=pt(*at), **fields)

    def inventory(self, enterprise_id: int, substance: str, quantity_t: float, *, unit: str | None = None,
                  hazard_class: str | None = None, cas: str | None = None) -> int:
        return self._insert("INSERT INTO chemical_inventory (enterprise_id, substance, cas, max_quantity_t, "
                            "hazard_class, unit_name) VALUES (:e, :s, :cas, :q, :h, :u)",
                            e=enterprise_id, s=substance, cas=cas, q=quantity_t, h=hazard_class, u=unit)

    def building(self, at: tuple[float, float], *, use: str = "residential", floors: int = 1, size_m: float = 10,
                 households: int | None = None) -> int:
        x, y = at
        h = size_m / 2
        return self._insert("INSERT INTO building (use_class, floors, households, geom) "
                            "VALUES (:u, :f, :hh, ST_GeomFromText(:g, 4490))",
                            u=use, f=floors, hh=households, g=rect(x - h, y - h, x + h, y + h))

    def hazard(self, enterprise_id: int, level: str, *, status: str = "found", deadline: dt.date | None = None,
               found_on: dt.date = dt.date(2026, 1, 10)) -> int:
        return self._insert("INSERT INTO hazard (enterprise_id, level, status, found_on, deadline) "
                            "VALUES (:e, :l, :s, :f, :d)", e=enterprise_id, l=level, s=status, f=found_on, d=deadline)

    def accident(self, enterprise_id: int, occurred_on: dt.date, *, deaths: int = 0, injuries: int = 0,
                 loss_10k_yuan: float = 0) -> int:
        return self._insert("INSERT INTO accident (enterprise_id, occurred_on, deaths, serious_injuries, "
                            "direct_loss_10k_yuan) VALUES (:e, :o, :d, :i, :l)",
                            e=enterprise_id, o=occurred_on, d=deaths, i=injuries, l=loss_10k_yuan)

    def pipeline(self, code: str, points: list[tuple[float, float]], *, medium: str = "gas",
                 diameter_mm: float | None = 508, pressure_mpa: float | None = 6.3,
                 maop_mpa: float | None = None) -> int:
        return self._insert("INSERT INTO pipeline (code, name, medium, outside_diameter_mm, design_pressure_mpa, "
                            "maop_mpa, geom) VALUES (:c, :n, :m, :d, :p, :maop, ST_GeomFromText(:g, 4490))",
                            c=code, n=f"测试管道{code}", m=medium, d=diameter_mm, p=pressure_mpa, maop=maop_mpa,
                            g=line(*points))

    def encroachment(self, code: str, at: tuple[float, float], *, kind: str = "encroachment",
                     status: str = "found", pipeline_id: int | None = None) -> int:
        return self._insert("INSERT INTO encroachment (code, pipeline_id, kind, status, geom) "
                            "VALUES (:c, :p, :k, :s, ST_GeomFromText(:g, 4490))",
                            c=code, p=pipeline_id, k=kind, s=status, g=pt(*at))

    def mine(self, name: str, licence: str, *, workings: str | None = None, method: str = "open_pit",
             operating: bool = True, enterprise_id: int | None = None) -> int:
        n = next(_counter)
        return self._insert("INSERT INTO mine (licence_no, name, mine_type, method, operating, enterprise_id, "
                            "licence_boundary, workings) VALUES (:l, :n, 'non_coal', :m, :o, :e, "
                            "ST_GeomFromText(:b, 4490), ST_GeomFromText(:w, 4490))",
                            l=f"C1409302026{n:06d}", n=name, m=method, o=operating, e=enterprise_id, b=licence,
                            w=workings)

    def mine_zone(self, kind: str, name: str, area: str) -> int:
        return self._insert("INSERT INTO mine_zone (kind, name, geom) VALUES (:k, :n, ST_GeomFromText(:g, 4490))",
                            k=kind, n=name, g=area)


def compute_now(engine: Engine, **kw: Any) -> Any:
    """Run geo.risk.compute in one transaction with the tests' fixed clock."""
    from geo.risk import compute

    kw.setdefault("today", TODAY)
    kw.setdefault("now", NOW)
    with engine.begin() as conn:
        return compute(conn, **kw)


def explain_of(engine: Engine, kind: str, object_id: int) -> dict[str, Any]:
    from geo.risk import explain

    with engine.connect() as conn:
        return explain(conn, kind, object_id)


def texts(result: dict[str, Any]) -> list[str]:
    return [r["text"] for r in result["reasons"]]
