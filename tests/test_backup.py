"""A bureau backs up its register and gets exactly it back: into a new database, or over the one in force.

Every test runs real pg_dump / pg_restore / psql against the test server; the databases made here are dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from shapely.geometry import LineString, Point, box
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geo.backup import (
    BackupFileMissing,
    NotADump,
    RestoreFailed,
    ServerUnreachable,
    Target,
    VersionMismatch,
    backup_database,
    read_dump,
    restore_database,
    target_from_url,
    user_tables,
)
from geo.cli import main
from geo.encroachment import check_encroachments
from geo.encroachment.register import add_attachment, confirm_candidate, record_encroachment
from geo.register import change_status
from geo.register.hazard import record_hazard
from tests.encroach_fixtures import (
    X0,
    Y0,
    add_building,
    add_enterprise,
    add_pipeline,
    add_road,
    to_storage,
    truncate_register,
    two_townships,
)

TODAY = dt.date(2026, 11, 23)
Fingerprint = dict[str, tuple[int, str]]


@pytest.fixture
def filled(county: Engine) -> Iterator[Engine]:
    """Two townships, a pipeline, buildings, enterprises, encroachments with dossiers, hazards and events."""
    with county.begin() as conn:
        west, east = two_townships(conn)
        add_pipeline(conn, "GX-01", LineString([(X0 - 3000, Y0), (X0 + 3000, Y0)]), operator="晋西输气公司")
        add_road(conn, LineString([(X0 - 3000, Y0 + 800), (X0 + 3000, Y0 + 800)]))
        for i in range(6):
            add_building(conn, box(X0 - 2500 + i * 900, Y0 + 1, X0 - 2490 + i * 900, Y0 + 12))
        add_enterprise(conn, "91140930MA0000001X", "西镇化工", Point(X0 - 1000, Y0 + 500), west)
        add_enterprise(conn, "91140930MA0000002X", "东镇化工", Point(X0 + 1000, Y0 + 500), east)
        candidates = check_encroachments(conn)
        code = confirm_candidate(conn, candidates[0].candidate_id, by="张三", nature="违法建设",
                                 measure="拆除",
                                 attachments=["照片/001.jpg"], on=TODAY)
        add_attachment(conn, code, reference="整改通知书 河应急〔2026〕12号", by="张三")
        change_status(conn, "encroachment", code, "rectifying", by="张三", on=TODAY)
        record_encroachment(conn, wkt=to_storage(box(X0 + 100, Y0 - 3, X0 + 108, Y0 + 5)).wkt,
                            by="巡线员王五",
                            nature="历史遗留", formed_on=dt.date(2009, 5, 1), on=TODAY)
        hazard = record_hazard(conn, enterprise_uscc="91140930MA0000001X", level="major", by="检查组",
                               description="储罐区可燃气体报警器失效", found_on=TODAY)
        change_status(conn, "hazard", hazard, "rectifying", by="企业安全员", on=TODAY)
        record_hazard(conn, enterprise_uscc="91140930MA0000002X", level="general", by="检查组",
                      found_on=TODAY)
    yield county
    with county.begin() as conn:
        truncate_register(conn)


@pytest.fixture
def new_database(db_url: str) -> Iterator[Callable[[str], str]]:
    """Names of databases this test may create on the test server; all dropped afterwards."""
    base = make_url(db_url).database
    made: list[str] = []

    def name(suffix: str) -> str:
        made.append(f"{base}_{suffix}")
        _drop(db_url, made[-1])
        return made[-1]

    yield name
    for n in made:
        _drop(db_url, n)


def _connect(url: str, database: str | None = None) -> psycopg2.extensions.connection:
    t = target_from_url(url)
    return t.connect(database)


def _drop(url: str, name: str) -> None:
    conn = _connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


def _exists(url: str, name: str) -> bool:
    conn = _connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        found = cur.fetchone() is not None
    conn.close()
    return found


def fingerprint(url: str | Target, database: str | None = None) -> Fingerprint:
    """Per table of ours: row count and md5 of its rows' text in primary-key order (geometry as EWKB hex)."""
    conn = url.connect(database) if isinstance(url, Target) else _connect(url, database)
    out: Fingerprint = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SET row_security = off")
            for schema, name in user_tables(cur):
                cur.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                    "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                    (f'"{schema}"."{name}"',))
                keys = [sql.Identifier("t", k) for (k,) in cur.fetchall()] or [sql.SQL("t::text")]
                # a restore adds its own audit entries (issue #17): the rows compared are those it brought back
                where = sql.SQL("WHERE NOT coalesce(t.after -> 'bulk' ->> 'kind' = 'restore', false)"
                                if (schema, name) == ("public", "audit_log") else "")
                cur.execute(sql.SQL(
                    "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY {})), '') FROM {}.{} t {}"
                ).format(sql.SQL(", ").join(keys), sql.Identifier(schema), sql.Identifier(name), where))
                n, digest = cur.fetchone()
                out[name if schema == "public" else f"{schema}.{name}"] = (int(n), str(digest))
    finally:
        conn.close()
    return out


def test_round_trip_into_a_new_database_gives_every_table_back_row_for_row(
        filled: Engine, db_url: str, new_database: Callable[[str], str], tmp_path: Path) -> None:
    before = fingerprint(db_url)
    result = backup_database(tmp_path / "河曲县.dump")
    assert result.path.exists() and result.size_bytes == result.path.stat().st_size > 0
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"
    assert result.row_counts == {name: n for name, (n, _) in before.items()}
    for table in ("township", "pipeline", "building", "enterprise", "encroachment", "hazard",
                  "register_event"):
        assert result.row_counts[table] > 0, table

    name = new_database("restored")
    restored = restore_database(result.path, database=name)
    assert restored.created and restored.database == name
    after = fingerprint(db_url, name)
    assert after == before
    restored_entries = {t: n for t, n in restored.row_counts.items() if t != "audit_log"}
    assert restored_entries == {table: n for table, (n, _) in before.items() if table != "audit_log"}
    with _connect(db_url, name) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, actor, after -> 'bulk', (after ->> 'rows')::int FROM audit_log "
                    "WHERE after -> 'bulk' ->> 'kind' = 'restore'")
        entries = {t: (actor, op, n) for t, actor, op, n in cur.fetchall()}
    assert entries["building"][2] == before["building"][0] and entries["hazard"][2] == before["hazard"][0]
    assert entries["building"][1]["source"] == "河曲县.dump"
    assert entries["building"][1]["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert restored.row_counts["audit_log"] == before["audit_log"][0] + len(entries)
    assert restored.revision is not None and restored.revision == _revision(db_url)
    with _connect(db_url, name) as conn, conn.cursor() as cur:
        cur.execute("SELECT dossier->'attachments', ST_SRID(geom), ST_IsValid(geom) FROM encroachment "
                    "WHERE status = 'rectifying'")
        attachments, srid, valid = cur.fetchone()
    assert attachments == ["照片/001.jpg", "整改通知书 河应急〔2026〕12号"]
    assert (srid, valid) == (4490, True)


def test_a_database_in_force_that_does_not_exist_yet_is_created_by_the_restore(
        filled: Engine, db_url: str, new_database: Callable[[str], str], tmp_path: Path) -> None:
    """DATABASE_URL may name a database a fresh server does not have yet: the restore makes it."""
    dump = backup_database(tmp_path / "to_fresh.dump").path
    name = new_database("not_yet")
    result = restore_database(dump, target=target_from_url(db_url).with_database(name))
    assert result.created and _exists(db_url, name)
    assert fingerprint(db_url, name) == fingerprint(db_url)


def _revision(url: str, database: str | None = None) -> str | None:
    conn = _connect(url, database)
    with conn.cursor() as cur:
        cur.execute("SELECT version_num FROM alembic_version")
        row = cur.fetchone()
    conn.close()
    return row[0] if row else None


def test_restoring_over_the_database_in_force_brings_the_old_data_back(
        filled: Engine, db_url: str, tmp_path: Path) -> None:
    before = fingerprint(db_url)
    dump = backup_database(tmp_path / "before.dump").path
    with filled.begin() as conn:
        conn.execute(text("UPDATE encroachment SET dossier = dossier || '{\"note\": \"误改\"}'::jsonb"))
        conn.execute(text("DELETE FROM register_event WHERE object_kind = 'hazard'"))
        conn.execute(text("UPDATE building SET geom = ST_Translate(geom, 0.001, 0) WHERE id = 1"))
        add_building(conn, box(X0, Y0 + 100, X0 + 10, Y0 + 110))
        conn.execute(text("CREATE TABLE scratch_after_backup (id int PRIMARY KEY REFERENCES township (id))"))
    changed = fingerprint(db_url)
    assert changed != before
    assert {"encroachment", "register_event", "building", "scratch_after_backup"} <= {
        t for t in changed if changed[t] != before.get(t)}

    result = restore_database(dump)
    assert not result.created
    assert fingerprint(db_url) == before  # the table added after the backup is gone too
    with filled.connect() as conn:  # the app's own pooled engine works on the restored tables
        assert conn.execute(text("SELECT count(*) FROM building")).scalar_one() == before["building"][0]


def test_a_connection_open_across_the_restore_keeps_answering_spatial_queries(
        filled: Engine, db_url: str, tmp_path: Path) -> None:
    """As `riskmap serve`'s would: PostGIS keeps per-connection caches a re-created extension breaks."""
    dump = backup_database(tmp_path / "live.dump").path
    query = ("SELECT count(*) FROM building WHERE ST_Intersects(geom, "
             "(SELECT ST_Union(geom) FROM township))")
    live = _connect(db_url)
    try:
        with live.cursor() as cur:
            cur.execute(query)
            n_before = cur.fetchone()[0]
        live.commit()
        assert n_before > 0
        restore_database(dump)
        with live.cursor() as cur:
            cur.execute(query)
            assert cur.fetchone()[0] == n_before
        live.commit()
    finally:
        live.close()


def test_a_lock_held_elsewhere_stops_the_restore_and_changes_nothing(
        filled: Engine, db_url: str, tmp_path: Path) -> None:
    dump = backup_database(tmp_path / "locked.dump").path
    with filled.begin() as conn:
        conn.execute(text("DELETE FROM hazard WHERE level = 'general'"))
    before = fingerprint(db_url)
    holder = _connect(db_url)
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE township IN ACCESS SHARE MODE")  # an open transaction reading township
        with pytest.raises(RestoreFailed, match="正被其他连接占用.*未作任何改动"):
            restore_database(dump, lock_timeout_s=0.5)
    finally:
        holder.rollback()
        holder.close()
    assert fingerprint(db_url) == before


def test_a_file_that_is_no_dump_or_is_damaged_gives_a_chinese_error_and_changes_nothing(
        filled: Engine, db_url: str, new_database: Callable[[str], str], tmp_path: Path) -> None:
    good = backup_database(tmp_path / "good.dump").path
    data = good.read_bytes()
    text_file = tmp_path / "notes.dump"
    text_file.write_text("这不是备份文件\n", encoding="utf-8")
    plain = tmp_path / "plain.sql"
    plain.write_text("--\n-- PostgreSQL database dump\n--\nDROP TABLE township;\n", encoding="utf-8")
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(data[: len(data) * 2 // 3])  # its table of contents is cut: pg_restore --list fails
    tail_cut = tmp_path / "tail_cut.dump"
    tail_cut.write_bytes(data[:-64])  # contents intact, the last table's data cut: fails inside the restore
    header_only = tmp_path / "header.dump"
    header_only.write_bytes(data[:200])
    before = fingerprint(db_url)

    with pytest.raises(NotADump, match="不是 riskmap backup 生成的备份文件"):
        restore_database(text_file)
    with pytest.raises(NotADump, match="纯文本 SQL"):
        restore_database(plain)
    with pytest.raises(NotADump, match="备份文件已损坏或不完整"):
        restore_database(header_only)
    with pytest.raises(NotADump, match="备份文件已损坏或不完整"):
        restore_database(truncated)
    with pytest.raises(NotADump, match="备份文件已损坏或不完整.*未作任何改动"):
        restore_database(tail_cut)
    with pytest.raises(BackupFileMissing, match="备份文件不存在"):
        restore_database(tmp_path / "missing.dump")
    assert fingerprint(db_url) == before

    name = new_database("from_damaged")
    with pytest.raises(NotADump, match="已删除"):
        restore_database(tail_cut, database=name)
    assert not _exists(db_url, name)


def test_version_mismatch_and_unreachable_server_are_named(
        filled: Engine, db_url: str, tmp_path: Path) -> None:
    data = bytearray(backup_database(tmp_path / "ok.dump").path.read_bytes())
    bindir = Path(_bin_of_server(db_url))
    newer_format = tmp_path / "newer_format.dump"
    newer_format.write_bytes(bytes(data[:6]) + bytes([99]) + bytes(data[7:]))  # archive format 1.99
    with pytest.raises(VersionMismatch, match="较新的 pg_dump"):
        read_dump(newer_format, bindir)

    version = _server_version_of(db_url)
    at = data.find(version.encode())
    assert at > 0, "the header names the source server's version"
    major = version.split(".")[0].encode()
    newer_server = tmp_path / "newer_server.dump"
    newer_server.write_bytes(bytes(data[:at]) + b"9" * len(major) + bytes(data[at + len(major):]))
    with pytest.raises(VersionMismatch, match="比目标服务器.*新"):
        restore_database(newer_server)

    nowhere = Target("riskmap", host="127.0.0.1", port=_closed_port(), user="riskmap")
    with pytest.raises(ServerUnreachable, match="无法连接数据库服务器 127.0.0.1"):
        backup_database(tmp_path / "x.dump", target=nowhere)
    with pytest.raises(ServerUnreachable, match="无法连接数据库服务器"):
        restore_database(tmp_path / "ok.dump", target=nowhere)
    assert not (tmp_path / "x.dump").exists()


def _server_version_of(url: str) -> str:
    conn = _connect(url)
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = str(cur.fetchone()[0])
    conn.close()
    return version


def _bin_of_server(url: str) -> str:
    from geo.backup import client_bindir

    return str(client_bindir(int(_server_version_of(url).split(".")[0])))


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fresh_server() -> Iterator[Target]:
    """A second, brand-new PostgreSQL cluster (no riskmap_* roles, an empty `riskmap` database), then gone."""
    import tempfile

    from geo import cluster
    from geo.config import Settings

    home = Path(tempfile.mkdtemp(prefix="riskmap-fresh-", dir="/tmp"))
    home.chmod(0o755)  # the server runs as postgres when the tests run as root
    settings = Settings(home=home, pg_port=_closed_port(), db_name="riskmap")
    try:
        cluster.start(settings)
        yield target_from_url(cluster.admin_url(settings, "riskmap"))
    finally:
        cluster.stop(settings)
        shutil.rmtree(home, ignore_errors=True)


def test_a_backup_restores_onto_a_fresh_server_with_its_roles_grants_and_policies(
        filled: Engine, db_url: str, fresh_server: Target, tmp_path: Path) -> None:
    dump = backup_database(tmp_path / "move.dump").path
    with fresh_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'riskmap\\_%'")
        assert cur.fetchone()[0] == 0
    conn.close()
    result = restore_database(dump, target=fresh_server)
    assert not result.created
    assert fingerprint(fresh_server) == fingerprint(db_url)
    grants, policies = _grants_and_policies(target_from_url(db_url))
    assert _grants_and_policies(fresh_server) == (grants, policies)
    if importlib.util.find_spec("geo.access") is not None:  # access control has landed: roles were needed
        assert grants and policies


def _grants_and_policies(target: Target) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT grantee, table_name, privilege_type "
                        "FROM information_schema.role_table_grants "
                        "WHERE grantee LIKE 'riskmap\\_%' ORDER BY 1, 2, 3")
            grants = cur.fetchall()
            cur.execute("SELECT tablename, policyname, roles::text, cmd, coalesce(qual, ''), "
                        "coalesce(with_check, '') FROM pg_policies ORDER BY 1, 2")
            policies = cur.fetchall()
    finally:
        conn.close()
    return grants, policies


def test_the_password_reaches_pg_dump_through_the_environment_only(
        filled: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-口令"
    with_password = make_url(db_url).set(password=secret).render_as_string(hide_password=False)
    target = target_from_url(with_password)
    assert target.env()["PGPASSWORD"] == secret and secret not in repr(target)
    seen: list[tuple[list[str], dict[str, str]]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(cmd: list[str], *a: object, **kw: object) -> object:
        seen.append((list(cmd), dict(kw.get("env") or {})))  # type: ignore[arg-type]
        return real_run(cmd, *a, **kw)  # type: ignore[call-overload]

    class Popen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, cmd: list[str], *a: object, **kw: object) -> None:
            seen.append((list(cmd), dict(kw.get("env") or {})))  # type: ignore[arg-type]
            super().__init__(cmd, *a, **kw)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", Popen)
    dump = backup_database(tmp_path / "pw.dump", target=target).path
    restore_database(dump, target=target)
    programs = {Path(cmd[0]).name for cmd, _ in seen}
    assert {"pg_dump", "pg_restore", "psql"} <= programs
    assert not any(secret in " ".join(cmd) for cmd, _ in seen)
    assert all(env.get("PGPASSWORD") == secret for cmd, env in seen
               if Path(cmd[0]).name in ("pg_dump", "psql") and "--version" not in cmd)  # the two that connect


def test_cli_backs_up_with_counts_and_restores_only_when_confirmed(
        filled: Engine, db_url: str, new_database: Callable[[str], str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "cli.dump"
    assert main(["backup", "-o", str(out_file)]) == 0
    printed = capsys.readouterr().out
    assert "已备份数据库" in printed and str(out_file) in printed and "大小：" in printed
    townships = fingerprint(db_url)["township"][0]
    assert any(line.split()[:2] == ["township", f"{townships:,}"] for line in printed.splitlines())

    name = new_database("cli")
    assert main(["restore", str(out_file), "--database", name]) == 0  # a new database needs no confirmation
    printed = capsys.readouterr().out
    assert f"已新建并恢复数据库 {name}" in printed
    assert fingerprint(db_url, name) == fingerprint(db_url)

    with filled.begin() as conn:
        conn.execute(text("DELETE FROM hazard WHERE level = 'general'"))
    changed = fingerprint(db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # not a terminal: no question is asked
    assert main(["restore", str(out_file)]) == 2
    assert "未确认，未作任何改动" in capsys.readouterr().err
    assert fingerprint(db_url) == changed
    assert main(["restore", str(out_file), "--yes"]) == 0
    assert "已恢复数据库" in capsys.readouterr().out
    assert fingerprint(db_url) == fingerprint(db_url, name)


def test_default_backup_file_lies_under_riskmap_home(filled: Engine, db_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.config import get_settings

    monkeypatch.setenv("RISKMAP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = backup_database()
    finally:
        monkeypatch.delenv("RISKMAP_HOME")
        get_settings.cache_clear()
    database = make_url(db_url).database
    assert result.path.parent == (tmp_path / "home" / "backups").resolve()
    stamp = result.path.name.removeprefix(f"riskmap-{database}-").removesuffix(".dump")
    assert dt.datetime.strptime(stamp, "%Y%m%d-%H%M%S")
    assert not list(result.path.parent.glob("*.partial"))
    assert os.access(result.path, os.R_OK)
