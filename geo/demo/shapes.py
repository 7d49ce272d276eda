"""Geometry helpers of the demo generator; all inputs and outputs in metres (a Gauss–Krüger plane)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry


def polygonal(geom: BaseGeometry, *, min_area_m2: float = 0.01) -> MultiPolygon:
    """The polygon parts of a geometry as one MultiPolygon (drops lines, points and crumbs below min_area_m2)."""
    parts = shapely.get_parts(shapely.make_valid(geom))
    while any(not isinstance(p, Polygon) and p.geom_type.startswith(("Multi", "Geometry")) for p in parts):
        parts = np.concatenate([shapely.get_parts(p) for p in parts])
    return MultiPolygon([p for p in parts if isinstance(p, Polygon) and p.area >= min_area_m2])


def partition_polygon(area: BaseGeometry, seeds: Sequence[tuple[float, float]]) -> list[MultiPolygon]:
    """Split `area` into one cell per seed (Voronoi clipped to the area), in seed order."""
    if len(seeds) == 1:
        return [polygonal(area)]
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds)), extend_to=area.envelope.buffer(1000.0), ordered=True)
    return [polygonal(shapely.intersection(cell, area)) for cell in shapely.get_parts(cells)]


def random_points_in(area: BaseGeometry, n: int, rng: np.random.Generator, *,
                     min_spacing_m: float = 0.0, avoid: Sequence[Point] = (),
                     max_tries: int = 20000) -> list[Point]:
    """n random points inside `area`, at least min_spacing_m apart (relaxed if the area is too small)."""
    if n and area.area <= 0:
        raise ValueError("cannot place points in an empty area")
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    placed: list[Point] = []
    taken = list(avoid)
    spacing = min_spacing_m
    tries = 0
    while len(placed) < n:
        tries += 1
        if tries % max_tries == 0:
            spacing *= 0.7
        if tries > 50 * max_tries:
            raise ValueError("area too small for the points asked")
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not area.contains(p):
            continue
        if spacing and any(p.distance(q) < spacing for q in taken):
            continue
        placed.append(p)
        taken.append(p)
    return placed


def rectangle(cx: float, cy: float, width_m: float, height_m: float, angle_deg: float) -> Polygon:
    """A rectangle of the given size centred at (cx, cy), rotated anticlockwise by angle_deg."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    half = [(-width_m / 2, -height_m / 2), (width_m / 2, -height_m / 2), (width_m / 2, height_m / 2),
            (-width_m / 2, height_m / 2)]
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in half])


def wiggle_line(coords: Sequence[tuple[float, float]], rng: np.random.Generator, *,
                every_m: float, ratio: float) -> LineString:
    """A polyline through `coords` with extra vertices pushed sideways (by ≤ ratio of the leg length)."""
    out = [tuple(coords[0])]
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        length = math.hypot(x1 - x0, y1 - y0)
        k = max(1, int(length // every_m))
        nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length else (0.0, 0.0)
        offsets = rng.uniform(-ratio, ratio, size=k) * length / math.sqrt(k)
        for i in range(1, k + 1):
            t = i / (k + 1)
            out.append((x0 + t * (x1 - x0) + nx * offsets[i - 1], y0 + t * (y1 - y0) + ny * offsets[i - 1]))
        out.append((x1, y1))
    return LineString(out)


def node_lines(lines: Sequence[LineString]) -> list[tuple[int, LineString]]:
    """Split lines at every crossing so that they meet only at shared end points; (source index, piece)."""
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString(list(lines))))
    tree = shapely.STRtree(list(lines))
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    owner = tree.query_nearest(mids, return_distance=False, all_matches=False)[1]
    order = np.lexsort((np.arange(len(noded)), owner))
    return [(int(owner[i]), noded[i]) for i in order]


def mst_edges(points: Sequence[tuple[float, float]], candidates: Sequence[tuple[int, int]] | None = None
              ) -> list[tuple[int, int]]:
    """Minimum spanning tree (Kruskal, Euclidean lengths) over candidate edges (default: all pairs)."""
    n = len(points)
    pts = np.asarray(points, dtype=float)
    pairs = list(candidates) if candidates is not None else [(i, j) for i in range(n) for j in range(i + 1, n)]
    pairs.sort(key=lambda e: (float(np.hypot(*(pts[e[0]] - pts[e[1]]))), e))
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree: list[tuple[int, int]] = []
    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            tree.append((i, j))
    return tree


def delaunay_edges(points: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Index pairs of the Delaunay triangulation edges of the points."""
    pts = np.asarray(points, dtype=float)
    edges = shapely.get_parts(shapely.delaunay_triangles(MultiPoint(list(points)), only_edges=True))
    out = []
    for e in edges:
        a, b = (int(np.argmin(np.hypot(*(pts - np.asarray(xy)).T))) for xy in e.coords)
        out.append((min(a, b), max(a, b)))
    return sorted(set(out))
