"""Creating, changing and deleting single features (enterprises, buildings, grid cells, villages, mine zones).

Each change names the version it was based on; a stale version is refused (Conflict → 409), so two
people editing one record cannot silently overwrite each other. Scope (township) and jurisdiction (the
geometry must lie inside the writer's townships) are enforced by the database's row-level security on the
caller's connection (geo.access.roles); this module only shapes and checks the input.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geo.config import get_settings
from geo.errors import Conflict, Duplicate, InvalidInput, NotFound
from geo.features import feature_by_id, layer_spec
from geo.models import BUILDING_USES, INDUSTRY_CATEGORIES, MINE_ZONE_KINDS, max_integer, max_length
from geo.uscc import uscc_problem


@dataclass(frozen=True)
class Field:
    """One editable column; its length or range comes from the column itself (geo.models)."""

    kind: type
    label: str
    required: bool = False
    choices: dict[str, str] | None = None


@dataclass(frozen=True)
class EditSpec:
    table: str
    geometry: tuple[str, ...]
    """Accepted GeoJSON geometry types; polygons are stored as multipolygons."""
    fields: dict[str, Field]
    multi: bool = False
    township: bool = True
    """The row keeps the township its geometry lies in (township_id); county-wide tables (mine zones) do not."""


EDITABLE: dict[str, EditSpec] = {
    "enterprise": EditSpec("enterprise", ("Point",), {
        "uscc": Field(str, "统一社会信用代码", required=True),
        "name": Field(str, "企业名称", required=True),
        "category": Field(str, "行业类别", required=True, choices=INDUSTRY_CATEGORIES),
        "address": Field(str, "地址"),
        "employees": Field(int, "从业人数"),
        "key_process": Field(bool, "涉及重点监管危险化工工艺"),
        "key_chemical": Field(bool, "涉及重点监管危险化学品"),
        "major_hazard_source": Field(bool, "构成重大危险源"),
        "standardisation_grade": Field(int, "安全生产标准化等级", choices={"1": "一级", "2": "二级", "3": "三级"}),
        "in_chemical_park": Field(bool, "位于化工园区"),
        # GB 18218-2018 表5 厂区边界 and 备案等级; 应急〔2018〕19号 diagnostic facts (null = 未填报, listed as 未评分).
        "site_boundary": Field(dict, "厂区边界（GeoJSON 面）"),
        "site_radius_m": Field(float, "厂区半径（m）"),
        "registered_major_hazard_grade": Field(int, "备案重大危险源等级",
                                               choices={"1": "一级", "2": "二级", "3": "三级", "4": "四级"}),
        "key_process_count": Field(int, "重点监管危险化工工艺种数"),
        "key_processes": Field(str, "重点监管危险化工工艺名称"),
        "key_chemical_count": Field(int, "重点监管危险化学品种数"),
        "explosive_count": Field(int, "爆炸品种数"),
        "toxic_inhalation_count": Field(int, "吸入性剧毒化学品种数"),
        "external_distance_ok": Field(bool, "外部安全防护距离评估结论符合要求"),
        "reaction_risk_unassessed": Field(bool, "未开展反应安全风险评估"),
        "designed_by_class_a": Field(bool, "全部装置由甲级资质单位设计"),
        "obsolete_equipment_count": Field(int, "淘汰落后工艺设备项数"),
        "automation_missing": Field(bool, "重点工艺装置未实现自动化控制"),
        "gas_detection_missing_count": Field(int, "未设可燃有毒气体检测报警处数"),
        "uncertified_managers": Field(int, "未取得安全合格证的负责人和安全管理人员人数"),
        "registered_safety_engineer": Field(bool, "配备注册安全工程师"),
        "chemistry_degree_leaders": Field(int, "具有化工类大专以上学历的负责人人数"),
        "own_fire_team": Field(bool, "建有专职消防（应急救援）队伍"),
        "untrialled_new_process": Field(bool, "新工艺未经小试中试工业化试验直接生产"),
        "undesigned_unit": Field(bool, "在役装置未经正规设计且未做安全设计诊断"),
        "special_ops_uncertified": Field(bool, "特种作业人员未持证或学历不达标"),
    }),
    "building": EditSpec("building", ("Polygon", "MultiPolygon"), {
        "name": Field(str, "名称"),
        "use_class": Field(str, "用途", choices=BUILDING_USES),
        "floors": Field(int, "层数"),
        "households": Field(int, "户数"),
    }, multi=True),
    "grid_cell": EditSpec("grid_cell", ("Polygon", "MultiPolygon"), {
        "code": Field(str, "网格编码", required=True),
        "name": Field(str, "网格名称"),
        "officer_name": Field(str, "网格员"),
        "officer_phone": Field(str, "网格员电话"),
    }, multi=True),
    "village": EditSpec("village", ("Point",), {
        "code": Field(str, "村/社区代码", required=True),
        "name": Field(str, "名称", required=True),
    }),
    "mine_zone": EditSpec("mine_zone", ("Polygon", "MultiPolygon"), {
        "code": Field(str, "分区编码"),
        "name": Field(str, "分区名称"),
        "kind": Field(str, "分区类型", required=True, choices=MINE_ZONE_KINDS),
        "source_document": Field(str, "依据的矿产资源规划"),
    }, multi=True, township=False),
}


def edit_spec(layer: str) -> EditSpec:
    if layer not in EDITABLE:
        raise InvalidInput(f"图层「{layer}」不能在线编辑（可编辑：{'、'.join(EDITABLE)}）")
    return EDITABLE[layer]


def _value(spec: EditSpec, name: str, f: Field, value: Any) -> Any:
    if value is None:
        if f.required:
            raise InvalidInput(f"字段 {name}（{f.label}）不能为空")
        return None
    if f.kind is bool and not isinstance(value, bool):
        raise InvalidInput(f"字段 {name}（{f.label}）应为 true/false")
    if f.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InvalidInput(f"字段 {name}（{f.label}）应为正数")
        return float(value)
    if f.kind is dict:
        return value  # a second geometry (GeoJSON), checked by _second_geometry with the connection
    if f.kind is int:
        top = max_integer(spec.table, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise InvalidInput(f"字段 {name}（{f.label}）应为 0–{top} 的整数")
    if f.kind is str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"字段 {name}（{f.label}）应为非空文字")
        value = value.strip()
        longest = max_length(spec.table, name)
        if len(value) > longest or "\x00" in value:
            raise InvalidInput(f"字段 {name}（{f.label}）不超过 {longest} 个字符，且不含 NUL 字符")
    if f.choices is not None and str(value) not in f.choices:
        allowed = "、".join(f"{k}（{v}）" for k, v in f.choices.items())
        raise InvalidInput(f"字段 {name}（{f.label}）取值不合法：{value}；可选 {allowed}")
    if name == "uscc" and (problem := uscc_problem(value)):
        raise InvalidInput(f"字段 uscc（统一社会信用代码）{problem}")
    return value


def _properties(spec: EditSpec, props: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = sorted(set(props) - set(spec.fields))
    if unknown:
        raise InvalidInput(f"不能修改的字段：{'、'.join(unknown)}（可改：{'、'.join(spec.fields)}）")
    out = {}
    for name, f in spec.fields.items():
        if name in props:
            out[name] = _value(spec, name, f, props[name])
        elif creating and f.required:
            raise InvalidInput(f"缺少字段 {name}（{f.label}）")
    return out


def _second_geometries(conn: Connection, spec: EditSpec, values: dict[str, Any]) -> None:
    """GeoJSON polygons given as properties (an enterprise's 厂区边界): checked like the main geometry, as WKT."""
    for name, f in spec.fields.items():
        if f.kind is dict and values.get(name) is not None:
            geometry = values[name]
            if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
                raise InvalidInput(f"字段 {name}（{f.label}）：几何类型应为 Polygon/MultiPolygon（GeoJSON，CGCS2000 经纬度）")
            try:
                geom = shape(geometry)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.ShapelyError):
                raise InvalidInput(f"字段 {name}（{f.label}）：坐标格式不正确（应为二维经纬度）") from None
            checked_shape(conn, geom, name)
            values[name] = (shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom).wkt


def _placeholder(spec: EditSpec, name: str) -> str:
    """The SQL value of one property: a geometry property is parsed from WKT in EPSG:4490."""
    return f"ST_GeomFromText(:{name}, 4490)" if spec.fields[name].kind is dict else f":{name}"


def _geometry(conn: Connection, spec: EditSpec, geometry: Any) -> str:
    """The geometry as WKT after checking its type and shape (checked_shape)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in spec.geometry:
        raise InvalidInput(f"字段 geometry：几何类型应为 {'/'.join(spec.geometry)}（GeoJSON，CGCS2000 经纬度）")
    try:
        geom = shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.ShapelyError):
        raise InvalidInput("字段 geometry：坐标格式不正确（应为二维经纬度）") from None
    checked_shape(conn, geom, "geometry")
    if spec.multi and geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geom.wkt


def checked_shape(conn: Connection, geom: BaseGeometry, field: str) -> None:
    """Refuse (InvalidInput naming `field`) a geometry that is empty, 3-D or measured, has more than
    RISKMAP_MAX_VERTICES vertices or non-finite coordinates, lies outside China or the county outline, or is invalid.

    Every geometry a person writes one at a time (feature API, register) passes here before PostGIS sees it.
    """
    if geom.is_empty:
        raise InvalidInput(f"字段 {field}：几何为空")
    if geom.has_z or shapely.has_m(geom):
        raise InvalidInput(f"字段 {field}：只接受二维坐标（经度、纬度），不接受高程 Z 或量测值 M")
    points, cap = int(shapely.get_num_coordinates(geom)), get_settings().max_vertices
    if points > cap:
        raise InvalidInput(f"字段 {field}：顶点数 {points} 超过上限 {cap}，请先简化后再提交")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or not (
            73 <= minx <= maxx <= 136 and 3 <= miny <= maxy <= 54):
        raise InvalidInput(f"字段 {field}：坐标超出中国范围：应为 CGCS2000 经度、纬度（先经度后纬度）")
    if not geom.is_valid:
        raise InvalidInput(f"字段 {field}：几何无效：{shapely.is_valid_reason(geom)}")
    inside = conn.execute(text(
        "SELECT bool_or(ST_CoveredBy(ST_GeomFromText(:wkt, 4490), c.geom)) FROM county c"), {"wkt": geom.wkt}).scalar()
    if inside is False:  # NULL: no county outline loaded yet, nothing to check against
        raise InvalidInput(f"字段 {field}：位置超出本县范围")


_TOWNSHIP_OF = ("(SELECT t.id FROM township t WHERE ST_Covers(t.geom, ST_PointOnSurface(ST_GeomFromText(:wkt, 4490))) "
                "ORDER BY t.id LIMIT 1)")


def create_feature(conn: Connection, layer: str, properties: dict[str, Any], geometry: Any) -> dict[str, Any]:
    """Insert one feature; its township is the one its geometry lies in."""
    spec = edit_spec(layer)
    values = _properties(spec, properties, creating=True)
    _second_geometries(conn, spec, values)
    wkt = _geometry(conn, spec, geometry)
    town = ["township_id"] if spec.township else []
    columns = ", ".join([*values, *town, "geom"])
    params = ", ".join([*(_placeholder(spec, k) for k in values), *([_TOWNSHIP_OF] if spec.township else []),
                        "ST_GeomFromText(:wkt, 4490)"])
    with _unique(conn, spec):
        new_id = conn.execute(text(f"INSERT INTO {spec.table} ({columns}) VALUES ({params}) RETURNING id"),
                              {**values, "wkt": wkt}).scalar_one()
    return read_with_version(conn, layer, new_id, echo=True)


def update_feature(conn: Connection, layer: str, feature_id: int, *, version: int,
                   properties: dict[str, Any] | None = None, geometry: Any = None) -> dict[str, Any]:
    """Change properties and/or geometry of the version the caller read; a newer version in the database → Conflict."""
    spec = edit_spec(layer)
    values = _properties(spec, properties or {}, creating=False)
    _second_geometries(conn, spec, values)
    sets = [f"{k} = {_placeholder(spec, k)}" for k in values]
    params: dict[str, Any] = {**values, "id": feature_id, "version": version}
    if geometry is not None:
        params["wkt"] = _geometry(conn, spec, geometry)
        sets += ["geom = ST_GeomFromText(:wkt, 4490)", *([f"township_id = {_TOWNSHIP_OF}"] if spec.township else [])]
    if not sets:
        raise InvalidInput("没有要修改的内容")
    with _unique(conn, spec):
        done = conn.execute(text(f"UPDATE {spec.table} SET {', '.join(sets)} WHERE id = :id AND version = :version "
                                 f"RETURNING id"), params).first()
    if done is None:
        _stale_or_missing(conn, layer, spec, feature_id, version)
    return read_with_version(conn, layer, feature_id, echo=True)


def delete_feature(conn: Connection, layer: str, feature_id: int, *, version: int) -> None:
    spec = edit_spec(layer)
    done = conn.execute(text(f"DELETE FROM {spec.table} WHERE id = :id AND version = :version RETURNING id"),
                        {"id": feature_id, "version": version}).first()
    if done is None:
        _stale_or_missing(conn, layer, spec, feature_id, version)


def _stale_or_missing(conn: Connection, layer: str, spec: EditSpec, feature_id: int, version: int) -> None:
    current = conn.execute(text(f"SELECT version FROM {spec.table} WHERE id = :id"), {"id": feature_id}).scalar()
    if current is None:
        raise NotFound(f"图层「{layer_spec(layer).title}」中没有编号为 {feature_id} 的要素")
    raise Conflict(f"该记录已被他人修改（当前版本 {current}，你依据的版本 {version}），请刷新后再改")


@contextmanager
def _unique(conn: Connection, spec: EditSpec) -> Iterator[None]:
    """A duplicate code refused by its unique constraint → Duplicate (409) naming the field, never the record holding it.

    Codes are unique county-wide, and a township editor must not learn what other townships hold, so the answer
    is the same whether the clashing record is visible to the caller or not. The write runs in a savepoint so
    the caller's transaction stays usable.
    """
    try:
        with conn.begin_nested():
            yield
    except IntegrityError as exc:
        if getattr(exc.orig, "pgcode", None) != "23505":
            raise
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
        key = next((k for k in spec.fields if constraint == f"{spec.table}_{k}_key"), None)
        what = f"字段 {key}（{spec.fields[key].label}）" if key else "编码"
        raise Duplicate(f"{what}的值在全县已存在或不可用，未保存；请换一个") from None


def read_with_version(conn: Connection, layer: str, feature_id: int, *, echo: bool = False) -> dict[str, Any]:
    """The feature with its current version (what an editor sends back with a change). As the answer to a write
    (`echo`), a geometry of more than RISKMAP_ECHO_MAX_VERTICES vertices comes back as null with its bbox: the
    caller has just sent it."""
    limit = get_settings().echo_max_vertices if echo else None
    feature = feature_by_id(conn, layer, feature_id, max_points=limit)
    version = conn.execute(text(f"SELECT version FROM {EDITABLE[layer].table} WHERE id = :id"),
                           {"id": feature_id}).scalar_one()
    feature["properties"]["version"] = version
    return feature
