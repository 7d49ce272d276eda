"""The demo county 河曲县: a bureau loads it with one command and finds a complete, consistent county."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo.cli import main
from geo.demo.generate import load_config
from geo.demo.load import load_demo
from geo.demo.summary import COUNT_FIELDS, county_total, township_summary
from geo.uscc import uscc_problem

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 1)
GK = 4546
OVERLAP_TOLERANCE_M2 = 1.0  # total pairwise overlap allowed between township polygons
COVERAGE_TOLERANCE = 0.001  # area of (union of townships △ county) / county
NESTING_TOLERANCE_M2 = 0.01  # area of a grid cell allowed outside its township (floating-point crumbs)
# Areas are compared after densifying lon/lat edges (~20 m) so that the GK transform bends them alike;
# ST_Union of the cells is avoided (GEOS overlay snapping on shared edges adds phantom slivers).
SEGMENT_DEG = 0.0002
AREA_M2 = "ST_Area(ST_Transform(ST_Segmentize(geom, :step), :srid))"


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[dict[str, int]]:
    """The demo county loaded once for this module; every table emptied afterwards."""
    counts = load_demo(engine, as_of=AS_OF)
    yield counts
    from geo.models import Base

    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _rows(engine: Engine, sql: str, **params: object) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def test_the_county_has_its_real_townships_villages_and_266_grid_cells(engine, demo):
    with (ROOT / "data/boundaries/hequ_townships_nbs2023.csv").open(encoding="utf-8") as f:
        real = {r["code"] + "000": r["name"] for r in csv.DictReader(f)}
    townships = dict(_rows(engine, "SELECT code, name FROM township WHERE is_illustrative"))
    assert townships == real and len(real) == 11
    assert "示意" in _scalar(engine, "SELECT min(source) FROM township")
    assert _scalar(engine, "SELECT count(*) FROM village WHERE township_id IS NOT NULL") == 193
    assert _scalar(engine, "SELECT count(*) FROM grid_cell") == 266
    assert _scalar(engine, "SELECT count(DISTINCT officer_name) FROM grid_cell") == 263
    assert _scalar(engine, "SELECT count(*) FROM grid_cell WHERE officer_phone !~ '^1[0-9]{2}-[0-9]{4}-[0-9]{4}$'") == 0
    assert _scalar(engine, "SELECT count(*) FROM grid_cell g JOIN township t ON t.id = g.township_id "
                           "WHERE g.code NOT LIKE t.code || '-___'") == 0


def test_township_polygons_are_valid_do_not_overlap_and_cover_the_county(engine, demo):
    assert _scalar(engine, "SELECT count(*) FROM township WHERE NOT ST_IsValid(geom)") == 0
    overlap = _scalar(engine, "SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), :srid))), 0) "
                              "FROM township a JOIN township b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)",
                      srid=GK)
    assert overlap < OVERLAP_TOLERANCE_M2
    townships_m2, county_m2 = _rows(engine, f"SELECT (SELECT sum({AREA_M2}) FROM township), {AREA_M2} FROM county",
                                    srid=GK, step=SEGMENT_DEG)[0]
    assert abs(townships_m2 - county_m2) / county_m2 < COVERAGE_TOLERANCE


def test_every_grid_cell_lies_in_its_township_and_the_cells_cover_it(engine, demo):
    outside = _scalar(engine, "SELECT count(*) FROM grid_cell g JOIN township t ON t.id = g.township_id "
                              "WHERE NOT ST_IsValid(g.geom) "
                              "OR ST_Area(ST_Transform(ST_Difference(g.geom, t.geom), :srid)) > :tol",
                      srid=GK, tol=NESTING_TOLERANCE_M2)
    assert outside == 0
    overlap = _scalar(engine, "SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), :srid))), 0) "
                              "FROM grid_cell a JOIN grid_cell b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)",
                      srid=GK)
    assert overlap < OVERLAP_TOLERANCE_M2
    # inside, not overlapping, and as large as the township together: the cells cover it
    gaps = _rows(engine, f"SELECT t.name, {AREA_M2.replace('geom', 't.geom')} - (SELECT sum({AREA_M2.replace('geom', 'g.geom')}) "
                         "FROM grid_cell g WHERE g.township_id = t.id) FROM township t", srid=GK, step=SEGMENT_DEG)
    assert all(abs(gap) < 1.0 for _, gap in gaps), gaps


def test_villages_enterprises_and_mines_lie_in_their_townships(engine, demo):
    for table in ("village", "enterprise"):
        misplaced = _scalar(engine, f"SELECT count(*) FROM {table} x LEFT JOIN township t ON t.id = x.township_id "
                                    "WHERE t.id IS NULL OR NOT ST_Within(x.geom, t.geom)")
        assert misplaced == 0, table
    per_kind = dict(_rows(engine, "SELECT m.mine_type, count(*) FROM mine m JOIN county c "
                                  "ON ST_Within(m.licence_boundary, c.geom) WHERE m.township_id IS NOT NULL GROUP BY 1"))
    assert per_kind == {"coal": 11, "non_coal": 11}
    reference = _rows(engine, "SELECT m.licence_no, m.township_id, ST_Intersects(m.licence_boundary, c.geom) "
                              "FROM mine m, county c WHERE m.source LIKE 'Global Energy Monitor%'")
    assert len(reference) == 3 and all(t is None and not inside for _, t, inside in reference)


def test_enterprises_carry_valid_uscc_and_generated_names_only(engine, demo):
    rows = _rows(engine, "SELECT uscc, name, category FROM enterprise")
    assert len(rows) >= 190
    assert [u for u, _, _ in rows if uscc_problem(u)] == []
    assert all(name.startswith("河曲县") and name.endswith("公司") for _, name, _ in rows)
    per_category = {c: sum(1 for *_, k in rows if k == c) for c in ("hazchem", "coal_mine", "non_coal_mine")}
    assert per_category == {"hazchem": 49, "coal_mine": 11, "non_coal_mine": 11}
    synthetic = load_config()["sources"]["synthetic"]
    assert _scalar(engine, "SELECT count(*) FROM enterprise WHERE source <> :s", s=synthetic) == 0
    # every coal/non-coal enterprise runs one of the county's mines
    assert _scalar(engine, "SELECT count(*) FROM enterprise e WHERE e.category IN ('coal_mine', 'non_coal_mine') "
                           "AND NOT EXISTS (SELECT 1 FROM mine m WHERE m.enterprise_id = e.id)") == 0


def test_a_few_hazchem_inventories_reach_major_hazard_thresholds(engine, demo):
    q_by_substance = {s["name"]: s["q_t"] for s in load_config()["substances"]}
    rows = _rows(engine, "SELECT e.uscc, e.major_hazard_source, i.substance, i.max_quantity_t "
                         "FROM enterprise e JOIN chemical_inventory i ON i.enterprise_id = e.id")
    ratio: dict[str, float] = {}
    declared: dict[str, bool] = {}
    for uscc, flag, substance, q in rows:
        ratio[uscc] = ratio.get(uscc, 0.0) + q / q_by_substance[substance]
        declared[uscc] = flag
    major = {u for u, s in ratio.items() if s >= 1}  # GB 18218-2018 §4.2: Σ q/Q ≥ 1
    assert 3 <= len(major) <= 10
    assert major == {u for u, flag in declared.items() if flag}
    assert _scalar(engine, "SELECT count(DISTINCT enterprise_id) FROM chemical_inventory") == 49


def test_hazards_accidents_and_inspections_tell_a_year_of_supervision(engine, demo):
    open_major, overdue, closed_without_closer, larger_accidents, future = _rows(engine, """
        SELECT (SELECT count(*) FROM hazard WHERE level = 'major' AND status IN ('found', 'rectifying')),
               (SELECT count(*) FROM hazard WHERE status IN ('found', 'rectifying') AND deadline < :as_of),
               (SELECT count(*) FROM hazard WHERE status = 'closed' AND (closed_by IS NULL OR closed_on IS NULL)),
               (SELECT count(*) FROM accident WHERE deaths >= 3),
               (SELECT count(*) FROM inspection WHERE inspected_on > :as_of OR inspected_on < :as_of - 366)
    """, as_of=AS_OF)[0]
    assert open_major >= 1 and overdue >= 1 and closed_without_closer == 0
    assert larger_accidents >= 1
    assert future == 0


def test_the_road_network_is_one_connected_graph_noded_at_shared_end_points(engine, demo):
    ends = _rows(engine, "SELECT ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)), "
                         "ST_X(ST_EndPoint(geom)), ST_Y(ST_EndPoint(geom)) FROM road")
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def find(p: tuple[float, float]) -> tuple[float, float]:
        parent.setdefault(p, p)
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for x0, y0, x1, y1 in ends:
        parent[find((x0, y0))] = find((x1, y1))
    assert len({find(p) for p in list(parent)}) == 1
    # no two roads cross except at an end point they share
    crossings = _scalar(engine, "SELECT count(*) FROM road a JOIN road b ON a.id < b.id AND ST_Crosses(a.geom, b.geom)")
    assert crossings == 0
    villages_on_roads = _scalar(engine, "SELECT count(*) FROM village v WHERE EXISTS (SELECT 1 FROM road r "
                                        "WHERE ST_DWithin(r.geom, v.geom, 1e-9))")
    assert villages_on_roads == 193


def test_pipelines_include_the_real_gem_routes_with_encroachments_beside_them(engine, demo):
    sources = dict(_rows(engine, "SELECT code, source FROM pipeline"))
    assert {"P5033", "P5639"} <= sources.keys()
    assert all("Global Energy Monitor" in sources[c] and "假定" in sources[c] for c in ("P5033", "P5639"))
    inside_km = _scalar(engine, "SELECT sum(ST_Length(ST_Transform(ST_Intersection(p.geom, c.geom), :srid))) / 1000 "
                                "FROM pipeline p, county c", srid=GK)
    assert 20 <= inside_km <= 500
    far = _scalar(engine, "SELECT count(*) FROM encroachment e JOIN pipeline p ON p.id = e.pipeline_id "
                          "WHERE NOT ST_DWithin(ST_Transform(e.geom, :srid), ST_Transform(p.geom, :srid), 10)", srid=GK)
    assert _scalar(engine, "SELECT count(*) FROM encroachment") == 35 and far == 0
    near = dict(_rows(engine, """
        SELECT band, count(*) FROM (
            SELECT b.id, CASE WHEN min(ST_Distance(ST_Transform(b.geom, :srid), ST_Transform(p.geom, :srid))) <= 5
                              THEN 'within_5m' ELSE '5_to_50m' END AS band
            FROM building b JOIN pipeline p
              ON ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(p.geom, :srid), 50)
            GROUP BY b.id) s GROUP BY band""", srid=GK))
    assert near.get("within_5m", 0) >= 3 and near.get("5_to_50m", 0) >= 5


def test_mines_include_over_boundary_workings_and_operation_in_a_no_mining_zone(engine, demo):
    over = _scalar(engine, "SELECT count(*) FROM mine WHERE workings IS NOT NULL "
                           "AND NOT ST_CoveredBy(workings, licence_boundary)")
    assert over >= 2
    banned = _scalar(engine, "SELECT count(DISTINCT m.id) FROM mine m JOIN mine_zone z ON z.kind = 'no_mining_zone' "
                             "AND ST_Intersects(z.geom, m.licence_boundary) WHERE m.operating")
    assert banned >= 1
    kinds = {k for (k,) in _rows(engine, "SELECT kind FROM mine_zone WHERE ST_IsValid(geom)")}
    assert kinds == {"no_mining_zone", "restricted_zone", "mining_zone"}


def test_the_yellow_river_is_crossed_by_the_gas_lines_and_a_tunnel_carries_a_crude_line(engine, demo):
    """石油天然气管道保护法 第三十二条/第三十三条 need a river and a tunnel: the river is marked 示意（合成数据）, in its
    data and in the map's layer name."""
    from layers.layers import Where, water_and_tunnel_layer

    river = _rows(engine, "SELECT name, is_illustrative, source FROM waterway")
    assert len(river) == 1 and river[0][1] is True and river[0][2].startswith("示意（合成数据）")
    crossing = {c for (c,) in _rows(engine, "SELECT p.code FROM pipeline p JOIN waterway w "
                                            "ON ST_Intersects(p.geom, w.geom)")}
    assert {"P5033", "P5639"} <= crossing
    assert _rows(engine, "SELECT t.code, p.medium FROM pipeline_tunnel t JOIN pipeline p ON p.id = t.pipeline_id") == [
        ("SD-HQ-001", "crude")]
    with engine.connect() as conn:
        assert "示意（合成数据）" in water_and_tunnel_layer(conn, Where()).layer_name


def test_summary_gives_one_row_per_township_and_totals_matching_the_tables(engine, demo):
    with engine.connect() as conn:
        rows = township_summary(conn)
    assert rows[0]["name"] == "西口镇" and len(rows) == 11
    total = county_total(rows)
    assert set(COUNT_FIELDS) <= total.keys()
    assert total["grid_cells"] == _scalar(engine, "SELECT count(*) FROM grid_cell")
    assert total["enterprises"] == _scalar(engine, "SELECT count(*) FROM enterprise")
    assert total["hazchem"] == 49 and total["hazchem"] + total["mining"] + total["other"] == total["enterprises"]
    assert total["hazards_open"] == _scalar(engine, "SELECT count(*) FROM hazard WHERE status IN ('found', 'rectifying')")
    assert total["encroachments"] == 35
    assert total["mines"] == _scalar(engine, "SELECT count(*) FROM mine WHERE township_id IS NOT NULL") == 22
    county_km = _scalar(engine, "SELECT sum(ST_Length(ST_Transform(ST_Intersection(p.geom, c.geom), :srid))) / 1000 "
                                "FROM pipeline p, county c", srid=GK)
    assert total["pipeline_length_km"] == pytest.approx(county_km, rel=0.01)


def test_loading_twice_leaves_the_same_rows(engine, demo):
    assert load_demo(engine, as_of=AS_OF) == demo


def test_a_bureau_township_with_a_demo_code_stops_the_load_in_chinese_and_keeps_the_data(engine, demo):
    from geo.errors import InvalidInput

    with engine.begin() as conn:  # the bureau has imported its own 西口镇
        conn.execute(text("UPDATE township SET source = '县局导入' WHERE code = '140930100000'"))
    try:
        with pytest.raises(InvalidInput, match="示范县未载入"):
            load_demo(engine, as_of=AS_OF)
        assert _scalar(engine, "SELECT count(*) FROM enterprise") == demo["enterprise"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE township SET source = :s WHERE code = '140930100000'"),
                         {"s": load_config()["sources"]["township"]})


def test_riskmap_demo_load_and_summary_from_the_command_line(db_url, demo, capsys):
    env = {**os.environ, "DATABASE_URL": db_url}
    load = subprocess.run([sys.executable, "-m", "geo.cli", "demo", "load", "--as-of", AS_OF.isoformat()],
                          env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    assert load.returncode == 0, load.stderr
    assert "河曲县" in load.stdout and "网格：266" in load.stdout
    assert main(["demo", "summary"]) == 0
    printed = capsys.readouterr().out
    assert "全县合计" in printed and "西口镇" in printed and "管道长度km" in printed


def _fingerprint(county: object) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, rows in vars(county).items():
        for row in rows if isinstance(rows, list) else [rows]:
            for key, value in sorted(row.items()):
                h.update(f"{name}.{key}=".encode())
                h.update(value.wkb if hasattr(value, "wkb") else repr(value).encode())
    return h.hexdigest()


def test_the_same_seed_builds_the_same_county_and_another_seed_a_different_one():
    from geo.demo.generate import build_demo

    first = _fingerprint(build_demo(as_of=AS_OF))
    assert _fingerprint(build_demo(as_of=AS_OF)) == first
    assert _fingerprint(build_demo(seed=7, as_of=AS_OF)) != first
