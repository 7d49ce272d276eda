"""`riskmap serve` and `riskmap map`: the HTTP service and standalone map files."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli import registrar


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from geo.config import get_settings
    from geo.db import get_engine

    s = get_settings()
    get_engine()  # start the embedded cluster before the first request
    host, port = args.host or s.host, args.port or s.port
    print(f"地图服务已启动：http://{host}:{port}/maps  （接口文档 http://{host}:{port}/docs，Ctrl+C 退出）")
    # X-Forwarded-* are believed from the configured reverse proxies only (RISKMAP_TRUSTED_PROXIES)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="warning",
                workers=args.workers, forwarded_allow_ips=s.trusted_proxies)
    return 0


def _map(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from layers.assets import STATIC_DIR, copy_assets
    from layers.pages import render_page

    out = Path(args.output)
    vendor = out.parent / f"{out.stem}_files"
    with get_engine().connect() as conn:
        page = render_page(conn, township=args.township, grid=args.grid, pipeline=args.pipeline, mine=args.mine,
                           asset_base=vendor.name, static_base=f"{vendor.name}/{STATIC_DIR}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    copy_assets(vendor)
    print(f"已写出地图 {out}（{len(page.encode()) / 1e6:.2f} MB），前端资源在 {vendor}/，可离线打开")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="启动地图与数据服务（FastAPI）")
    serve.add_argument("--host", help="监听地址（默认取 RISKMAP_HOST，127.0.0.1）")
    serve.add_argument("--port", type=int, help="监听端口（默认取 RISKMAP_PORT，8000）")
    serve.add_argument("--workers", type=int, default=1, help="工作进程数（默认 1）")
    serve.set_defaults(func=_serve)

    mp = sub.add_parser("map", help="把地图页面写成离线可打开的 HTML 文件")
    mp.add_argument("--township", help="乡镇 12 位代码；不给则为全县")
    mp.add_argument("--grid", help="网格编号")
    mp.add_argument("--pipeline", help="管道编号")
    mp.add_argument("--mine", help="采矿许可证号")
    mp.add_argument("-o", "--output", required=True, help="输出 HTML 文件")
    mp.set_defaults(func=_map)
