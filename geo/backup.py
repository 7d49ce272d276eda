"""Backups of the database in force (pg_dump custom format) and restores of them, whole or not at all.

`backup_database` dumps with `pg_dump -Fc` and counts every table's rows in the very snapshot pg_dump reads.
`restore_database` replays a dump through `pg_restore --no-owner` into psql inside ONE transaction that first
empties the target (geo/backup_clear.sql, which also says why extensions are kept rather than re-created as
`pg_restore --clean` would), so a failed restore leaves the target as it was and a successful one leaves
exactly what the backup held. Passwords reach the PostgreSQL programs through
PGPASSWORD, never their command line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from geo import cluster
from geo.config import Settings, get_settings
from geo.errors import RiskmapError

DUMP_MAGIC = b"PGDMP"
"""First bytes of every pg_dump custom-format archive."""
LOCK_TIMEOUT_S = 30.0
"""How long a restore waits for another connection's lock on a table before giving up (nothing changed)."""
CLEAR_SQL = Path(__file__).with_name("backup_clear.sql")
AUDIT_SQL = Path(__file__).with_name("backup_audit.sql")

# --- what a person reads (stable codes beside them) -----------------------------------------------------

MSG = {
    "file_missing": "备份文件不存在：{path}",
    "not_a_file": "{path} 不是文件",
    "plain_sql": "{path} 是纯文本 SQL，不是 riskmap backup 生成的备份文件（pg_dump 自定义格式）",
    "not_a_dump": "{path} 不是 riskmap backup 生成的备份文件（pg_dump 自定义格式，文件头应为 PGDMP）",
    "corrupt": "备份文件已损坏或不完整：{path}（{detail}）",
    "unreachable": "无法连接数据库服务器 {server}（数据库 {database}）：{detail}",
    "client_too_old": "数据库服务器是 PostgreSQL {server}，本机的 {program} 是 {client}，版本较旧，"
                      "无法处理；请安装 postgresql-client-{server_major}",
    "archive_too_new": "备份文件由较新的 pg_dump 生成，本机 pg_restore {client} 无法读取（{detail}）",
    "source_too_new": "备份来自 PostgreSQL {source}，比目标服务器 PostgreSQL {server} 新，无法恢复到它上面",
    "no_program": "找不到 PostgreSQL 客户端程序 {program}（{bindir}），请先运行 ./dev setup 安装",
    "dump_failed": "备份失败（pg_dump 退出码 {code}）：{detail}",
    "missing_role": "备份中的权限引用了本服务器上没有的角色 {role}，"
                    "请先运行 riskmap db upgrade 建立角色后再恢复",
    "missing_extension": "目标服务器没有安装备份所需的扩展（PostGIS / pgRouting）：{detail}",
    "locked": "数据库 {database} 正被其他连接占用（等待锁超过 {timeout}），"
              "请先停止 riskmap serve 等程序后再试",
    "restore_failed": "恢复失败：{detail}",
    "nothing_changed": "数据库 {database} 未作任何改动",
    "dropped_new": "新建的数据库 {database} 已删除",
    "create_failed": "无法新建数据库 {database}：{detail}",
}


class BackupError(RiskmapError):
    code = "backup_error"


class BackupFileMissing(BackupError):
    code = "backup_file_missing"


class NotADump(BackupError):
    code = "backup_not_a_dump"


class ServerUnreachable(BackupError):
    code = "server_unreachable"


class VersionMismatch(BackupError):
    code = "version_mismatch"


class RestoreFailed(BackupError):
    code = "restore_failed"


# --- where the database is ------------------------------------------------------------------------------

_LIBPQ_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
              "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS"}


@dataclass(frozen=True)
class Target:
    """One database on one server, as libpq parameters (host may be a unix-socket folder)."""

    database: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    options: tuple[tuple[str, str], ...] = ()

    @property
    def server(self) -> str:
        """host:port for messages (never the password)."""
        return f"{self.host or 'localhost'}:{self.port or 5432}"

    def with_database(self, name: str) -> Target:
        return Target(name, self.host, self.port, self.user, self.password, self.options)

    def env(self) -> dict[str, str]:
        """Environment for pg_dump/pg_restore/psql: the connection as PG* variables, the password included."""
        env = dict(os.environ)
        env["PGDATABASE"] = self.database
        for key, value in (("PGHOST", self.host), ("PGPORT", self.port), ("PGUSER", self.user),
                           ("PGPASSWORD", self.password)):
            if value is not None:
                env[key] = str(value)
        for key, value in self.options:
            env[_LIBPQ_ENV[key]] = value
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        env["PGAPPNAME"] = "riskmap-backup"
        return env

    def connect(self, database: str | None = None) -> Any:
        """A psycopg2 connection (to `database` on the same server when given); unreachable: Chinese error."""
        kwargs: dict[str, Any] = {"dbname": database or self.database, "connect_timeout": 10,
                                  "application_name": "riskmap-backup"}
        for key, value in (("host", self.host), ("port", self.port), ("user", self.user),
                           ("password", self.password)):
            if value is not None:
                kwargs[key] = value
        kwargs.update({k: v for k, v in self.options if k != "connect_timeout"})
        try:
            return psycopg2.connect(**kwargs)
        except psycopg2.OperationalError as exc:
            raise ServerUnreachable(MSG["unreachable"].format(
                server=self.server, database=kwargs["dbname"], detail=_first_line(str(exc)))) from None

    def sqlalchemy_url(self) -> str:
        url = make_url("postgresql+psycopg2://").set(
            username=self.user, password=self.password, database=self.database,
            query={k: v for k, v in (("host", self.host), ("port", str(self.port) if self.port else None))
                   if v is not None} | dict(self.options))
        return url.render_as_string(hide_password=False)


def target_from_url(url: str) -> Target:
    """The libpq parameters of a SQLAlchemy/PostgreSQL URL (host and port may sit in its query string)."""
    u = make_url(url)
    query = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in u.query.items()}
    host = query.pop("host", None) or u.host
    port = query.pop("port", None) or u.port
    options = tuple(sorted((k, str(v)) for k, v in query.items() if k in _LIBPQ_ENV))
    return Target(u.database or "postgres", host, int(port) if port else None, u.username, u.password,
                  options)


def target_in_force(settings: Settings | None = None) -> Target:
    """DATABASE_URL's database when set, otherwise the embedded cluster's (started on demand)."""
    from geo.db import database_url

    return target_from_url(database_url(settings))


def _server_connection(server: Target) -> Any:
    """A connection to the server of `server`: its own database, or `postgres` while that does not exist yet."""
    try:
        return server.connect()
    except ServerUnreachable as exc:
        if "does not exist" not in exc.message:
            raise
        return server.connect("postgres")


# --- PostgreSQL programs --------------------------------------------------------------------------------

def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _major(version: str) -> int:
    return int(version.split(".")[0])


def client_bindir(server_major: int | None, settings: Settings | None = None) -> Path:
    """PostgreSQL programs for a server: RISKMAP_PG_BINDIR, else its major's, else the embedded cluster's."""
    s = settings or get_settings()
    if s.pg_bindir:
        return s.pg_bindir
    if server_major is not None:
        same = Path(f"/usr/lib/postgresql/{server_major}/bin")
        if (same / "pg_dump").exists():
            return same
    return cluster._bindir(s)


def _program(bindir: Path, name: str) -> str:
    path = bindir / name
    if not path.exists():
        raise BackupError(MSG["no_program"].format(program=name, bindir=bindir))
    return str(path)


def _program_version(bindir: Path, name: str) -> str:
    """'15.20' from `pg_dump --version`."""
    out = subprocess.run([_program(bindir, name), "--version"], capture_output=True, text=True,
                         check=False).stdout
    found = re.search(r"(\d+(?:\.\d+)*)", out)
    return found.group(1) if found else "0"


def _server_version(conn: Any) -> str:
    """'15.20' from the server a psycopg2 connection talks to."""
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        return str(cur.fetchone()[0]).split()[0]


def _check_client(bindir: Path, program: str, server_version: str) -> None:
    client = _program_version(bindir, program)
    if _major(client) < _major(server_version):
        raise VersionMismatch(MSG["client_too_old"].format(
            server=server_version, program=program, client=client, server_major=_major(server_version)))


# --- row counts ------------------------------------------------------------------------------------------

_TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'e')
ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname
"""


def user_tables(cur: Any) -> list[tuple[str, str]]:
    """(schema, table) of every table of ours: extension tables such as spatial_ref_sys are left out."""
    cur.execute(_TABLES_SQL)
    return [(schema, name) for schema, name in cur.fetchall()]


def _label(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def row_counts(cur: Any) -> dict[str, int]:
    """Exact row count of every table of ours (public tables by bare name), in the cursor's transaction."""
    counts: dict[str, int] = {}
    for schema, name in user_tables(cur):
        cur.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema),
                                                                  sql.Identifier(name)))
        counts[_label(schema, name)] = int(cur.fetchone()[0])
    return counts


# --- backup ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    database: str
    server_version: str
    row_counts: dict[str, int]


def default_backup_path(database: str, *, settings: Settings | None = None,
                        now: dt.datetime | None = None) -> Path:
    """`.riskmap/backups/riskmap-<db>-<YYYYmmdd-HHMMSS>.dump` (local time)."""
    s = settings or get_settings()
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return s.home / "backups" / f"riskmap-{database}-{stamp}.dump"


def backup_database(output: Path | None = None, *, target: Target | None = None,
                    settings: Settings | None = None) -> BackupResult:
    """Dump the database in force (or `target`) with `pg_dump -Fc`; row counts come from pg_dump's snapshot.

    The file appears only once pg_dump has finished (written as `<name>.partial` first) and is readable
    by its owner alone, since it holds the bureau's whole register.
    """
    s = settings or get_settings()
    t = target or target_in_force(s)
    conn = t.connect()
    try:
        version = _server_version(conn)
        bindir = client_bindir(_major(version), s)
        _check_client(bindir, "pg_dump", version)
        conn.rollback()
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with conn.cursor() as cur:
            cur.execute("SET LOCAL row_security = off")  # count what pg_dump dumps, or fail as it does
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = row_counts(cur)
        path = (output or default_backup_path(t.database, settings=s)).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        # created here, owner-only from its first byte (pg_dump --file would create it with the umask's mode)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            res = subprocess.run([_program(bindir, "pg_dump"), "--format=custom", f"--snapshot={snapshot}"],
                                 env=t.env(), stdout=fd, stderr=subprocess.PIPE, text=True, check=False)
        finally:
            os.close(fd)
        if res.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(MSG["dump_failed"].format(code=res.returncode, detail=_first_line(res.stderr)))
        partial.replace(path)
    finally:
        conn.rollback()
        conn.close()
    return BackupResult(path, path.stat().st_size, t.database, version, counts)


# --- reading a dump ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DumpInfo:
    """What a dump's header says: the database it came from, when, and from which server."""

    path: Path
    database: str
    created: str
    source_version: str
    archive_version: str
    table_count: int


def _check_file(path: Path) -> None:
    if not path.exists():
        raise BackupFileMissing(MSG["file_missing"].format(path=path))
    if not path.is_file():
        raise BackupFileMissing(MSG["not_a_file"].format(path=path))
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(DUMP_MAGIC):
        return
    if b"PostgreSQL database dump" in head or head.lstrip().startswith(b"--"):
        raise NotADump(MSG["plain_sql"].format(path=path))
    raise NotADump(MSG["not_a_dump"].format(path=path))


def read_dump(path: Path, bindir: Path) -> DumpInfo:
    """A custom-format dump's header, read by `pg_restore --list`; no dump or unreadable: Chinese error."""
    _check_file(path)
    res = subprocess.run([_program(bindir, "pg_restore"), "--list", str(path)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        detail = _first_line(res.stderr).removeprefix("pg_restore: error: ") or \
            f"pg_restore 异常退出（退出码 {res.returncode}）"
        if "unsupported version" in detail:
            raise VersionMismatch(MSG["archive_too_new"].format(
                client=_program_version(bindir, "pg_restore"), detail=detail))
        raise NotADump(MSG["corrupt"].format(path=path, detail=detail))

    def header(key: str) -> str:
        found = re.search(rf"^;\s+{key}:? (.*)$", res.stdout, re.MULTILINE)
        return found.group(1).strip() if found else ""

    tables = sum(1 for line in res.stdout.splitlines()
                 if re.match(r"^\d+; \d+ \d+ TABLE DATA ", line) and " spatial_ref_sys " not in line)
    return DumpInfo(path, header("dbname"), header("Archive created at"),
                    header("Dumped from database version"), header("Dump Version"), tables)


# --- restore ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestorePlan:
    """Where a dump would go and what it would replace; the CLI shows it before asking for confirmation."""

    dump: DumpInfo
    target: Target
    server_version: str
    exists: bool
    in_force: bool
    bindir: Path


@dataclass(frozen=True)
class RestoreResult:
    database: str
    created: bool
    revision: str | None
    row_counts: dict[str, int]


def plan_restore(dump: Path, *, database: str | None = None, target: Target | None = None,
                 settings: Settings | None = None) -> RestorePlan:
    """Check the file, the server and their versions; nothing is changed yet."""
    s = settings or get_settings()
    _check_file(dump)
    in_force = target or target_in_force(s)
    t = in_force.with_database(database) if database else in_force
    conn = _server_connection(in_force)
    try:
        version = _server_version(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (t.database,))
            exists = cur.fetchone() is not None
    finally:
        conn.close()
    bindir = client_bindir(_major(version), s)
    _check_client(bindir, "pg_restore", version)
    info = read_dump(dump, bindir)
    if info.source_version and _major(info.source_version) > _major(version):
        raise VersionMismatch(MSG["source_too_new"].format(source=info.source_version, server=version))
    return RestorePlan(info, t, version, exists, t.database == in_force.database, bindir)


def _ensure_roles(server: Target) -> None:
    """Create the cluster-wide riskmap_* roles a dump's GRANTs and policies name, once access control exists.

    Roles are global to the server, so a fresh server needs them before pg_restore. Only the roles are made
    here (committed at once): `geo.access.roles.ensure_roles` also writes grants and policies into the
    database it runs in, which must not happen to a target that the restore may yet leave untouched.
    """
    from sqlalchemy import create_engine

    from geo.access.roles import create_roles

    eng = create_engine(server.sqlalchemy_url())
    try:
        with eng.begin() as sa_conn:
            create_roles(sa_conn)
    finally:
        eng.dispose()


def _explain(psql_stderr: str, restore_stderr: str, *, file_at_fault: bool, plan: RestorePlan,
             lock_timeout_s: float) -> BackupError:
    """The first real error of pg_restore (a damaged file) or psql (the server refused), in Chinese."""
    stderr = restore_stderr if file_at_fault else psql_stderr
    errors = [ln for ln in stderr.splitlines() if re.search(r"(ERROR|error|FATAL):", ln)]
    detail = re.sub(r"^.*?(ERROR|error|FATAL):\s*", "", errors[0]) if errors else _first_line(stderr)
    if file_at_fault:
        return NotADump(MSG["corrupt"].format(path=plan.dump.path, detail=detail))
    if found := re.search(r'role "([^"]+)" does not exist', stderr):
        return RestoreFailed(MSG["missing_role"].format(role=found.group(1)))
    if "extension control file" in stderr or re.search(r'extension "[^"]+" is not available', stderr):
        return RestoreFailed(MSG["missing_extension"].format(detail=detail))
    if "lock timeout" in stderr:
        return RestoreFailed(MSG["locked"].format(database=plan.target.database,
                                                  timeout=f"{lock_timeout_s:g} 秒"))
    return RestoreFailed(MSG["restore_failed"].format(detail=detail))


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is None:
        return
    try:
        stream.close()
    except BrokenPipeError:
        pass


def audit_sql(plan: RestorePlan) -> str:
    """The restore's bulk audit entries (geo/backup_audit.sql): one per audited table, naming the file and its hash."""
    from geo.access.bulk import file_sha256, operation, set_sql

    path = Path(plan.dump.path)
    op = operation("restore", path.name, file_sha256(path), database=plan.target.database)
    return "\n" + set_sql(op) + "\n" + AUDIT_SQL.read_text(encoding="utf-8") + "\n"


def _replay(plan: RestorePlan, *, lock_timeout_s: float) -> None:
    """pg_restore's script piped into psql inside one transaction, committed only if both ran to the end."""
    env = plan.target.env()
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c client_min_messages=warning").strip()
    preamble = (f"SET lock_timeout = '{int(lock_timeout_s * 1000)}ms';\nSET statement_timeout = 0;\nBEGIN;\n"
                + CLEAR_SQL.read_text(encoding="utf-8") + "\n")
    restore_cmd = [_program(plan.bindir, "pg_restore"), "--no-owner", "--exit-on-error", "--file", "-",
                   str(plan.dump.path)]
    psql_cmd = [_program(plan.bindir, "psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1"]
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        restore = subprocess.Popen(restore_cmd, stdout=subprocess.PIPE, stderr=restore_err, env=env)
        psql = subprocess.Popen(psql_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err,
                                env=env)
        assert restore.stdout is not None and psql.stdin is not None
        committed = False
        try:
            psql.stdin.write(preamble.encode())
            shutil.copyfileobj(restore.stdout, psql.stdin, 1 << 20)
            if restore.wait() == 0:
                psql.stdin.write(audit_sql(plan).encode())
                psql.stdin.write(b"COMMIT;\n")
                committed = True
        except BrokenPipeError:  # psql stopped at an error: its transaction is rolled back
            pass
        finally:
            _close_quietly(psql.stdin)  # without COMMIT, psql ends and the server rolls back
            _close_quietly(restore.stdout)
            if restore.poll() is None:
                restore.kill()
            restore.wait()
            psql.wait()
        restore_err.seek(0)
        psql_err.seek(0)
        psql_text = psql_err.read().decode(errors="replace")
        restore_text = restore_err.read().decode(errors="replace")
    if not (committed and restore.returncode == 0 and psql.returncode == 0):
        # pg_restore stopping by itself (not by the pipe psql closed, nor killed by us): the file is damaged
        file_at_fault = (restore.returncode not in (0, -signal.SIGPIPE, -signal.SIGKILL)
                         and "Broken pipe" not in restore_text)
        if file_at_fault and restore.returncode < 0:
            restore_text += f"\npg_restore: error: pg_restore 异常退出（信号 {-restore.returncode}）"
        raise _explain(psql_text, restore_text, file_at_fault=file_at_fault, plan=plan,
                       lock_timeout_s=lock_timeout_s)


def restore_database(dump: Path, *, database: str | None = None, target: Target | None = None,
                     settings: Settings | None = None, plan: RestorePlan | None = None,
                     lock_timeout_s: float = LOCK_TIMEOUT_S) -> RestoreResult:
    """Replace the database in force (or `database` on its server, created when new) by a dump's contents.

    All or nothing: on any error the target keeps its data, and a database created for the restore is dropped.
    """
    p = plan or plan_restore(dump, database=database, target=target, settings=settings)
    created = False
    if not p.exists:
        conn = _server_connection(target or target_in_force(settings))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(p.target.database)))
        except psycopg2.Error as exc:
            raise RestoreFailed(MSG["create_failed"].format(database=p.target.database,
                                                            detail=_first_line(str(exc)))) from None
        finally:
            conn.close()
        created = True
    server = target or target_in_force(settings)
    try:
        _ensure_roles(server)
        _replay(p, lock_timeout_s=lock_timeout_s)
    except BaseException as exc:
        if created:
            _drop_database(server, p.target.database)
        if isinstance(exc, BackupError):
            key = "dropped_new" if created else "nothing_changed"
            exc.message += "；" + MSG[key].format(database=p.target.database)
            exc.args = (exc.message,)
        raise
    conn = p.target.connect()
    try:
        with conn.cursor() as cur:
            counts = row_counts(cur)
            revision = None
            if "alembic_version" in counts:
                cur.execute("SELECT version_num FROM alembic_version")
                one = cur.fetchone()
                revision = one[0] if one else None
        conn.rollback()
    finally:
        conn.close()
    return RestoreResult(p.target.database, created, revision, counts)


def _drop_database(server: Target, name: str) -> None:
    conn = _server_connection(server) if server.database != name else server.connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()
