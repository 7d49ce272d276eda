"""Read any layer as GeoJSON features, filtered by township, bbox, text and risk colour, paginated.

One query per request, built from small bound pieces; geometry leaves PostGIS as GeoJSON (EPSG:4490,
lon/lat, 6 decimals ≈ 0.1 m). The API and the map pages both read through here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound

LEVELS = ("red", "orange", "yellow", "blue")
LEVEL_LABELS = {"red": "重大风险", "orange": "较大风险", "yellow": "一般风险", "blue": "低风险"}
LEVEL_SHORT = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}


@dataclass(frozen=True)
class LayerSpec:
    """How one table is read as features: its columns, Chinese title and how it reaches a township."""

    name: str
    title: str
    table: str
    columns: tuple[str, ...]
    geom: str = "geom"
    code: str | None = "code"
    label: str = "name"
    township_sql: str = "t.township_id"
    """SQL giving the row's township id (alias `t` is the layer's table)."""
    risk_kind: str | None = None
    """Object kind in the risk engine's assessments, when the layer has risk levels."""
    extra_joins: str = ""
    extra_columns: tuple[str, ...] = field(default_factory=tuple)


ENTERPRISE_FACTS = ("site_radius_m", "registered_major_hazard_grade", "key_process_count", "key_processes",
                    "key_chemical_count", "explosive_count", "toxic_inhalation_count", "external_distance_ok",
                    "reaction_risk_unassessed", "designed_by_class_a", "obsolete_equipment_count", "automation_missing",
                    "gas_detection_missing_count", "uncertified_managers", "registered_safety_engineer",
                    "chemistry_degree_leaders", "own_fire_team", "untrialled_new_process", "undesigned_unit",
                    "special_ops_uncertified")
"""Enterprise facts of GB 18218-2018 (厂区, 备案等级) and the 应急〔2018〕19号 diagnostic table (NULL = 未填报)."""

LAYERS: dict[str, LayerSpec] = {
    s.name: s
    for s in (
        LayerSpec("township", "乡镇/街道", "township", ("code", "name", "is_illustrative", "source"),
                  township_sql="t.id", risk_kind="township"),
        LayerSpec("grid_cell", "网格", "grid_cell", ("code", "name", "officer_name", "officer_phone"),
                  risk_kind="grid_cell"),
        LayerSpec("enterprise", "企业", "enterprise",
                  ("uscc", "name", "category", "address", "employees", "key_process", "key_chemical",
                   "major_hazard_source", "standardisation_grade", "in_chemical_park", *ENTERPRISE_FACTS,
                   "CAST(ST_AsGeoJSON(t.site_boundary, 6) AS json) AS site_boundary"),
                  code="uscc", risk_kind="enterprise"),
        LayerSpec("pipeline", "管道", "pipeline",
                  ("code", "name", "operator", "medium", "design_pressure_mpa", "maop_mpa", "outside_diameter_mm",
                   "burial_depth_m", "commissioning_year", "source"),
                  township_sql="NULL::int"),
        LayerSpec("pipeline_segment", "管段", "pipeline_segment",
                  ("pipeline_id", "seq", "from_m", "to_m",
                   "(SELECT p.code FROM pipeline p WHERE p.id = t.pipeline_id) AS pipeline_code",
                   "(SELECT p.name FROM pipeline p WHERE p.id = t.pipeline_id) AS name"),
                  code=None, label="(SELECT p.name FROM pipeline p WHERE p.id = t.pipeline_id)",
                  risk_kind="pipeline_segment"),
        LayerSpec("pipeline_facility", "管道附属设施", "pipeline_facility", ("kind", "name", "pipeline_id"),
                  code=None, township_sql="NULL::int"),
        LayerSpec("encroachment", "占压点", "encroachment",
                  ("code", "kind", "status", "nature", "formed_on", "deadline", "measure", "description"),
                  label="code"),
        LayerSpec("building", "建筑", "building", ("name", "use_class", "floors", "households"), code=None),
        LayerSpec("road", "道路", "road", ("name", "road_class", "oneway"), code=None, township_sql="NULL::int"),
        LayerSpec("mine", "矿山", "mine",
                  ("licence_no", "name", "mineral", "mine_type", "method", "operating"),
                  geom="licence_boundary", code="licence_no", risk_kind="mine"),
        LayerSpec("mine_zone", "矿产规划分区", "mine_zone", ("code", "name", "kind", "source_document"),
                  township_sql="NULL::int"),
        LayerSpec("village", "村/社区", "village", ("code", "name"), ),
    )
}


def layer_spec(name: str) -> LayerSpec:
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFound(f"没有名为 {name} 的图层；可用图层：{'、'.join(LAYERS)}") from None


@dataclass(frozen=True)
class Page:
    features: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    def feature_collection(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": self.features,
                "numberMatched": self.total, "numberReturned": len(self.features)}


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """'minlon,minlat,maxlon,maxlat' (EPSG:4490) → tuple; Chinese error when malformed."""
    if not value:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput(f"bbox 格式应为 最小经度,最小纬度,最大经度,最大纬度，收到 {value!r}") from None
    if len(parts) != 4 or not all(math.isfinite(v) for v in parts) or parts[0] >= parts[2] or parts[1] >= parts[3]:
        raise InvalidInput(f"bbox 应为 4 个数且最小值小于最大值，收到 {value!r}")
    return parts  # type: ignore[return-value]


def read_features(
    conn: Connection,
    layer: str,
    *,
    township: str | None = None,
    colour: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    q: str | None = None,
    limit: int = 1000,
    offset: int = 0,
    simplify_m: float | None = None,
    feature_id: int | None = None,
    max_points: int | None = None,
) -> Page:
    """A page of `layer`'s features with their current risk level where the layer has one.

    With `max_points`, a geometry of more vertices comes as null, with its bbox and vertex count instead.
    """
    spec = layer_spec(layer)
    if colour is not None and colour not in LEVELS:
        raise InvalidInput(f"风险等级应为 {'/'.join(LEVELS)} 之一，收到 {colour!r}")
    if colour is not None and spec.risk_kind is None:
        raise InvalidInput(f"图层「{spec.title}」没有风险等级，不能按颜色筛选")
    where = [f"t.{spec.geom} IS NOT NULL"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if township:
        where.append(f"({spec.township_sql}) = (SELECT id FROM township WHERE code = :township)")
        params["township"] = township
        if conn.execute(text("SELECT 1 FROM township WHERE code = :c"), {"c": township}).first() is None:
            raise NotFound(f"没有代码为 {township} 的乡镇")
    if feature_id is not None:
        where.append("t.id = :feature_id")
        params["feature_id"] = feature_id
    if bbox:
        where.append(f"t.{spec.geom} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)")
        params.update(x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3])
    if q:
        label = spec.label if spec.label.startswith("(") else f"t.{spec.label}"
        where.append(f"({label} ILIKE :q" + (f" OR t.{spec.code} ILIKE :q)" if spec.code else ")"))
        params["q"] = f"%{q}%"
    risk_cols = "NULL::text AS level, NULL::float AS score, NULL::jsonb AS reasons"
    risk_join = ""
    if spec.risk_kind and _has_risk(conn):
        risk_join = (
            "LEFT JOIN risk_assessment r ON r.kind = :risk_kind AND r.object_id = t.id AND r.valid_to IS NULL"
        )
        risk_cols = "r.level, r.score, r.reasons"
        params["risk_kind"] = spec.risk_kind
        if colour:
            where.append("r.level = :colour")
            params["colour"] = colour
    geom_sql = f"t.{spec.geom}"
    if simplify_m:
        geom_sql = f"ST_SimplifyPreserveTopology(t.{spec.geom}, :tol_deg)"
        params["tol_deg"] = simplify_m / 111_000.0
    cols = ", ".join(c if " AS " in c else f"t.{c}" for c in spec.columns)
    geojson_sql = f"ST_AsGeoJSON({geom_sql}, 6) AS geojson"
    if max_points is not None:
        geojson_sql = (f"CASE WHEN ST_NPoints(t.{spec.geom}) <= :max_points THEN {geojson_sql.removesuffix(' AS geojson')} "
                       f"END AS geojson, ST_NPoints(t.{spec.geom}) AS points, Box2D(t.{spec.geom})::text AS box")
        params["max_points"] = max_points
    sql = (
        f"SELECT t.id, {cols}, {risk_cols}, {geojson_sql}, "
        f"(SELECT code FROM township WHERE id = ({spec.township_sql})) AS township_code, "
        "count(*) OVER () AS total "
        f"FROM {spec.table} t {risk_join} WHERE {' AND '.join(where)} "
        "ORDER BY t.id LIMIT :limit OFFSET :offset"
    )
    rows = conn.execute(text(sql), params).mappings().all()
    total = int(rows[0]["total"]) if rows else _count(conn, spec, where, params, risk_join)
    features = []
    for row in rows:
        props = {k: _plain(v) for k, v in row.items() if k not in ("geojson", "total", "points", "box")}
        if props.get("level"):
            props["level_label"] = LEVEL_LABELS[props["level"]]
        feature: dict[str, Any] = {"type": "Feature", "id": row["id"], "properties": props,
                                   "geometry": json.loads(row["geojson"]) if row["geojson"] else None}
        if feature["geometry"] is None:
            feature["bbox"] = _bbox(row["box"])
            props["geometry_points"] = row["points"]
        features.append(feature)
    return Page(features, total, limit, offset)


def _bbox(box: str | None) -> list[float] | None:
    """'BOX(x0 y0,x1 y1)' (PostGIS Box2D as text) → [x0, y0, x1, y1]."""
    if not box:
        return None
    return [float(v) for v in box[4:-1].replace(",", " ").split()]


def _count(conn: Connection, spec: LayerSpec, where: list[str], params: dict[str, Any], join: str) -> int:
    if params.get("offset", 0) == 0:
        return 0
    sql = f"SELECT count(*) FROM {spec.table} t {join} WHERE {' AND '.join(where)}"
    return int(conn.execute(text(sql), params).scalar_one())


def _has_risk(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT to_regclass('risk_assessment') IS NOT NULL")).scalar_one())


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def feature_by_id(conn: Connection, layer: str, feature_id: int, *, max_points: int | None = None) -> dict[str, Any]:
    """One feature of `layer`, or NotFound in Chinese (geometry null above `max_points` vertices, see read_features)."""
    page = read_features(conn, layer, feature_id=feature_id, limit=1, max_points=max_points)
    if not page.features:
        raise NotFound(f"图层「{layer_spec(layer).title}」中没有编号为 {feature_id} 的要素")
    return page.features[0]


COUNTED_KINDS = {"enterprise": "企业", "mine": "矿山", "pipeline_segment": "管段", "grid_cell": "网格"}


def level_counts(conn: Connection, *, township: str | None = None) -> dict[str, dict[str, int]]:
    """Current risk objects per kind and level, county-wide or in one township (legend and statistics)."""
    out = {k: {lv: 0 for lv in LEVELS} for k in COUNTED_KINDS}
    if not _has_risk(conn):
        return out
    rows = conn.execute(text(
        "SELECT r.kind, r.level, count(*) FROM risk_assessment r "
        "WHERE r.valid_to IS NULL AND r.kind = ANY(:kinds) AND (CAST(:township AS text) IS NULL OR r.township_id = "
        "(SELECT id FROM township WHERE code = :township)) GROUP BY 1, 2"),
        {"kinds": list(COUNTED_KINDS), "township": township}).all()
    for kind, level, n in rows:
        if level in out[kind]:
            out[kind][level] = int(n)
    return out


_SCOPE_COUNTS_SQL = """
    SELECT r.kind, r.level, count(*) FROM risk_assessment r
    LEFT JOIN enterprise e ON r.kind = 'enterprise' AND e.id = r.object_id
    LEFT JOIN mine m ON r.kind = 'mine' AND m.id = r.object_id
    LEFT JOIN pipeline_segment s ON r.kind = 'pipeline_segment' AND s.id = r.object_id
    LEFT JOIN grid_cell g ON r.kind = 'grid_cell' AND g.id = r.object_id
    WHERE r.valid_to IS NULL AND r.kind = ANY(:kinds)
      AND (CAST(:township AS text) IS NULL
           OR coalesce(e.township_id, m.township_id, s.township_id, g.township_id)
              = (SELECT id FROM township WHERE code = :township))
      AND (CAST(:x0 AS float8) IS NULL
           OR coalesce(e.geom, m.licence_boundary, s.geom, g.geom) && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))
      AND (CAST(:grid AS text) IS NULL OR CASE r.kind
           WHEN 'enterprise' THEN ST_Covers((SELECT geom FROM grid_cell WHERE code = :grid), e.geom)
           WHEN 'grid_cell' THEN g.code = :grid ELSE true END)
    GROUP BY 1, 2
"""


def scope_level_counts(conn: Connection, *, township: str | None = None, grid: str | None = None,
                       bbox: tuple[float, float, float, float] | None = None) -> dict[str, dict[str, int]]:
    """Current risk objects per kind and level that a map page draws: those of its township, inside its `bbox`
    and, on a grid page, the enterprises inside the cell and the cell itself (the page's legend)."""
    out = {k: {lv: 0 for lv in LEVELS} for k in COUNTED_KINDS}
    if not _has_risk(conn):
        return out
    x0, y0, x1, y1 = bbox or (None, None, None, None)
    rows = conn.execute(text(_SCOPE_COUNTS_SQL), {"kinds": list(COUNTED_KINDS), "township": township, "grid": grid,
                                                  "x0": x0, "y0": y0, "x1": x1, "y1": y1}).all()
    for kind, level, n in rows:
        if level in out[kind]:
            out[kind][level] = int(n)
    return out


def segment_runs(
    conn: Connection, *, township: str | None = None, bbox: tuple[float, float, float, float] | None = None
) -> list[dict[str, Any]]:
    """Consecutive pipeline segments of one level merged into runs, for drawing a whole county compactly.

    Each run keeps its pipeline, chainage range, segment count and the reasons of its worst segment.
    """
    if not _has_risk(conn):
        return []
    rows = conn.execute(text("""
        WITH seg AS (
            SELECT s.id, s.pipeline_id, s.seq, s.from_m, s.to_m, s.geom, r.level, r.score, r.reasons,
                   s.seq - row_number() OVER (PARTITION BY s.pipeline_id, r.level ORDER BY s.seq) AS run
            FROM pipeline_segment s
            JOIN risk_assessment r ON r.kind = 'pipeline_segment' AND r.object_id = s.id AND r.valid_to IS NULL
            WHERE (CAST(:township AS text) IS NULL
                   OR s.township_id = (SELECT id FROM township WHERE code = :township))
              AND (CAST(:x0 AS double precision) IS NULL OR s.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))
        )
        SELECT p.code AS pipeline_code, p.name, seg.level, min(seg.seq) AS first_seq, max(seg.seq) AS last_seq,
               min(seg.from_m) AS from_m, max(seg.to_m) AS to_m, count(*) AS segments, max(seg.score) AS score,
               (array_agg(seg.reasons ORDER BY seg.score DESC, seg.seq))[1] AS reasons,
               ST_AsGeoJSON(ST_LineMerge(ST_Collect(seg.geom ORDER BY seg.seq)), 5) AS geojson
        FROM seg JOIN pipeline p ON p.id = seg.pipeline_id
        GROUP BY p.code, p.name, seg.pipeline_id, seg.level, seg.run
        ORDER BY p.code, first_seq"""),
        {"township": township, **dict(zip(("x0", "y0", "x1", "y1"), bbox or (None,) * 4, strict=True))})
    return [
        {"type": "Feature", "geometry": json.loads(r.geojson),
         "properties": {k: _plain(v) for k, v in r._mapping.items() if k != "geojson"}}
        for r in rows
    ]
