"""Small constructed data inside 河曲县 for the import/export tests, and helpers to look at the tables."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Engine, text

from geo.uscc import make_uscc

USCC = [make_uscc(f"91140930MA0K{i:05d}") for i in range(1, 10)]
"""Valid 统一社会信用代码 (GB 32100-2015 check characters computed)."""
POINTS = [(111.30, 39.20), (111.40, 39.30), (111.25, 39.35), (111.35, 39.10), (111.45, 39.15)]
"""Points inside the 河曲县 outline (lon, lat)."""


def enterprises(n: int = 3) -> gpd.GeoDataFrame:
    """Enterprises as a bureau's spreadsheet names them: Chinese headers, Chinese category labels."""
    rows = [
        {"统一社会信用代码": USCC[0], "企业名称": "河曲示例化工有限公司", "行业类别": "危险化学品",
         "地址": "河曲县文笔镇示例路1号", "从业人数": 120, "重大危险源": "是"},
        {"统一社会信用代码": USCC[1], "企业名称": "河曲示例煤业有限公司", "行业类别": "煤矿",
         "地址": "河曲县沙坪乡", "从业人数": 45, "重大危险源": "否"},
        {"统一社会信用代码": USCC[2], "企业名称": "河曲示例燃气公司", "行业类别": "gas",
         "地址": None, "从业人数": None, "重大危险源": "否"},
        {"统一社会信用代码": USCC[3], "企业名称": "河曲示例建筑公司", "行业类别": "建筑施工",
         "地址": "河曲县巡镇镇", "从业人数": 300, "重大危险源": "否"},
    ][:n]
    return gpd.GeoDataFrame(rows, geometry=[shapely.Point(p) for p in POINTS[:n]], crs=4490)


def pipelines() -> gpd.GeoDataFrame:
    """Two pipelines crossing the county (MultiLineString, CGCS2000)."""
    return gpd.GeoDataFrame(
        [{"管道编号": "GD-001", "管道名称": "示例输气管道", "输送介质": "天然气", "设计压力(MPa)": 6.3,
          "管径(mm)": 508.0, "投产年份": 2012},
         {"管道编号": "GD-002", "管道名称": "示例成品油管道", "输送介质": "成品油", "设计压力(MPa)": None,
          "管径(mm)": 273.0, "投产年份": None}],
        geometry=[shapely.MultiLineString([[(111.20, 39.10), (111.35, 39.18), (111.50, 39.25)]]),
                  shapely.MultiLineString([[(111.28, 39.05), (111.30, 39.30)], [(111.30, 39.30), (111.32, 39.40)]])],
        crs=4490)


def townships() -> gpd.GeoDataFrame:
    """Two illustrative township squares (9-digit NBS codes, as the statistics office lists them)."""
    return gpd.GeoDataFrame(
        [{"代码": "140930100", "名称": "西口镇"}, {"代码": "140930101", "名称": "楼子营镇"}],
        geometry=[shapely.box(111.20, 39.15, 111.35, 39.25), shapely.box(111.35, 39.25, 111.50, 39.35)], crs=4490)


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def snapshot(engine: Engine, table: str, *, geom: str | None = "geom") -> list[tuple[Any, ...]]:
    """Every row of a table without ids, timestamps, source and derived geom_* columns; sorted.

    Geometry as WKT snapped to 1e-9° with counter-clockwise exterior rings (as the importer stores them).
    """
    with engine.connect() as conn:
        cols = [c for c in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"),
            {"t": table}).scalars() if c not in ("id", "created_at", "updated_at", "source", "geom", geom)
                and not c.startswith("geom_") and not c.endswith("_id")]
        select = ", ".join(f'"{c}"' for c in cols)
        if geom:
            select += f", ST_AsText(ST_SnapToGrid(ST_ForcePolygonCCW({geom}), 1e-9))"
        return sorted((tuple(r) for r in conn.execute(text(f"SELECT {select} FROM {table}")).all()), key=repr)
