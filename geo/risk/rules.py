"""The risk rules: shipped defaults (rules.toml) merged with the bureau's override file, with version and hash."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.config import get_settings
from geo.errors import InvalidInput

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.toml"

LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")
"""Four colours from lowest to highest (安委办〔2016〕11号: 低/一般/较大/重大)."""
LEVEL_RANK: dict[str, int] = {name: rank for rank, name in enumerate(LEVELS, start=1)}
LEVEL_LABELS: dict[str, str] = {"red": "红 重大", "orange": "橙 较大", "yellow": "黄 一般", "blue": "蓝 低"}


@dataclass(frozen=True)
class Rules:
    """Merged rules with the version the bureau gave them and a SHA-256 of their content."""

    data: dict[str, Any]
    version: str
    rules_hash: str
    overridden: frozenset[tuple[str, ...]] = frozenset()
    """Paths of the values the bureau's override file set (tables merged key by key; a list is one value)."""
    override_file: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def label(self, level: str) -> str:
        """Chinese label of a level code, e.g. 'red' → '红 重大'."""
        return str(self.data.get("levels", {}).get("labels", LEVEL_LABELS).get(level, level))


def merge_rules(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merged key by key, every other value (lists included) replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_rules(out[key], value)
        else:
            out[key] = value
    return out


def override_paths(override: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The value paths an override sets, as merge_rules applies them (tables descended, anything else a leaf)."""
    out: set[tuple[str, ...]] = set()
    for key, value in override.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and value:
            out |= override_paths(value, path)
        else:
            out.add(path)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML rules file; a broken file is a user error with a Chinese message."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise InvalidInput(f"找不到风险规则文件：{path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"风险规则文件 {path} 格式错误：{exc}") from exc


OTHER_FILES = ("zones", "frequencies")
"""Tables of the bureau's override file that apply to the protection zones (zones.toml) and the inspection
frequencies (frequencies.toml) rather than to the risk rules."""


def read_override(path: Path | None = None) -> dict[str, Any]:
    """The bureau's override file (default: settings.rules_file, RISKMAP_RULES_FILE) parsed, or {} when none is set."""
    path = path if path is not None else get_settings().rules_file
    return read_toml(Path(path)) if path is not None else {}


def merge_listed(base: dict[str, Any], override: dict[str, Any]) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """Merge an override table onto a rules file whose lists of tables carry a `code` (zones.toml): an entry with a
    known code is merged key by key into that entry, one with a new code is appended; everything else as merge_rules.
    Returns the merged data and the value paths the override set (list entries by their index in the result)."""
    out = dict(base)
    paths: set[tuple[str, ...]] = set()
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, list) and isinstance(current, list) and all(isinstance(v, dict) for v in value):
            merged = [dict(item) for item in current]
            codes = {item.get("code"): i for i, item in enumerate(merged)}
            for entry in value:
                code = entry.get("code")
                if code is None:
                    raise InvalidInput(f"本局覆盖文件的 {key} 条目缺少 code，无法确定要修改哪一条")
                if code in codes:
                    i = codes[code]
                    merged[i] = {**merged[i], **entry}
                else:
                    i = len(merged)
                    merged.append(dict(entry))
                    codes[code] = i
                paths |= {(key, str(i), str(k)) for k in entry if k != "code"}
            out[key] = merged
        else:
            out = merge_rules(out, {key: value})
            paths |= override_paths({key: value})
    return out, paths


def load_rules(override: Path | None = None) -> Rules:
    """Defaults merged with `override` (default: settings.rules_file, RISKMAP_RULES_FILE), versioned and hashed.

    The override's [zones] and [frequencies] tables are not risk rules: zones.load_zones and due.load_frequencies
    apply them (see OTHER_FILES)."""
    data = read_toml(DEFAULT_RULES)
    path = override if override is not None else get_settings().rules_file
    overridden: set[tuple[str, ...]] = set()
    if path is not None:
        local = {k: v for k, v in read_toml(Path(path)).items() if k not in OTHER_FILES}
        overridden = override_paths(local)
        data = merge_rules(data, local)
    check_levels(data)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Rules(data=data, version=str(data.get("meta", {}).get("version", "unversioned")), rules_hash=digest,
                 overridden=frozenset(overridden), override_file=str(path) if path is not None else None)


def check_levels(data: dict[str, Any]) -> None:
    """Refuse a rules file naming a colour that is not one of the four, anywhere in a `level…` key."""

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("level") and key != "levels" and isinstance(value, str) and value not in LEVEL_RANK:
                    raise InvalidInput(f"风险规则 {where}.{key} 的等级“{value}”无效，应为 red/orange/yellow/blue")
                walk(value, f"{where}.{key}" if where else key)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")

    walk(data, "")


def highest(levels: list[str] | tuple[str, ...], *, default: str = "blue") -> str:
    """The highest of some level codes (就高); `default` when there are none."""
    return max(levels, key=LEVEL_RANK.__getitem__, default=default)


def raise_level(level: str, steps: int = 1) -> str:
    """The level `steps` colours higher, capped at red."""
    return LEVELS[min(LEVEL_RANK[level] - 1 + steps, len(LEVELS) - 1)]
