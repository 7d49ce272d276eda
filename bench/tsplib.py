"""TSPLIB symmetric EUC_2D instances shipped in bench/data/tsplib: a small reader and TSPLIB's distance rule.

Only what the quality benchmark needs: NODE_COORD_SECTION files with EDGE_WEIGHT_TYPE EUC_2D, and tour
files (TSPLIB's TOUR_SECTION, or a bare list of node numbers, as some copies are). Distances follow TSPLIB
95 §2.1: d(i, j) = nint(√(dx² + dy²)), nint(x) = ⌊x + 0.5⌋, in the instance's own (unitless) coordinates.
Optimal tour lengths are TSPLIB's published list of optima for symmetric TSPs (see data/tsplib/PROVENANCE.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data" / "tsplib"

OPTIMA: dict[str, int] = {
    "eil51": 426,
    "berlin52": 7542,
    "st70": 675,
    "eil76": 538,
    "pr76": 108159,
    "rat99": 1211,
    "kroA100": 21282,
    "kroB100": 22141,
    "rd100": 7910,
    "eil101": 629,
    "lin105": 14379,
    "ch130": 6110,
    "ch150": 6528,
    "kroA150": 26524,
}
"""Proven optimal tour lengths, TSPLIB's list of optimal solutions for symmetric TSPs (Reinelt, TSPLIB 95)."""

# Reader errors (Chinese), kept together for review.
MSG = {
    "header": "{file}：第 {line} 行不是“键 : 值”形式的文件头：{text!r}",
    "missing": "{file}：缺少文件头 {key}",
    "name": "{file}：NAME 为 {name!r}，与文件名不符",
    "type": "{file}：TYPE 为 {value!r}，只支持对称 TSP（TSP）",
    "weight": "{file}：EDGE_WEIGHT_TYPE 为 {value!r}，只支持 EUC_2D",
    "coord": "{file}：第 {line} 行坐标无效：{text!r}",
    "order": "{file}：第 {line} 行节点编号为 {got}，应为 {want}",
    "count": "{file}：DIMENSION 为 {dim}，坐标行却有 {count} 行",
    "tour_node": "{file}：第 {line} 行不是节点编号：{text!r}",
    "tour_perm": "{file}：路线不是 1…{n} 的一个排列（{detail}）",
    "tour_dim": "{file}：DIMENSION 为 {dim}，与实例的 {n} 个节点不符",
}

_HEADER = re.compile(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$")


class TsplibError(ValueError):
    """A TSPLIB file that does not match what the benchmark relies on."""


@dataclass(frozen=True)
class Instance:
    """A symmetric EUC_2D instance: its name, TSPLIB header fields and node coordinates (node k at index k-1)."""

    name: str
    header: dict[str, str]
    coords: tuple[tuple[float, float], ...]

    @property
    def dimension(self) -> int:
        return len(self.coords)


def read_instance(path: Path) -> Instance:
    """Read a .tsp file; check NAME = file stem, TYPE TSP, EUC_2D and DIMENSION = number of coordinate lines."""
    file = path.name
    header: dict[str, str] = {}
    coords: list[tuple[float, float]] = []
    in_coords = False
    for number, raw in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if text == "EOF":
            break
        if not in_coords:
            if text == "NODE_COORD_SECTION":
                in_coords = True
                continue
            match = _HEADER.match(text)
            if not match:
                raise TsplibError(MSG["header"].format(file=file, line=number, text=raw))
            header[match.group(1)] = match.group(2)
            continue
        parts = text.split()
        try:
            node, x, y = int(parts[0]), float(parts[1]), float(parts[2])
        except (IndexError, ValueError) as exc:
            raise TsplibError(MSG["coord"].format(file=file, line=number, text=raw)) from exc
        if len(parts) != 3 or not (math.isfinite(x) and math.isfinite(y)):
            raise TsplibError(MSG["coord"].format(file=file, line=number, text=raw))
        if node != len(coords) + 1:
            raise TsplibError(MSG["order"].format(file=file, line=number, got=node, want=len(coords) + 1))
        coords.append((x, y))
    for key in ("NAME", "TYPE", "DIMENSION", "EDGE_WEIGHT_TYPE"):
        if key not in header:
            raise TsplibError(MSG["missing"].format(file=file, key=key))
    stem = file.removesuffix(".tsp")
    if header["NAME"] != stem:
        raise TsplibError(MSG["name"].format(file=file, name=header["NAME"]))
    if header["TYPE"] != "TSP":
        raise TsplibError(MSG["type"].format(file=file, value=header["TYPE"]))
    if header["EDGE_WEIGHT_TYPE"] != "EUC_2D":
        raise TsplibError(MSG["weight"].format(file=file, value=header["EDGE_WEIGHT_TYPE"]))
    if not header["DIMENSION"].isdigit() or int(header["DIMENSION"]) != len(coords):
        raise TsplibError(MSG["count"].format(file=file, dim=header["DIMENSION"], count=len(coords)))
    return Instance(stem, header, tuple(coords))


def read_tour(path: Path, dimension: int) -> list[int]:
    """Read a tour file (TOUR_SECTION, or bare node numbers) up to -1/EOF; nodes 1-based, a permutation of 1..n."""
    file = path.name
    nodes: list[int] = []
    for number, raw in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        text = raw.strip()
        if not text or text == "TOUR_SECTION":
            continue
        if text == "EOF":
            break
        match = _HEADER.match(text)
        if match:
            if match.group(1) == "DIMENSION" and match.group(2) != str(dimension):
                raise TsplibError(MSG["tour_dim"].format(file=file, dim=match.group(2), n=dimension))
            continue
        try:
            values = [int(v) for v in text.split()]
        except ValueError as exc:
            raise TsplibError(MSG["tour_node"].format(file=file, line=number, text=raw)) from exc
        if -1 in values:
            nodes.extend(values[: values.index(-1)])
            break
        nodes.extend(values)
    if sorted(nodes) != list(range(1, dimension + 1)):
        seen = set(nodes)
        missing = [k for k in range(1, dimension + 1) if k not in seen][:5]
        detail = f"{len(nodes)} 个节点，缺 {missing}" if missing else f"{len(nodes)} 个节点，有重复或越界"
        raise TsplibError(MSG["tour_perm"].format(file=file, n=dimension, detail=detail))
    return nodes


def euc_2d(a: tuple[float, float], b: tuple[float, float]) -> int:
    """TSPLIB EUC_2D distance of two nodes: nint of the Euclidean distance (TSPLIB 95 §2.1)."""
    return math.floor(math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) + 0.5)


def distance_matrix(instance: Instance) -> np.ndarray:
    """All EUC_2D distances as an n × n int64 matrix (index k = node k+1), same rule as euc_2d."""
    pts = np.asarray(instance.coords, dtype=float)
    diff = pts[:, None, :] - pts[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5).astype(np.int64)


def tour_length(instance: Instance, nodes: list[int]) -> int:
    """Length of the closed tour visiting 1-based nodes in order and returning to the first."""
    c = instance.coords
    return sum(euc_2d(c[a - 1], c[b - 1]) for a, b in zip(nodes, nodes[1:] + nodes[:1], strict=True))


def shipped_instances() -> list[Instance]:
    """Every .tsp shipped in DATA_DIR, smallest first."""
    return sorted((read_instance(p) for p in DATA_DIR.glob("*.tsp")), key=lambda i: (i.dimension, i.name))


def shipped_tours() -> dict[str, Path]:
    """Optimal-tour files shipped in DATA_DIR, by instance name."""
    return {p.name.removesuffix(".opt.tour"): p for p in sorted(DATA_DIR.glob("*.opt.tour"))}
