"""Map pages: the county, a township, a grid cell — Folium maps assembled from the layer functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
from folium import plugins
from sqlalchemy import Connection, text

from geo.config import Settings, get_settings
from geo.errors import NotFound
from layers import basemap, legend
from layers.assets import localise
from layers.basemap import overlay_shift
from layers.elements import LayerControl, LayerScript, RiskMap, Script, SearchControl
from layers.layers import (
    Where,
    building_layer,
    encroachment_layer,
    enterprise_layer,
    grid_layer,
    mine_layer,
    mine_zone_layer,
    pipeline_layer,
    protection_zone_layer,
    township_layer,
    water_and_tunnel_layer,
)
from layers.style import ENCROACHMENT_STATUS_COLOURS
from layers.vector import VectorTileLayer


@dataclass(frozen=True)
class Scope:
    """What a page shows: the whole county, one township or one grid cell."""

    title: str
    township: str | None = None
    grid: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    illustrative: bool = False
    bbox_only: bool = False
    """Pipeline and mine pages read every layer inside their bounds rather than by township."""

    def where(self) -> Where:
        """Pipeline, mine and grid pages read what lies in their bounds; a township page its township's."""
        return Where(township=self.township, bbox=self.bounds if self.bbox_only or self.grid else None)

    def note(self) -> str:
        """What the legend's counts cover, said to the reader."""
        if self.grid:
            return "计数范围：本网格（网格内企业、与网格相交的矿山和管段）"
        if self.bbox_only:
            return f"计数范围：本图范围（对象周边 {_AROUND_M} 米内）"
        if self.township:
            return "计数范围：本乡镇"
        return "计数范围：全县"


_AROUND_M = 1000
"""Pipeline and mine pages show this much around the object (metres)."""


def _around(conn: Connection, table: str, column: str, key: str, value: str, title: str) -> Scope:
    row = conn.execute(text(
        f"SELECT name, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT o.name, ST_Envelope(ST_Transform("
        f"ST_Expand(ST_Transform(o.{column}, c.metric_srid), :m), 4490)) AS b FROM {table} o, county c "
        f"WHERE o.{key} = :v LIMIT 1) q"), {"v": value, "m": _AROUND_M}).first()
    if row is None:
        raise NotFound(f"没有编号为 {value} 的{title}")
    illustrative = bool(conn.execute(text("SELECT coalesce(bool_or(is_illustrative), false) FROM township")).scalar())
    return Scope(f"{row[0]}（{title}）安全风险图", bounds=tuple(row[1:5]), illustrative=illustrative, bbox_only=True)


def _scope(conn: Connection, *, township: str | None, grid: str | None, pipeline: str | None = None,
           mine: str | None = None) -> Scope:
    if pipeline:
        return _around(conn, "pipeline", "geom", "code", pipeline, "管道")
    if mine:
        return _around(conn, "mine", "licence_boundary", "licence_no", mine, "矿山")
    if grid:
        row = conn.execute(text(
            "SELECT g.code, g.name, t.code AS township, t.name AS tname, t.is_illustrative, "
            "ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom) "
            "FROM grid_cell g JOIN township t ON t.id = g.township_id WHERE g.code = :c"), {"c": grid}).first()
        if row is None:
            raise NotFound(f"没有编号为 {grid} 的网格")
        return Scope(f"{row.tname} · 网格 {row.name or row.code}", township=row.township, grid=grid,
                     bounds=tuple(row[5:9]), illustrative=row.is_illustrative)
    if township:
        row = conn.execute(text(
            "SELECT name, is_illustrative, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
            "FROM township WHERE code = :c"), {"c": township}).first()
        if row is None:
            raise NotFound(f"没有代码为 {township} 的乡镇")
        return Scope(f"{row.name} 安全风险四色图", township=township, bounds=tuple(row[2:6]),
                     illustrative=row.is_illustrative)
    row = conn.execute(text(
        "SELECT c.name, ST_XMin(c.geom), ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom), "
        "coalesce((SELECT bool_or(is_illustrative) FROM township), false) "
        "FROM county c WHERE c.code = :c"), {"c": get_settings().county_code}).first()
    if row is None:
        raise NotFound("数据库中还没有县区边界：请先运行 riskmap demo load 或导入县界")
    return Scope(f"{row[0]} 安全风险四色图", bounds=tuple(row[1:5]), illustrative=row[5])


def build_map(
    conn: Connection,
    *,
    township: str | None = None,
    grid: str | None = None,
    pipeline: str | None = None,
    mine: str | None = None,
    plan: int | None = None,
    asset_base: str = "/vendor",
    link_base: str = "",
    settings: Settings | None = None,
) -> RiskMap:
    """The four-colour map of the county, or of one township, grid cell, pipeline or mine."""
    s = settings or get_settings()
    scope = _scope(conn, township=township, grid=grid, pipeline=pipeline, mine=mine)
    where = scope.where()
    x0, y0, x1, y1 = scope.bounds or (111.1, 38.9, 111.6, 39.5)
    m = RiskMap(scope.title, location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=10, tiles=None, control_scale=True,
                max_zoom=19, prefer_canvas=True, initial_bounds=[[y0, x0], [y1, x1]]).lean()
    m.options["maxZoom"] = 19  # no tile layer carries it, and marker clustering needs it
    data_bounds = _tile_bounds(conn)
    basemap.add_basemap(m, s, link_base=link_base, bounds=data_bounds)
    detail = scope.township is not None or scope.bbox_only
    counts = _counts(conn, scope)
    tiles = {k: counts[k] > limit for k, limit in EMBED_LIMITS.items()}

    def tiled(layer: str, name: str, **kw: Any) -> VectorTileLayer:
        return VectorTileLayer(layer=layer, name=name, link_base=link_base, bounds=data_bounds, **kw)

    area_township = township_layer(conn, Where(township=scope.township), link_base=link_base)
    area_grid = tiled("grid_cell", "网格（按风险着色）", show=detail, fill_opacity=0.35, line_colour="#555",
                      weight=0.8) if tiles["grid_cell"] else grid_layer(conn, where, show=detail, highlight=scope.grid,
                                                                         link_base=link_base)
    bands = None if tiles["pipeline_segment"] else protection_zone_layer(
        conn, pipeline_code=pipeline, show=pipeline is not None, bbox=scope.bounds if detail else None)
    groups: list[Any] = [
        area_township,
        area_grid,
        mine_zone_layer(conn, where, show=not detail or scope.bbox_only),
        bands,
        water_and_tunnel_layer(conn, where),
        tiled("mine", "矿山（矿区范围）", fill_opacity=1, line_colour="#4e342e", weight=2)
        if tiles["mine"] else mine_layer(conn, where, link_base=link_base),
        tiled("pipeline_segment", "油气管道", weight=4, line_colour=None)
        if tiles["pipeline_segment"] else pipeline_layer(conn, where, link_base=link_base, chosen=pipeline),
        tiled("encroachment", "占压点（按整改状态）", colours=ENCROACHMENT_STATUS_COLOURS, weight=2, line_colour="#000")
        if tiles["encroachment"] else encroachment_layer(conn, where),
    ]
    if detail:
        groups.append(tiled("building", "建筑", fill_opacity=0.6, line_colour="#616161", weight=0.5)
                      if tiles["building"] else building_layer(conn, where, grid=scope.grid))
    ent_geojson = None
    if tiles["enterprise"]:
        groups.append(tiled("enterprise", "企业（按风险着色）"))
    else:
        ent_group, ent_geojson = enterprise_layer(conn, where, grid=scope.grid, link_base=link_base)
        groups.append(ent_group)
    routes = _latest_routes(conn, plan_id=plan, gcj02=overlay_shift(s))
    if routes is not None:
        groups.append(routes)
    for g in groups:
        if g is not None:
            g.add_to(m)
    if ent_geojson is not None:
        SearchControl(ent_geojson, placeholder="搜索企业名称…", zoom=16).add_to(m)
    LayerControl(collapsed=False).add_to(m)
    # one area layer is filled at a time (the most detailed one shown), so colours never blend into new ones
    LayerScript("areaLayers", [g for g in (area_township, area_grid, bands) if g is not None]).add_to(m)
    plugins.Fullscreen(title="全屏", title_cancel="退出全屏").add_to(m)
    Script("measureControl").add_to(m)
    Script("locateControl").add_to(m)
    Script("northArrow").add_to(m)
    legend.add_legend(m, conn, township=scope.township, grid=scope.grid, title=scope.title,
                      illustrative=scope.illustrative, bbox=where.bbox, scope_note=scope.note(),
                      buildings=detail)
    legend.add_print_control(m, scope.title)
    legend.add_account_control(m)
    localise(m.get_root(), base_url=asset_base)
    return m


TILE_MARGIN = 0.005
"""Degrees (about 500 m) added around the county's extent: tiles beyond it are never requested."""


def _tile_bounds(conn: Connection) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the county's extent and a margin, the part of the world whose tiles a page
    asks for (every collection lies in the county, as the TileJSONs say); None without a county outline."""
    from geo.ogc import county_bbox

    bbox = county_bbox(conn)
    if bbox is None:
        return None
    x0, y0, x1, y1 = bbox
    return [[y0 - TILE_MARGIN, x0 - TILE_MARGIN], [y1 + TILE_MARGIN, x1 + TILE_MARGIN]]


EMBED_LIMITS = {"enterprise": 1000, "building": 3000, "grid_cell": 1000, "mine": 500, "encroachment": 1000,
                "pipeline_segment": 3000}
"""Above these counts in a page's scope a layer goes as vector tiles rather than inside the HTML (≤ 3 MB)."""


def _counts(conn: Connection, scope: Scope) -> dict[str, int]:
    """Objects per layer in the page's scope (township, or bounds for pipeline and mine pages), counted up to one
    past the layer's EMBED_LIMITS: all a page needs to know is whether the layer goes inside it or as tiles."""
    where_t = "(CAST(:t AS text) IS NULL OR township_id = (SELECT id FROM township WHERE code = :t))"
    where_b = "(CAST(:x0 AS float) IS NULL OR {g} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))"
    parts = {
        "enterprise": ("enterprise", "geom"), "building": ("building", "geom"), "grid_cell": ("grid_cell", "geom"),
        "mine": ("mine", "licence_boundary"), "encroachment": ("encroachment", "geom"),
        "pipeline_segment": ("pipeline_segment", "geom"),
    }
    exists = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    if scope.township is None and not scope.bbox_only:
        exists.discard("building")  # the county page never draws footprints: not worth counting 2M of them
    sql = ", ".join(
        f"(SELECT count(*) FROM (SELECT FROM {table} WHERE {where_t} AND {where_b.format(g=geom)} "
        f"LIMIT {EMBED_LIMITS[name] + 1}) q) AS {name}"
        if table in exists else f"0 AS {name}" for name, (table, geom) in parts.items())
    bbox = scope.bounds if scope.bbox_only else None
    row = conn.execute(text(f"SELECT {sql}"), {"t": scope.township,
                                               **dict(zip(("x0", "y0", "x1", "y1"), bbox or (None,) * 4,
                                                          strict=True))}).mappings().one()
    return {k: int(v) for k, v in row.items()}


def _latest_routes(conn: Connection, *, plan_id: int | None, gcj02: bool) -> Any:
    """The inspection routes of plan `plan_id` (shown), or of the newest plan (hidden until chosen)."""
    if not conn.execute(text("SELECT to_regclass('inspection_plan') IS NOT NULL")).scalar_one():
        return None
    pid = plan_id or conn.execute(text("SELECT max(id) FROM inspection_plan")).scalar()
    if pid is None:
        return None
    from geo.inspection.plan import get_plan
    from layers.routes import route_layer

    layer = route_layer(get_plan(conn, pid), show=plan_id is not None, gcj02=gcj02)
    return layer


def render_page(conn: Connection, *, nonce: str = "", static_base: str = "/static", **kwargs: Any) -> str:
    """The page as one HTML string; its inline script carries the response's CSP `nonce`."""
    return build_map(conn, **kwargs).get_root().render(nonce=nonce, static_base=static_base)
