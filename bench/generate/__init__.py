"""Scale generator: a synthetic county ×N in riskmap's schema, written server-side in SQL for the benchmarks.

Everything is built in the CGCS2000 Gauss–Krüger zone EPSG:4546 (metres) around 111.4°E 39.1°N, the demo
county's region, and stored in EPSG:4490. The area grows with N, so densities stay those of the ×1 county
described in profile.toml (about 10k enterprises, 200k buildings and 1,000 km of pipelines at N = 1).
Rows come from INSERT … SELECT over generate_series; every random number is a hash of (seed, row, column)
(pg_temp.u in functions.sql), so the same seed writes the same county whatever the plan or scan order.
"""

from __future__ import annotations

import logging
import math
import re
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, create_engine, text
from sqlalchemy.engine import make_url

from geo import uscc
from geo.access.bulk import begin_bulk, content_sha256, operation
from geo.config import get_settings
from geo.errors import InvalidInput
from geo.models import (
    BUILDING_USES,
    DATA_TABLES,
    ENCROACHMENT_KINDS,
    FACILITY_KINDS,
    INDUSTRY_CATEGORIES,
    MINE_ZONE_KINDS,
    PIPELINE_MEDIA,
    ROAD_CLASSES,
)

log = logging.getLogger("bench.generate")
HERE = Path(__file__).resolve().parent
PROFILE = HERE / "profile.toml"
MIN_SCALE = 0.001
MAX_SCALE = 90.0
"""Township codes have three digits (11 townships per ×1 → at most ×90); below ×0.001 the county is too small."""

GENERATED_TABLES: tuple[str, ...] = (
    "county", "township", "grid_cell", "village", "enterprise", "chemical_inventory", "hazard", "accident",
    "inspection", "pipeline", "pipeline_facility", "encroachment", "building", "road", "mine", "mine_zone",
)

TABLE_LABELS: dict[str, str] = {
    "county": "县区",
    "township": "乡镇（示意）",
    "village": "村/社区",
    "grid_cell": "网格",
    "enterprise": "企业",
    "chemical_inventory": "危化品储量",
    "hazard": "隐患",
    "accident": "事故",
    "inspection": "执法检查",
    "pipeline": "管道",
    "pipeline_facility": "管道附属设施",
    "encroachment": "占压点",
    "building": "建筑",
    "road": "道路",
    "mine": "矿山",
    "mine_zone": "矿产规划分区",
}


@dataclass(frozen=True)
class Frame:
    """The county's rectangle in the GK zone (metres): outline x0..x1 × y0..y1, content kept margin_m inside."""

    srid: int
    x0: float
    y0: float
    x1: float
    y1: float
    margin_m: float

    def params(self) -> dict[str, float]:
        """Bound parameters :srid, :x0 … :y1 (outline) and :ix0 … :iy1 (inner box for content)."""
        m = self.margin_m
        return {"srid": self.srid, "x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1,
                "ix0": self.x0 + m, "iy0": self.y0 + m, "ix1": self.x1 - m, "iy1": self.y1 - m}


@cache
def load_profile(path: Path = PROFILE) -> dict[str, Any]:
    """The ×1 county's counts and proportions (profile.toml)."""
    with path.open("rb") as f:
        return tomllib.load(f)


@cache
def _sql(name: str) -> TextClause:
    return text((HERE / f"{name}.sql").read_text(encoding="utf-8"))


def scaled_count(per_x1: float, scale: float, *, minimum: int = 1) -> int:
    """A ×1 count scaled to ×N, rounded, never below `minimum`."""
    return max(minimum, round(per_x1 * scale))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` with whole numbers that add up (largest remainder)."""
    s = float(sum(weights))
    quotas = [total * w / s for w in weights]
    counts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def cumulative(weights: Sequence[float]) -> list[float]:
    """Lower bounds [0, w1, w1+w2, …] of normalised weights, for SQL width_bucket(u, bounds)."""
    s = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        out.append(acc / s)
        acc += w
    return out


def frame_for(conn: Connection, *, scale: float, profile: Mapping[str, Any], place: tuple[int, int] = (0, 0)) -> Frame:
    """The ×N rectangle (area ∝ N, profile aspect) centred on the profile's centre, in its GK zone (metres).

    `place` (column, row): a county of a province (`--counties`), moved by whole rectangles east and south so
    neighbours share their borders exactly.
    """
    f = profile["frame"]
    cx, cy = conn.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), :srid) AS p"),
        {"lon": f["centre_lon"], "lat": f["centre_lat"], "srid": f["metric_srid"]},
    ).one()
    area_m2 = f["area_km2"] * 1e6 * scale
    width_m = math.sqrt(area_m2 * f["aspect"])
    height_m = area_m2 / width_m
    cx, cy = cx + place[0] * width_m, cy - place[1] * height_m
    return Frame(srid=f["metric_srid"], x0=cx - width_m / 2, y0=cy - height_m / 2, x1=cx + width_m / 2,
                 y1=cy + height_m / 2, margin_m=f["margin_m"])


@contextmanager
def _timed(step: str) -> Iterator[None]:
    """Log how long a step took (INFO on the bench.generate logger; `--steps` prints it)."""
    started = time.perf_counter()
    yield
    log.info("%-14s %7.2f 秒", step, time.perf_counter() - started)


# --- steps: each writes one part of the county with the SQL file of the same name ----------------------------


def prepare_session(conn: Connection) -> None:
    """Create the pg_temp helpers (random numbers, folding, USCC) on this connection; relax this commit's flush."""
    conn.execute(text("SET LOCAL synchronous_commit = off"))  # a crash loses the county, never corrupts it
    conn.exec_driver_sql((HERE / "functions.sql").read_text(encoding="utf-8"))


def empty_database(conn: Connection) -> list[str]:
    """TRUNCATE every table of the public schema (not PostGIS's or Alembic's), restarting identities."""
    names = list(conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version') ORDER BY tablename")).scalars())
    if names:
        quote = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"TRUNCATE {', '.join(quote(n) for n in names)} RESTART IDENTITY CASCADE"))
    return names


def drop_spatial_indexes(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Drop the GiST indexes of `tables` before the bulk load; returns their definitions to rebuild them."""
    rows = conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(:t) "
        "AND indexdef ILIKE '%USING gist%' ORDER BY indexname"), {"t": list(tables)}).all()
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in rows:
        conn.execute(text(f"DROP INDEX {quote(name)}"))
    return [d for _, d in rows]


def drop_foreign_keys(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Drop the foreign keys declared on `tables` (one check per row is the slowest part of a bulk load);
    returns the statements that add them back, each validated by one set-based query."""
    rows = conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(:t) ORDER BY 1, 2"), {"t": list(tables)}).all()
    quote = conn.dialect.identifier_preparer.quote
    restore = []
    for table, name, definition in rows:
        conn.execute(text(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"))
        restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    return restore


def restore_indexes(conn: Connection, definitions: Sequence[str]) -> None:
    """Rebuild the dropped indexes and foreign keys from their catalogue definitions, then ANALYZE the tables."""
    for d in definitions:
        conn.execute(text(d))
    quote = conn.dialect.identifier_preparer.quote
    for t in GENERATED_TABLES:
        conn.execute(text(f"ANALYZE {quote(t)}"))


def write_county(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], scale: float, source: str,
                 code: str | None = None, name: str | None = None) -> str:
    """The county row: the rectangle, densified so it keeps its metric shape in EPSG:4490; its metric SRID is the
    Gauss–Krüger zone of its centre (a province's counties may lie in different zones)."""
    from geo.crs import metric_srid

    code = code or get_settings().county_code
    lon = conn.execute(text("SELECT ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), :srid), 4490))"),
                       {"x": (frame.x0 + frame.x1) / 2, "y": (frame.y0 + frame.y1) / 2, "srid": frame.srid}).scalar_one()
    conn.execute(text(
        "INSERT INTO county (code, name, metric_srid, geom, source) "
        "SELECT :code, :name, :zone, ST_Multi(ST_Transform(ST_Segmentize("
        "ST_MakeEnvelope(:x0, :y0, :x1, :y1, :srid), :segment_m), 4490)), :source"),
        {**frame.params(), "code": code, "name": name or f"合成县（×{scale:g}）", "zone": metric_srid(float(lon)),
         "segment_m": profile["frame"]["outline_segment_m"], "source": source})
    return code


def write_townships(conn: Connection, *, n: int, county_code: str, rng: int, source: str) -> None:
    """Townships partitioning the county (Voronoi of seeded points), marked illustrative (示意)."""
    conn.execute(_sql("townships"), {"n": n, "rng": rng, "county_code": county_code, "source": source})


def write_grid_cells(conn: Connection, *, total: int, profile: Mapping[str, Any], s: int, source: str) -> None:
    """Grid cells partitioning each township, `total` in all, allotted by township area."""
    rows = conn.execute(text("SELECT id, ST_Area(geom::geography) FROM t_town ORDER BY id")).all()
    counts = [max(1, c) for c in allocate(total, [a for _, a in rows])]
    o = profile["officers"]
    conn.execute(_sql("grid_cells"), {
        "township_ids": [i for i, _ in rows], "cell_counts": counts, "rng": s, "s": s,
        "surnames": o["surnames"], "given_names": o["given_names"], "source": source})


def write_villages(conn: Connection, *, frame: Frame, n: int, s: int, source: str) -> None:
    """Village centres (the clusters of enterprises and buildings)."""
    conn.execute(_sql("villages"), {**frame.params(), "n": n, "s": s, "source": source})


def write_enterprises(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], n: int, n_villages: int,
                      county_code: str, s: int, source: str) -> None:
    """Enterprises with exact category counts (largest remainder of the profile's shares) and valid USCCs."""
    p = profile["enterprise"]
    cats = [c for c in INDUSTRY_CATEGORIES if p["categories"].get(c, 0) > 0]
    counts = allocate(n, [p["categories"][c] for c in cats])
    kept = [(c, k) for c, k in zip(cats, counts, strict=True) if k > 0]
    starts, acc = [], 1
    for _, k in kept:
        starts.append(acc)
        acc += k
    prefix = "91" + county_code + "MA"  # 登记管理部门 9 (工商), 类别 1 (企业), 登记机关 = county, 组织机构代码 MA…
    conn.execute(_sql("enterprises"), {
        **frame.params(), "n": n, "s": s, "n_villages": n_villages, "source": source,
        "categories": [c for c, _ in kept], "labels": [INDUSTRY_CATEGORIES[c] for c, _ in kept],
        "category_starts": starts, "clustered_share": p["clustered_share"], "sigma_m": p["sigma_m"],
        "uscc_prefix": prefix, "charset": uscc.CHARSET, "weights": list(uscc.WEIGHTS),
        "employees_min": float(p["employees_min"]), "employees_max": float(p["employees_max"]),
        "key_process_share": p["hazchem_key_process_share"], "key_chemical_share": p["hazchem_key_chemical_share"],
        "major_hazard_share": p["hazchem_major_hazard_share"], "in_park_share": p["hazchem_in_park_share"],
        "grades": p["standardisation_grades"], "grade_cum": cumulative(p["standardisation_weights"])})


def write_inventories(conn: Connection, *, profile: Mapping[str, Any], s: int) -> None:
    """Chemical inventories (GB 18218-2018 Table 1 substances, tonnes) at every hazchem enterprise."""
    p = profile["inventories"]
    conn.execute(_sql("inventories"), {
        "s": s, "per_enterprise": profile["counts"]["inventories_per_hazchem"],
        "names": [name for name, _ in p["substances"]], "cas": [cas for _, cas in p["substances"]],
        "q_min": p["quantity_t"][0], "q_max": p["quantity_t"][1], "units": p["units"]})


def write_hazards(conn: Connection, *, profile: Mapping[str, Any], n: int, n_enterprises: int, s: int,
                  source: str) -> None:
    """Hazards (隐患) with their closed-loop status and dates."""
    p = profile["hazards"]
    conn.execute(_sql("hazards"), {
        "n": n, "s": s, "n_enterprises": n_enterprises, "source": source,
        "base_date": profile["frame"]["base_date"], "major_share": p["major_share"],
        "found_within_days": p["found_within_days"], "statuses": list(p["statuses"]),
        "status_cum": cumulative(list(p["statuses"].values())), "descriptions": p["descriptions"],
        "major_days": p["major_deadline_days"], "general_days": p["general_deadline_days"]})


def write_accidents(conn: Connection, *, profile: Mapping[str, Any], n: int, n_enterprises: int, s: int,
                    source: str) -> None:
    """Accidents with deaths, serious injuries and direct loss (万元)."""
    p = profile["accidents"]
    conn.execute(_sql("accidents"), {
        "n": n, "s": s, "n_enterprises": n_enterprises, "source": source,
        "base_date": profile["frame"]["base_date"], "within_days": p["within_days"], "deaths": p["deaths"],
        "death_cum": cumulative(p["death_weights"]), "injuries_max": p["injuries_max"],
        "loss_min": p["loss_10k_yuan"][0], "loss_max": p["loss_10k_yuan"][1], "descriptions": p["descriptions"]})


def write_inspections(conn: Connection, *, profile: Mapping[str, Any], n: int, n_enterprises: int, s: int,
                      source: str) -> None:
    """Inspections (执法检查) over the last two years."""
    p = profile["inspections"]
    conn.execute(_sql("inspections"), {
        "n": n, "s": s, "n_enterprises": n_enterprises, "source": source,
        "base_date": profile["frame"]["base_date"], "within_days": p["within_days"], "teams": p["teams"],
        "results": list(p["results"]), "result_cum": cumulative(list(p["results"].values()))})


def pipeline_layout(total_km: float, *, vertices: int, line_km: float) -> tuple[int, float]:
    """(number of lines, vertex spacing in metres) giving `total_km` in lines of about `line_km`."""
    n_lines = max(1, round(total_km / line_km))
    return n_lines, total_km * 1000 / n_lines / (vertices - 1)


def write_pipelines(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], total_km: float, s: int,
                    source: str) -> int:
    """Pipelines of ~`total_km` in long meandering lines, with their stations and valves; returns the line count."""
    p = profile["pipelines"]
    n_lines, step_m = pipeline_layout(total_km, vertices=p["vertices_per_line"], line_km=p["line_km"])
    media = list(p["media"])
    conn.execute(_sql("pipelines"), {
        **frame.params(), "s": s, "source": source, "n_lines": n_lines, "vertices": p["vertices_per_line"],
        "step_m": step_m, "max_turn_deg": p["max_turn_deg"], "media": media,
        "media_labels": [PIPELINE_MEDIA[m] for m in media], "media_cum": cumulative(list(p["media"].values())),
        "operators": p["operators"], "diameters": p["diameters_mm"], "pressure_min": p["pressure_mpa"][0],
        "pressure_max": p["pressure_mpa"][1], "depth_min": p["burial_depth_m"][0],
        "depth_max": p["burial_depth_m"][1], "year_min": p["commissioning_years"][0],
        "year_max": p["commissioning_years"][1], "fractions": p["facility_fractions"],
        "facility_kinds": p["facility_kinds"], "facility_labels": [FACILITY_KINDS[k] for k in p["facility_kinds"]]})
    return n_lines


def write_encroachments(conn: Connection, *, profile: Mapping[str, Any], n: int, n_lines: int, s: int,
                        source: str) -> None:
    """Encroachment points and footprints beside the pipelines, with their dossier fields."""
    p = profile["encroachments"]
    kinds = list(p["kinds"])
    conn.execute(_sql("encroachments"), {
        "n": n, "s": s, "n_lines": n_lines, "source": source, "base_date": profile["frame"]["base_date"],
        "kinds": kinds, "kind_labels": [ENCROACHMENT_KINDS[k] for k in kinds],
        "kind_cum": cumulative(list(p["kinds"].values())), "natures": list(p["natures"]),
        "nature_cum": cumulative(list(p["natures"].values())), "statuses": list(p["statuses"]),
        "status_cum": cumulative(list(p["statuses"].values())), "polygon_share": p["polygon_share"],
        "encroachment_offset_m": p["encroachment_offset_m"], "distance_min": p["distance_offset_m"][0],
        "distance_max": p["distance_offset_m"][1], "measures": p["measures"]})


def write_buildings(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], n: int, n_villages: int,
                    s: int, source: str) -> None:
    """Building footprints, most clustered around villages."""
    p = profile["buildings"]
    uses = list(p["uses"])
    conn.execute(_sql("buildings"), {
        **frame.params(), "n": n, "s": s, "n_villages": n_villages, "source": source,
        "clustered_share": p["clustered_share"], "sigma_m": p["sigma_m"], "uses": uses,
        "use_labels": [BUILDING_USES[u] for u in uses], "use_cum": cumulative(list(p["uses"].values())),
        "hw_min": p["half_width_m"][0], "hw_max": p["half_width_m"][1], "hd_min": p["half_depth_m"][0],
        "hd_max": p["half_depth_m"][1], "max_floors": p["max_floors"]})


def write_roads(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], s: int, source: str) -> None:
    """A connected, jittered grid road network covering the county."""
    p = profile["roads"]
    fp = frame.params()
    nx = max(2, math.floor((fp["ix1"] - fp["ix0"]) / p["spacing_m"]))
    ny = max(2, math.floor((fp["iy1"] - fp["iy0"]) / p["spacing_m"]))
    conn.execute(_sql("roads"), {
        **fp, "s": s, "source": source, "nx": nx, "ny": ny, "spacing_m": p["spacing_m"], "jitter": p["jitter"],
        "every_trunk": p["every_trunk"], "every_primary": p["every_primary"],
        "every_secondary": p["every_secondary"], "every_tertiary": p["every_tertiary"],
        "classes": list(ROAD_CLASSES), "class_labels": list(ROAD_CLASSES.values())})


def write_mines(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], county_code: str, s: int,
                source: str) -> None:
    """One mine per mining enterprise, with licensed boundary and workings."""
    p = profile["mines"]
    conn.execute(_sql("mines"), {
        **frame.params(), "s": s, "source": source, "county_code": county_code,
        "hw_min": p["half_width_m"][0], "hw_max": p["half_width_m"][1], "hd_min": p["half_depth_m"][0],
        "hd_max": p["half_depth_m"][1], "ratio": p["workings_ratio"], "over_boundary_share": p["over_boundary_share"],
        "floor_min": p["floor_elevation_m"][0], "floor_max": p["floor_elevation_m"][1],
        "thick_min": p["thickness_m"][0], "thick_max": p["thickness_m"][1], "operating_share": p["operating_share"],
        "coal_methods": list(p["methods_coal"]), "coal_cum": cumulative(list(p["methods_coal"].values())),
        "non_coal_methods": list(p["methods_non_coal"]),
        "non_coal_cum": cumulative(list(p["methods_non_coal"].values())), "minerals": p["non_coal_minerals"]})


def write_mine_zones(conn: Connection, *, frame: Frame, profile: Mapping[str, Any], n: int, s: int,
                     source: str) -> None:
    """Mining planning zones (禁采区/限采区/可采区)."""
    p = profile["mine_zones"]
    kinds = list(p["kinds"])
    conn.execute(_sql("mine_zones"), {
        **frame.params(), "n": n, "s": s, "source": source, "kinds": kinds,
        "kind_labels": [MINE_ZONE_KINDS[k] for k in kinds], "kind_cum": cumulative(list(p["kinds"].values())),
        "size_min": p["half_size_m"][0], "size_max": p["half_size_m"][1], "source_document": p["source_document"]})


def count_rows(conn: Connection) -> dict[str, int]:
    """Rows per riskmap table."""
    quote = conn.dialect.identifier_preparer.quote
    return {t: int(conn.execute(text(f"SELECT count(*) FROM {quote(t)}")).scalar_one()) for t in DATA_TABLES}


def pipeline_km(conn: Connection, *, srid: int = 4546) -> float:
    """Total pipeline length in km, measured in the GK zone `srid` (metres)."""
    return float(conn.execute(text("SELECT coalesce(sum(ST_Length(ST_Transform(geom, :srid))), 0) / 1000 "
                                   "FROM pipeline"), {"srid": srid}).scalar_one())


def check_scale(scale: float) -> None:
    """Refuse scales the generator cannot honour, in Chinese."""
    if not (MIN_SCALE <= scale <= MAX_SCALE) or math.isnan(scale):
        raise InvalidInput(f"规模倍数应在 {MIN_SCALE:g} 到 {MAX_SCALE:g} 之间，实为 {scale:g}")


def generator_operation(*, scale: float, seed: int) -> dict[str, Any]:
    """The audit's description of a run: the command, and a hash of what fixes its content (the parameters,
    profile.toml and the SQL files — the same seed writes the same county)."""
    parts: list[bytes | str] = [f"scale={scale:g};seed={seed};"]
    parts += [p.read_bytes() for p in sorted(HERE.glob("*.sql"))] + [PROFILE.read_bytes()]
    return operation("generate", f"python -m bench.generate --scale {scale:g} --seed {seed}",
                     content_sha256(parts))


def generate_county(engine: Engine, *, scale: float, seed: int = 1, code: str | None = None, name: str | None = None,
                    place: tuple[int, int] = (0, 0)) -> dict[str, int]:
    """Empty the database behind `engine` and write the synthetic county ×`scale`; returns rows per table.

    One transaction: either the whole county is written or nothing changes. The same seed writes the same data.
    `code`, `name`, `place`: one county of a synthetic province (bench/generate/province.py).
    """
    check_scale(scale)
    if seed < 0:
        raise InvalidInput(f"随机种子应为非负整数，实为 {seed}")
    profile = load_profile()
    c = profile["counts"]
    source = f"bench.generate 合成数据（scale={scale:g}, seed={seed}）"

    def stream(step: int) -> int:
        return seed * 1000 + step

    with engine.begin() as conn:
        with _timed("准备/清空"):
            prepare_session(conn)
            empty_database(conn)
            begin_bulk(conn, generator_operation(scale=scale, seed=seed))
            indexes = drop_spatial_indexes(conn, GENERATED_TABLES) + drop_foreign_keys(conn, GENERATED_TABLES)
            frame = frame_for(conn, scale=scale, profile=profile, place=place)
        with _timed("县界/乡镇/网格"):
            county_code = write_county(conn, frame=frame, profile=profile, scale=scale, source=source, code=code,
                                       name=name)
            write_townships(conn, n=scaled_count(c["townships"], scale), county_code=county_code, rng=stream(1),
                            source=source)
            write_grid_cells(conn, total=scaled_count(c["grid_cells"], scale), profile=profile, s=stream(2),
                             source=source)
            n_villages = scaled_count(c["villages"], scale)
            write_villages(conn, frame=frame, n=n_villages, s=stream(3), source=source)
        n_ent = scaled_count(c["enterprises"], scale)
        with _timed("企业"):
            write_enterprises(conn, frame=frame, profile=profile, n=n_ent, n_villages=n_villages,
                              county_code=county_code, s=stream(4), source=source)
        with _timed("储量/隐患/事故/检查"):
            write_inventories(conn, profile=profile, s=stream(5))
            write_hazards(conn, profile=profile, n=scaled_count(c["hazards"], scale), n_enterprises=n_ent,
                          s=stream(6), source=source)
            write_accidents(conn, profile=profile, n=scaled_count(c["accidents"], scale), n_enterprises=n_ent,
                            s=stream(7), source=source)
            write_inspections(conn, profile=profile, n=scaled_count(c["inspections"], scale),
                              n_enterprises=n_ent, s=stream(8), source=source)
        with _timed("管道/占压点"):
            n_lines = write_pipelines(conn, frame=frame, profile=profile,
                                      total_km=profile["pipelines"]["total_km"] * scale, s=stream(9), source=source)
            write_encroachments(conn, profile=profile, n=scaled_count(c["encroachments"], scale), n_lines=n_lines,
                                s=stream(10), source=source)
        with _timed("建筑"):
            write_buildings(conn, frame=frame, profile=profile, n=scaled_count(c["buildings"], scale),
                            n_villages=n_villages, s=stream(11), source=source)
        with _timed("道路"):
            write_roads(conn, frame=frame, profile=profile, s=stream(12), source=source)
        with _timed("矿山/规划分区"):
            write_mines(conn, frame=frame, profile=profile, county_code=county_code, s=stream(13), source=source)
            write_mine_zones(conn, frame=frame, profile=profile, n=scaled_count(c["mine_zones"], scale),
                             s=stream(14), source=source)
        with _timed("空间索引/统计"):
            restore_indexes(conn, indexes)
        return count_rows(conn)


# --- the target database ----------------------------------------------------------------------------------------


def default_database_name(scale: float) -> str:
    """riskmap_x<N> with the dot as an underscore: riskmap_x1, riskmap_x10, riskmap_x0_01."""
    return "riskmap_x" + f"{scale:g}".replace(".", "_").replace("-", "_")


def target_url(database: str, *, force: bool = False, server: str | None = None) -> str:
    """The URL of `database` on `server` (default: the server in force — DATABASE_URL's, or the embedded cluster).

    The generator empties its target, so the database riskmap itself works in is refused unless `force`.
    """
    from geo.db import database_url

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", database):
        raise InvalidInput(f"数据库名只能含字母、数字和下划线：{database}")
    in_force = make_url(server or database_url()).set(drivername="postgresql+psycopg2")
    if database == in_force.database and not force:
        raise InvalidInput(f"数据库 {database} 是 riskmap 当前使用的数据库，生成器会清空它；"
                           "请换一个数据库名，或确认后加 --force")
    return in_force.set(database=database).render_as_string(hide_password=False)


def ensure_database(url: str) -> Engine:
    """Create the database of `url` if missing, migrate it to head; returns an engine on it."""
    from geo import migrate

    target = make_url(url)
    name = target.database or ""
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).scalar()
            if not exists:
                conn.execute(text(f"CREATE DATABASE {conn.dialect.identifier_preparer.quote(name)}"))
    finally:
        admin.dispose()
    engine = create_engine(url)
    migrate.upgrade(engine)
    return engine


def database_size_mb(engine: Engine) -> float:
    """Size on disk of the engine's database, in MB."""
    with engine.connect() as conn:
        return float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()) / 1e6
