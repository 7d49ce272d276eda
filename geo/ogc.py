"""OGC API – Features (Part 1 Core, Part 2 CRS by reference) over every layer of geo.features.LAYERS.

Desktop GIS (QGIS, ArcGIS Pro) and GDAL's OAPIF driver list the collections and page through them. A page of
features is one SQL statement that builds the GeoJSON in PostgreSQL (json_build_object / ST_AsGeoJSON /
string_agg); Python only splices it into the envelope. Scope is the caller's connection (row-level security).
CRS: OGC CRS84 (lon/lat) by default, EPSG:4490 CGCS2000 (stored; lat/lon axis order as EPSG defines it) on
request — OGC API – Features Part 2 (OGC 18-058) §6.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import NotFound, RiskmapError
from geo.features import LAYERS, LEVEL_LABELS, LayerSpec, layer_spec

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_LIST = (CRS84, CGCS2000)
_CRS_ALIASES = {
    CRS84: CRS84, "OGC:CRS84": CRS84, "CRS84": CRS84, "[OGC:CRS84]": CRS84, "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84,
    "http://www.opengis.net/def/crs/OGC/0/CRS84": CRS84,
    CGCS2000: CGCS2000, "EPSG:4490": CGCS2000, "[EPSG:4490]": CGCS2000, "urn:ogc:def:crs:EPSG::4490": CGCS2000,
}

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
)
"""What /ogc/conformance declares (OGC 17-069r4 §7.4, OGC 18-058 §6, OGC 20-057 §6)."""

DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
"""Page size: default and maximum of the `limit` parameter as OGC 17-069r4 §7.15.3 gives them."""

RISK_PROPERTIES = {"level": ("风险颜色", "string"), "score": ("风险分值", "number"),
                   "风险等级": ("风险等级", "string"), "主要原因": ("主要原因（最严重的一条）", "string")}
"""Extra properties of a layer with risk levels: the current assessment (geo.risk)."""
TEMPORAL = {"encroachment": "formed_on"}
"""The date a `datetime` filter applies to, for the layers that have one."""
_DESCRIPTIONS = {
    "township": "乡镇（街道）边界与当前风险等级",
    "grid_cell": "网格化管理的网格、网格员与当前风险等级",
    "enterprise": "企业位置、行业类别、重点监管工艺与危险化学品、重大危险源，以及当前风险等级和主要原因",
    "pipeline_segment": "油气管道按里程划分的管段及其当前风险等级",
    "mine": "矿山矿区范围与当前风险等级",
}


class BadParameter(RiskmapError):
    """A query parameter the OGC API does not know or cannot read (HTTP 400, OGC 17-069r4 §7.6)."""

    code = "invalid_parameter"


@dataclass(frozen=True)
class ItemsQuery:
    """What a client asked of /collections/{id}/items, already checked."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    """In CRS84 lon/lat order (bbox-crs already applied)."""
    crs: str = CRS84
    datetime: tuple[dt.datetime | None, dt.datetime | None] | None = None
    filters: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------------------------------------- catalogue


def _prop_name(column: str) -> str:
    """The property name of a LayerSpec column ('name' or '(SELECT …) AS alias')."""
    return column.rsplit(" AS ", 1)[-1].strip()


def property_names(spec: LayerSpec) -> list[str]:
    """The properties a feature of this layer carries, in order."""
    names = [_prop_name(c) for c in spec.columns] + ["township_code"]
    if spec.risk_kind:
        names += list(RISK_PROPERTIES)
    return names


def filterable(spec: LayerSpec) -> list[str]:
    """Properties usable as `name=value` equality filters on items (plain columns, township code, level)."""
    out = [c for c in spec.columns if " AS " not in c] + ["township_code"]
    return out + (["level"] if spec.risk_kind else [])


def county_bbox(conn: Connection) -> list[float] | None:
    """The county outline's extent (CRS84), which every collection lies in."""
    row = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM county) x"
    )).first()
    return [round(float(v), 6) for v in row] if row and row[0] is not None else None


def landing(base: str) -> dict[str, Any]:
    """The landing page (OGC 17-069r4 §7.2): links to the API definition, conformance and collections."""
    return {
        "title": "县区安全风险四色图 · 数据服务（OGC API – Features）",
        "description": "乡镇、网格、企业、管道、占压点、建筑、道路、矿山等图层及其四色风险等级；坐标为 CGCS2000 经纬度。",
        "links": [
            _link(f"{base}/?f=json", "self", "application/json", "本页（JSON）"),
            _link(f"{base}/?f=html", "alternate", "text/html", "本页（网页）"),
            _link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "接口定义（OpenAPI 3.0）"),
            _link(f"{base.removesuffix('/ogc')}/docs", "service-doc", "text/html", "接口文档"),
            _link(f"{base}/conformance", "conformance", "application/json", "符合的标准类别"),
            _link(f"{base}/collections", "data", "application/json", "数据集合"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collections(conn: Connection, base: str, tiled: set[str]) -> dict[str, Any]:
    """Every layer as a collection (new layers in geo.features.LAYERS appear here by themselves)."""
    bbox = county_bbox(conn)
    return {
        "links": [_link(f"{base}/collections?f=json", "self", "application/json", "数据集合"),
                  _link(f"{base}/collections?f=html", "alternate", "text/html", "数据集合（网页）")],
        "collections": [_collection(s, base, bbox, s.name in tiled) for s in LAYERS.values()],
        "crs": list(CRS_LIST),
    }


def collection(conn: Connection, base: str, collection_id: str, tiled: set[str]) -> dict[str, Any]:
    return _collection(_spec(collection_id), base, county_bbox(conn), collection_id in tiled)


def _collection(spec: LayerSpec, base: str, bbox: list[float] | None, tiled: bool) -> dict[str, Any]:
    here = f"{base}/collections/{spec.name}"
    out: dict[str, Any] = {
        "id": spec.name,
        "title": spec.title,
        "description": _DESCRIPTIONS.get(spec.name, f"{spec.title}图层"),
        "itemType": "feature",
        "crs": list(CRS_LIST),
        "storageCrs": CGCS2000,
        "links": [
            _link(f"{here}?f=json", "self", "application/json", spec.title),
            _link(f"{here}?f=html", "alternate", "text/html", f"{spec.title}（网页）"),
            _link(f"{here}/items?f=json", "items", "application/geo+json", f"{spec.title}要素"),
            _link(f"{here}/items?f=html", "items", "text/html", f"{spec.title}要素（网页）"),
            _link(f"{here}/schema", "describedby", "application/schema+json", f"{spec.title}属性结构"),
            _link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "可筛选属性"),
        ],
    }
    if bbox:
        out["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if tiled:
        out["links"].append(_link(f"{here}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                                  "application/json", f"{spec.title}矢量瓦片"))
    return out


def _spec(collection_id: str) -> LayerSpec:
    if collection_id not in LAYERS:
        raise NotFound(f"没有名为 {collection_id} 的数据集合；可用：{'、'.join(LAYERS)}")
    return layer_spec(collection_id)


_JSON_TYPES = {"integer": "integer", "bigint": "integer", "smallint": "integer", "numeric": "number",
               "double precision": "number", "real": "number", "boolean": "boolean"}
_FORMATS = {"date": "date", "timestamp with time zone": "date-time", "timestamp without time zone": "date-time"}
_GEOM_FORMATS = {"POINT": "geometry-point", "MULTIPOINT": "geometry-multipoint", "LINESTRING": "geometry-linestring",
                 "MULTILINESTRING": "geometry-multilinestring", "POLYGON": "geometry-polygon",
                 "MULTIPOLYGON": "geometry-multipolygon"}


def schema(conn: Connection, base: str, collection_id: str, *, queryables: bool = False) -> dict[str, Any]:
    """JSON Schema of a collection's features (OGC API – Features Part 5 / Part 3 queryables), titles in Chinese.

    Column types come from the database catalogue, so a new column or layer needs nothing here.
    """
    spec = _spec(collection_id)
    types = dict(conn.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = :t"), {"t": spec.table}).all())
    geom_type = conn.execute(text(
        "SELECT type FROM geometry_columns WHERE f_table_schema = current_schema() AND f_table_name = :t "
        "AND f_geometry_column = :g"), {"t": spec.table, "g": spec.geom}).scalar_one_or_none()
    titles = _titles(spec.name)
    props: dict[str, Any] = {}
    for column in spec.columns:
        name = _prop_name(column)
        sql_type = types.get(name) if " AS " not in column else None
        entry: dict[str, Any] = {"title": titles.get(name, name),
                                 "type": _JSON_TYPES.get(sql_type or "", "string")}
        if sql_type in _FORMATS:
            entry["format"] = _FORMATS[sql_type]
        props[name] = entry
    props["township_code"] = {"title": "乡镇代码", "type": "string"}
    if spec.risk_kind:
        for name, (title, kind) in RISK_PROPERTIES.items():
            props[name] = {"title": title, "type": kind}
    if queryables:
        props = {k: v for k, v in props.items() if k in filterable(spec)}
    props["geometry"] = {"x-ogc-role": "primary-geometry",
                         "format": _GEOM_FORMATS.get(str(geom_type).upper(), "geometry-any")}
    kind = "queryables" if queryables else "schema"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{spec.name}/{kind}", "type": "object",
            "title": spec.title, "properties": props}


def code_labels(layer: str) -> dict[str, dict[str, str]]:
    """Chinese labels of coded columns (行业类别 etc.) from the import/export registry, for the HTML pages."""
    from geo.errors import InvalidInput
    from geo.io.layers import get_layer

    try:
        return {f.name: dict(f.codes) for f in get_layer(layer).fields if f.codes}
    except InvalidInput:
        return {}


def _titles(layer: str) -> dict[str, str]:
    """Chinese column titles from the import/export registry (geo.io.layers), where the layer is there."""
    from geo.errors import InvalidInput
    from geo.io.layers import get_layer

    try:
        io_layer = get_layer(layer)
    except InvalidInput:  # a layer only the API knows keeps its English names
        return {}
    return {f.name: f.header for f in io_layer.fields}


# ---------------------------------------------------------------------------------------------------- parameters


def parse_crs(value: str | None, what: str = "crs") -> str:
    """A CRS URI this API serves (CRS84 or EPSG:4490); 400 otherwise (OGC 18-058 §6.2)."""
    if value is None or value == "":
        return CRS84
    crs = _CRS_ALIASES.get(value.strip().strip("<>"))
    if crs is None:
        raise BadParameter(f"不支持的坐标系 {what}={value!r}；可用：{CRS84}、{CGCS2000}")
    return crs


def parse_bbox(value: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    """bbox (4 or 6 numbers) in bbox-crs → lon/lat order in CRS84 (= CGCS2000 at the metre level)."""
    crs = parse_crs(bbox_crs, "bbox-crs")
    if value is None:
        if bbox_crs:
            raise BadParameter("给出 bbox-crs 时也须给出 bbox")
        return None
    try:
        nums = [float(v) for v in value.split(",")]
    except ValueError:
        raise BadParameter(f"bbox 应为逗号分隔的 4 个（或含高程 6 个）数，收到 {value!r}") from None
    if len(nums) not in (4, 6) or not all(math.isfinite(v) for v in nums):
        raise BadParameter(f"bbox 应为逗号分隔的 4 个（或含高程 6 个）数，收到 {value!r}")
    x0, y0, x1, y1 = (nums[0], nums[1], nums[2], nums[3]) if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if crs == CGCS2000:  # EPSG:4490 axis order is latitude, longitude
        x0, y0, x1, y1 = y0, x0, y1, x1
    if not (-90 <= y0 <= y1 <= 90) or not (-180 <= x0 <= 180 and -180 <= x1 <= 180):
        raise BadParameter(f"bbox 超出经纬度范围或下边界大于上边界：{value!r}")
    return x0, y0, x1, y1


def parse_datetime(value: str | None) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """An instant or an interval 'a/b' (open ends '..' or empty), RFC 3339 (OGC 17-069r4 §7.15.4)."""
    if value is None:
        return None

    def one(part: str) -> dt.datetime | None:
        if part in ("", ".."):
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
                return dt.datetime.fromisoformat(part)
            return dt.datetime.fromisoformat(part.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            raise BadParameter(f"datetime 应为 RFC 3339 时间或区间（如 2024-01-01/2024-06-30），收到 {value!r}") from None

    if "/" in value:
        start, _, end = value.partition("/")
        a, b = one(start), one(end)
        if a is not None and b is not None and a > b:
            raise BadParameter(f"datetime 区间的开始晚于结束：{value!r}")
        return a, b
    instant = one(value)
    if instant is None:
        raise BadParameter(f"datetime 应为时间或区间，收到 {value!r}")
    return instant, instant


def parse_filters(collection_id: str, params: dict[str, str], known: set[str]) -> tuple[tuple[str, str], ...]:
    """`property=value` equality filters (OGC 17-069r4 §7.15.5); any other unknown parameter is a 400."""
    spec = _spec(collection_id)
    allowed = set(filterable(spec))
    out = []
    for name, value in params.items():
        if name in known:
            continue
        if name not in allowed:
            raise BadParameter(f"未知的查询参数 {name}；可按属性筛选：{'、'.join(sorted(allowed))}")
        if len(value) > 200 or "\x00" in value:
            raise BadParameter(f"筛选值过长或含 NUL 字符：{name}")
        out.append((name, value))
    return tuple(out)


# ---------------------------------------------------------------------------------------------------- features


@dataclass(frozen=True)
class ItemsPage:
    """A page of features as GeoJSON text made by PostgreSQL, and how many match in all."""

    features_json: str
    number_matched: int
    number_returned: int


def _select(spec: LayerSpec, conn: Connection, q: ItemsQuery, params: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(FROM … joins, property json_build_object, WHERE conditions) of a layer for this query."""
    has_risk = spec.risk_kind is not None and bool(
        conn.execute(text("SELECT to_regclass('risk_assessment') IS NOT NULL")).scalar_one())
    source = f"{spec.table} t"
    pairs = [f"'{_prop_name(c)}', " + (c.rsplit(" AS ", 1)[0] if " AS " in c else f"t.{c}") for c in spec.columns]
    pairs.append(f"'township_code', (SELECT code FROM township WHERE id = ({spec.township_sql}))")
    if spec.risk_kind:
        if has_risk:
            source += (" LEFT JOIN risk_assessment r ON r.kind = :risk_kind AND r.object_id = t.id "
                       "AND r.valid_to IS NULL")
            params["risk_kind"] = spec.risk_kind
            label = "CASE r.level " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LEVEL_LABELS.items()) + " END"
            reason = ("CASE jsonb_typeof(r.reasons->0) WHEN 'object' THEN r.reasons->0->>'text' "
                      "ELSE r.reasons->>0 END")
            pairs += ["'level', r.level", "'score', r.score", f"'风险等级', {label}", f"'主要原因', {reason}"]
        else:
            pairs += [f"'{k}', NULL" for k in RISK_PROPERTIES]
    where = [f"t.{spec.geom} IS NOT NULL"]
    if q.bbox:
        x0, y0, x1, y1 = q.bbox
        if x0 <= x1:
            where.append(f"ST_Intersects(t.{spec.geom}, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))")
        else:  # crosses the antimeridian (OGC 17-069r4 §7.15.3)
            where.append(f"(ST_Intersects(t.{spec.geom}, ST_MakeEnvelope(:x0, :y0, 180, :y1, 4490)) OR "
                         f"ST_Intersects(t.{spec.geom}, ST_MakeEnvelope(-180, :y0, :x1, :y1, 4490)))")
        params.update(x0=x0, y0=y0, x1=x1, y1=y1)
    if q.datetime and spec.name in TEMPORAL:
        column = TEMPORAL[spec.name]
        start, end = q.datetime
        if start is not None:
            where.append(f"t.{column} >= CAST(:dt0 AS date)")
            params["dt0"] = start.date()
        if end is not None:
            where.append(f"t.{column} <= CAST(:dt1 AS date)")
            params["dt1"] = end.date()
    for i, (name, value) in enumerate(q.filters):
        key = f"f{i}"
        params[key] = value
        if name == "township_code":
            where.append(f"({spec.township_sql}) = (SELECT id FROM township WHERE code = :{key})")
        elif name == "level":
            where.append(f"r.level = :{key}" if has_risk else "false")
        else:
            where.append(f"t.{name}::text = :{key}")
    return source, "json_build_object(" + ", ".join(pairs) + ")", where


def items(conn: Connection, collection_id: str, q: ItemsQuery) -> ItemsPage:
    """One page of a collection as GeoJSON features built by PostgreSQL, ordered by id (stable paging)."""
    spec = _spec(collection_id)
    params: dict[str, Any] = {"limit": q.limit, "offset": q.offset}
    source, props, where = _select(spec, conn, q, params)
    geom = f"t.{spec.geom}" if q.crs == CRS84 else f"ST_FlipCoordinates(t.{spec.geom})"
    cond = " AND ".join(where)
    sql = f"""
        WITH page AS (
            SELECT t.id, {props} AS properties, ST_AsGeoJSON({geom}, 6, 0) AS geometry
            FROM {source} WHERE {cond} ORDER BY t.id LIMIT :limit OFFSET :offset
        )
        SELECT count(*) AS n,
               coalesce(string_agg(format('{{"type":"Feature","id":%s,"geometry":%s,"properties":%s}}',
                                          id, geometry, properties), ',' ORDER BY id), '') AS features
        FROM page"""
    row = conn.execute(text(sql), params).one()
    returned = int(row.n)
    if q.offset == 0 and returned < q.limit:
        matched = returned
    else:
        matched = int(conn.execute(text(f"SELECT count(*) FROM {source} WHERE {cond}"), params).scalar_one())
    return ItemsPage(row.features, matched, returned)


def item(conn: Connection, collection_id: str, feature_id: str, crs: str) -> dict[str, Any]:
    """One feature as GeoJSON (404 in Chinese when absent or outside the caller's townships)."""
    spec = _spec(collection_id)
    if not re.fullmatch(r"[0-9]{1,18}", feature_id) or int(feature_id) > 2**31 - 1:
        raise NotFound(f"数据集合「{spec.title}」中没有编号为 {feature_id} 的要素")
    params: dict[str, Any] = {"fid": int(feature_id)}
    source, props, where = _select(spec, conn, ItemsQuery(crs=crs), params)
    geom = f"t.{spec.geom}" if crs == CRS84 else f"ST_FlipCoordinates(t.{spec.geom})"
    sql = (f"SELECT json_build_object('type', 'Feature', 'id', t.id, 'geometry', ST_AsGeoJSON({geom}, 6, 0)::json, "
           f"'properties', {props}) FROM {source} WHERE t.id = :fid AND {' AND '.join(where)}")
    found = conn.execute(text(sql), params).scalar_one_or_none()
    if found is None:
        raise NotFound(f"数据集合「{spec.title}」中没有编号为 {feature_id} 的要素（或不在您的辖区内）")
    return dict(found)


def layer_tilejson(conn: Connection, layer: str, base_url: str) -> dict[str, Any]:
    """TileJSON of one tiled layer with this server's absolute tile URLs and the county's bounds."""
    from geo.tiles import tilejson

    title = LAYERS[layer].title if layer in LAYERS else layer
    return tilejson(layer, base_url, title, county_bbox(conn))


def _link(href: str, rel: str, type_: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": type_, "title": title, **extra}


link = _link
