"""province.toml: the counties of a city or province, each with its database (shard), and the roll-up database.

```toml
name = "山西省"
[rollup]
database = "postgresql://riskmap@db0/riskmap_province"   # where province_township_level is kept
[[county]]
code = "140930"; name = "河曲县"; city_code = "140900"; city_name = "忻州市"
database = "postgresql://riskmap@db1/riskmap_140930"
service_url = "https://riskmap.hequ.example.cn"            # optional: the county's own riskmap (its detail map)
```

One county per database: each database keeps the single-county schema (its `county` row, townships, results),
so every existing command works on it unchanged with DATABASE_URL and RISKMAP_COUNTY_CODE set. A shard is a
PostgreSQL server holding several county databases.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from geo.config import get_settings
from geo.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class County:
    """One county of the province and the database holding it."""

    code: str
    name: str
    city_code: str
    city_name: str
    database: str
    ordinal: int
    """1-based place in province.toml (gives halo ids their range; keep the order stable)."""
    service_url: str | None = None
    """The county's own riskmap service (http/https, no trailing '/'): the roll-up map links a county to its map
    there; that service signs its own users in and applies their scope."""

    @property
    def shard(self) -> str:
        """The server (host:port) holding the county's database."""
        url = make_url(self.database)
        host = url.host or url.query.get("host") or "localhost"
        port = url.port or url.query.get("port") or 5432
        return f"{host}:{port}"


@dataclass(frozen=True)
class Province:
    """The counties and the roll-up database, as read from province.toml."""

    name: str
    rollup_database: str
    counties: tuple[County, ...]

    def county(self, code: str) -> County:
        for c in self.counties:
            if c.code == code:
                return c
        raise NotFound(f"省级配置中没有县区 {code}")

    def shards(self) -> dict[str, list[str]]:
        """Server → codes of the counties it holds."""
        out: dict[str, list[str]] = {}
        for c in self.counties:
            out.setdefault(c.shard, []).append(c.code)
        return out


_CODE = re.compile(r"\d{6}")


def parse_province(data: dict, *, source: str = "province.toml") -> Province:
    """Validate the TOML content; errors in Chinese naming the county entry and field."""
    counties = data.get("county") or []
    if not counties:
        raise InvalidInput(f"{source}：没有任何县区（[[county]]）")
    seen: set[str] = set()
    out: list[County] = []
    for i, c in enumerate(counties, start=1):
        where = f"{source} 第 {i} 个县区"
        for key in ("code", "name", "city_code", "city_name", "database"):
            if not isinstance(c.get(key), str) or not c[key].strip():
                raise InvalidInput(f"{where}：缺少字段 {key}")
        if not _CODE.fullmatch(c["code"]) or not _CODE.fullmatch(c["city_code"]):
            raise InvalidInput(f"{where}：code、city_code 应为 6 位行政区划代码（GB/T 2260）")
        if c["code"] in seen:
            raise InvalidInput(f"{where}：县区代码 {c['code']} 重复")
        seen.add(c["code"])
        try:
            make_url(c["database"])
        except Exception as exc:
            raise InvalidInput(f"{where}：database 不是有效的数据库地址") from exc
        service = c.get("service_url")
        if service is not None:
            parts = urlsplit(service) if isinstance(service, str) else None
            if not parts or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or \
                    parts.fragment:
                raise InvalidInput(f"{where}：service_url 应为该县 riskmap 服务的 http(s) 地址，如 https://riskmap.example.cn")
            service = service.rstrip("/")
        out.append(County(code=c["code"], name=c["name"], city_code=c["city_code"], city_name=c["city_name"],
                          database=c["database"], ordinal=i, service_url=service))
    dbs = [c.database for c in out]
    if len(set(dbs)) != len(dbs):
        raise InvalidInput(f"{source}：每个县区应有自己的数据库（一个数据库只存一个县区）")
    rollup = (data.get("rollup") or {}).get("database") or out[0].database
    return Province(name=str(data.get("name") or "省级"), rollup_database=rollup, counties=tuple(out))


def load_province(path: Path | None = None) -> Province:
    """Read province.toml (default: RISKMAP_PROVINCE_FILE)."""
    path = path or get_settings().province_file
    if path is None:
        raise InvalidInput("未配置省级县区清单：请设置 RISKMAP_PROVINCE_FILE 或使用 --province 指定 province.toml")
    try:
        with Path(path).open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise NotFound(f"找不到省级配置文件 {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"省级配置文件 {path} 格式错误：{exc}") from exc
    return parse_province(data, source=str(path))


def province_toml(province_name: str, rollup: str, counties: list[dict[str, str]]) -> str:
    """A province.toml text for these counties (used by the generator and the tests)."""
    def q(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {q(province_name)}", "", "[rollup]", f"database = {q(rollup)}"]
    for c in counties:
        lines += ["", "[[county]]"] + [f"{k} = {q(c[k])}" for k in ("code", "name", "city_code", "city_name",
                                                                      "database", "service_url") if c.get(k)]
    return "\n".join(lines) + "\n"
