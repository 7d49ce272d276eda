"""Write the demo county into the database in force: one transaction that deletes the demo rows and reloads them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from geo import migrate
from geo.access.bulk import begin_bulk, content_sha256, operation
from geo.county import upsert_county
from geo.db import get_engine
from geo.demo.generate import DemoCounty, build_demo, load_config
from geo.errors import InvalidInput
from geo.models import SRID, Base

TABLES = Base.metadata.tables


def demo_sources() -> list[str]:
    """The `source` values the demo writes; rows carrying one of them belong to the demo (the county row excepted)."""
    return [v for k, v in load_config()["sources"].items() if k != "county"]


def load_demo(engine: Engine | None = None, *, seed: int | None = None, as_of: dt.date | None = None
              ) -> dict[str, int]:
    """Migrate to head, then replace the demo county in one transaction; returns row counts per table."""
    engine = engine or get_engine()
    migrate.upgrade(engine)
    demo = build_demo(seed=seed, as_of=as_of)
    try:
        with engine.begin() as conn:
            begin_bulk(conn, demo_operation(seed=seed, as_of=as_of))
            delete_demo(conn)
            write_demo(conn, demo)
            assign_townships(conn)
            return count_rows(conn)
    except IntegrityError as exc:
        raise InvalidInput("数据库中已有与示范县同代码的非示范数据（乡镇、村、企业或管道），示范县未载入；"
                           f"请在空库或示范库中运行。详情：{exc.orig}") from exc


def demo_operation(*, seed: int | None, as_of: dt.date | None) -> dict[str, Any]:
    """The audit's description of a demo load: the command and a hash of the demo's settings and parameters."""
    from geo.demo.generate import CONFIG_FILE, COUNTY_OUTLINE, TOWNSHIPS_CSV

    params = f"seed={seed};as_of={as_of};"
    return operation("demo", "riskmap demo load" + (f" --seed {seed}" if seed is not None else ""),
                     content_sha256([params, *(p.read_bytes() for p in (CONFIG_FILE, COUNTY_OUTLINE, TOWNSHIPS_CSV))]))


def delete_demo(conn: Connection) -> None:
    """Delete every demo row (children first); a bureau's own rows, with other sources, stay."""
    sources = demo_sources()
    for table in reversed(Base.metadata.sorted_tables):
        if "source" in table.c and table.name != "county":
            conn.execute(delete(table).where(table.c.source.in_(sources)))


def _row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if key not in table.c:
            continue
        if isinstance(table.c[key].type, Geometry):
            value = None if value is None else from_shape(value, srid=SRID)
        out[key] = value
    return out


def _insert(conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
    table = TABLES[name]
    prepared = [_row(table, r) for r in rows]
    keys = {k for r in prepared for k in r}
    if prepared:
        conn.execute(insert(table), [{k: r.get(k) for k in keys} for r in prepared])


def _ids(conn: Connection, name: str, key: str) -> dict[str, int]:
    table = TABLES[name]
    return {k: int(v) for k, v in conn.execute(select(table.c[key], table.c.id))}


def _resolve(rows: list[dict[str, Any]], ref: str, column: str, ids: dict[str, int]) -> list[dict[str, Any]]:
    return [{**r, column: ids[r[ref]] if r.get(ref) is not None else None} for r in rows]


def write_demo(conn: Connection, demo: DemoCounty) -> None:
    """Insert the demo rows (executemany per table), resolving natural keys to the new ids."""
    county = demo.county
    geom: BaseGeometry = county["geom"]
    upsert_county(conn, code=county["code"], name=county["name"], wkb_hex=geom.wkb_hex, source=county["source"])
    _insert(conn, "township", demo.townships)
    townships = _ids(conn, "township", "code")
    _insert(conn, "village", _resolve(demo.villages, "township_code", "township_id", townships))
    _insert(conn, "grid_cell", _resolve(demo.grid_cells, "township_code", "township_id", townships))
    _insert(conn, "road", demo.roads)
    _insert(conn, "building", demo.buildings)
    _insert(conn, "enterprise", _resolve(demo.enterprises, "township_code", "township_id", townships))
    enterprises = _ids(conn, "enterprise", "uscc")
    for name, rows in (("chemical_inventory", demo.inventories), ("hazard", demo.hazards),
                       ("accident", demo.accidents), ("inspection", demo.inspections)):
        _insert(conn, name, _resolve(rows, "enterprise_uscc", "enterprise_id", enterprises))
    _insert(conn, "pipeline", demo.pipelines)
    pipelines = _ids(conn, "pipeline", "code")
    _insert(conn, "pipeline_facility", _resolve(demo.facilities, "pipeline_code", "pipeline_id", pipelines))
    _insert(conn, "encroachment", _resolve(demo.encroachments, "pipeline_code", "pipeline_id", pipelines))
    _insert(conn, "mine", _resolve(demo.mines, "enterprise_uscc", "enterprise_id", enterprises))
    _insert(conn, "mine_zone", demo.mine_zones)
    _insert(conn, "waterway", demo.waterways)
    _insert(conn, "pipeline_tunnel", _resolve(demo.tunnels, "pipeline_code", "pipeline_id", pipelines))


def assign_townships(conn: Connection) -> None:
    """Set township_id of demo buildings, encroachments and mines from where they lie (one statement each)."""
    src = load_config()["sources"]["synthetic"]
    for table, geom in (("building", "ST_PointOnSurface(x.geom)"), ("encroachment", "x.geom"),
                        ("mine", "ST_PointOnSurface(x.licence_boundary)")):
        conn.execute(text(f"UPDATE {table} x SET township_id = t.id FROM township t "
                          f"WHERE x.source = :src AND ST_Intersects(t.geom, {geom})"), {"src": src})


def count_rows(conn: Connection) -> dict[str, int]:
    """Rows per table, in dependency order."""
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables}
