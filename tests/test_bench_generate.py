"""A benchmark author asks for a synthetic county ×N and gets a full, valid, repeatable county in the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.generate import default_database_name, generate_county
from geo.errors import InvalidInput
from geo.uscc import uscc_problem

ROOT = Path(__file__).resolve().parent.parent

# (table, geometry column) for every geometry the generator writes
GEOMETRIES = [
    ("township", "geom"), ("grid_cell", "geom"), ("village", "geom"), ("enterprise", "geom"),
    ("pipeline", "geom"), ("pipeline_facility", "geom"), ("encroachment", "geom"), ("building", "geom"),
    ("road", "geom"), ("mine", "licence_boundary"), ("mine", "workings"), ("mine_zone", "geom"),
]
PLACED_IN_TOWNSHIPS = ["village", "grid_cell", "enterprise", "encroachment", "building", "mine"]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def fingerprint(engine) -> dict[str, object]:
    """Checksums a second run with the same seed must reproduce exactly."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT (SELECT sum(ST_X(geom)) FROM enterprise) AS enterprise_x,"
            " (SELECT md5(string_agg(uscc || category, ',' ORDER BY id)) FROM enterprise) AS usccs,"
            " (SELECT sum(ST_Area(geom)) FROM building) AS building_area,"
            " (SELECT sum(ST_Length(geom)) FROM pipeline) AS pipeline_length,"
            " (SELECT md5(string_agg(status || found_on, ',' ORDER BY id)) FROM hazard) AS hazards,"
            " (SELECT md5(ST_AsEWKB(ST_Collect(geom ORDER BY id))::text) FROM grid_cell) AS cells"
        )).mappings().one())


def test_a_hundredth_county_has_a_hundredth_of_everything(db):
    counts = generate_county(db, scale=0.01, seed=1)

    assert counts["county"] == 1
    assert counts["enterprise"] == 100
    assert counts["building"] == 2000
    assert counts["hazard"] == 200
    assert counts["inspection"] == 300
    assert counts["accident"] == 3
    assert counts["encroachment"] == 4  # 350 × 0.01 rounded
    assert counts["township"] == 1 and counts["grid_cell"] == 3
    hazchem = scalar(db, "SELECT count(*) FROM enterprise WHERE category = 'hazchem'")
    miners = scalar(db, "SELECT count(*) FROM enterprise WHERE category IN ('coal_mine', 'non_coal_mine')")
    assert hazchem == 5 and counts["chemical_inventory"] == 3 * hazchem
    assert miners == 2 and counts["mine"] == miners
    assert 150 <= counts["road"] <= 250  # the ×1 grid's ~28k segments over a hundredth of the area
    assert counts == {t: scalar(db, f"SELECT count(*) FROM {t}") for t in counts}
    area_km2 = scalar(db, "SELECT ST_Area(ST_Transform(geom, 4546)) / 1e6 FROM county")
    assert area_km2 == pytest.approx(13.0, rel=1e-6)  # 1,300 km² × 0.01: densities stay those of ×1


def test_pipelines_add_up_to_ten_km_of_long_lines(db):
    generate_county(db, scale=0.01, seed=1)

    km = scalar(db, "SELECT sum(ST_Length(ST_Transform(geom, 4546))) / 1000 FROM pipeline")
    assert km == pytest.approx(10.0, rel=0.02)
    assert scalar(db, "SELECT min(ST_NPoints(geom)) FROM pipeline") == 500


def test_every_geometry_is_valid_inside_the_county_and_in_a_township(db):
    generate_county(db, scale=0.01, seed=1)

    for table, column in GEOMETRIES:
        invalid = scalar(db, f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid({column})")
        outside = scalar(db, f"SELECT count(*) FROM {table} x, county c "
                             f"WHERE x.{column} IS NOT NULL AND NOT ST_CoveredBy(x.{column}, c.geom)"
                             if table not in ("township", "grid_cell") else
                             f"SELECT count(*) FROM {table} x, county c "
                             f"WHERE ST_Area(ST_Difference(x.geom, c.geom)) > 1e-12 * ST_Area(x.geom)")
        srid = scalar(db, f"SELECT DISTINCT ST_SRID({column}) FROM {table} WHERE {column} IS NOT NULL")
        assert (invalid, outside, srid) == (0, 0, 4490), f"{table}.{column}"
    for table in PLACED_IN_TOWNSHIPS:
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE township_id IS NULL") == 0, table
    wrong = scalar(db, "SELECT count(*) FROM enterprise e JOIN township t ON t.id = e.township_id "
                       "WHERE NOT ST_Intersects(t.geom, e.geom)")
    assert wrong == 0


def test_townships_partition_the_county_and_grid_cells_partition_townships(db):
    counts = generate_county(db, scale=0.2, seed=3)

    assert counts["township"] == 2 and counts["grid_cell"] == 53  # 11 × 0.2 and 266 × 0.2, rounded
    with db.connect() as conn:
        county_area, towns_area, towns_union = conn.execute(text(
            "SELECT ST_Area(c.geom), (SELECT sum(ST_Area(geom)) FROM township), "
            "(SELECT ST_Area(ST_Union(geom)) FROM township) FROM county c")).one()
        overlap = conn.execute(text(
            "SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0) FROM township a "
            "JOIN township b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)")).scalar_one()
        cells = conn.execute(text(
            "SELECT t.id, ST_Area(t.geom), sum(ST_Area(g.geom)), "
            "max(ST_Area(ST_Difference(g.geom, t.geom)) / ST_Area(g.geom)) "
            "FROM township t JOIN grid_cell g ON g.township_id = t.id GROUP BY t.id")).all()
    assert towns_area == pytest.approx(county_area, rel=1e-9)
    assert towns_union == pytest.approx(county_area, rel=1e-9)
    assert overlap <= 1e-9 * county_area
    assert len(cells) == 2
    for _, town_area, cells_area, worst_outside in cells:
        assert cells_area == pytest.approx(town_area, rel=1e-9)
        assert worst_outside < 1e-9
    officers = scalar(db, "SELECT count(*) FROM grid_cell WHERE officer_name IS NULL OR officer_phone !~ '^1[0-9]{10}$'")
    assert officers == 0


def test_the_same_seed_writes_the_same_county_and_another_seed_another(db):
    first = generate_county(db, scale=0.01, seed=7)
    first_print = fingerprint(db)
    again = generate_county(db, scale=0.01, seed=7)  # empties the database first: counts do not double
    assert again == first
    assert fingerprint(db) == first_print

    generate_county(db, scale=0.01, seed=8)
    other = fingerprint(db)
    assert other["enterprise_x"] != first_print["enterprise_x"]
    assert other["cells"] != first_print["cells"]


def test_every_enterprise_has_a_valid_unique_uscc_and_a_known_category(db):
    from geo.models import INDUSTRY_CATEGORIES

    generate_county(db, scale=0.01, seed=1)
    with db.connect() as conn:
        rows = conn.execute(text("SELECT uscc, category FROM enterprise")).all()
    assert [u for u, _ in rows if uscc_problem(u)] == []
    assert len({u for u, _ in rows}) == len(rows)
    assert {c for _, c in rows} <= set(INDUSTRY_CATEGORIES)


def test_impossible_scales_are_refused_in_chinese(db):
    with pytest.raises(InvalidInput, match="规模倍数"):
        generate_county(db, scale=0, seed=1)
    with pytest.raises(InvalidInput, match="规模倍数"):
        generate_county(db, scale=1000, seed=1)
    assert default_database_name(0.01) == "riskmap_x0_01"
    assert default_database_name(1) == "riskmap_x1"
    assert default_database_name(10.0) == "riskmap_x10"


def test_command_line_fills_the_named_database_and_summarises_it_in_chinese(db, db_url):
    name = make_url(db_url).database  # the database in force, hence --force (see the refusal below)
    env = {**os.environ, "DATABASE_URL": db_url}
    res = subprocess.run([sys.executable, "-m", "bench.generate", "--scale", "0.01", "--database", name, "--force"],
                         check=False, cwd=ROOT, env=env, capture_output=True, text=True)

    assert res.returncode == 0, res.stderr
    assert f"已写入数据库 {name}" in res.stdout
    assert "企业" in res.stdout and "管道总长" in res.stdout and "10.0 km" in res.stdout
    assert scalar(db, "SELECT count(*) FROM building") == 2000


def test_command_line_refuses_a_negative_scale_and_the_database_in_force_in_chinese(db_url, capsys):
    from bench.generate.__main__ import main

    assert main(["--scale", "-1", "--database", "riskmap_never_created"]) == 2
    assert "规模倍数" in capsys.readouterr().err
    assert main(["--scale", "0.01", "--database", make_url(db_url).database]) == 2  # would empty it
    assert "--force" in capsys.readouterr().err


def test_roads_form_one_connected_network_and_encroachments_sit_on_their_pipeline(db):
    generate_county(db, scale=0.01, seed=1)

    with db.begin() as conn:
        conn.execute(text(
            "CREATE TEMP TABLE t_edge ON COMMIT DROP AS "
            "WITH ends AS (SELECT id, ST_AsEWKB(ST_StartPoint(geom)) AS a, ST_AsEWKB(ST_EndPoint(geom)) AS b "
            "              FROM road), "
            "nodes AS (SELECT row_number() OVER (ORDER BY p) AS nid, p FROM (SELECT a AS p FROM ends "
            "          UNION SELECT b FROM ends) AS q) "
            "SELECT e.id, s.nid AS source, t.nid AS target, 1.0::float8 AS cost, 1.0::float8 AS reverse_cost "
            "FROM ends e JOIN nodes s ON s.p = e.a JOIN nodes t ON t.p = e.b"))
        components = conn.execute(text(
            "SELECT count(DISTINCT component) FROM pgr_connectedComponents("
            "'SELECT id, source, target, cost, reverse_cost FROM t_edge')")).scalar_one()
        far = conn.execute(text(
            "SELECT count(*) FROM encroachment e JOIN pipeline p ON p.id = e.pipeline_id "
            "WHERE e.kind = 'encroachment' AND ST_Distance(ST_Transform(e.geom, 4546), "
            "ST_Transform(p.geom, 4546)) > 4.01")).scalar_one()  # 4 m, plus the chord of a degree segment
    assert components == 1
    assert far == 0
