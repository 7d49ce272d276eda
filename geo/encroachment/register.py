"""The encroachment register (一点一档): confirm a check candidate or record a point found in the field.

Both enter the shared register (geo.register): status 发现, then 认定 → 整改中 → 已整改 → 销号.
Geometry is EPSG:4490; the pipeline of a field record is the nearest one, measured in metres.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from sqlalchemy import Connection, text

from geo.county import metric_srid
from geo.edit import checked_shape
from geo.encroachment.zones import load_zones
from geo.errors import InvalidInput, NotFound
from geo.models import ENCROACHMENT_KINDS, ENCROACHMENT_NATURES
from geo.register import change_status, next_code, record_created, update_fields
from geo.timefmt import today as local_today

KIND = "encroachment"

_CANDIDATE_SQL = """
    SELECT c.id, c.status, c.encroachment_id, c.pipeline_id, c.zone, c.feature_type, c.feature_id,
           c.distance_m, c.township_id, pl.operator,
           COALESCE(CASE c.feature_type
               WHEN 'building' THEN (SELECT geom FROM building WHERE id = c.feature_id)
               WHEN 'road' THEN (SELECT geom FROM road WHERE id = c.feature_id)
               WHEN 'mine' THEN (SELECT COALESCE(workings, licence_boundary) FROM mine WHERE id = c.feature_id)
           END, c.geom) AS geom
    FROM encroachment_candidate c JOIN pipeline pl ON pl.id = c.pipeline_id
    WHERE c.id = :id
    FOR UPDATE OF c
"""


def _check_choice(value: str | None, choices: dict[str, str], what: str) -> None:
    if value is not None and value not in choices:
        listed = "、".join(f"{label}（{code}）" for code, label in choices.items())
        raise InvalidInput(f"{what}“{value}”无效；可选：{listed}")


def _nature_code(nature: str | None) -> str | None:
    """Accept the nature as code or Chinese label (违法建设 / 历史遗留 / 合法性待认定)."""
    if nature is None:
        return None
    by_label = {label: code for code, label in ENCROACHMENT_NATURES.items()}
    code = by_label.get(nature, nature)
    _check_choice(code, ENCROACHMENT_NATURES, "占压性质")
    return code


def _insert(conn: Connection, *, day: dt.date, values: dict[str, Any], geom_sql: str) -> tuple[int, str]:
    code = next_code(conn, KIND, on=day)
    row = conn.execute(
        text(
            "INSERT INTO encroachment (code, pipeline_id, geom, kind, description, formed_on, nature, township_id, "
            "status, found_on, measure, deadline, responsible_operator, dossier, source) "
            f"VALUES (:code, :pipeline_id, {geom_sql}, :kind, :description, :formed_on, :nature, :township_id, "
            "'found', :found_on, :measure, :deadline, :operator, CAST(:dossier AS jsonb), :source) RETURNING id"
        ),
        {**values, "code": code, "found_on": day},
    ).scalar_one()
    return int(row), code


def _dossier(attachments: list[str] | None, extra: dict[str, Any] | None) -> str:
    import json

    return json.dumps({**(extra or {}), "attachments": list(attachments or [])}, ensure_ascii=False)


def confirm_candidate(
    conn: Connection,
    candidate_id: int,
    *,
    by: str,
    nature: str | None = None,
    measure: str | None = None,
    deadline: dt.date | None = None,
    formed_on: dt.date | None = None,
    description: str | None = None,
    attachments: list[str] | None = None,
    on: dt.date | None = None,
) -> str:
    """认定: turn an open check candidate into an encroachment dossier (发现 → 认定); returns its code."""
    cand = conn.execute(text(_CANDIDATE_SQL), {"id": candidate_id}).first()
    if cand is None:
        raise NotFound(f"没有编号为 {candidate_id} 的排查候选")
    if cand.status != "open":
        raise InvalidInput(f"排查候选 {candidate_id} 已关闭（地物已拆除或不在保护范围内），不能认定")
    if cand.encroachment_id is not None:
        code = conn.execute(text("SELECT code FROM encroachment WHERE id = :i"), {"i": cand.encroachment_id}).scalar()
        raise InvalidInput(f"排查候选 {candidate_id} 已认定为占压点 {code}")
    zone = load_zones().by_code(cand.zone)
    day = on or local_today()
    values = {
        "pipeline_id": cand.pipeline_id, "geom": cand.geom, "kind": zone.kind, "formed_on": formed_on,
        "description": description or f"自动排查候选 {candidate_id}：{zone.label}，距中心线 {cand.distance_m:.1f} 米",
        "nature": _nature_code(nature), "township_id": cand.township_id, "measure": measure, "deadline": deadline,
        "operator": cand.operator, "source": "占压自动排查",
        "dossier": _dossier(attachments, {"candidate_id": candidate_id, "zone": zone.code, "clause": zone.clause,
                                          "feature_type": cand.feature_type, "feature_id": cand.feature_id,
                                          "distance_m": round(float(cand.distance_m), 2)}),
    }
    object_id, code = _insert(conn, day=day, values=values, geom_sql="CAST(:geom AS geometry)")
    conn.execute(text("UPDATE encroachment_candidate SET encroachment_id = :e WHERE id = :c"),
                 {"e": object_id, "c": candidate_id})
    record_created(conn, KIND, object_id, by=by, note=f"由排查候选 {candidate_id} 建档")
    change_status(conn, KIND, code, "confirmed", by=by, note="认定为占压点", on=day)
    return code


_NEAREST_SQL = """
    SELECT (SELECT t.id FROM township t ORDER BY t.geom <-> g.geom LIMIT 1) AS township_id,
           p.id AS pipeline_id, p.operator,
           ST_Distance(ST_Transform(g.geom, :srid), ST_Transform(p.geom, :srid)) AS distance_m
    FROM (SELECT ST_SetSRID(ST_GeomFromText(:wkt), 4490) AS geom) g
    LEFT JOIN LATERAL (SELECT id, operator, geom FROM pipeline
                       WHERE (CAST(:pipeline_code AS text) IS NULL OR code = :pipeline_code)
                       ORDER BY geom <-> g.geom LIMIT 1) p ON true
"""


def field_wkt(*, lon: float | None = None, lat: float | None = None, wkt: str | None = None) -> str:
    """WKT (lon/lat, EPSG:4490) of a field record: a drawn polygon, or a GPS point; Chinese error when neither."""
    if wkt:
        return wkt
    if lon is not None and lat is not None:
        return f"POINT({float(lon)} {float(lat)})"
    raise InvalidInput("请给出经纬度（GPS 点），或勾绘的多边形 WKT")


def checked_wkt(conn: Connection, wkt: str, *, field: str = "wkt") -> str:
    """The field record's WKT once it is known to be a 2-D, finite, valid shape of at most RISKMAP_MAX_VERTICES
    vertices inside the county (geo.edit.checked_shape); InvalidInput naming `field` otherwise."""
    try:
        geom = shapely.from_wkt(wkt)
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        raise InvalidInput(f"字段 {field}：占压点几何无效（应为经纬度点或闭合多边形）") from None
    if geom is None or geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise InvalidInput(f"字段 {field}：占压点几何应为经纬度点或闭合多边形")
    checked_shape(conn, geom, field)
    return geom.wkt


def record_encroachment(
    conn: Connection,
    *,
    wkt: str,
    by: str,
    pipeline_code: str | None = None,
    township_code: str | None = None,
    kind: str = "encroachment",
    nature: str | None = None,
    description: str | None = None,
    formed_on: dt.date | None = None,
    measure: str | None = None,
    deadline: dt.date | None = None,
    attachments: list[str] | None = None,
    on: dt.date | None = None,
    field: str = "wkt",
) -> str:
    """Record an encroachment found in the field (GPS point or drawn polygon, WKT lon/lat in EPSG:4490);
    `field` names the input the WKT came from in errors."""
    _check_choice(kind, ENCROACHMENT_KINDS, "占压类型")
    wkt = checked_wkt(conn, wkt, field=field)
    near = conn.execute(text(_NEAREST_SQL), {"wkt": wkt, "srid": metric_srid(conn),
                                             "pipeline_code": pipeline_code}).one()
    if near.pipeline_id is None:
        raise NotFound(f"没有编号为 {pipeline_code} 的管道" if pipeline_code else "数据库中还没有管道")
    township_id = near.township_id
    if township_code is not None:
        township_id = conn.execute(text("SELECT id FROM township WHERE code = :c"), {"c": township_code}).scalar()
        if township_id is None:
            raise NotFound(f"没有代码为 {township_code} 的乡镇")
    day = on or local_today()
    values = {
        "wkt": wkt, "pipeline_id": near.pipeline_id, "kind": kind, "description": description,
        "formed_on": formed_on, "nature": _nature_code(nature), "township_id": township_id, "measure": measure,
        "deadline": deadline, "operator": near.operator, "source": "现场排查",
        "dossier": _dossier(attachments, {"distance_m": round(float(near.distance_m), 2)}),
    }
    object_id, code = _insert(conn, day=day, values=values, geom_sql="ST_SetSRID(ST_GeomFromText(:wkt), 4490)")
    record_created(conn, KIND, object_id, by=by, note="现场排查登记")
    return code


def add_attachment(conn: Connection, code: str, *, reference: str, by: str) -> None:
    """Add a reference to a photo, document or permit to the dossier (kept in history)."""
    dossier = conn.execute(text("SELECT dossier FROM encroachment WHERE code = :c"), {"c": code}).scalar()
    if dossier is None:
        raise NotFound(f"没有编号为 {code} 的占压点")
    new = {**dossier, "attachments": [*dossier.get("attachments", []), reference]}
    update_fields(conn, KIND, code, by=by, note="添加附件", dossier=new)
