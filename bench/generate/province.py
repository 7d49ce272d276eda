"""A synthetic province: N adjacent synthetic counties (each its own code, townships and database), spread over
the given PostgreSQL servers (shards), with gas pipelines crossing every shared border.

Counties lie on a grid of whole county rectangles (bench.generate.frame_for's `place`), so neighbours share their
border exactly. City = four consecutive counties. Codes are fictitious (1499xx, 1498xx, … — no real 地级市 of
山西 uses 98/99), marked 合成 in every name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.generate import ensure_database, generate_county, load_profile

CROSS_SOURCE = "bench.generate 合成跨县管道"


@dataclass(frozen=True)
class SyntheticCounty:
    code: str
    name: str
    city_code: str
    city_name: str
    database: str
    place: tuple[int, int]


def layout(n: int) -> list[tuple[int, int]]:
    """(column, row) of each of n counties on a near-square grid, row by row."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return [(k % cols, k // cols) for k in range(n)]


def plan_counties(n: int, *, shards: list[str], prefix: str) -> list[SyntheticCounty]:
    """Codes, names, cities and databases (county k on shard k mod len(shards)) of a synthetic province."""
    if not 1 <= n <= 99 * 4:
        from geo.errors import InvalidInput
        raise InvalidInput(f"县区个数应在 1 到 396 之间，实为 {n}")
    out = []
    for k, place in enumerate(layout(n)):
        city = 99 - k // 4
        code = f"14{city:02d}{k % 4 + 1:02d}"
        server = make_url(shards[k % len(shards)]).set(drivername="postgresql+psycopg2")
        out.append(SyntheticCounty(code=code, name=f"合成县{k + 1:02d}", city_code=f"14{city:02d}00",
                                   city_name=f"合成市{100 - city:02d}",
                                   database=server.set(database=f"{prefix}_{code}").render_as_string(
                                       hide_password=False), place=place))
    return out


# The line from 30 % across county A to 70 % across county B, cut to one county's outline (metres, GK zone of
# the generator's frame), stored as that county's part of the pipeline.
CROSS_SQL = """
INSERT INTO pipeline (id, code, name, operator, medium, design_pressure_mpa, outside_diameter_mm, burial_depth_m,
                      commissioning_year, geom, source)
SELECT coalesce((SELECT max(id) FROM pipeline), 0) + 1, :code, :name, '合成天然气管网有限公司', 'gas', 6.3, 508.0,
       1.5, 2012, ST_Multi(ST_Transform(part, 4490)), :source
FROM (SELECT ST_LineMerge(ST_CollectionExtract(ST_Intersection(
          ST_Segmentize(ST_SetSRID(ST_MakeLine(ST_MakePoint(:ax, :ay), ST_MakePoint(:bx, :by)), :srid), 200),
          ST_Transform((SELECT geom FROM county), :srid)), 2)) AS part) p
WHERE NOT ST_IsEmpty(part)
"""


def write_cross_border(engines: dict[str, Engine], counties: list[SyntheticCounty], *, scale: float) -> int:
    """One gas pipeline across every shared border (east and south neighbours), each county storing its part."""
    f = load_profile()["frame"]
    by_place = {c.place: c for c in counties}
    area = f["area_km2"] * 1e6 * scale
    width = math.sqrt(area * f["aspect"])
    height = area / width
    with next(iter(engines.values())).connect() as conn:
        cx, cy = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), :srid) AS p"),
            {"lon": f["centre_lon"], "lat": f["centre_lat"], "srid": f["metric_srid"]}).one()

    def point(c: SyntheticCounty, fx: float, fy: float) -> tuple[float, float]:
        x0 = cx + c.place[0] * width - width / 2
        y1 = cy - c.place[1] * height + height / 2
        return x0 + fx * width, y1 - fy * height

    n = 0
    for a in counties:
        for step, (ea, eb) in {(1, 0): ((0.3, 0.45), (0.7, 0.55)), (0, 1): ((0.45, 0.3), (0.55, 0.7))}.items():
            b = by_place.get((a.place[0] + step[0], a.place[1] + step[1]))
            if b is None:
                continue
            (ax, ay), (bx, by) = point(a, *ea), point(b, *eb)
            code = f"SCALE-KX-{a.code}-{b.code}"
            for c in (a, b):
                with engines[c.code].begin() as conn:
                    conn.execute(text(CROSS_SQL), {"code": code, "name": f"合成跨县天然气管道 {a.name}—{b.name}",
                                                   "ax": ax, "ay": ay, "bx": bx, "by": by,
                                                   "srid": f["metric_srid"], "source": CROSS_SOURCE})
            n += 1
    return n


def generate_province(n: int, *, scale: float, seed: int, shards: list[str], prefix: str
                      ) -> tuple[list[SyntheticCounty], dict[str, dict[str, int]], int]:
    """Write the n counties into their databases (created and migrated if missing) and the cross-border pipelines.

    Returns the counties, rows per table per county, and the number of cross-border pipelines.
    """
    counties = plan_counties(n, shards=shards, prefix=prefix)
    engines: dict[str, Engine] = {}
    counts: dict[str, dict[str, int]] = {}
    try:
        for k, c in enumerate(counties):
            engines[c.code] = ensure_database(c.database)
            counts[c.code] = generate_county(engines[c.code], scale=scale, seed=seed * 1000 + k, code=c.code,
                                             name=c.name, place=c.place)
        crossing = write_cross_border(engines, counties, scale=scale)
    finally:
        for e in engines.values():
            e.dispose()
    return counties, counts, crossing


def province_file_text(counties: list[SyntheticCounty], *, rollup: str | None = None) -> str:
    """province.toml for the synthetic province (roll-up in the first county's database unless `rollup`)."""
    from geo.province.config import province_toml

    return province_toml("合成省", rollup or counties[0].database, [
        {"code": c.code, "name": c.name, "city_code": c.city_code, "city_name": c.city_name,
         "database": c.database} for c in counties])
