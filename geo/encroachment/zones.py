"""Protection zones of the pipeline protection law, read from zones.toml (distances in metres)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ZONES_FILE = Path(__file__).with_name("zones.toml")

FEATURE_TYPES = {"building": "建筑物", "road": "道路", "mine": "矿山采掘区", "pipeline": "管道"}
"""Feature types the check looks at, with their Chinese labels."""


@dataclass(frozen=True)
class Zone:
    """One protection zone: features of `feature_types` within max_distance_m (metres) of the centreline or facility."""

    code: str
    label: str
    clause: str
    kind: str
    max_distance_m: float = 0.0
    feature_types: tuple[str, ...] = ()
    around: str = "line"
    """'line' (pipeline centreline), 'facility' (Art 58(1) facility), 'river' (where a pipeline crosses a river,
    Art 32), 'tunnel' (a pipeline's dedicated tunnel, Art 33) or 'crossing' (pipeline–pipeline)."""
    media: tuple[str, ...] = ()
    """Pipeline media the zone applies to (pipeline.medium); empty = every pipeline."""
    band: bool = False
    """Drawn as a band along the pipeline on the map."""


@dataclass(frozen=True)
class ZoneRules:
    """All zones of the rules file, tightest first within each group."""

    line: tuple[Zone, ...]
    facility: tuple[Zone, ...]
    crossing: Zone | None
    river: tuple[Zone, ...] = ()
    tunnel: tuple[Zone, ...] = ()

    def all(self) -> tuple[Zone, ...]:
        return (*self.line, *self.facility, *self.river, *self.tunnel, *((self.crossing,) if self.crossing else ()))

    def by_code(self, code: str) -> Zone:
        return {z.code: z for z in self.all()}[code]


def _zone(raw: dict[str, object], around: str) -> Zone:
    return Zone(
        code=str(raw["code"]),
        label=str(raw["label"]),
        clause=str(raw["clause"]),
        kind=str(raw["kind"]),
        max_distance_m=float(raw.get("max_distance_m", 0.0)),  # type: ignore[arg-type]
        feature_types=tuple(raw.get("feature_types", ())),  # type: ignore[arg-type]
        around=around,
        media=tuple(raw.get("media", ())),  # type: ignore[arg-type]
        band=bool(raw.get("band", False)),
    )


def zones_data(path: Path = ZONES_FILE) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """The zones file as data with the bureau override file's [zones] table merged in (only onto the shipped file),
    and the value paths the override set."""
    from geo.risk.rules import merge_listed, read_override

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    if path != ZONES_FILE:
        return raw, set()
    return merge_listed(raw, read_override().get("zones", {}))


def load_zones(path: Path = ZONES_FILE) -> ZoneRules:
    """Parse the zones file (with the bureau's [zones] overrides); zones sorted by distance so the tightest one wins."""
    from geo.config import get_settings

    override = get_settings().rules_file
    stamp = None
    if override is not None and Path(override).exists():
        st = Path(override).stat()
        stamp = (st.st_mtime_ns, st.st_size)
    return _load_zones(path, override, stamp)


@lru_cache
def _load_zones(path: Path, override: Path | None, stamp: tuple[int, int] | None) -> ZoneRules:
    """load_zones, cached per zones file and per version (mtime, size) of the bureau's override file."""
    raw, _ = zones_data(path)
    line = sorted((_zone(z, "line") for z in raw["line_zone"]), key=lambda z: z.max_distance_m)
    facility = sorted((_zone(z, "facility") for z in raw["facility_zone"]), key=lambda z: z.max_distance_m)
    river = sorted((_zone(z, "river") for z in raw.get("river_zone", ())), key=lambda z: z.max_distance_m)
    tunnel = sorted((_zone(z, "tunnel") for z in raw.get("tunnel_zone", ())), key=lambda z: z.max_distance_m)
    return ZoneRules(line=tuple(line), facility=tuple(facility), crossing=_zone(raw["crossing"], "crossing"),
                     river=tuple(river), tunnel=tuple(tunnel))
