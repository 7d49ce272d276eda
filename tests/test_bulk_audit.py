"""A county editor imports 300 building footprints: the audit log gets ONE entry for the import (who, the file,
the table, 300 rows, their ids, the file's SHA-256) instead of 300 copies, every imported building is traced to
it, and an edit made afterwards through the API still keeps its before/after row (issue #17)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.access.audit import entries
from geo.access.bulk import covers
from geo.io.importer import ImportRejected, import_file
from tests.workbench import add_townships

NAMES = ["东\t西\\南\n北楼", "\\N", "一号楼"]
"""Names with a tab, a backslash, a newline and COPY's NULL marker: stored exactly as written."""


@pytest.fixture
def towns(county):
    """Two townships splitting 河曲县 at 111.35°E."""
    with county.begin() as conn:
        add_townships(conn)
    return county


def _buildings(path: Path, n: int, *, bad_row: int | None = None) -> Path:
    """n small square buildings west of 111.35°E as GeoJSON; `bad_row` (1-based) gets floors = 'abc'."""
    features = []
    for i in range(n):
        x, y = 111.22 + (i % 20) * 0.0005, 39.24 + (i // 20) * 0.0005
        ring = [[x, y], [x + 0.0002, y], [x + 0.0002, y + 0.0002], [x, y + 0.0002], [x, y]]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"建筑编号": f"JZ{i:04d}", "用途": "住宅", "建筑名称": NAMES[i % 3],
                                        "层数": "abc" if bad_row == i + 1 else str(1 + i % 6)}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def _last_audit_id(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()


def _audit_rows(engine, table: str, after_id: int) -> list[tuple]:
    """The audit rows of `table` written after the entry `after_id`."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT record_id, after FROM audit_log WHERE table_name = :t AND id > :i "
                                 "ORDER BY id"), {"t": table, "i": after_id}).all()


def test_an_import_is_one_audit_entry_that_traces_every_row(towns, tmp_path, capsys):
    from geo.cli import main

    path = _buildings(tmp_path / "河曲县建筑.geojson", 300)
    mark = _last_audit_id(towns)
    result = import_file(towns, "building", path)
    assert result.inserted == 300

    rows = _audit_rows(towns, "building", mark)
    assert len(rows) == 1, "one entry for the whole import, not one per building"
    record_id, after = rows[0]
    assert record_id is None and after["rows"] == 300
    assert after["bulk"] == {"kind": "import", "source": "河曲县建筑.geojson", "layer": "building",
                             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    with towns.connect() as conn:
        ids = conn.execute(text("SELECT id FROM building")).scalars().all()
    assert len(ids) == 300 and all(covers(after["ids"], i) for i in ids)
    with towns.connect() as conn:
        names = dict(conn.execute(text("SELECT code, name FROM building WHERE code IN ('JZ0000', 'JZ0001', 'JZ0002')")).all())
    assert names == {"JZ0000": NAMES[0], "JZ0001": NAMES[1], "JZ0002": NAMES[2]}
    assert not covers(after["ids"], max(ids) + 1)

    # asked about one building, the log answers with the import that wrote it
    with towns.connect() as conn:
        found = entries(conn, table="building", record_id=str(ids[17]))
        assert found[0].bulk is not None and found[0].bulk["source"] == "河曲县建筑.geojson"
        assert all(e.id <= mark for e in entries(conn, table="building", record_id=str(max(ids) + 1)))

    assert main(["audit", "--table", "building", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "批量导入 河曲县建筑.geojson → building 新增 300 行" in out
    assert f"编号 {min(ids)}–{max(ids)}" in out

    assert main(["audit", "--table", "building", "--id", str(ids[5]), "-v"]) == 0
    out = capsys.readouterr().out
    assert "批量导入 河曲县建筑.geojson" in out and f"内容 SHA-256：{after['bulk']['sha256']}" in out
    assert f"编号（共 300 行）：{min(ids)}–{max(ids)}" in out


def test_a_refused_import_leaves_no_audit_entry(towns, tmp_path):
    path = _buildings(tmp_path / "坏文件.geojson", 50, bad_row=7)
    mark = _last_audit_id(towns)
    with pytest.raises(ImportRejected) as refused:
        import_file(towns, "building", path)
    assert [(r.row, r.field) for r in refused.value.rejects] == [(7, "层数")]
    assert "应为整数" in refused.value.rejects[0].reason
    assert _audit_rows(towns, "building", mark) == []


def test_an_edit_after_the_import_keeps_its_before_and_after(towns, tmp_path, make_user):
    from api.app import create_app

    path = _buildings(tmp_path / "建筑.geojson", 40)
    mark = _last_audit_id(towns)
    import_file(towns, "building", path)
    with towns.connect() as conn:
        target = conn.execute(text("SELECT id FROM building WHERE code = 'JZ0005'")).scalar_one()

    client = TestClient(create_app(), headers=make_user("county_editor", username="县局赵编辑"))
    r = client.patch(f"/layers/building/features/{target}", json={"version": 1, "properties": {"floors": 9}})
    assert r.status_code == 200, r.text

    log = client.get("/audit", params={"table": "building", "record_id": str(target)}).json()
    assert [(e["action"], e["actor"], e["record_id"]) for e in log][0] == ("update", "县局赵编辑", str(target))
    assert log[0]["before"]["floors"] == 6 and log[0]["after"]["floors"] == 9 and log[0]["changed"] == ["floors"]
    assert log[0]["after"]["geom"]["type"] == "MultiPolygon" and "coordinates" not in log[0]["after"]["geom"]
    bulk = log[1]
    assert bulk["record_id"] is None and bulk["rows"] == 40 and bulk["bulk"]["source"] == "建筑.geojson"
    assert bulk["summary"].startswith("批量导入 建筑.geojson → building 新增 40 行")
    assert len(_audit_rows(towns, "building", mark)) == 2


def test_a_scale_county_is_audited_per_table_not_per_row(db):
    from bench.generate import generate_county

    counts = generate_county(db, scale=0.01, seed=1)
    with db.connect() as conn:
        per_row = conn.execute(text("SELECT count(*) FROM audit_log WHERE record_id IS NOT NULL")).scalar_one()
        bulk = dict(conn.execute(text(
            "SELECT table_name, (after ->> 'rows')::int FROM audit_log WHERE after ? 'bulk' AND action = 'insert'")
        ).all())
        kinds = set(conn.execute(text("SELECT after -> 'bulk' ->> 'kind' FROM audit_log WHERE after ? 'bulk'"))
                    .scalars())
    assert per_row == 0 and kinds == {"generate"}
    assert bulk["building"] == counts["building"] == 2000 and bulk["enterprise"] == counts["enterprise"]


def test_the_demo_load_is_audited_per_table(demo_county_engine):
    with demo_county_engine.connect() as conn:
        per_row = conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE record_id IS NOT NULL AND table_name IN "
            "('building', 'enterprise', 'hazard', 'pipeline', 'encroachment')")).scalar_one()
        demo = dict(conn.execute(text(
            "SELECT table_name, (after ->> 'rows')::int FROM audit_log "
            "WHERE after -> 'bulk' ->> 'kind' = 'demo' AND action = 'insert'")).all())
        buildings = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    assert per_row == 0
    assert demo["building"] == buildings > 0 and demo["enterprise"] > 0 and demo["township"] > 0
    with demo_county_engine.connect() as conn:
        ranges = conn.execute(text(
            "SELECT after -> 'ids' FROM audit_log WHERE after -> 'bulk' ->> 'kind' = 'demo' AND action = 'insert' "
            "AND table_name = 'building'")).scalar_one()
        first, last = conn.execute(text("SELECT min(id), max(id) FROM building")).one()
    assert ranges == [[first, last]], "the batches of one load merge into one range"
