"""Small constructed counties for the encroachment and register tests: built in EPSG:4546 metres, stored in 4490."""

from __future__ import annotations

import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

METRIC_SRID = 4546
"""CGCS2000 / 3-degree Gauss–Kruger CM 111E, the zone of 河曲县."""
X0, Y0 = 525_900.0, 4_340_750.0
"""A place inside 河曲县, in EPSG:4546 metres (about 111.30°E, 39.20°N)."""

_TO_GEO = Transformer.from_crs(METRIC_SRID, 4490, always_xy=True)


def to_storage(geom_m: BaseGeometry) -> BaseGeometry:
    """EPSG:4546 metres → EPSG:4490 lon/lat, vertex by vertex (as an importer would store it)."""
    return shapely.transform(geom_m, lambda xy: list(zip(*_TO_GEO.transform(xy[:, 0], xy[:, 1]))))


def add_township(conn: Connection, code: str, name: str, polygon_m: Polygon) -> int:
    return conn.execute(
        text("INSERT INTO township (code, name, county_code, geom) "
             "VALUES (:c, :n, '140930', ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"c": code, "n": name, "w": MultiPolygon([to_storage(polygon_m)]).wkt},
    ).scalar_one()


def add_pipeline(conn: Connection, code: str, line_m: LineString, *, operator: str = "示例管道公司",
                 medium: str = "gas") -> int:
    return conn.execute(
        text("INSERT INTO pipeline (code, name, operator, medium, geom) "
             "VALUES (:c, :n, :o, :m, ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"c": code, "n": f"管道{code}", "o": operator, "m": medium, "w": MultiLineString([to_storage(line_m)]).wkt},
    ).scalar_one()


def add_building(conn: Connection, polygon_m: Polygon) -> int:
    return conn.execute(
        text("INSERT INTO building (geom) VALUES (ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"w": MultiPolygon([to_storage(polygon_m)]).wkt},
    ).scalar_one()


def add_road(conn: Connection, line_m: LineString) -> int:
    return conn.execute(
        text("INSERT INTO road (geom) VALUES (ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"w": to_storage(line_m).wkt},
    ).scalar_one()


def add_mine(conn: Connection, licence_no: str, workings_m: Polygon) -> int:
    w = MultiPolygon([to_storage(workings_m)]).wkt
    return conn.execute(
        text("INSERT INTO mine (licence_no, name, mine_type, method, licence_boundary, workings) "
             "VALUES (:l, :l, 'non_coal', 'open_pit', ST_GeomFromText(:w, 4490), ST_GeomFromText(:w, 4490)) "
             "RETURNING id"),
        {"l": licence_no, "w": w},
    ).scalar_one()


def add_facility(conn: Connection, pipeline_id: int, point_m: Point, *, kind: str = "valve") -> int:
    return conn.execute(
        text("INSERT INTO pipeline_facility (pipeline_id, kind, name, geom) "
             "VALUES (:p, :k, '阀室', ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"p": pipeline_id, "k": kind, "w": to_storage(point_m).wkt},
    ).scalar_one()


def add_enterprise(conn: Connection, uscc: str, name: str, point_m: Point, township_id: int) -> int:
    return conn.execute(
        text("INSERT INTO enterprise (uscc, name, category, township_id, geom) "
             "VALUES (:u, :n, 'hazchem', :t, ST_GeomFromText(:w, 4490)) RETURNING id"),
        {"u": uscc, "n": name, "t": township_id, "w": to_storage(point_m).wkt},
    ).scalar_one()


def two_townships(conn: Connection) -> tuple[int, int]:
    """西镇 west of X0 and 东镇 east of it, each 4 km × 4 km, meeting along x = X0."""
    west = add_township(conn, "140930100000", "西镇", box(X0 - 4000, Y0 - 2000, X0, Y0 + 2000))
    east = add_township(conn, "140930101000", "东镇", box(X0, Y0 - 2000, X0 + 4000, Y0 + 2000))
    return west, east


def truncate_register(conn: Connection) -> None:
    """register_event is not among the models' tables the `db` fixture empties."""
    conn.execute(text("TRUNCATE register_event RESTART IDENTITY"))
