"""The bulk check leaves out candidates' points unless asked; the stored check keeps them; the order is stable."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, box
from sqlalchemy import Engine, text

from geo.encroachment import check_encroachments, find_encroachments
from tests.encroach_fixtures import X0, Y0, add_building, add_pipeline, add_road, to_storage, two_townships


@pytest.fixture
def line_with_neighbours(county: Engine) -> dict[str, int]:
    """A 2 km crude-oil pipeline along y = Y0, two houses beside it (one with no stored township, one 10 m off: within
    the oil line's separation) and a road across it."""
    with county.begin() as conn:
        two_townships(conn)
        ids = {"pipeline": add_pipeline(conn, "PT-01", LineString([(X0 - 1000, Y0), (X0 + 1000, Y0)]),
                                        medium="crude")}
        ids["house"] = add_building(conn, box(X0 - 400, Y0 + 10, X0 - 380, Y0 + 30))
        ids["shed"] = add_building(conn, box(X0 + 300, Y0 - 8, X0 + 310, Y0 - 2))
        conn.execute(text("UPDATE building SET township_id = (SELECT id FROM township WHERE name = '西镇') "
                          "WHERE id = :i"), {"i": ids["house"]})
        ids["road"] = add_road(conn, LineString([(X0 + 700, Y0 - 200), (X0 + 700, Y0 + 200)]))
    return ids


def test_points_are_left_out_unless_asked_and_townships_still_come_from_them(
        line_with_neighbours: dict[str, int], county: Engine) -> None:
    with county.connect() as conn:
        bulk = {(c.feature_type, c.feature_id): c for c in find_encroachments(conn)}
        placed = {(c.feature_type, c.feature_id): c for c in find_encroachments(conn, points=True)}
    assert {(c.lon, c.lat) for c in bulk.values()} == {(None, None)}
    # the shed has no stored township: its box centre (east of X0) puts it in 东镇 even without points
    assert bulk["building", line_with_neighbours["shed"]].township_name == "东镇"
    assert bulk["building", line_with_neighbours["house"]].township_name == "西镇"
    assert {k: c._replace(lon=None, lat=None) for k, c in placed.items()} == bulk
    centre = to_storage(box(X0 - 400, Y0 + 10, X0 - 380, Y0 + 30)).envelope.centroid
    house = placed["building", line_with_neighbours["house"]]
    assert (house.lon, house.lat) == pytest.approx((centre.x, centre.y), abs=1e-9)
    road = placed["road", line_with_neighbours["road"]]
    assert road.distance_m == 0.0 and road.lon is not None and road.lat is not None


def test_candidates_come_ordered_by_pipeline_feature_type_and_id(line_with_neighbours: dict[str, int],
                                                                  county: Engine) -> None:
    with county.connect() as conn:
        found = find_encroachments(conn)
    keys = [(c.pipeline_id, c.feature_type, c.feature_id) for c in found]
    assert keys == sorted(keys)
    assert len(found) == len(keys) >= 3
    assert found[0] == next(iter(found)) and found[-1] == list(found)[-1]
    assert found[1:3] == list(found)[1:3]


def test_the_stored_check_keeps_each_candidate_point(line_with_neighbours: dict[str, int], county: Engine) -> None:
    with county.begin() as conn:
        stored = {(c.feature_type, c.feature_id): c for c in check_encroachments(conn)}
        computed = {(c.feature_type, c.feature_id): c for c in find_encroachments(conn, points=True)}
    assert stored.keys() == computed.keys()
    for key, c in computed.items():
        assert (stored[key].lon, stored[key].lat) == pytest.approx((c.lon, c.lat), abs=1e-9)
        assert stored[key].candidate_id is not None
