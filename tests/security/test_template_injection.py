"""A name is data, never a template: Jinja2 delimiters in what users write reach the map page as typed.

Folium's renderer (branca) used to compile every rendered part of a page as a Jinja2 template and render it once
more, so a township named `{{ 7*7 }}` was shown as `49` — code run on the server — and a `{%` broke the page.
layers.elements renders each part once.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

NAMES = {"township": "镇{{ 7*7 }}{{ cycler.__init__.__globals__ }}", "grid": "网格{% if %}{# 注 #}",
         "mine": "矿{{ config }}{%- raw %}"}


def test_jinja_delimiters_in_names_come_out_as_typed(county, make_user):
    from api.app import create_app

    with county.begin() as conn:
        conn.execute(text(
            "INSERT INTO township (code, name, county_code, geom, is_illustrative) SELECT '140930100000', :n, "
            "'140930', ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.0, 38.8, 111.35, 39.6, 4490))), true "
            "FROM county c"), {"n": NAMES["township"]})
        conn.execute(text(
            "INSERT INTO grid_cell (code, name, township_id, geom) SELECT 'G1', :n, t.id, "
            "ST_Multi(ST_MakeEnvelope(111.20, 39.20, 111.22, 39.22, 4490)) FROM township t"), {"n": NAMES["grid"]})
        conn.execute(text(
            "INSERT INTO mine (licence_no, name, mine_type, method, licence_boundary) VALUES ('C1', :n, 'coal', "
            "'underground', ST_Multi(ST_MakeEnvelope(111.24, 39.20, 111.26, 39.22, 4490)))"), {"n": NAMES["mine"]})
    with TestClient(create_app(), headers=make_user("admin")) as client:
        for path in ("/maps", "/maps/township/140930100000", "/maps/grid/G1", "/maps/mine/C1"):
            r = client.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            assert "镇{{ 7*7 }}" in r.text and "镇49" not in r.text, path
            assert "__globals__ }}" in r.text and "<function" not in r.text, path
        page = client.get("/maps/township/140930100000").text
        assert "网格{% if %}{# 注 #}" in page
        assert "矿{{ config }}{%- raw %}" in client.get("/maps/mine/C1").text
