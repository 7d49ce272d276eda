"""`riskmap import <layer> <file>` and `riskmap export <layer> --format …`: Chinese summaries, exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli import registrar
from geo.io.layers import LAYERS
from geo.progress import with_progress

EXIT_REJECTED = 1
REPORT_LIMIT = 20
"""Rejects printed on screen; the full list is in the rejects report."""


def _import(args: argparse.Namespace) -> int:
    """riskmap import: one transaction; on rejection the report is written and the exit code is 1."""
    from geo.db import get_engine
    from geo.io.importer import ImportRejected, default_rejects_path, import_file, write_rejects

    path = Path(args.file)
    rejects_path = Path(args.rejects) if args.rejects else default_rejects_path(path)
    try:
        result = import_file(get_engine(), args.layer, path, crs=args.crs, repair=args.repair, update=args.update,
                             allow_outside=args.allow_outside, encoding=args.encoding, sheet=args.sheet)
    except ImportRejected as exc:
        try:
            write_rejects(exc.rejects, rejects_path)
        except OSError:  # e.g. the input sits in a read-only folder
            from geo.config import get_settings

            rejects_path = write_rejects(exc.rejects, get_settings().home / "rejects" / rejects_path.name)
        print(f"导入失败：{exc.message}")
        print(f"共读取 {exc.rows_read} 行；问题清单已写入 {rejects_path}")
        for r in exc.rejects[:REPORT_LIMIT]:
            print(f"  第 {r.row} 行 [{r.field}] {r.reason}" + (f"：{r.value}" if r.value else ""))
        if len(exc.rejects) > REPORT_LIMIT:
            print(f"  ……另有 {len(exc.rejects) - REPORT_LIMIT} 处，见问题清单")
        if exc.repairs:
            print(f"（已修复 {len(exc.repairs)} 处几何，但因其他问题未写入）")
        return EXIT_REJECTED
    label = LAYERS[args.layer].label
    print(f"导入成功：{path.name} → {label}（{args.layer}），新增 {result.inserted} 条"
          + (f"，更新 {result.updated} 条" if result.updated else "") + f"；坐标系：{result.source_crs}")
    for rep in result.repairs:
        print(f"  已修复 第 {rep.row} 行 [{rep.field}] {rep.action}")
    for note in result.notes:
        print(f"  提示：{note}")
    return 0


def _export(args: argparse.Namespace) -> int:
    """riskmap export: one layer (or one township of it) to xlsx/geojson/gpkg/shp."""
    from geo.db import get_engine
    from geo.io.exporter import default_export_path, export_layer

    path = Path(args.output) if args.output else default_export_path(args.layer, args.format)
    result = export_layer(get_engine(), args.layer, path, fmt=args.format, township_code=args.township)
    print(f"导出成功：{LAYERS[args.layer].label}（{args.layer}）{result.rows} 条 → {result.path}")
    for extra in result.extra_files:
        print(f"  另附：{extra}")
    return 0


def _template(args: argparse.Namespace) -> int:
    """riskmap template: a blank ledger with its 填写说明, without touching the database."""
    from geo.io.exporter import write_template

    path = write_template(args.layer, args.output or f"{LAYERS[args.layer].label}台账模板.xlsx")
    print(f"已生成{LAYERS[args.layer].label}台账模板：{path}（第二张表为填写说明）")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the import and export sub-commands."""
    layers = list(LAYERS)
    imp = sub.add_parser("import", help="导入图层数据（GeoJSON/GPKG/SHP/KML/KMZ/CSV/XLSX）",
                         description="把文件导入一个图层；任何一行有问题则整批不写入，并输出问题清单（CSV）")
    imp.add_argument("layer", choices=layers, help="图层")
    imp.add_argument("file", help="要导入的文件")
    imp.add_argument("--crs", default="auto",
                     help="坐标系：auto（按文件）| EPSG:4490 | EPSG:4326 | gcj02 | EPSG:4491–4554 高斯–克吕格")
    imp.add_argument("--repair", action="store_true", help="自动修复可安全修复的无效几何（ST_MakeValid，保持点/线/面类型，并列出修复了什么）；"
                          "经纬度颠倒、县界外坐标、错误代码等不会自动修改，须在源文件中改正")
    imp.add_argument("--update", action="store_true", help="编码已存在时更新该行，而不是拒绝")
    imp.add_argument("--allow-outside", action="store_true",
                     help="允许县界之外的要素（如邻县矿山）；经纬度颠倒仍会拒绝")
    imp.add_argument("--rejects", help="问题清单路径（默认：输入文件旁 <文件名>.rejects.csv）")
    imp.add_argument("--encoding", help="文字编码（默认自动识别 UTF-8 / GBK / GB18030）")
    imp.add_argument("--sheet", help="Excel 工作表名（默认第一个）")
    imp.set_defaults(func=with_progress("正在导入")(_import))

    exp = sub.add_parser("export", help="导出图层（xlsx 台账 / geojson / gpkg / shp）")
    exp.add_argument("layer", choices=layers, help="图层")
    exp.add_argument("--format", choices=("xlsx", "geojson", "gpkg", "shp"), default="xlsx", help="格式")
    exp.add_argument("-o", "--output", help="输出路径（默认 .riskmap/exports/<图层>.<格式>）")
    exp.add_argument("--township", help="只导出该乡镇（12 位或 9 位乡镇代码，或乡镇名称）")
    exp.set_defaults(func=_export)

    tpl = sub.add_parser("template", help="生成空白台账模板（xlsx，含填写说明）")
    tpl.add_argument("layer", choices=layers, help="图层")
    tpl.add_argument("-o", "--output", help="输出路径（默认：当前目录 <图层>台账模板.xlsx）")
    tpl.set_defaults(func=_template)
