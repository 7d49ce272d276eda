"""OGC API – Features and – Tiles under /ogc, for QGIS, ArcGIS Pro, GDAL (OAPIF) and MapLibre; domain in geo.ogc.

JSON for programs (GeoJSON items), a minimal Chinese page with ?f=html or a browser's Accept. Bad parameters are
400 as OGC 17-069r4 §7.6 wants (not FastAPI's 422); scope is the signed-in user's (ConnDep, row-level security).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.errors import error_body
from api.pages import page
from geo import ogc
from geo.features import LAYERS
from geo.tiles import tile, tiled_layers

GEOJSON = "application/geo+json"
OPENAPI30 = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
WEB_MERCATOR_QUAD = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


class OgcRoute(APIRoute):
    """Request validation errors become 400 with the Chinese error body (OGC 17-069r4 /req/core/query-param-invalid)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                problems = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path")),
                             "reason": e.get("msg", "")} for e in exc.errors()]
                fields = "、".join(p["field"] for p in problems if p["field"]) or "请求"
                return JSONResponse(error_body("invalid_parameter", f"查询参数不合法：{fields}", problems),
                                    status_code=400)

        return run


router = APIRouter(prefix="/ogc", tags=["ogc OGC API 数据服务"], route_class=OgcRoute)

JSON_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON（默认）或网页（f=html）", "content": {"application/json": {}, "text/html": {}}},
    400: {"description": "查询参数不合法"}}

FormatQ = Annotated[str | None, Query(pattern="^(json|html)$", description="返回格式：json（默认）或 html（网页）")]
ITEM_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _html(request: Request, f: str | None) -> bool:
    """HTML when asked with f=html, or by a browser that did not ask for JSON."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _page(request: Request, principal: Any, conn: Any, view: str, title: str, crumbs: list[Any], **ctx: Any) -> Response:
    return page(request, principal, "ogc.html", conn=conn, crumbs=[("数据服务（OGC API）", "/ogc/"), *crumbs],
                view=view, title=title, **ctx)


@router.get("/", summary="OGC API 入口页（landing page）", responses=JSON_OR_HTML)
def landing(request: Request, principal: PrincipalDep, conn: ConnDep, f: FormatQ = None) -> Any:
    body = ogc.landing(_base(request))
    if _html(request, f):
        return _page(request, principal, conn, "landing", body["title"], [], doc=body)
    return body


@router.get("/conformance", summary="符合的 OGC 标准类别（conformance）", responses=JSON_OR_HTML)
def conformance(request: Request, principal: PrincipalDep, conn: ConnDep, f: FormatQ = None) -> Any:
    body = ogc.conformance()
    if _html(request, f):
        return _page(request, principal, conn, "conformance", "符合的标准类别", [("符合的标准类别", None)], doc=body)
    return body


@router.get("/api", summary="OGC API 部分的接口定义（OpenAPI 3.0）", response_class=Response,
            responses={200: {"content": {OPENAPI30: {"schema": {"type": "object"}}}},
                       303: {"description": "f=html：转到接口文档页 /docs"}})
def api_definition(request: Request, f: FormatQ = None) -> Response:
    if f == "html":
        return RedirectResponse("/docs", status_code=303)
    doc = _openapi30(request.app.openapi(), str(request.base_url).rstrip("/"))
    return Response(json.dumps(doc, ensure_ascii=False), media_type=OPENAPI30)


@router.get("/collections", summary="数据集合（每个图层一个）", responses=JSON_OR_HTML)
def collections(request: Request, principal: PrincipalDep, conn: ConnDep, f: FormatQ = None) -> Any:
    body = ogc.collections(conn, _base(request), set(tiled_layers()))
    if _html(request, f):
        return _page(request, principal, conn, "collections", "数据集合", [("数据集合", None)], doc=body)
    return body


@router.get("/collections/{collectionId}", summary="一个数据集合的说明", responses=JSON_OR_HTML)
def collection(request: Request, collectionId: str, principal: PrincipalDep, conn: ConnDep,  # noqa: N803
               f: FormatQ = None) -> Any:
    body = ogc.collection(conn, _base(request), collectionId, set(tiled_layers()))
    if _html(request, f):
        return _page(request, principal, conn, "collection", body["title"],
                     [("数据集合", "/ogc/collections"), (body["title"], None)], doc=body)
    return body


@router.get("/collections/{collectionId}/schema", summary="要素属性结构（JSON Schema）", response_class=Response,
            responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}})
def collection_schema(request: Request, collectionId: str, conn: ConnDep) -> Response:  # noqa: N803
    body = ogc.schema(conn, _base(request), collectionId)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/schema+json")


@router.get("/collections/{collectionId}/queryables", summary="可筛选属性（JSON Schema）", response_class=Response,
            responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}})
def collection_queryables(request: Request, collectionId: str, conn: ConnDep) -> Response:  # noqa: N803
    body = ogc.schema(conn, _base(request), collectionId, queryables=True)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/schema+json")


@router.get("/collections/{collectionId}/items", summary="要素（GeoJSON，分页；可按范围、时间、属性筛选）",
            response_class=Response,
            responses={200: {"description": "GeoJSON 要素集合",
                             "content": {GEOJSON: {"schema": {"type": "object"}}, "text/html": {}}},
                       400: {"description": "查询参数不合法"}})
def items(
    request: Request,
    collectionId: str,  # noqa: N803
    principal: PrincipalDep,
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=2**31 - 1, description=f"每页条数（默认 {ogc.DEFAULT_LIMIT}，超过 "
                                f"{ogc.MAX_LIMIT} 按 {ogc.MAX_LIMIT}）",
                                json_schema_extra={"maximum": ogc.MAX_LIMIT})] = ogc.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1, description="跳过的条数（下一页见 next 链接）")] = 0,
    bbox: Annotated[str | None, Query(max_length=200, description="范围：最小经度,最小纬度,最大经度,最大纬度"
                                      "（bbox-crs 为 EPSG:4490 时按纬度,经度）")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=100, description="bbox 的坐标系")] = None,
    crs: Annotated[str | None, Query(max_length=100, description=f"输出坐标系：{ogc.CRS84}（默认）或 "
                                     f"{ogc.CGCS2000}")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100,
                                           description="时间或区间（占压点按形成日期）")] = None,
    f: FormatQ = None,
) -> Response:
    out_crs = ogc.parse_crs(crs)
    query = ogc.ItemsQuery(
        limit=min(limit, ogc.MAX_LIMIT), offset=offset, bbox=ogc.parse_bbox(bbox, bbox_crs), crs=out_crs,
        datetime=ogc.parse_datetime(datetime_),
        filters=ogc.parse_filters(collectionId, dict(request.query_params), ITEM_PARAMS))
    found = ogc.items(conn, collectionId, query)
    links = _item_links(request, collectionId, query, found.number_returned, found.number_matched)
    if _html(request, f):
        spec = LAYERS[collectionId]
        features = json.loads(f"[{found.features_json}]")
        return _page(request, principal, conn, "items", f"{spec.title}要素",
                     [("数据集合", "/ogc/collections"), (spec.title, f"/ogc/collections/{collectionId}"),
                      ("要素", None)],
                     features=features, columns=ogc.property_names(spec), matched=found.number_matched,
                     codes=ogc.code_labels(collectionId),
                     titles={k: v.get("title", k) for k, v in
                             ogc.schema(conn, _base(request), collectionId)["properties"].items()},
                     links=links, collection_id=collectionId)
    head = json.dumps({"type": "FeatureCollection", "numberMatched": found.number_matched,
                       "numberReturned": found.number_returned,
                       "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links},
                      ensure_ascii=False)
    body = head[:-1] + ',"features":[' + found.features_json + "]}"
    return Response(body, media_type=GEOJSON, headers=_crs_header(out_crs))


@router.get("/collections/{collectionId}/items/{featureId}", summary="单个要素（GeoJSON）", response_class=Response,
            responses={200: {"description": "GeoJSON 要素", "content": {GEOJSON: {"schema": {"type": "object"}},
                                                                         "text/html": {}}}})
def feature(request: Request, collectionId: str, featureId: str, principal: PrincipalDep,  # noqa: N803
            conn: ConnDep, crs: Annotated[str | None, Query(max_length=100, description="输出坐标系")] = None,
            f: FormatQ = None) -> Response:
    out_crs = ogc.parse_crs(crs)
    body = ogc.item(conn, collectionId, featureId, out_crs)
    here = f"{_base(request)}/collections/{collectionId}"
    body["links"] = [
        ogc.link(f"{here}/items/{featureId}?f=json", "self", GEOJSON, "本要素"),
        ogc.link(f"{here}/items/{featureId}?f=html", "alternate", "text/html", "本要素（网页）"),
        ogc.link(f"{here}?f=json", "collection", "application/json", LAYERS[collectionId].title),
    ]
    if _html(request, f):
        spec = LAYERS[collectionId]
        return _page(request, principal, conn, "feature", f"{spec.title} {featureId}",
                     [("数据集合", "/ogc/collections"), (spec.title, f"/ogc/collections/{collectionId}"),
                      (str(featureId), None)], feature=body, codes=ogc.code_labels(collectionId),
                     titles={k: v.get("title", k) for k, v in
                             ogc.schema(conn, _base(request), collectionId)["properties"].items()})
    return Response(json.dumps(body, ensure_ascii=False), media_type=GEOJSON, headers=_crs_header(out_crs))


@router.get("/collections/{collectionId}/tiles", summary="矢量瓦片集列表（OGC API – Tiles）")
def tilesets(request: Request, collectionId: str) -> dict[str, Any]:  # noqa: N803
    here = f"{_base(request)}/collections/{collectionId}/tiles"
    return {"links": [ogc.link(here, "self", "application/json", "矢量瓦片集")],
            "tilesets": [{"title": _tiled_title(collectionId), "dataType": "vector", "crs": _EPSG3857,
                          "tileMatrixSetURI": WEB_MERCATOR_QUAD,
                          "links": [ogc.link(f"{here}/WebMercatorQuad", "self", "application/json", "瓦片集说明"),
                                    ogc.link(WEB_MERCATOR_QUAD, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                                             "application/json", "WebMercatorQuad")]}]}


_EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad", summary="矢量瓦片集说明（OGC API – Tiles）")
def tileset(request: Request, collectionId: str, conn: ConnDep) -> dict[str, Any]:  # noqa: N803
    title = _tiled_title(collectionId)
    root = str(request.base_url).rstrip("/")
    here = f"{_base(request)}/collections/{collectionId}/tiles/WebMercatorQuad"
    min_zoom = tiled_layers()[collectionId]
    out: dict[str, Any] = {
        "title": f"{title}矢量瓦片", "dataType": "vector", "crs": _EPSG3857, "tileMatrixSetURI": WEB_MERCATOR_QUAD,
        "links": [
            ogc.link(here, "self", "application/json", "瓦片集说明"),
            ogc.link(WEB_MERCATOR_QUAD, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json",
                     "WebMercatorQuad"),
            ogc.link(f"{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", "item", MVT, "矢量瓦片", templated=True),
            ogc.link(f"{root}/tiles/{collectionId}.json", "describedby", "application/json", "TileJSON"),
        ],
        "layers": [{"id": collectionId, "title": title, "dataType": "vector",
                    "minTileMatrix": str(min_zoom), "maxTileMatrix": "22"}],
        "tileMatrixSetLimits": [],
    }
    bbox = ogc.county_bbox(conn)
    if bbox:
        out["boundingBox"] = {"lowerLeft": bbox[:2], "upperRight": bbox[2:], "crs": ogc.CRS84}
    return out


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}",
            summary="矢量瓦片（OGC API – Tiles 路径）", response_class=Response,
            responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                       204: {"description": "该瓦片范围内没有要素"}})
def ogc_tile(collectionId: str, tileMatrix: int, tileRow: int, tileCol: int, conn: ConnDep) -> Response:  # noqa: N803
    data = tile(conn, collectionId, tileMatrix, tileCol, tileRow)
    return Response(content=data, media_type=MVT, headers={"Cache-Control": "no-store"},
                    status_code=200 if data else 204)


def _tiled_title(collection_id: str) -> str:
    from geo.errors import NotFound

    if collection_id not in tiled_layers():
        raise NotFound(f"数据集合 {collection_id} 没有矢量瓦片；可用：{'、'.join(tiled_layers())}")
    return LAYERS[collection_id].title if collection_id in LAYERS else collection_id


def _crs_header(crs: str) -> dict[str, str]:
    """Content-Crs (OGC 18-058 /req/crs/ogc-crs-header) and no caching of scoped data."""
    return {"Content-Crs": f"<{crs}>", "Cache-Control": "no-store"}


def _item_links(request: Request, collection_id: str, q: ogc.ItemsQuery, returned: int,
                matched: int) -> list[dict[str, Any]]:
    """self, alternate, collection, and next/prev keeping every other parameter (OGC 17-069r4 §7.15.6)."""
    here = f"{_base(request)}/collections/{collection_id}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "f", "limit")}
    params["limit"] = str(q.limit)

    def url(offset: int, fmt: str) -> str:
        return f"{here}?{urlencode({**params, 'offset': offset, 'f': fmt})}"

    links = [ogc.link(url(q.offset, "json"), "self", GEOJSON, "本页"),
             ogc.link(url(q.offset, "html"), "alternate", "text/html", "本页（网页）"),
             ogc.link(f"{_base(request)}/collections/{collection_id}", "collection", "application/json", "数据集合")]
    if q.offset + returned < matched:
        links.append(ogc.link(url(q.offset + q.limit, "json"), "next", GEOJSON, "下一页"))
    if q.offset > 0:
        links.append(ogc.link(url(max(0, q.offset - q.limit), "json"), "prev", GEOJSON, "上一页"))
    return links


def _openapi30(full: dict[str, Any], server: str) -> dict[str, Any]:
    """The app's OpenAPI document cut to the /ogc paths and written down as OpenAPI 3.0 (GDAL reads `limit` here)."""
    doc = copy.deepcopy(full)
    doc["openapi"] = "3.0.3"
    doc["info"] = {**doc.get("info", {}), "title": "县区安全风险四色图 · OGC API – Features / Tiles"}
    doc["servers"] = [{"url": server}]
    doc["paths"] = {p: v for p, v in doc.get("paths", {}).items() if p.startswith("/ogc")}
    schemas = doc.get("components", {}).get("schemas", {})
    keep: set[str] = set()
    todo = _refs(doc["paths"])
    while todo:  # only the schemas the /ogc paths reach
        name = todo.pop()
        if name not in keep and name in schemas:
            keep.add(name)
            todo |= _refs(schemas[name])
    doc.setdefault("components", {})["schemas"] = {k: v for k, v in schemas.items() if k in keep}
    return _to_30(doc)


def _refs(node: Any) -> set[str]:
    """Names of the component schemas `node` refers to ($ref)."""
    text_ = json.dumps(node)
    prefix = '"$ref": "#/components/schemas/'
    return {part.split('"', 1)[0] for part in text_.split(prefix)[1:]}


def _to_30(node: Any) -> Any:
    """JSON Schema 2020-12 idioms of OpenAPI 3.1 → 3.0: nullable anyOf, type lists, examples, const."""
    if isinstance(node, list):
        return [_to_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_30(v) for k, v in node.items()}
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and any(isinstance(s, dict) and s.get("type") == "null" for s in any_of):
        rest = [s for s in any_of if not (isinstance(s, dict) and s.get("type") == "null")]
        del out["anyOf"]
        if len(rest) == 1:
            out.update(rest[0])
        else:
            out["anyOf"] = rest
        out["nullable"] = True
    if isinstance(out.get("type"), list):
        kinds = [t for t in out["type"] if t != "null"]
        out["type"] = kinds[0] if kinds else "string"
        out["nullable"] = True
    if isinstance(out.get("exclusiveMinimum"), int | float) and not isinstance(out["exclusiveMinimum"], bool):
        out["minimum"], out["exclusiveMinimum"] = out["exclusiveMinimum"], True
    if isinstance(out.get("exclusiveMaximum"), int | float) and not isinstance(out["exclusiveMaximum"], bool):
        out["maximum"], out["exclusiveMaximum"] = out["exclusiveMaximum"], True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list) and "in" not in out and "schema" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    return out
