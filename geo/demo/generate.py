"""Build the demo county 河曲县 in memory: real outline, names and codes; everything else synthetic.

Geometry is made in metres in the county's Gauss–Krüger zone (EPSG:4546) and handed over in
CGCS2000 lon/lat (EPSG:4490). Every random choice comes from numpy default_rng([seed, step]), so the
same seed gives the same county. No database here: geo.demo.load writes the result.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.affinity
import shapely.ops
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.config import PROJECT_ROOT
from geo.demo import names as nm
from geo.demo.shapes import (
    delaunay_edges,
    mst_edges,
    node_lines,
    partition_polygon,
    polygonal,
    random_points_in,
    rectangle,
    wiggle_line,
)
from geo.errors import InvalidInput, NotFound
from geo.timefmt import today as local_today

CONFIG_FILE = Path(__file__).with_name("demo.toml")
DATA = PROJECT_ROOT / "data"
COUNTY_OUTLINE = DATA / "boundaries" / "hequ_county_tianditu_cgcs2000.geojson"
TOWNSHIPS_CSV = DATA / "boundaries" / "hequ_townships_nbs2023.csv"
VILLAGES_CSV = DATA / "boundaries" / "hequ_villages_nbs2023.csv"
GEM_PIPELINES = DATA / "pipelines" / "gem_pipelines_hequ.geojson"
GEM_MINES = DATA / "mines" / "gem_coal_mines_xinzhou_vicinity_boundaries.geojson"

Row = dict[str, Any]


@dataclass
class DemoCounty:
    """Rows of every demo table; geometries are shapely in EPSG:4490; references use natural keys."""

    county: Row
    townships: list[Row] = field(default_factory=list)
    villages: list[Row] = field(default_factory=list)
    grid_cells: list[Row] = field(default_factory=list)
    roads: list[Row] = field(default_factory=list)
    buildings: list[Row] = field(default_factory=list)
    enterprises: list[Row] = field(default_factory=list)
    inventories: list[Row] = field(default_factory=list)
    hazards: list[Row] = field(default_factory=list)
    accidents: list[Row] = field(default_factory=list)
    inspections: list[Row] = field(default_factory=list)
    pipelines: list[Row] = field(default_factory=list)
    facilities: list[Row] = field(default_factory=list)
    encroachments: list[Row] = field(default_factory=list)
    mines: list[Row] = field(default_factory=list)
    mine_zones: list[Row] = field(default_factory=list)
    waterways: list[Row] = field(default_factory=list)
    tunnels: list[Row] = field(default_factory=list)


def load_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    """The demo's numbers (demo.toml)."""
    with path.open("rb") as f:
        return tomllib.load(f)


def step_rng(seed: int, step: str) -> np.random.Generator:
    """An independent generator per step, so changing one step leaves the others as they were."""
    return np.random.default_rng([seed, zlib.crc32(step.encode())])


class Plane:
    """Transforms between storage lon/lat (EPSG:4490) and the metric plane (EPSG:4546 for 河曲县)."""

    def __init__(self, metric_srid: int) -> None:
        self._fwd = Transformer.from_crs(4490, metric_srid, always_xy=True)
        self._inv = Transformer.from_crs(metric_srid, 4490, always_xy=True)

    def to_metric(self, geom: Any) -> Any:
        return shapely.transform(geom, lambda xy: np.column_stack(self._fwd.transform(xy[:, 0], xy[:, 1])))

    def to_storage(self, geom: Any) -> Any:
        return shapely.transform(geom, lambda xy: np.column_stack(self._inv.transform(xy[:, 0], xy[:, 1])))

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._fwd.transform(lon, lat)
        return float(x), float(y)

    def area_to_storage(self, geom: BaseGeometry) -> MultiPolygon:
        """A metric (multi)polygon in lon/lat, repaired if the transform made it touch itself."""
        out = self.to_storage(geom)
        return out if out.is_valid and isinstance(out, MultiPolygon) else polygonal(out, min_area_m2=0.0)


class LocalPlane:
    """An affine lon/lat ↔ approximate-metre plane (equirectangular at the county's centre).

    Partitions (townships, grid cells) are drawn here: an affine map keeps their straight edges
    straight in storage lon/lat, so grid cells nest exactly in townships and townships tile the outline.
    Nothing is measured in this plane.
    """

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = 111320.0 * math.cos(math.radians(lat0)), 110574.0

    def to_local(self, geom: Any) -> Any:
        return shapely.affinity.affine_transform(geom, [self.kx, 0, 0, self.ky, -self.kx * self.lon0,
                                                        -self.ky * self.lat0])

    def to_storage(self, geom: Any) -> Any:
        return shapely.affinity.affine_transform(geom, [1 / self.kx, 0, 0, 1 / self.ky, self.lon0, self.lat0])


@dataclass
class _World:
    """Intermediate metric geometry shared by the steps."""

    cfg: dict[str, Any]
    plane: Plane
    seed: int
    as_of: dt.date
    outline: MultiPolygon
    local: LocalPlane
    outline_local: MultiPolygon
    township_local: dict[str, MultiPolygon] = field(default_factory=dict)
    township_codes: list[str] = field(default_factory=list)
    township_names: dict[str, str] = field(default_factory=dict)
    township_polys: dict[str, MultiPolygon] = field(default_factory=dict)
    seats: dict[str, Point] = field(default_factory=dict)
    village_points: dict[str, Point] = field(default_factory=dict)
    village_rows: list[Row] = field(default_factory=list)
    main_roads: list[LineString] = field(default_factory=list)
    pipelines_in_county: dict[str, BaseGeometry] = field(default_factory=dict)
    mine_rects: list[Polygon] = field(default_factory=list)
    river: LineString | None = None

    def township_of(self, p: Point) -> str | None:
        for code in self.township_codes:
            if self.township_polys[code].contains(p):
                return code
        return None


def build_demo(*, seed: int | None = None, as_of: dt.date | None = None) -> DemoCounty:
    """The whole demo county from the real files in data/ and the fixed seed (dates end at as_of)."""
    cfg = load_config()
    missing = [p.name for p in (COUNTY_OUTLINE, TOWNSHIPS_CSV, VILLAGES_CSV, GEM_PIPELINES, GEM_MINES) if not p.exists()]
    if missing:
        raise NotFound(f"缺少示范县数据文件：{'、'.join(missing)}（应在 {DATA} 下）")
    seed = cfg["seed"] if seed is None else seed
    plane = Plane(cfg["metric_srid"])
    outline_ll = shapely.get_parts(pyogrio.read_dataframe(COUNTY_OUTLINE).geometry.values)
    outline_ll = MultiPolygon(list(outline_ll)) if len(outline_ll) > 1 else outline_ll[0]
    if isinstance(outline_ll, Polygon):
        outline_ll = MultiPolygon([outline_ll])
    centre = outline_ll.centroid
    local = LocalPlane(centre.x, centre.y)
    world = _World(cfg=cfg, plane=plane, seed=seed, as_of=as_of or local_today(),
                   outline=plane.to_metric(outline_ll), local=local, outline_local=local.to_local(outline_ll))
    demo = DemoCounty(county={"code": cfg["county_code"], "name": cfg["county_name"], "geom": outline_ll,
                              "source": cfg["sources"]["county"]})
    make_townships(world, demo)
    place_villages(world, demo)
    make_grid_cells(world, demo)
    make_roads(world, demo)
    make_pipelines(world, demo)
    make_mines(world, demo)
    make_mine_zones(world, demo)
    make_river_and_tunnel(world, demo)
    make_enterprises(world, demo)
    make_buildings(world, demo)
    make_encroachments(world, demo)
    make_events(world, demo)
    return demo


# --- townships, villages, grid ----------------------------------------------------------------


def make_townships(w: _World, demo: DemoCounty) -> None:
    """Partition the real outline into 11 illustrative townships around their configured seats."""
    table = pd.read_csv(TOWNSHIPS_CSV, dtype=str)
    seats = w.cfg["townships"]["seats"]
    for code9, name in zip(table["code"], table["name"], strict=True):
        code = code9 + "000"
        w.township_codes.append(code)
        w.township_names[code] = name
        w.seats[code] = Point(w.plane.xy(*seats[code]))
    local_seats = [w.local.to_local(Point(*seats[code])) for code in w.township_codes]
    cells = partition_polygon(w.outline_local, [(p.x, p.y) for p in local_seats])
    for code, cell in zip(w.township_codes, cells, strict=True):
        stored = w.local.to_storage(cell)
        w.township_local[code] = cell
        w.township_polys[code] = w.plane.to_metric(stored)
        demo.townships.append({"code": code, "name": w.township_names[code], "county_code": w.cfg["county_code"],
                               "geom": stored, "is_illustrative": True,
                               "source": w.cfg["sources"]["township"]})


def _seat_village(names: list[str], township_name: str) -> int:
    stem = township_name[:-1]
    for i, n in enumerate(names):
        if n.startswith(stem):
            return i
    return 0


def place_villages(w: _World, demo: DemoCounty) -> None:
    """Put the 193 real villages at synthetic points inside their townships (seat village at the seat)."""
    cfg = w.cfg["villages"]
    rng = step_rng(w.seed, "villages")
    table = pd.read_csv(VILLAGES_CSV, dtype=str)
    by_township = {code: table[table["streetCode"] + "000" == code] for code in w.township_codes}
    for code in w.township_codes:
        rows = by_township[code]
        names, codes = list(rows["name"]), list(rows["code"])
        poly = w.township_polys[code]
        inner = poly.buffer(-cfg["boundary_inset_m"])
        seat_i = _seat_village(names, w.township_names[code])
        angle = rng.uniform(0, 2 * math.pi)
        r = rng.uniform(0, cfg["seat_offset_m"])
        seat = w.seats[code]
        seat_pt = Point(seat.x + r * math.cos(angle), seat.y + r * math.sin(angle))
        if not inner.contains(seat_pt):
            seat_pt = seat
        others = [i for i in range(len(names)) if i != seat_i]
        communities = [i for i in others if "社区" in names[i]]
        rural = [i for i in others if i not in communities]
        points: dict[int, Point] = {seat_i: seat_pt}
        if communities:
            disc = inner.intersection(seat.buffer(cfg["community_radius_m"]))
            pts = random_points_in(disc, len(communities), rng, min_spacing_m=cfg["min_spacing_m"] / 2,
                                   avoid=[seat_pt])
            points.update(zip(communities, pts, strict=True))
        pts = random_points_in(inner, len(rural), rng, min_spacing_m=cfg["min_spacing_m"],
                               avoid=list(points.values()))
        points.update(zip(rural, pts, strict=True))
        for i in range(len(names)):
            w.village_points[codes[i]] = points[i]
            row = {"code": codes[i], "name": names[i], "township_code": code,
                   "geom": w.plane.to_storage(points[i]), "source": w.cfg["sources"]["village"],
                   "is_seat": i == seat_i}
            w.village_rows.append(row)
            demo.villages.append({k: v for k, v in row.items() if k != "is_seat"})


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    raw = np.asarray(weights) / sum(weights) * total
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(v) for v in out]


def make_grid_cells(w: _World, demo: DemoCounty) -> None:
    """266 grid cells: each township split around its villages plus extra seeds; 263 officers."""
    cfg = w.cfg["grid"]
    rng = step_rng(w.seed, "grid")
    villages_of = {c: [r for r in w.village_rows if r["township_code"] == c] for c in w.township_codes}
    extra = _largest_remainder(cfg["cells"] - len(w.village_rows),
                               [w.township_polys[c].area for c in w.township_codes])
    officers = nm.person_names(rng, cfg["officers"])
    phones = nm.phone_numbers(rng, cfg["officers"])
    cells: list[Row] = []
    for code, n_extra in zip(w.township_codes, extra, strict=True):
        vs = villages_of[code]
        seeds = [w.village_points[v["code"]] for v in vs]
        seeds += random_points_in(w.township_polys[code].buffer(-100), n_extra, rng,
                                  min_spacing_m=cfg["min_spacing_m"], avoid=seeds)
        local_seeds = [w.local.to_local(w.plane.to_storage(p)) for p in seeds]
        parts = partition_polygon(w.township_local[code], [(p.x, p.y) for p in local_seeds])
        for k, part in enumerate(parts, start=1):
            short = vs[k - 1]["name"].replace("村委会", "").replace("社区居委会", "社区") if k <= len(vs) else None
            label = f"{short}网格" if short else f"{w.township_names[code]}第{k}网格"
            cells.append({"code": f"{code}-{k:03d}", "name": label, "township_code": code,
                          "geom": w.local.to_storage(part), "source": w.cfg["sources"]["synthetic"]})
    # 263 officers for 266 cells: the first 263 cells get one each, the rest go to a neighbour's officer.
    for i, cell in enumerate(cells):
        j = i if i < len(officers) else i - (len(cells) - len(officers))
        cell["officer_name"], cell["officer_phone"] = officers[j], phones[j]
    demo.grid_cells = cells


# --- roads --------------------------------------------------------------------------------------


def make_roads(w: _World, demo: DemoCounty) -> None:
    """A connected road network: county/provincial roads between seats, township and village roads."""
    cfg = w.cfg["roads"]
    rng = step_rng(w.seed, "roads")
    inside = w.outline.buffer(300)
    seat_code = w.cfg["townships"]["county_seat"]
    seat_pts = [w.village_points[r["code"]] for r in w.village_rows if r["is_seat"]]
    seat_tcodes = [r["township_code"] for r in w.village_rows if r["is_seat"]]
    xy = [(p.x, p.y) for p in seat_pts]
    allowed = [e for e in delaunay_edges(xy) if inside.contains(LineString([xy[e[0]], xy[e[1]]]))]
    tree = mst_edges(xy, allowed)
    rest = sorted((e for e in allowed if e not in tree), key=lambda e: seat_pts[e[0]].distance(seat_pts[e[1]]))
    links = tree + rest[: cfg["extra_seat_links"]]
    lines: list[LineString] = []
    attrs: list[tuple[str, str]] = []
    n_primary = n_secondary = 0
    for i, j in links:
        a, b = w.township_names[seat_tcodes[i]][:-1], w.township_names[seat_tcodes[j]][:-1]
        if seat_code in (seat_tcodes[i], seat_tcodes[j]) or (i, j) in tree[:4]:
            n_primary += 1
            attrs.append(("primary", f"省道S{240 + n_primary}{a}—{b}线（示意）"))
        else:
            n_secondary += 1
            attrs.append(("secondary", f"县道X{n_secondary:03d}{a}—{b}线（示意）"))
        line = wiggle_line([xy[i], xy[j]], rng, every_m=cfg["wiggle_every_m"], ratio=cfg["wiggle_ratio"] / 2)
        lines.append(line)
        w.main_roads.append(line)
    n_tertiary = 0
    for tcode in w.township_codes:
        vs = [r for r in w.village_rows if r["township_code"] == tcode]
        pts = [w.village_points[r["code"]] for r in vs]
        vxy = [(p.x, p.y) for p in pts]
        for i, j in mst_edges(vxy):
            seat_edge = vs[i]["is_seat"] or vs[j]["is_seat"]
            a = vs[i]["name"].replace("村委会", "").replace("居委会", "")
            b = vs[j]["name"].replace("村委会", "").replace("居委会", "")
            if seat_edge:
                n_tertiary += 1
                attrs.append(("tertiary", f"乡道Y{n_tertiary:03d}{a}—{b}线（示意）"))
            else:
                attrs.append(("unclassified", f"{a}—{b}村道（示意）"))
            lines.append(wiggle_line([vxy[i], vxy[j]], rng, every_m=cfg["wiggle_every_m"], ratio=cfg["wiggle_ratio"]))
    pieces = node_lines(lines)
    stored = w.plane.to_storage(np.array([p for _, p in pieces], dtype=object))
    for k, ((owner, _), geom) in enumerate(zip(pieces, stored, strict=True), start=1):
        road_class, name = attrs[owner]
        demo.roads.append({"code": f"HQ-R{k:05d}", "name": name, "road_class": road_class, "geom": geom,
                           "source": w.cfg["sources"]["synthetic"]})


# --- pipelines ------------------------------------------------------------------------------------


def make_pipelines(w: _World, demo: DemoCounty) -> None:
    """The 2 real GEM gas routes (clipped to the county + margin) and synthetic crude/product/chemical lines."""
    cfg = w.cfg["pipelines"]
    rng = step_rng(w.seed, "pipelines")
    gem = pyogrio.read_dataframe(GEM_PIPELINES)
    keep = w.outline.buffer(cfg["clip_margin_m"])
    for k, (pid, geom) in enumerate(zip(gem["ProjectID"], gem.geometry.values, strict=True)):
        metric = shapely.intersection(w.plane.to_metric(geom), keep)
        lines = [g for g in shapely.get_parts(metric) if isinstance(g, LineString) and g.length > 0]
        metric = MultiLineString(lines)
        w.pipelines_in_county[pid] = metric.intersection(w.outline)
        g = cfg["gem"]
        demo.pipelines.append({
            "code": pid, "name": f"天然气长输管道{'甲乙丙丁戊'[k % 5]}线（河曲段）", "operator": g["operator"], "medium": "gas",
            "design_pressure_mpa": g["design_pressure_mpa"], "outside_diameter_mm": g["outside_diameter_mm"],
            "burial_depth_m": g["burial_depth_m"], "commissioning_year": g["commissioning_year"],
            "geom": w.plane.to_storage(metric), "source": w.cfg["sources"]["gem_pipeline"],
        })
    for spec in cfg["synthetic"]:
        route = [w.plane.xy(*ll) for ll in spec["route"]]
        line = wiggle_line(route, rng, every_m=2500, ratio=0.04)
        w.pipelines_in_county[spec["code"]] = line.intersection(w.outline)
        demo.pipelines.append({
            "code": spec["code"], "name": spec["name"], "operator": spec["operator"], "medium": spec["medium"],
            "design_pressure_mpa": spec["design_pressure_mpa"], "outside_diameter_mm": spec["outside_diameter_mm"],
            "burial_depth_m": round(float(rng.uniform(1.2, 2.0)), 1),
            "commissioning_year": int(rng.integers(1998, 2021)),
            "geom": w.plane.to_storage(MultiLineString([line])), "source": w.cfg["sources"]["synthetic"],
        })
    for code, line in w.pipelines_in_county.items():
        parts = [g for g in shapely.get_parts(line) if isinstance(g, LineString)]
        if not parts:
            continue
        main = max(parts, key=lambda g: g.length)
        product = code in {s["code"] for s in cfg["synthetic"] if s["medium"] == "product"}
        demo.facilities.append({"pipeline_code": code, "kind": "depot" if product else "station",
                                "name": f"{code} 河曲{'油库' if product else '站场'}（示意）",
                                "geom": w.plane.to_storage(main.interpolate(0.02, normalized=True)),
                                "source": w.cfg["sources"]["synthetic"]})
        d, k = cfg["valve_spacing_m"] * rng.uniform(0.5, 1.0), 1
        while d < main.length:
            demo.facilities.append({"pipeline_code": code, "kind": "valve", "name": f"{code} {k}号阀室（示意）",
                                    "geom": w.plane.to_storage(main.interpolate(d)),
                                    "source": w.cfg["sources"]["synthetic"]})
            d, k = d + cfg["valve_spacing_m"], k + 1


# --- mines and mine zones ----------------------------------------------------------------------------


def _river_line(w: _World) -> LineString:
    """The county's Yellow River bank: the western arc of the outline between two configured vertices."""
    z = w.cfg["mines"]["zones"]
    ring = max(w.outline.geoms, key=lambda p: p.area).exterior
    coords = np.asarray(ring.coords)[:-1]
    ends = [int(np.argmin(np.hypot(*(coords - np.asarray(w.plane.xy(*ll))).T))) for ll in (z["river_from"], z["river_to"])]
    i, j = sorted(ends)
    arc1 = coords[i: j + 1]
    arc2 = np.concatenate([coords[j:], coords[: i + 1]])
    return LineString(min((arc1, arc2), key=lambda a: float(a[:, 0].mean())))


def _place_rect(w: _World, rng: np.random.Generator, region: BaseGeometry, size_m: list[list[float]], *,
                within: BaseGeometry, centre_in: BaseGeometry | None = None, tries: int = 4000) -> Polygon:
    gap = w.cfg["mines"]["min_gap_m"]
    villages = shapely.MultiPoint(list(w.village_points.values()))
    target = centre_in if centre_in is not None else region
    for _ in range(tries):
        c = random_points_in(target, 1, rng)[0]
        (w_lo, w_hi), (h_lo, h_hi) = size_m
        rect = rectangle(c.x, c.y, rng.uniform(w_lo, w_hi), rng.uniform(h_lo, h_hi), rng.uniform(0, 180))
        if (rect.within(within) and all(rect.distance(o) >= gap for o in w.mine_rects)
                and rect.distance(villages) >= w.cfg["mines"]["village_gap_m"]):
            w.mine_rects.append(rect)
            return rect
    raise InvalidInput("无法放置示意矿山：demo.toml 中配置的范围太小")


def make_mines(w: _World, demo: DemoCounty) -> None:
    """11 coal + 11 non-coal mines inside the county (two over-boundary, two in 禁采区) and 3 GEM reference mines."""
    cfg = w.cfg["mines"]
    z = cfg["zones"]
    rng = step_rng(w.seed, "mines")
    w.river = _river_line(w)
    county_inner = w.outline.buffer(-300)
    seat = w.seats[w.cfg["townships"]["county_seat"]]
    seats_keepout = shapely.union_all([p.buffer(1500) for p in w.seats.values()])
    coal_x = w.plane.xy(cfg["coal_region_min_lon"], 39.2)[0]
    coal_region = county_inner.intersection(box(coal_x, -1e9, 1e9, 1e9)).difference(seats_keepout)
    free = county_inner.difference(seats_keepout)
    specs: list[Row] = []
    for k in range(cfg["coal"]):
        rect = _place_rect(w, rng, coal_region, cfg["coal_size_m"], within=county_inner)
        specs.append({"type": "coal", "mineral": "煤", "method": "open_pit" if k in (4, 8) else "underground",
                      "rect": rect})
    river_band = w.river.buffer(z["river_band_m"] * 0.8).intersection(county_inner)
    seat_ring = seat.buffer(z["seat_radius_m"] * 0.9).difference(seat.buffer(1500)).intersection(county_inner)
    villages = [w.village_points[r["code"]] for r in w.village_rows if not r["is_seat"]]
    for k in range(cfg["non_coal"]):
        if k == 0:  # a quarry operating inside the Yellow River 禁采区
            rect = _place_rect(w, rng, free, cfg["non_coal_size_m"], within=county_inner, centre_in=river_band)
        elif k == 1:  # a quarry inside the county-seat 禁采区
            rect = _place_rect(w, rng, free, cfg["non_coal_size_m"], within=county_inner, centre_in=seat_ring)
        elif k in (2, 3, 4):  # open pits close to a village
            lo, hi = cfg["open_pit_near_village_m"]
            ring = Polygon()
            while ring.area < 0.25 * math.pi * hi**2:
                v = villages[int(rng.integers(len(villages)))]
                ring = v.buffer(hi).difference(v.buffer(lo)).intersection(free)
            rect = _place_rect(w, rng, free, cfg["non_coal_size_m"], within=county_inner, centre_in=ring)
        else:
            rect = _place_rect(w, rng, free, cfg["non_coal_size_m"], within=county_inner)
        mineral = cfg["non_coal_minerals"][k % len(cfg["non_coal_minerals"])]
        specs.append({"type": "non_coal", "mineral": mineral,
                      "method": "underground" if mineral in ("铁矿", "铝土矿") and k > 4 else "open_pit", "rect": rect})
    over = {2, cfg["coal"] + 6}
    for k, s in enumerate(specs):
        rect = s["rect"]
        c = rect.centroid
        ring = np.asarray(rect.exterior.coords)[:4]
        axis = ring[1] - ring[0]
        if k in over:  # 越界开采: workings pushed about a third past the licence edge
            shift = axis * 0.4
            work = shapely.affinity.translate(shapely.affinity.scale(rect, 0.6, 0.6), shift[0], shift[1])
        else:
            work = shapely.affinity.scale(rect, rng.uniform(0.4, 0.7), rng.uniform(0.4, 0.7))
            shift = axis * rng.uniform(-0.1, 0.1)
            work = shapely.affinity.translate(work, shift[0], shift[1])
        coal = s["type"] == "coal"
        floor = rng.uniform(650, 900) if coal else rng.uniform(950, 1100)
        year, month = int(rng.integers(2006, 2022)), int(rng.integers(1, 13))
        demo.mines.append({
            "licence_no": f"C{w.cfg['county_code']}{year}{month:02d}1{int(rng.integers(10, 99))}{k + 1:06d}",
            "mine_type": s["type"], "mineral": s["mineral"], "method": s["method"],
            "operating": k not in (5, cfg["coal"] + 9),
            "floor_elevation_m": round(float(floor), 0),
            "ceiling_elevation_m": round(float(floor + rng.uniform(200, 400)), 0),
            "licence_boundary": w.plane.to_storage(MultiPolygon([rect])),
            "workings": w.plane.to_storage(MultiPolygon([work])),
            "centre": c, "source": w.cfg["sources"]["synthetic"],
        })
    gem = pyogrio.read_dataframe(GEM_MINES)
    for _, r in gem.iterrows():
        geom = r.geometry if r.geometry.geom_type == "MultiPolygon" else MultiPolygon([r.geometry])
        demo.mines.append({
            "licence_no": f"GEM-{r['GEM Mine ID']}", "name": f"{r['Mine Name']}（GEM 参照矿山）",
            "mine_type": "coal", "mineral": "煤", "method": "underground" if r["mine feature subcategory"] == "underground"
            else "open_pit", "operating": True, "licence_boundary": geom, "workings": None,
            "source": w.cfg["sources"]["gem_mine"],
        })


def make_river_and_tunnel(w: _World, demo: DemoCounty) -> None:
    """The Yellow River (示意: the county's west boundary, which follows it) and one pipeline tunnel (示意), the
    features of 石油天然气管道保护法 第三十二条 (river crossings) and 第三十三条 (tunnels)."""
    assert w.river is not None
    demo.waterways.append({"code": "HL-HH-01", "name": "黄河（示意）", "kind": "river", "is_illustrative": True,
                           "geom": w.plane.to_storage(MultiLineString([w.river])),
                           "source": w.cfg["sources"]["river"]})
    t = w.cfg["pipelines"]["tunnel"]
    parts = [g for g in shapely.get_parts(w.pipelines_in_county[t["pipeline"]]) if isinstance(g, LineString)]
    main = max(parts, key=lambda g: g.length)
    stretch = shapely.ops.substring(main, t["from"], t["to"], normalized=True)
    demo.tunnels.append({"code": t["code"], "name": t["name"], "pipeline_code": t["pipeline"],
                         "geom": w.plane.to_storage(MultiLineString([stretch])),
                         "source": w.cfg["sources"]["synthetic"]})


def make_mine_zones(w: _World, demo: DemoCounty) -> None:
    """禁采区 along the Yellow River and around the county seat, 限采区 along main roads, 可采区 elsewhere."""
    cfg = w.cfg["mines"]
    z = cfg["zones"]
    seat = w.seats[w.cfg["townships"]["county_seat"]]
    assert w.river is not None
    river = polygonal(w.river.buffer(z["river_band_m"]).intersection(w.outline))
    town = polygonal(seat.buffer(z["seat_radius_m"]).intersection(w.outline))
    banned = shapely.union_all([river, town])
    roads = polygonal(shapely.union_all([r.buffer(z["road_band_m"]) for r in w.main_roads])
                      .intersection(w.outline).difference(banned))
    coal_x = w.plane.xy(cfg["coal_region_min_lon"], 39.2)[0]
    coal = polygonal(w.outline.intersection(box(coal_x, -1e9, 1e9, 1e9)).difference(banned).difference(roads))
    non_coal_sites = [m["centre"].buffer(2000) for m in demo.mines if m.get("mine_type") == "non_coal"]
    quarry = polygonal(shapely.union_all(non_coal_sites).intersection(w.outline)
                       .difference(banned).difference(roads).difference(coal))
    doc = cfg["source_document"]
    zones = [("JC-01", "黄河沿岸禁采区", "no_mining_zone", river), ("JC-02", "县城规划区禁采区", "no_mining_zone", town),
             ("XC-01", "主要公路两侧限采区", "restricted_zone", roads),
             ("KC-01", "东部煤炭可采区", "mining_zone", coal), ("KC-02", "非金属矿产可采区", "mining_zone", quarry)]
    for code, name, kind, geom in zones:
        if not geom.is_empty:
            demo.mine_zones.append({"code": code, "name": f"{name}（示意）", "kind": kind, "source_document": doc,
                                    "geom": w.plane.area_to_storage(geom), "source": w.cfg["sources"]["synthetic"]})


# --- enterprises, buildings, encroachments -------------------------------------------------------------


_EMPLOYEES = {"hazchem": (15, 260), "coal_mine": (300, 1500), "non_coal_mine": (30, 200), "metallurgy": (50, 600),
              "fireworks": (5, 30), "construction": (20, 400), "gas": (10, 80), "industry_trade": (8, 300),
              "other": (5, 80)}


def _address(w: _World, village_code: str | None, township_code: str) -> str:
    base = f"山西省忻州市{w.cfg['county_name']}{w.township_names[township_code]}"
    if village_code is None:
        return base
    name = next(r["name"] for r in w.village_rows if r["code"] == village_code)
    return base + name.replace("村委会", "村").replace("社区居委会", "社区")


def _near_village(w: _World, rng: np.random.Generator, lo_m: float, hi_m: float,
                  taken: list[Point]) -> tuple[Point, str, str]:
    """A point lo–hi m from a village (seats twice as likely), inside that village's township."""
    weights = np.array([3.0 if r["is_seat"] else 1.0 for r in w.village_rows])
    while True:
        v = w.village_rows[int(rng.choice(len(w.village_rows), p=weights / weights.sum()))]
        c = w.village_points[v["code"]]
        a, d = rng.uniform(0, 2 * math.pi), rng.uniform(lo_m, hi_m)
        p = Point(c.x + d * math.cos(a), c.y + d * math.sin(a))
        inner = w.township_polys[v["township_code"]].buffer(-50)
        if inner.contains(p) and all(p.distance(q) > 120 for q in taken):
            return p, v["code"], v["township_code"]


def make_enterprises(w: _World, demo: DemoCounty) -> None:
    """~200 enterprises: 49 hazchem (some in the chemical park), the 22 mine operators, and others."""
    cfg = w.cfg["enterprises"]
    rng = step_rng(w.seed, "enterprises")
    categories = [c for c, n in cfg["counts"].items() for _ in range(n)]
    named = nm.company_names(rng, categories)
    codes = nm.usccs(rng, len(categories), county_code=w.cfg["county_code"])
    park_cfg = cfg["chemical_park"]
    pc = w.plane.xy(*park_cfg["centre"])
    park = box(pc[0] - park_cfg["width_m"] / 2, pc[1] - park_cfg["height_m"] / 2,
               pc[0] + park_cfg["width_m"] / 2, pc[1] + park_cfg["height_m"] / 2)
    park_points = random_points_in(park.buffer(-100), cfg["in_chemical_park"], rng, min_spacing_m=180)
    mines = {"coal_mine": [m for m in demo.mines if m["mine_type"] == "coal" and "centre" in m],
             "non_coal_mine": [m for m in demo.mines if m["mine_type"] == "non_coal"]}
    taken: list[Point] = list(park_points)
    seen: dict[str, int] = {}
    for category, (name, trade), uscc in zip(categories, named, codes, strict=True):
        k = seen.get(category, 0)
        seen[category] = k + 1
        in_park = category == "hazchem" and k < len(park_points)
        village = None
        if in_park:
            p = park_points[k]
        elif category in mines:
            mine = mines[category][k]
            p = mine["centre"]
            mine["enterprise_uscc"] = uscc
            mineral = mine["mineral"]
            label = "煤矿" if category == "coal_mine" else mineral if mineral.endswith("矿") else f"{mineral}矿"
            mine["name"] = f"{nm.COUNTY_PREFIX}{trade}{label}"
        else:
            p, village, _ = _near_village(w, rng, 250, 1500, taken)
            taken.append(p)
        tcode = w.township_of(p)
        assert tcode is not None, "示意企业落在县界外"
        lo, hi = _EMPLOYEES[category]
        grade_p = {"hazchem": [0.05, 0.4, 0.4, 0.15], "coal_mine": [0.3, 0.6, 0.1, 0.0]}.get(
            category, [0.0, 0.1, 0.4, 0.5])
        grade = [1, 2, 3, None][int(rng.choice(4, p=grade_p))]
        demo.enterprises.append({
            "uscc": uscc, "name": name, "category": category, "address": _address(w, village, tcode),
            "township_code": tcode, "geom": w.plane.to_storage(p), "employees": int(rng.integers(lo, hi + 1)),
            "key_process": bool(category == "hazchem" and (in_park or rng.random() < 0.2)),
            "key_chemical": False, "major_hazard_source": False, "standardisation_grade": grade,
            "in_chemical_park": in_park, "source": w.cfg["sources"]["synthetic"], "_xy": p,
        })
    _make_inventories(w, demo, rng)
    _make_hazchem_facts(w, demo)


# The 18 key supervised hazardous processes (重点监管危险化工工艺) a demo plant may run — demo data.
_KEY_PROCESSES = ("光气及光气化工艺", "电解工艺（氯碱）", "氯化工艺", "硝化工艺", "合成氨工艺", "裂解（裂化）工艺",
                  "氟化工艺", "加氢工艺", "重氮化工艺", "氧化工艺", "过氧化工艺", "胺基化工艺", "磺化工艺", "聚合工艺",
                  "烷基化工艺", "新型煤化工工艺", "电石生产工艺", "偶氮化工艺")
_INHALATION_LETHAL = {"液氯", "硫化氢"}


def _make_hazchem_facts(w: _World, demo: DemoCounty) -> None:
    """Demo facts of the 应急〔2018〕19号 diagnostic table for hazchem plants (own random step, so the rest of the
    demo is unchanged): processes, key chemicals from the inventory, distance assessments, staff, fire teams."""
    rng = step_rng(w.seed, "hazchem_facts")
    subs = {s["name"]: s for s in w.cfg["substances"]}
    held: dict[str, set[str]] = {}
    for line in demo.inventories:
        held.setdefault(line["enterprise_uscc"], set()).add(line["substance"])
    for e in demo.enterprises:
        if e["category"] != "hazchem":
            continue
        names = held.get(e["uscc"], set())
        n_proc = int(rng.integers(1, 4)) if e["key_process"] else 0
        procs = [str(x) for x in rng.choice(_KEY_PROCESSES, size=n_proc, replace=False)] if n_proc else []
        assessed = rng.random()
        e.update({
            "key_process_count": n_proc, "key_processes": "、".join(procs) or None,
            "key_chemical_count": sum(1 for n in names if subs[n].get("key_chemical") and n not in _INHALATION_LETHAL),
            "toxic_inhalation_count": len(names & _INHALATION_LETHAL), "explosive_count": 0,
            "external_distance_ok": True if e["in_chemical_park"] or assessed < 0.75 else (None if assessed < 0.95 else False),
            "registered_safety_engineer": bool(rng.random() < 0.7),
            "own_fire_team": bool(e["in_chemical_park"] and rng.random() < 0.5),
            "automation_missing": bool(n_proc and rng.random() < 0.1),
            "gas_detection_missing_count": int(rng.choice(3, p=[0.8, 0.15, 0.05])),
            "uncertified_managers": 0, "untrialled_new_process": False, "undesigned_unit": False,
            "special_ops_uncertified": False,
        })


def _make_inventories(w: _World, demo: DemoCounty, rng: np.random.Generator) -> None:
    """1–3 substances per hazchem enterprise; a few reach Σq/Q ≥ 1 (GB 18218-2018 §4.2)."""
    subs = w.cfg["substances"]
    hazchem = [e for e in demo.enterprises if e["category"] == "hazchem"]
    park_first = sorted(range(len(hazchem)), key=lambda i: (not hazchem[i]["in_chemical_park"], i))
    major = set(park_first[: w.cfg["enterprises"]["major_hazard_sources"] - 1]) | {park_first[-1]}
    for i, e in enumerate(hazchem):
        picks = rng.choice(len(subs), size=int(rng.integers(1, 4)), replace=False)
        q = [float(rng.uniform(*subs[j]["typical"])) for j in picks]
        s = sum(qi / subs[j]["q_t"] for qi, j in zip(q, picks, strict=True))
        if i in major and s < 1:
            q = [qi * rng.uniform(1.05, 1.8) / s for qi in q]
        elif i not in major and s >= 0.9:
            q = [qi * 0.8 / s for qi in q]
        s = sum(qi / subs[j]["q_t"] for qi, j in zip(q, picks, strict=True))
        e["major_hazard_source"] = bool(s >= 1)
        e["key_chemical"] = any(subs[j].get("key_chemical", False) for j in picks)
        for qi, j in zip(q, picks, strict=True):
            demo.inventories.append({
                "enterprise_uscc": e["uscc"], "substance": subs[j]["name"], "cas": subs[j]["cas"],
                "max_quantity_t": round(qi, 2), "hazard_class": subs[j].get("hazard_class"),
                "unit_name": "储罐区" if qi > 20 else "仓库",
            })


def _building_cluster(rng: np.random.Generator, centre: Point, n: int, spacing_m: float, jitter_m: float
                      ) -> list[Polygon]:
    """n non-overlapping small rectangles on a jittered grid around a centre (metres)."""
    half = math.ceil(math.sqrt(n) * 0.75) + 1
    cells = [(i, j) for i in range(-half, half + 1) for j in range(-half, half + 1)]
    cells.sort(key=lambda ij: (ij[0] ** 2 + ij[1] ** 2 + rng.uniform(0, 2), ij))
    out = []
    for i, j in cells[:n]:
        cx = centre.x + i * spacing_m + rng.uniform(-jitter_m, jitter_m)
        cy = centre.y + j * spacing_m + rng.uniform(-jitter_m, jitter_m)
        out.append(rectangle(cx, cy, rng.uniform(8, 18), rng.uniform(6, 11), rng.uniform(-15, 15)))
    return out


def make_buildings(w: _World, demo: DemoCounty) -> None:
    """Footprints around villages (schools, hospitals, markets at seats), plant buildings, and a few near pipelines."""
    cfg = w.cfg["buildings"]
    rng = step_rng(w.seed, "buildings")
    county_seat = w.cfg["townships"]["county_seat"]
    geoms: list[Polygon] = []
    rows: list[Row] = []

    def add(poly: Polygon, use: str, floors: int, name: str | None = None) -> None:
        geoms.append(poly)
        rows.append({"code": f"HQ-B{len(rows) + 1:06d}", "name": name, "use_class": use, "floors": floors,
                     "source": w.cfg["sources"]["synthetic"]})

    for v in w.village_rows:
        c = w.village_points[v["code"]]
        community = "社区" in v["name"] and v["township_code"] == county_seat
        n = (cfg["county_seat_community"] if community else cfg["township_seat_village"] if v["is_seat"]
             else int(rng.integers(cfg["village"][0], cfg["village"][1] + 1)))
        short = v["name"].replace("村委会", "村").replace("社区居委会", "社区")
        special: list[tuple[str, str]] = []
        if v["is_seat"] or community:
            special = [("school", f"{short}学校"), ("market", f"{short}市场")]
            if v["is_seat"]:
                special.append(("hospital", f"{w.township_names[v['township_code']]}卫生院"))
        elif rng.random() < 0.25:
            special = [("school", f"{short}小学")]
        for k, poly in enumerate(_building_cluster(rng, c, n, cfg["spacing_m"], cfg["jitter_m"])):
            if k < len(special):
                use, name = special[k]
                add(poly, use, int(rng.integers(2, 5)), name)
            elif rng.random() < 0.03:
                add(poly, "other", 1)
            else:
                floors = int(rng.integers(3, 7)) if community else int(rng.choice([1, 1, 1, 2]))
                add(poly, "residential", floors)
    for e in demo.enterprises:
        if e["category"] in ("hazchem", "metallurgy", "industry_trade", "fireworks", "other"):
            p = e["_xy"]
            add(rectangle(p.x, p.y, rng.uniform(30, 60), rng.uniform(18, 30), rng.uniform(0, 90)), "industrial",
                int(rng.integers(1, 3)), e["name"])
    lines = [g for g in w.pipelines_in_county.values() if not g.is_empty]
    for n, (lo, hi) in ((cfg["near_pipeline_within_5m"], (1.0, 2.5)), (cfg["near_pipeline_5_to_50m"], (15.0, 40.0))):
        for _ in range(n):
            line = lines[int(rng.integers(len(lines)))]
            p, normal = _point_beside(line, rng, rng.uniform(lo, hi))
            angle = math.degrees(math.atan2(normal[1], normal[0]))
            add(rectangle(p.x, p.y, rng.uniform(5, 8), rng.uniform(4, 6), angle), "residential", 1)
    stored = w.plane.to_storage(np.array(geoms, dtype=object))
    for row, g in zip(rows, stored, strict=True):
        row["geom"] = MultiPolygon([g])
    demo.buildings = rows


def _point_beside(line: BaseGeometry, rng: np.random.Generator, offset_m: float) -> tuple[Point, tuple[float, float]]:
    """A point offset_m to one side of a random position on a (multi)line, and the unit normal used."""
    parts = [g for g in shapely.get_parts(line) if isinstance(g, LineString) and g.length > 50]
    lengths = np.array([g.length for g in parts])
    part = parts[int(rng.choice(len(parts), p=lengths / lengths.sum()))]
    d = rng.uniform(0.05, 0.95) * part.length
    a, b = part.interpolate(d - 1), part.interpolate(d + 1)
    tx, ty = b.x - a.x, b.y - a.y
    norm = math.hypot(tx, ty) or 1.0
    side = 1 if rng.random() < 0.5 else -1
    nx, ny = -ty / norm * side, tx / norm * side
    c = part.interpolate(d)
    return Point(c.x + nx * offset_m, c.y + ny * offset_m), (nx, ny)


_ENCROACHMENT_WHAT = {
    "encroachment": ["民房", "彩钢板房", "养殖棚", "围墙", "仓库", "温室大棚", "砖混厂房"],
    "insufficient_distance": ["加油站", "居民楼", "农家乐", "学校围墙", "储煤场"],
    "crossing": ["乡村公路", "10 kV 电力电缆", "供水管道", "通信光缆", "排水沟"],
}
_STATUSES = ["found"] * 6 + ["confirmed"] * 6 + ["rectifying"] * 8 + ["rectified"] * 6 + ["closed"] * 9
_NATURES = ["illegal_construction", "historical", "legality_pending"]


def make_encroachments(w: _World, demo: DemoCounty) -> None:
    """~35 占压 / 安全距离不足 / 交叉穿越 points within 0–10 m of the pipelines inside the county."""
    n = w.cfg["pipelines"]["encroachments"]
    rng = step_rng(w.seed, "encroachments")
    operators = {p["code"]: p["operator"] for p in demo.pipelines}
    codes = [c for c, g in w.pipelines_in_county.items() if g.length > 100]
    lengths = np.array([w.pipelines_in_county[c].length for c in codes])
    staff = nm.person_names(rng, 6)
    kinds = ["encroachment"] * 20 + ["insufficient_distance"] * 9 + ["crossing"] * 6
    kinds = (kinds * (n // len(kinds) + 1))[:n]
    statuses = [_STATUSES[i % len(_STATUSES)] for i in rng.permutation(n)]
    for i, (kind, status) in enumerate(zip(kinds, statuses, strict=True)):
        code = codes[int(rng.choice(len(codes), p=lengths / lengths.sum()))]
        lo, hi = {"encroachment": (0.0, 5.0), "insufficient_distance": (5.0, 10.0), "crossing": (0.0, 1.0)}[kind]
        d = float(rng.uniform(lo, hi))
        p, _ = _point_beside(w.pipelines_in_county[code], rng, d)
        what = _ENCROACHMENT_WHAT[kind][int(rng.integers(len(_ENCROACHMENT_WHAT[kind])))]
        formed = dt.date(int(rng.integers(1995, 2024)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        found = min(w.as_of - dt.timedelta(days=30), max(formed, dt.date(2014, 1, 1))
                    + dt.timedelta(days=int(rng.integers(30, 900))))
        deadline = found + dt.timedelta(days=int(rng.integers(90, 540)))
        closed = status == "closed"
        closed_on = min(w.as_of, deadline - dt.timedelta(days=int(rng.integers(0, 60)))) if closed else None
        label = {"encroachment": "占压", "insufficient_distance": "安全距离不足", "crossing": "交叉穿越"}[kind]
        description = (f"{what}{label}管道，距管道中心线约 {d:.1f} m" if kind != "crossing"
                       else f"{what}交叉穿越管道，未办理穿越许可")
        measure = {"encroachment": "拆除或迁移占压物，恢复管道 5 m 保护范围",
                   "insufficient_distance": "设置隔离防护设施，限期搬迁或改线",
                   "crossing": "补办穿越许可手续，加装保护套管并设置警示标志"}[kind]
        nature = _NATURES[int(rng.integers(3))]
        demo.encroachments.append({
            "code": f"ZY-{w.cfg['county_code']}-{i + 1:03d}", "pipeline_code": code, "geom": w.plane.to_storage(p),
            "kind": kind, "description": description, "formed_on": formed, "nature": nature, "status": status,
            "found_on": found, "measure": measure, "deadline": deadline, "responsible_operator": operators[code],
            "closed_on": closed_on, "closed_by": staff[int(rng.integers(len(staff)))] if closed else None,
            "dossier": {"形成时间": formed.isoformat(), "距管道中心线_m": round(d, 1), "占压物": what,
                        "一点一策": measure},
            "source": w.cfg["sources"]["synthetic"],
        })


# --- hazards, accidents, inspections -------------------------------------------------------------------


_HAZARD_TEXT = {
    "hazchem": ["储罐区可燃气体报警器未定期检定", "防火堤内积存杂物", "特种作业人员未持证上岗", "静电接地线断开",
                "重大危险源监控系统数据未接入", "动火作业未办理作业票"],
    "coal_mine": ["采煤工作面瓦斯传感器位置不符合规定", "井下局部通风机未实现双电源", "防突措施未落实",
                  "采空区密闭墙漏风", "安全监控系统断线"],
    "non_coal_mine": ["边坡台阶高度超过设计", "爆破警戒范围不足", "排土场未设置截排水设施", "矿用车辆制动失效"],
}
_HAZARD_TEXT_OTHER = ["安全出口堵塞", "消防器材过期", "配电箱未接地", "有限空间作业未审批", "安全培训记录缺失",
                      "粉尘清扫制度未落实"]
_MAJOR_TEXT = {"hazchem": "涉及重点监管危险化工工艺的装置未实现自动化控制",
               "coal_mine": "超层越界开采", "non_coal_mine": "露天边坡出现滑移迹象未停产撤人"}
_TEAMS = ["执法一中队", "执法二中队", "执法三中队", "危化品监管股", "矿山安全监管股"]


def make_events(w: _World, demo: DemoCounty) -> None:
    """隐患 (some major, open, overdue or closed), accidents (some 较大) and inspections over the last year."""
    cfg = w.cfg["events"]
    rng = step_rng(w.seed, "events")
    staff = nm.person_names(rng, 8)
    today = w.as_of
    n_hazard = 0

    def hazard(e: Row, level: str, text: str) -> None:
        nonlocal n_hazard
        n_hazard += 1
        found = today - dt.timedelta(days=int(rng.integers(1, 365)))
        deadline = found + dt.timedelta(days=90 if level == "major" else 30)
        shares = [0.3, 0.3, 0.1, 0.3] if level == "major" else [0.2, 0.2, 0.15, 0.45]
        status = str(rng.choice(["found", "rectifying", "rectified", "closed"], p=shares))
        rectified = closed = None
        if status in ("rectified", "closed"):
            rectified = min(today, found + dt.timedelta(days=int(rng.integers(3, 45 if level == "general" else 120))))
        if status == "closed":
            assert rectified is not None
            closed = min(today, rectified + dt.timedelta(days=int(rng.integers(1, 20))))
        demo.hazards.append({
            "code": f"YH-{w.cfg['county_code']}-{n_hazard:05d}", "enterprise_uscc": e["uscc"], "level": level,
            "description": text, "found_on": found, "deadline": deadline, "status": status,
            "rectified_on": rectified, "closed_on": closed,
            "closed_by": staff[int(rng.integers(len(staff)))] if closed else None,
            "supervising_department": ("忻州市应急管理局" if rng.random() < 0.3 else "河曲县应急管理局")
            if level == "major" else None,
            "source": w.cfg["sources"]["synthetic"],
        })

    for e in demo.enterprises:
        texts = _HAZARD_TEXT.get(e["category"], _HAZARD_TEXT_OTHER)
        for _ in range(int(rng.poisson(cfg["hazards_per_enterprise"]))):
            hazard(e, "general", texts[int(rng.integers(len(texts)))])
    risky = [e for e in demo.enterprises if e["category"] in _MAJOR_TEXT]
    for i in rng.choice(len(risky), size=cfg["major_hazards"], replace=False):
        hazard(risky[int(i)], "major", _MAJOR_TEXT[risky[int(i)]["category"]])

    prone = [e for e in demo.enterprises if e["category"] in ("hazchem", "coal_mine", "non_coal_mine",
                                                               "metallurgy", "construction")]
    for k, i in enumerate(rng.choice(len(prone), size=cfg["accidents"], replace=False)):
        e = prone[int(i)]
        larger = k < cfg["larger_accidents"]
        deaths = int(rng.integers(3, 6)) if larger else int(rng.integers(0, 3))
        demo.accidents.append({
            "enterprise_uscc": e["uscc"], "occurred_on": today - dt.timedelta(days=int(rng.integers(30, 1100))),
            "deaths": deaths, "serious_injuries": int(rng.integers(0, 6)),
            "direct_loss_10k_yuan": round(float(rng.uniform(800, 3000) if larger else rng.uniform(20, 600)), 1),
            "description": ("较大生产安全事故（示意）" if larger else "一般生产安全事故（示意）")
            + f"：{['中毒窒息', '爆炸', '坍塌', '高处坠落', '机械伤害'][int(rng.integers(5))]}",
            "source": w.cfg["sources"]["synthetic"],
        })

    lo, hi = cfg["inspections_per_enterprise"]
    for e in demo.enterprises:
        for _ in range(int(rng.integers(lo, hi + 1))):
            found = int(rng.poisson(1.2))
            demo.inspections.append({
                "enterprise_uscc": e["uscc"], "inspected_on": today - dt.timedelta(days=int(rng.integers(1, 366))),
                "team": _TEAMS[int(rng.integers(len(_TEAMS)))],
                "result": f"发现一般隐患 {found} 项，责令限期整改" if found else "未发现问题",
                "source": w.cfg["sources"]["synthetic"],
            })
