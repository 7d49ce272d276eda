"""Issue #16, reads a province opens: a neighbour county's buildings and roads copied for the border (halo) are read
by no one through the service, and a city viewer of another city reads nothing of this county — not even its
outline, roads, rivers or mining zones. Everyone else still reads what their work needs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from geo.access.roles import COUNTY_TABLES, OWNER_ONLY, ROLES
from geo.tiles import tile_of
from tests.workbench import EAST, WEST, add_townships

XINZHOU, TAIYUAN = "140900", "140100"
"""忻州市 holds 河曲县 (140930); 太原市 does not."""

USERS = {  # username → (role, townships, region): every kind of login, a region viewer in and out of its region
    "admin": ("admin", [], None),
    "county_editor": ("county_editor", [], None),
    "county_viewer": ("county_viewer", [], None),
    "township_editor": ("township_editor", [WEST], None),
    "inspector": ("inspector", [WEST], None),
    "city_in": ("region_viewer", [], XINZHOU),
    "city_out": ("region_viewer", [], TAIYUAN),
}


@pytest.fixture
def hequ(county):
    """河曲县 with two townships, a road and its graph, a river, a mining zone, a rules version, and halo copies of a
    neighbour's house and road 3 m past the border (as the provincial run leaves them)."""
    with county.begin() as conn:
        add_townships(conn)
        conn.execute(text("INSERT INTO road (id, name, road_class, geom) VALUES (1, '测试路', 'primary', "
                          "ST_SetSRID(ST_MakeLine(ST_MakePoint(111.20, 39.20), ST_MakePoint(111.25, 39.21)), 4490))"))
        conn.execute(text("INSERT INTO road_vertex (id, component, geom) VALUES "
                          "(1, 1, ST_SetSRID(ST_MakePoint(111.20, 39.20), 4490)), "
                          "(2, 1, ST_SetSRID(ST_MakePoint(111.25, 39.21), 4490))"))
        conn.execute(text("INSERT INTO road_edge (road_id, source, target, road_class, length_m, cost_s, "
                          "reverse_cost_s, geom) SELECT id, 1, 2, road_class, 4400, 300, 300, geom FROM road"))
        conn.execute(text("INSERT INTO waterway (name, geom) VALUES ('测试河', ST_Multi(ST_SetSRID(ST_MakeLine("
                          "ST_MakePoint(111.1, 39.1), ST_MakePoint(111.3, 39.3)), 4490)))"))
        conn.execute(text("INSERT INTO mine_zone (name, kind, geom) VALUES ('测试禁采区', 'no_mining_zone', "
                          "ST_Multi(ST_MakeEnvelope(111.2, 39.2, 111.21, 39.21, 4490)))"))
        conn.execute(text("INSERT INTO risk_rules_version (rules_hash, version, content) "
                          "VALUES ('h', 'v1', '{}'::jsonb)"))
        conn.execute(text("INSERT INTO halo_building (id, use_class, floors, geom, county_code, source_id) VALUES "
                          "(-1000000000001, 'residential', 2, ST_Multi(ST_MakeEnvelope(111.70, 39.10, 111.7001, "
                          "39.1001, 4490)), '140931', 1)"))
        conn.execute(text("INSERT INTO halo_road (id, name, road_class, geom, county_code, source_id) VALUES "
                          "(-1000000000001, '邻县路', 'primary', ST_SetSRID(ST_MakeLine(ST_MakePoint(111.70, 39.10), "
                          "ST_MakePoint(111.71, 39.11)), 4490), '140931', 1)"))
    return county


@pytest.fixture
def logins(hequ):
    """Each kind of login: username → its user id."""
    from geo.access.users import add_user

    with hequ.begin() as conn:
        return {name: add_user(conn, name, "correct-horse-42", role, townships=towns, region=region).id
                for name, (role, towns, region) in USERS.items()}


def _as(conn, user_id: int) -> None:
    """Run the rest of the transaction as that user, exactly as a request does (role, scope, region)."""
    from geo.access.principal import bind
    from geo.access.users import principal_for

    bind(conn, principal_for(conn, user_id))


def test_no_login_reads_a_neighbours_halo(logins, hequ):
    """The halo holds another county's buildings and roads: refused to every role, even this county's admin."""
    for name, user_id in logins.items():
        for table in OWNER_ONLY:
            with hequ.connect() as conn, conn.begin():
                _as(conn, user_id)
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    with hequ.connect() as conn:  # the provincial run (the database owner) still reads them
        assert [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in OWNER_ONLY] == [1, 1]


def test_county_wide_tables_follow_the_scope(logins, hequ):
    """County staff, a township editor and an inspector read the county's outline, roads, rivers, mining zones and
    rules; a city viewer reads them where its city holds the county, one of another city reads none of them."""
    for name, user_id in logins.items():
        with hequ.connect() as conn, conn.begin():
            _as(conn, user_id)
            seen = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTY_TABLES}
        if name == "city_out":
            assert seen == dict.fromkeys(COUNTY_TABLES, 0), seen
        else:
            assert seen == {**dict.fromkeys(COUNTY_TABLES, 1), "road_vertex": 2}, (name, seen)


def test_a_township_user_still_reads_only_its_township(logins, hequ):
    """The township scope is untouched: the west editor sees its township, not the east one."""
    with hequ.connect() as conn, conn.begin():
        _as(conn, logins["township_editor"])
        assert conn.execute(text("SELECT array_agg(code) FROM township")).scalar_one() == [WEST]


def test_scoped_roles_write_no_county_wide_table(logins, hequ):
    """Reading the road network is not writing it: a township editor's insert is refused by the grants."""
    with hequ.connect() as conn, conn.begin():
        _as(conn, logins["township_editor"])
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("INSERT INTO road (name, geom) VALUES ('x', "
                              "ST_SetSRID(ST_MakeLine(ST_MakePoint(111.2, 39.2), ST_MakePoint(111.3, 39.3)), 4490))"))


def test_every_table_a_scoped_role_may_read_has_row_level_security(hequ):
    """A table added later without a policy would be open to township users and region viewers: none is."""
    scoped = [ROLES[r] for r in ("township_editor", "inspector", "region_viewer")]
    with hequ.connect() as conn:
        open_ = conn.execute(text(
            "SELECT DISTINCT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "unnest(CAST(:roles AS text[])) r WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm') "
            "AND NOT c.relrowsecurity AND has_table_privilege(r, c.oid, 'SELECT') ORDER BY 1"),
            {"roles": scoped}).scalars().all()
        views = conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
            "'public' AND c.relkind = 'v' AND c.relname NOT IN ('geometry_columns', 'geography_columns') AND NOT "
            "coalesce('security_invoker=true' = ANY (c.reloptions), false)")).scalars().all()
    assert open_ == ["spatial_ref_sys"]  # PostGIS's table of coordinate systems, the same everywhere
    assert views == []  # a view reads with its owner's rights unless security_invoker


def test_road_tiles_and_the_rollup_by_role(logins, hequ, make_user):
    """Through the service: the road tile is drawn for the township editor and 忻州市's viewer, empty for 太原市's;
    the roll-up page still answers every region viewer."""
    from api.app import create_app

    z = 13
    x, y = tile_of(111.22, 39.205, z)
    app = create_app()
    sizes = {}
    for who, kwargs in (("township_editor", {"townships": [WEST]}), ("city_in", {"region": XINZHOU}),
                        ("city_out", {"region": TAIYUAN})):
        role = USERS[who][0]
        with TestClient(app, headers=make_user(role, **kwargs)) as c:
            r = c.get(f"/tiles/road/{z}/{x}/{y}.pbf")
            assert r.status_code in (200, 204), r.text
            sizes[who] = len(r.content)
            assert c.get("/province/rollup").status_code == 200
    assert sizes["township_editor"] > 0 and sizes["city_in"] > 0 and sizes["city_out"] == 0, sizes


def test_register_numbering_reads_only_the_registers(logins, hequ):
    """The county-wide numbering reads past row-level security: only register writers may call it, and only for
    the 占压点 and 隐患 registers by year — not to probe a neighbour's road codes or another township's records."""
    from sqlalchemy.exc import DBAPIError

    for who in ("city_in", "county_viewer"):
        with hequ.connect() as conn, conn.begin():
            _as(conn, logins[who])
            with pytest.raises(ProgrammingError, match="permission denied for function riskmap_next_code"):
                conn.execute(text("SELECT riskmap_next_code('hazard', 'YH-2026-')")).scalar_one()
    for table, prefix in (("halo_road", "G"), ("enterprise", ""), ("hazard", "YH-2026-%")):
        with hequ.connect() as conn, conn.begin():
            _as(conn, logins["township_editor"])
            with pytest.raises(DBAPIError, match="只为占压点、隐患台账按年编号"):
                conn.execute(text("SELECT riskmap_next_code(:t, :p)"), {"t": table, "p": prefix}).scalar_one()
    with hequ.connect() as conn, conn.begin():
        _as(conn, logins["township_editor"])
        assert conn.execute(text("SELECT riskmap_next_code('encroachment', 'ZY-2026-')")).scalar_one() == 1
