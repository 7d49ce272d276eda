"""GeoJSON/JSON for every layer, filterable by township, colour, bbox and text, paginated."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ConnDep, LimitQ, OffsetQ, TxDep
from api.text import Text
from geo.edit import create_feature, delete_feature, update_feature
from geo.features import LAYERS, layer_spec, parse_bbox, read_features

router = APIRouter(prefix="/layers", tags=["layers 图层"])

Colour = Literal["red", "orange", "yellow", "blue"]


@router.get("", summary="图层目录")
def list_layers() -> list[dict[str, Any]]:
    return [{"name": s.name, "title": s.title, "has_risk": s.risk_kind is not None,
             "href": f"/layers/{s.name}/features"} for s in LAYERS.values()]


@router.get("/{layer}/features", summary="图层要素（GeoJSON，EPSG:4490 经纬度）")
def features(
    layer: Text,
    conn: ConnDep,
    township: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="乡镇 12 位统计用区划代码")] = None,
    colour: Annotated[Colour | None, Query(description="风险颜色 red/orange/yellow/blue")] = None,
    bbox: Annotated[Text | None, Query(description="最小经度,最小纬度,最大经度,最大纬度")] = None,
    q: Annotated[Text | None, Query(max_length=100, description="名称或代码包含的文字")] = None,
    limit: LimitQ = 1000,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    layer_spec(layer)
    page = read_features(conn, layer, township=township, colour=colour, bbox=parse_bbox(bbox), q=q,
                         limit=limit, offset=offset)
    body = page.feature_collection()
    links = []
    if offset + limit < page.total:
        links.append({"rel": "next", "href": f"/layers/{layer}/features?offset={offset + limit}&limit={limit}"})
    body["links"] = links
    return body


@router.get("/{layer}/features/{feature_id}", summary="单个要素")
def feature(layer: Text, feature_id: int, conn: ConnDep) -> dict[str, Any]:
    from geo.edit import EDITABLE, read_with_version
    from geo.features import feature_by_id

    if layer in EDITABLE:
        return read_with_version(conn, layer, feature_id)
    return feature_by_id(conn, layer, feature_id)


class FeatureIn(BaseModel):
    """A GeoJSON Feature to create (geometry in CGCS2000 lon/lat)."""

    type: Literal["Feature"] = "Feature"
    properties: dict[str, Any] = Field(default_factory=dict)
    geometry: dict[str, Any]


class FeatureChange(BaseModel):
    """What changes, and the version it is based on (from the feature's properties.version)."""

    version: int = Field(ge=1, description="读取时的版本号；他人已改过则返回 409")
    properties: dict[str, Any] = Field(default_factory=dict)
    geometry: dict[str, Any] | None = None


@router.post("/{layer}/features", status_code=201, summary="新增要素（企业、建筑、网格、村、矿产规划分区）；须落在本人辖区内")
def create(layer: str, body: FeatureIn, conn: TxDep) -> dict[str, Any]:
    return create_feature(conn, layer, body.properties, body.geometry)


@router.patch("/{layer}/features/{feature_id}", summary="修改要素（带版本号，冲突返回 409）")
def change(layer: str, feature_id: int, body: FeatureChange, conn: TxDep) -> dict[str, Any]:
    return update_feature(conn, layer, feature_id, version=body.version, properties=body.properties,
                          geometry=body.geometry)


@router.delete("/{layer}/features/{feature_id}", status_code=204, summary="删除要素（带版本号）")
def delete(layer: str, feature_id: int, conn: TxDep,
           version: Annotated[int, Query(ge=1, description="读取时的版本号")]) -> None:
    delete_feature(conn, layer, feature_id, version=version)
