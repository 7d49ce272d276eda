"""The embedded PostGIS cluster: a private PostgreSQL under `.riskmap/pg`, used when no DATABASE_URL is set.

It listens on a unix socket in `.riskmap/pg/run` and on 127.0.0.1:<pg_port>; initdb runs once,
start is idempotent and a stale postmaster.pid left by a crash is removed before starting.
When run as root the server runs as the `postgres` system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from geo.config import Settings, get_settings
from geo.errors import RiskmapError

SUPERUSER = "riskmap"


class ClusterError(RiskmapError):
    code = "cluster_error"


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path
    port: int

    def describe(self) -> str:
        """One Chinese line for `riskmap db status`."""
        if not self.initialised:
            return f"内置数据库未初始化（{self.data_dir}）"
        state = f"运行中 (pid {self.pid})" if self.running else "已停止"
        return f"内置数据库{state}：{self.data_dir}，端口 127.0.0.1:{self.port}，套接字 {self.socket_dir}"


def _bindir(settings: Settings) -> Path:
    if settings.pg_bindir:
        return settings.pg_bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    preferred = [c for c in candidates if c.parent.parent.name == "15"]
    found = preferred or candidates[-1:]
    if not found:
        raise ClusterError("找不到 PostgreSQL 服务端程序（/usr/lib/postgresql/*/bin），请先运行 ./dev setup 安装")
    return found[0].parent


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    base = settings.pg_dir.resolve()
    return base / "data", base / "run", base / "log"


def _as_server_user() -> list[str]:
    """Prefix for commands that must not run as root."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_server_user() + cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def _chown_for_server(*paths: Path) -> None:
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam("postgres")
    for p in paths:
        for root, dirs, files in os.walk(p):
            os.chown(root, pw.pw_uid, pw.pw_gid)
            for f in files:
                os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)


def _port_file(s: Settings) -> Path:
    return s.pg_dir.resolve() / "port"


def cluster_port(s: Settings) -> int:
    """The port the cluster listens on: the last `port =` of its postgresql.conf — settings.pg_port when it was
    made, another only when that was taken (`_claim_port`) — so a port setting changed later still finds it;
    settings.pg_port before there is a cluster."""
    f = _port_file(s)
    if f.exists():
        return int(f.read_text().strip())
    try:
        conf = (_paths(s)[0] / "postgresql.conf").read_text()
    except OSError:  # no cluster yet (or not ours to read)
        return s.pg_port
    ports = re.findall(r"^\s*port\s*=\s*(\d+)", conf, flags=re.M)
    return int(ports[-1]) if ports else s.pg_port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim_port(s: Settings, data: Path) -> None:
    """Keep the cluster's port, or move it to a free one when another program holds it."""
    port = cluster_port(s)
    if _port_free(port):
        return
    for candidate in range(s.pg_port + 1, s.pg_port + 200):
        if _port_free(candidate):
            with (data / "postgresql.conf").open("a") as f:
                f.write(f"port = {candidate}  # {port} was taken\n")
            _port_file(s).write_text(f"{candidate}\n")
            return
    raise ClusterError(f"端口 {port} 及其后 200 个端口都被占用，无法启动内置数据库")


def status(settings: Settings | None = None) -> ClusterStatus:
    s = settings or get_settings()
    data, run, _ = _paths(s)
    initialised = (data / "PG_VERSION").exists()
    pid: int | None = None
    running = False
    if initialised:
        res = _run([str(_bindir(s) / "pg_ctl"), "status", "-D", str(data)])
        running = res.returncode == 0
        if running and (data / "postmaster.pid").exists():
            pid = int((data / "postmaster.pid").read_text().split()[0])
    return ClusterStatus(initialised, running, pid, data, run, cluster_port(s))


def _initdb(s: Settings) -> None:
    data, run, log = _paths(s)
    for p in (data.parent, run, log):
        p.mkdir(parents=True, exist_ok=True)
    data.mkdir(mode=0o700, exist_ok=True)
    _chown_for_server(data.parent)
    if os.geteuid() == 0:
        # the server user must be able to reach the folder through every parent
        for parent in data.parent.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                raise ClusterError(f"目录 {parent} 不允许 postgres 用户进入，无法在此建立内置数据库")
    res = _run([str(_bindir(s) / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
                "-E", "UTF8", "--locale=C.UTF-8"])
    if res.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise ClusterError(f"initdb 失败：{res.stderr.strip()}")
    conf = data / "postgresql.conf"
    with conf.open("a") as f:
        f.write(
            "\n# riskmap embedded cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {s.pg_port}\n"
            f"unix_socket_directories = '{run}'\n"
            "shared_buffers = 512MB\nwork_mem = 64MB\nmaintenance_work_mem = 512MB\n"
            "fsync = on\nsynchronous_commit = off\nmax_connections = 200\n"
            "jit = off\n"
        )


def start(settings: Settings | None = None, *, timeout_s: float = 60) -> ClusterStatus:
    """Initialise (once) and start the embedded cluster; harmless when it already runs."""
    s = settings or get_settings()
    data, run, log = _paths(s)
    if not (data / "PG_VERSION").exists():
        _initdb(s)
    st = status(s)
    if st.running:
        _ensure_database(s)
        return st
    pidfile = data / "postmaster.pid"
    if pidfile.exists():  # stale: pg_ctl status said no server runs with it
        pidfile.unlink()
    run.mkdir(parents=True, exist_ok=True)
    log.mkdir(parents=True, exist_ok=True)
    _claim_port(s, data)
    _chown_for_server(run, log)
    res = _run([str(_bindir(s) / "pg_ctl"), "start", "-D", str(data), "-w", "-t", str(int(timeout_s)),
                "-l", str(log / "postgresql.log")])
    if res.returncode != 0:
        tail = ""
        if (log / "postgresql.log").exists():
            tail = "\n".join((log / "postgresql.log").read_text(errors="replace").splitlines()[-10:])
        raise ClusterError(f"内置数据库启动失败：{res.stderr.strip() or res.stdout.strip()}\n{tail}")
    deadline = time.monotonic() + timeout_s
    while not status(s).running:
        if time.monotonic() > deadline:
            raise ClusterError("内置数据库启动超时")
        time.sleep(0.2)
    _ensure_database(s)
    return status(s)


def stop(settings: Settings | None = None) -> ClusterStatus:
    """Stop the embedded cluster (fast shutdown); harmless when it is not running."""
    s = settings or get_settings()
    data, _, _ = _paths(s)
    if status(s).running:
        res = _run([str(_bindir(s) / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"])
        if res.returncode != 0:
            raise ClusterError(f"内置数据库停止失败：{res.stderr.strip()}")
    return status(s)


def admin_url(s: Settings, database: str = "postgres") -> str:
    _, run, _ = _paths(s)
    return f"postgresql+psycopg2://{SUPERUSER}@/{database}?host={run}&port={cluster_port(s)}"


def _ensure_database(s: Settings) -> None:
    import psycopg2

    _, run, _ = _paths(s)
    conn = psycopg2.connect(host=str(run), port=cluster_port(s), user=SUPERUSER, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (s.db_name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{s.db_name}"')
    finally:
        conn.close()
