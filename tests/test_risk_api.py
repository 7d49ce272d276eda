"""A director reads levels, reasons and history over HTTP, on the demo county."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text


@pytest.fixture(scope="module")
def client(demo_county_db):
    import os

    from api.app import create_app
    from geo.config import get_settings

    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = demo_county_db
    get_settings.cache_clear()
    from tests.conftest import auth_headers

    with TestClient(create_app(), headers=auth_headers(None, "county_editor")) as c:
        yield c
    os.environ["DATABASE_URL"] = old
    get_settings.cache_clear()


def test_red_enterprises_with_reasons_riskiest_first(client, demo_county_engine):
    body = client.get("/risk/enterprise", params={"colour": "red"}).json()
    with demo_county_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM risk_assessment WHERE kind = 'enterprise' "
                              "AND level = 'red' AND valid_to IS NULL")).scalar_one()
    assert body["numberMatched"] == n > 0
    assert all(item["level"] == "red" and item["reasons"] for item in body["items"])
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_explain_and_history_of_one_enterprise(client):
    first = client.get("/risk/enterprise", params={"limit": 1}).json()["items"][0]
    one = client.get(f"/risk/enterprise/{first['object_id']}").json()
    assert one["level"] == first["level"] and one["rules_version"]
    hist = client.get(f"/risk/enterprise/{first['object_id']}/history").json()
    assert hist and hist[-1]["valid_to"] is None


def test_township_filter_and_errors(client):
    towns = client.get("/risk/township").json()["items"]
    assert len(towns) == 11
    code = client.get("/layers/township/features").json()["features"][0]["properties"]["code"]
    inside = client.get("/risk/grid_cell", params={"township": code}).json()["items"]
    assert inside and all(i["township_id"] == inside[0]["township_id"] for i in inside)
    assert client.get("/risk/nosuchkind").status_code == 422
    r = client.get("/risk/enterprise/99999999")
    assert r.status_code == 404 and "评估" in r.json()["message"]


def test_rules_in_force_are_published(client):
    rules = client.get("/risk/rules").json()
    assert rules["version"] and len(rules["hash"]) == 64 and rules["rules"]


def test_published_rules_cite_documents_not_our_files(client):
    """What a bureau reads cites the primary document; values no national text fixes say 本地规定, never 待核."""
    import json

    text = json.dumps(client.get("/risk/rules").json()["rules"], ensure_ascii=False)
    for word in ("standards.md", "待核", "缺省值", "riskmap 缺省"):
        assert word not in text, word
    assert "本地规定" in text and "GB 18218-2018" in text and "石油天然气管道保护法" in text
