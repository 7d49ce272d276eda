"""The pipeline desk checks which structures sit on or near a pipeline (石油天然气管道保护法 Arts 30, 35; buildings
beyond 5 m of an oil line by GB 50253's separation, 15 m as 本地规定)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box
from sqlalchemy import Engine, text

from tests.encroach_fixtures import (
    METRIC_SRID,
    X0,
    Y0,
    add_building,
    add_facility,
    add_mine,
    add_pipeline,
    add_road,
    two_townships,
)
from geo.encroachment import check_encroachments, find_encroachments


def _by_feature(found: list) -> dict:
    return {(c.pipeline_code, c.feature_type, c.feature_id): c for c in found}


@pytest.fixture
def east_west_line(county: Engine) -> dict[str, int]:
    """A product-oil pipeline running 2 km west–east along y = Y0 across the 西镇/东镇 boundary, features beside it."""
    with county.begin() as conn:
        two_townships(conn)
        ids = {"pipeline": add_pipeline(conn, "GX-01", LineString([(X0 - 1000, Y0), (X0 + 1000, Y0)]),
                                        medium="product")}
        # 4.9 m north of the centreline, in 西镇; 5.1 m north, in 东镇; one straddling the line in 东镇.
        ids["at_4_9"] = add_building(conn, box(X0 - 500, Y0 + 4.9, X0 - 490, Y0 + 14.9))
        ids["at_5_1"] = add_building(conn, box(X0 + 500, Y0 + 5.1, X0 + 510, Y0 + 15.1))
        ids["straddling"] = add_building(conn, box(X0 + 200, Y0 - 6, X0 + 212, Y0 + 6))
        ids["at_60"] = add_building(conn, box(X0 - 300, Y0 - 70, X0 - 290, Y0 - 60))
    return ids


def test_building_at_4_9_m_is_in_the_5_m_zone_and_one_at_5_1_m_is_not(east_west_line: dict[str, int],
                                                                        county: Engine) -> None:
    with county.connect() as conn:
        found = _by_feature(find_encroachments(conn))
    near = found[("GX-01", "building", east_west_line["at_4_9"])]
    assert near.zone == "zone_5m"
    assert near.distance_m == pytest.approx(4.9, abs=1e-4)
    beyond = found[("GX-01", "building", east_west_line["at_5_1"])]
    assert beyond.zone == "oil_building"  # beyond the law's 5 m: the oil design code's distance, not Art 35(2)
    assert beyond.distance_m == pytest.approx(5.1, abs=1e-4)
    assert ("GX-01", "building", east_west_line["at_60"]) not in found


def test_polygon_straddling_the_line_is_at_distance_zero(east_west_line: dict[str, int], county: Engine) -> None:
    with county.connect() as conn:
        found = _by_feature(find_encroachments(conn))
    straddling = found[("GX-01", "building", east_west_line["straddling"])]
    assert straddling.zone == "zone_5m"
    assert straddling.distance_m == 0.0


def test_pipeline_crossing_a_township_boundary_gives_each_candidate_its_own_township(
    east_west_line: dict[str, int], county: Engine
) -> None:
    with county.connect() as conn:
        found = _by_feature(find_encroachments(conn))
        only_east = find_encroachments(conn, township_code="140930101000")
    assert found[("GX-01", "building", east_west_line["at_4_9"])].township_name == "西镇"
    assert found[("GX-01", "building", east_west_line["at_5_1"])].township_name == "东镇"
    assert found[("GX-01", "building", east_west_line["straddling"])].township_code == "140930101000"
    assert {c.feature_id for c in only_east} == {east_west_line["at_5_1"], east_west_line["straddling"]}
    assert all(c.operator == "示例管道公司" for c in only_east)


def test_roads_mines_facilities_and_pipeline_crossings_are_checked(east_west_line: dict[str, int],
                                                                   county: Engine) -> None:
    with county.begin() as conn:
        pipeline = east_west_line["pipeline"]
        road = add_road(conn, LineString([(X0 - 700, Y0 - 300), (X0 - 700, Y0 + 300)]))
        quarry = add_mine(conn, "C1409302026000001", box(X0 - 100, Y0 + 150, X0 + 100, Y0 + 400))
        add_facility(conn, pipeline, Point(X0 + 800, Y0))
        near_valve = add_road(conn, LineString([(X0 + 850, Y0 + 60), (X0 + 950, Y0 + 60)]))
        building_near_valve = add_building(conn, box(X0 + 850, Y0 + 60, X0 + 860, Y0 + 70))
        add_pipeline(conn, "GX-02", LineString([(X0 - 200, Y0 - 900), (X0 - 200, Y0 + 900)]))
    with county.connect() as conn:
        found = _by_feature(find_encroachments(conn))
    assert found[("GX-01", "road", road)].zone == "road_crossing"  # a crossing (Art 35(1)), never 占压
    assert found[("GX-01", "road", road)].distance_m == 0.0
    assert found[("GX-01", "mine", quarry)].zone == "zone_200m"
    assert found[("GX-01", "mine", quarry)].distance_m == pytest.approx(150.0, abs=1e-4)
    assert ("GX-01", "building", building_near_valve) not in found  # buildings are not Art 35(2) matters
    valve = found[("GX-01", "road", near_valve)]
    assert valve.zone == "facility_100m"
    assert valve.distance_m == pytest.approx(float(np.hypot(50, 60)), abs=1e-4)
    crossing = [c for c in found.values() if c.zone == "crossing"]
    assert {(c.pipeline_code, c.distance_m) for c in crossing} == {("GX-01", 0.0), ("GX-02", 0.0)}
    assert next(c for c in crossing if c.pipeline_code == "GX-01").township_name == "西镇"


def test_recheck_closes_the_candidate_of_a_demolished_building_and_opens_one_for_a_new_building(
    east_west_line: dict[str, int], county: Engine
) -> None:
    with county.begin() as conn:
        first = check_encroachments(conn)
    demolished = next(c for c in first if c.feature_id == east_west_line["at_4_9"])
    with county.begin() as conn:
        conn.execute(text("DELETE FROM building WHERE id = :i"), {"i": east_west_line["at_4_9"]})
        new = add_building(conn, box(X0 + 600, Y0 - 13, X0 + 610, Y0 - 3))
        second = check_encroachments(conn)
        closed = conn.execute(text("SELECT status, closed_reason FROM encroachment_candidate WHERE id = :i"),
                              {"i": demolished.candidate_id}).one()
    assert (closed.status, closed.closed_reason) == ("closed", "feature_removed")
    assert demolished.candidate_id not in {c.candidate_id for c in second}
    appeared = next(c for c in second if c.feature_id == new)
    assert (appeared.zone, appeared.township_name) == ("zone_5m", "东镇")
    assert appeared.distance_m == pytest.approx(3.0, abs=1e-4)
    unchanged = {c.feature_id: c.candidate_id for c in first if c.feature_id != east_west_line["at_4_9"]}
    assert unchanged == {c.feature_id: c.candidate_id for c in second if c.feature_id != new}


def test_the_search_sets_its_own_work_mem_and_jit_for_its_transaction_only(
    east_west_line: dict[str, int], county: Engine
) -> None:
    """Issue 17: a bureau's own server keeps work_mem 4 MB and jit on; the search sets what it needs itself."""
    with county.connect() as conn:
        conn.execute(text("SET work_mem = '4MB'"))  # a stock server's defaults, for this session
        conn.execute(text("SET jit = on"))
        conn.commit()
        find_encroachments(conn)
        assert conn.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one() == ("64MB", "off")
        conn.rollback()
        assert conn.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one() == ("4MB", "on")
        conn.rollback()
        conn.execute(text("RESET work_mem"))  # the pooled connection goes back as it came
        conn.execute(text("RESET jit"))
        conn.commit()


def test_recheck_of_an_unchanged_county_rewrites_no_candidate_and_a_moved_building_only_its_own(
    east_west_line: dict[str, int], county: Engine
) -> None:
    """Issue 17: rewriting every open candidate on each check left that many dead rows, and on a stock server
    (autovacuum once a minute) each check was slower than the last. Row versions (ctid) show what was written."""
    versions = "SELECT feature_id, ctid::text FROM encroachment_candidate WHERE feature_type = 'building'"
    with county.begin() as conn:
        check_encroachments(conn)
    with county.connect() as conn:
        before = dict(conn.execute(text(versions)).all())
    with county.begin() as conn:
        check_encroachments(conn)
    with county.connect() as conn:
        assert dict(conn.execute(text(versions)).all()) == before
    with county.begin() as conn:  # the straddling house rebuilt 2 m further north: still in the zone, nearer edge moved
        conn.execute(text("UPDATE building SET geom = ST_Translate(geom, 0, 0.00002) WHERE id = :i"),
                     {"i": east_west_line["straddling"]})
        check_encroachments(conn)
    with county.connect() as conn:
        after = dict(conn.execute(text(versions)).all())
    changed = {f for f in after if after[f] != before[f]}
    assert changed == {east_west_line["straddling"]}


def test_moving_a_pipeline_south_by_56_m_brings_the_building_at_60_m_into_the_5_m_zone(east_west_line: dict[str, int], county: Engine) -> None:
    with county.begin() as conn:
        conn.execute(text("UPDATE pipeline SET geom = ST_Translate(geom, 0, -0.0005) WHERE code = 'GX-01'"))
        found = _by_feature(find_encroachments(conn))
    assert found[("GX-01", "building", east_west_line["at_60"])].zone == "zone_5m"


def test_check_command_prints_json_candidates(east_west_line: dict[str, int], county: Engine,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    assert main(["encroach", "check", "--pipeline", "GX-01", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"pipeline_id", "feature_type", "feature_id", "zone", "distance_m", "township_code"} <= set(rows[0])
    assert {r["feature_id"] for r in rows} == {east_west_line[k] for k in ("at_4_9", "at_5_1", "straddling")}
    assert main(["encroach", "check", "--pipeline", "NO-SUCH"]) == 2
    assert "没有编号为 NO-SUCH 的管道" in capsys.readouterr().err


def _expected_with_geopandas(engine: Engine) -> set[tuple[int, int, str]]:
    """Independent computation: shapely distances in EPSG:4546 from what read_postgis returns (5 m: 占压; 15 m
    of an oil line: GB 50253's separation)."""
    with engine.connect() as conn:
        buildings = gpd.read_postgis("SELECT id, geom FROM building", conn, geom_col="geom").to_crs(METRIC_SRID)
        lines = gpd.read_postgis("SELECT id, medium, geom FROM pipeline", conn, geom_col="geom").to_crs(METRIC_SRID)
    expected = set()
    for line in lines.itertuples():
        distance = buildings.distance(line.geom)
        for bid, d in zip(buildings["id"], distance, strict=True):
            if d <= 5.0:
                expected.add((line.id, bid, "zone_5m"))
            elif d <= 15.0 and line.medium in ("crude", "product"):
                expected.add((line.id, bid, "oil_building"))
    return expected


def test_check_equals_an_independent_geopandas_computation_id_for_id(county: Engine) -> None:
    rng = np.random.default_rng(20261123)
    with county.begin() as conn:
        two_townships(conn)
        for n in range(3):
            xs = np.linspace(X0 - 3000, X0 + 3000, 60)
            ys = Y0 - 1000 + 1000 * n + rng.normal(0, 40, xs.size).cumsum()
            add_pipeline(conn, f"RND-{n}", LineString(np.column_stack([xs, ys])), medium=("crude", "gas", "product")[n])
        for _ in range(600):
            x, y = rng.uniform(X0 - 3000, X0 + 3000), Y0 - 1000 + 1000 * rng.integers(0, 3) + rng.normal(0, 100)
            w, h = rng.uniform(5, 25, 2)
            add_building(conn, box(x, y, x + w, y + h))
    with county.connect() as conn:
        found = find_encroachments(conn, feature_types=["building"])
    got = {(c.pipeline_id, c.feature_id, c.zone) for c in found}
    expected = _expected_with_geopandas(county)
    assert len(expected) > 30 and {z for _, _, z in expected} == {"zone_5m", "oil_building"}
    assert got == expected



def test_on_the_demo_county_the_check_equals_geopandas_id_for_id(db: Engine) -> None:
    load = pytest.importorskip("geo.demo.load")
    load.load_demo(db)
    with db.connect() as conn:
        found = find_encroachments(conn, feature_types=["building"])
    got = {(c.pipeline_id, c.feature_id, c.zone) for c in found}
    expected = _expected_with_geopandas(db)
    assert "zone_5m" in {z for _, _, z in expected}
    assert got == expected
