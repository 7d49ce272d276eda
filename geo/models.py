"""PostGIS tables as SQLAlchemy 2 + GeoAlchemy2 models; geometry in CGCS2000 (EPSG:4490), lon/lat.

Metric work never happens on these degrees directly: see geo.crs for the Gauss–Krüger zone.
Every table carries created_at/updated_at (a trigger keeps updated_at, whoever writes) and,
where rows can be made up for the demo, a `source` saying where the row came from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo.codes import (  # noqa: F401  (code lists live in geo/codes.py, light for the CLI)
    BUILDING_USES,
    ENCROACHMENT_KINDS,
    ENCROACHMENT_NATURES,
    FACILITY_KINDS,
    HAZARD_LEVELS,
    INDUSTRY_CATEGORIES,
    MINE_TYPES,
    MINE_ZONE_KINDS,
    MINING_METHODS,
    PIPELINE_MEDIA,
    ROAD_CLASSES,
    WATERWAY_KINDS,
)

SRID = 4490


def _check_in(column: str, values: dict[str, str], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def _gist(table: str, column: str = "geom") -> Index:
    return Index(f"ix_{table}_{column}_gist", column, postgresql_using="gist")


class Base(DeclarativeBase):
    pass


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    """Raised by one on every UPDATE (migration 0006); a stale edit is refused with 409."""


class County(Timestamped, Base):
    """The bureau's county: its outline bounds every import; metric_srid is its Gauss–Krüger zone."""

    __tablename__ = "county"
    __table_args__ = (_gist("county"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    metric_srid: Mapped[int] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class Township(Timestamped, Base):
    """乡镇/街道, keyed by its 12-digit 统计用区划代码."""

    __tablename__ = "township"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{12}$'", name="ck_township_code"),
        _gist("township"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    county_code: Mapped[str] = mapped_column(String(6))
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    is_illustrative: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """True when the polygon is a 示意边界 (demo partition), not a surveyed boundary."""
    source: Mapped[str | None] = mapped_column(Text)


class Village(Timestamped, Base):
    """村/社区 with its 12-digit code; the point is where the village centre is placed."""

    __tablename__ = "village"
    __table_args__ = (_gist("village"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id", ondelete="SET NULL"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    source: Mapped[str | None] = mapped_column(Text)


class GridCell(Timestamped, Base):
    """网格 with its 网格员 (grid officer)."""

    __tablename__ = "grid_cell"
    __table_args__ = (_gist("grid_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id", ondelete="CASCADE"), index=True)
    officer_name: Mapped[str | None] = mapped_column(String(50))
    officer_phone: Mapped[str | None] = mapped_column(String(20))
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


ENTERPRISE_DIAGNOSTIC_COUNTS = ("key_process_count", "key_chemical_count", "explosive_count", "toxic_inhalation_count",
                                "obsolete_equipment_count", "gas_detection_missing_count", "uncertified_managers",
                                "chemistry_degree_leaders")
"""Enterprise counts read by the 应急〔2018〕19号 diagnostic score (never negative)."""


class Enterprise(Timestamped, Base):
    """生产经营单位, keyed by its 统一社会信用代码 (GB 32100-2015)."""

    __tablename__ = "enterprise"
    __table_args__ = (
        _check_in("category", INDUSTRY_CATEGORIES, "ck_enterprise_category"),
        CheckConstraint("standardisation_grade IS NULL OR standardisation_grade BETWEEN 1 AND 3",
                        name="ck_enterprise_std_grade"),
        CheckConstraint("registered_major_hazard_grade IS NULL OR registered_major_hazard_grade BETWEEN 1 AND 4",
                        name="ck_enterprise_registered_grade"),
        CheckConstraint("site_radius_m IS NULL OR site_radius_m > 0", name="ck_enterprise_site_radius"),
        CheckConstraint(" AND ".join(f"({c} IS NULL OR {c} >= 0)" for c in ENTERPRISE_DIAGNOSTIC_COUNTS),
                        name="ck_enterprise_diagnostic_counts"),
        _gist("enterprise"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id", ondelete="SET NULL"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    employees: Mapped[int | None] = mapped_column(Integer)
    key_process: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """涉及重点监管危险化工工艺."""
    key_chemical: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """涉及重点监管危险化学品."""
    major_hazard_source: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """Declared 重大危险源 (the risk engine also identifies it from the inventory)."""
    standardisation_grade: Mapped[int | None] = mapped_column(Integer)
    """安全生产标准化等级 1/2/3; NULL = not graded."""
    in_chemical_park: Mapped[bool] = mapped_column(Boolean, server_default="false")
    source: Mapped[str | None] = mapped_column(Text)
    # GB 18218-2018 §4.3 / 表5: the plant boundary (厂区边界) α counts people outside of; without it, the point
    # buffered by site_radius_m (or the rules' default radius, 本地规定).
    site_boundary: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True)
    site_radius_m: Mapped[float | None] = mapped_column(Float)
    registered_major_hazard_grade: Mapped[int | None] = mapped_column(Integer)
    """备案 major hazard source grade 1–4 (原安监总局令第40号); used when the inventory is missing or grades lower."""
    # Facts of the 应急〔2018〕19号 diagnostic table; NULL = not filled in (the line is listed as 未评分).
    key_process_count: Mapped[int | None] = mapped_column(Integer)
    """重点监管危险化工工艺 种数 (of the 18)."""
    key_processes: Mapped[str | None] = mapped_column(Text)
    """Their names, separated by 、 or commas."""
    key_chemical_count: Mapped[int | None] = mapped_column(Integer)
    """Other 重点监管危险化学品, number of kinds."""
    explosive_count: Mapped[int | None] = mapped_column(Integer)
    toxic_inhalation_count: Mapped[int | None] = mapped_column(Integer)
    """吸入性剧毒化学品 kinds (incl. by pipeline)."""
    external_distance_ok: Mapped[bool | None] = mapped_column(Boolean)
    """Conclusion of the external safety distance assessment (GB/T 37243-2019): met / not met / NULL not assessed."""
    reaction_risk_unassessed: Mapped[bool | None] = mapped_column(Boolean)
    designed_by_class_a: Mapped[bool | None] = mapped_column(Boolean)
    obsolete_equipment_count: Mapped[int | None] = mapped_column(Integer)
    automation_missing: Mapped[bool | None] = mapped_column(Boolean)
    gas_detection_missing_count: Mapped[int | None] = mapped_column(Integer)
    uncertified_managers: Mapped[int | None] = mapped_column(Integer)
    registered_safety_engineer: Mapped[bool | None] = mapped_column(Boolean)
    chemistry_degree_leaders: Mapped[int | None] = mapped_column(Integer)
    own_fire_team: Mapped[bool | None] = mapped_column(Boolean)
    untrialled_new_process: Mapped[bool | None] = mapped_column(Boolean)
    undesigned_unit: Mapped[bool | None] = mapped_column(Boolean)
    special_ops_uncertified: Mapped[bool | None] = mapped_column(Boolean)


class ChemicalInventory(Timestamped, Base):
    """Maximum on-site quantity of one substance at an enterprise (GB 18218-2018 q, in tonnes)."""

    __tablename__ = "chemical_inventory"
    __table_args__ = (
        CheckConstraint("max_quantity_t >= 0", name="ck_inventory_quantity"),
        CheckConstraint("(concentration_pct IS NULL OR concentration_pct BETWEEN 0 AND 100) AND "
                        "(combustible_pct IS NULL OR combustible_pct BETWEEN 0 AND 100)", name="ck_inventory_percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    substance: Mapped[str] = mapped_column(String(100))
    cas: Mapped[str | None] = mapped_column(String(20))
    max_quantity_t: Mapped[float] = mapped_column(Float)
    hazard_class: Mapped[str | None] = mapped_column(String(8))
    """GB 18218-2018 Table 2 class symbol (J1…W11) for substances not named in Table 1."""
    unit_name: Mapped[str | None] = mapped_column(String(100))
    """生产单元/储存单元 the quantity belongs to."""
    concentration_pct: Mapped[float | None] = mapped_column(Float)
    """含量 % (GB 18218-2018 表1 names some entries by concentration: 甲醛（含量>90%）, 硝酸（含硝酸>70%）…)."""
    combustible_pct: Mapped[float | None] = mapped_column(Float)
    """可燃物含量 % (表1 硝酸铵 entries)."""


class Hazard(Timestamped, Base):
    """隐患 found at an enterprise, followed 发现 → 整改中 → 已整改 → 销号."""

    __tablename__ = "hazard"
    __table_args__ = (
        _check_in("level", HAZARD_LEVELS, "ck_hazard_level"),
        CheckConstraint("status IN ('found', 'rectifying', 'rectified', 'closed')", name="ck_hazard_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    found_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), server_default="found")
    rectified_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(50))
    supervising_department: Mapped[str | None] = mapped_column(String(100))
    """挂牌督办 department, for major hazards."""
    source: Mapped[str | None] = mapped_column(Text)


class Accident(Timestamped, Base):
    """生产安全事故 at an enterprise; its grade follows from deaths, injuries and loss."""

    __tablename__ = "accident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    deaths: Mapped[int] = mapped_column(Integer, server_default="0")
    serious_injuries: Mapped[int] = mapped_column(Integer, server_default="0")
    direct_loss_10k_yuan: Mapped[float] = mapped_column(Float, server_default="0")
    """直接经济损失, 万元."""
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)


class Pipeline(Timestamped, Base):
    """Oil, gas, product or chemical transmission line; distances are measured from this centreline."""

    __tablename__ = "pipeline"
    __table_args__ = (_check_in("medium", PIPELINE_MEDIA, "ck_pipeline_medium"), _gist("pipeline"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(200))
    medium: Mapped[str] = mapped_column(String(10))
    design_pressure_mpa: Mapped[float | None] = mapped_column(Float)
    maop_mpa: Mapped[float | None] = mapped_column(Float)
    """最大允许操作压力 MAOP (GB 32167-2015 §6.1.2 式(1)); the risk engine uses design_pressure_mpa when unknown."""
    outside_diameter_mm: Mapped[float | None] = mapped_column(Float)
    burial_depth_m: Mapped[float | None] = mapped_column(Float)
    commissioning_year: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class PipelineFacility(Timestamped, Base):
    """Ancillary facility of a pipeline (石油天然气管道保护法 Art 58(1): stations, valve rooms, depots…)."""

    __tablename__ = "pipeline_facility"
    __table_args__ = (_check_in("kind", FACILITY_KINDS, "ck_facility_kind"), _gist("pipeline_facility"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipeline.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class Encroachment(Timestamped, Base):
    """占压点 and its dossier (一点一档), kept until it is closed (销号)."""

    __tablename__ = "encroachment"
    __table_args__ = (
        _check_in("kind", ENCROACHMENT_KINDS, "ck_encroachment_kind"),
        CheckConstraint(
            "nature IS NULL OR nature IN ('illegal_construction', 'historical', 'legality_pending')",
            name="ck_encroachment_nature",
        ),
        CheckConstraint(
            "status IN ('found', 'confirmed', 'rectifying', 'rectified', 'closed')", name="ck_encroachment_status"
        ),
        _gist("encroachment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline.id", ondelete="SET NULL"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False))
    kind: Mapped[str] = mapped_column(String(24), server_default="encroachment")
    description: Mapped[str | None] = mapped_column(Text)
    formed_on: Mapped[dt.date | None] = mapped_column(Date)
    nature: Mapped[str | None] = mapped_column(String(24))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), server_default="found")
    found_on: Mapped[dt.date | None] = mapped_column(Date)
    measure: Mapped[str | None] = mapped_column(Text)
    """一点一策: the rectification measure."""
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    responsible_operator: Mapped[str | None] = mapped_column(String(200))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(50))
    dossier: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    """一点一档: further dossier fields and attachment references."""
    source: Mapped[str | None] = mapped_column(Text)


class Building(Timestamped, Base):
    """Building footprint; use class and floors give the persons counted for α and class location."""

    __tablename__ = "building"
    __table_args__ = (_check_in("use_class", BUILDING_USES, "ck_building_use"),
                      CheckConstraint("households IS NULL OR households >= 0", name="ck_building_households"),
                      _gist("building"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    use_class: Mapped[str] = mapped_column(String(12), server_default="residential")
    floors: Mapped[int] = mapped_column(Integer, server_default="1")
    households: Mapped[int | None] = mapped_column(Integer)
    """户数 when known (GB 50251-2015 §4.2 counts each dwelling unit); else the rules estimate it from floors."""
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id", ondelete="SET NULL"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class Road(Timestamped, Base):
    """Road centreline; the inspection planner builds its pgRouting graph from these."""

    __tablename__ = "road"
    __table_args__ = (_gist("road"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    road_class: Mapped[str] = mapped_column(String(20), server_default="unclassified")
    oneway: Mapped[bool] = mapped_column(Boolean, server_default="false")
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class Mine(Timestamped, Base):
    """Mine with its 采矿许可证 and licensed boundary (矿区范围); workings are where it extracts."""

    __tablename__ = "mine"
    __table_args__ = (
        _check_in("mine_type", MINE_TYPES, "ck_mine_type"),
        _check_in("method", MINING_METHODS, "ck_mine_method"),
        _gist("mine", "licence_boundary"),
        _gist("mine", "workings"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mineral: Mapped[str | None] = mapped_column(String(50))
    mine_type: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(12))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id", ondelete="SET NULL"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id", ondelete="SET NULL"), index=True)
    operating: Mapped[bool] = mapped_column(Boolean, server_default="true")
    floor_elevation_m: Mapped[float | None] = mapped_column(Float)
    ceiling_elevation_m: Mapped[float | None] = mapped_column(Float)
    licence_boundary: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    workings: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True
    )
    source: Mapped[str | None] = mapped_column(Text)


class MineZone(Timestamped, Base):
    """禁采区 / 限采区 / 可采区 from a 矿产资源规划."""

    __tablename__ = "mine_zone"
    __table_args__ = (_check_in("kind", MINE_ZONE_KINDS, "ck_mine_zone_kind"), _gist("mine_zone"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    source_document: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class Inspection(Timestamped, Base):
    """执法检查: a visit to an enterprise and what it found."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    team: Mapped[str | None] = mapped_column(String(50))
    result: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)



class Waterway(Timestamped, Base):
    """River or canal centreline; where a pipeline crosses it 石油天然气管道保护法 第三十二条 guards 500 m each side."""

    __tablename__ = "waterway"
    __table_args__ = (_check_in("kind", WATERWAY_KINDS, "ck_waterway_kind"), _gist("waterway"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), server_default="river")
    is_illustrative: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """示意（合成数据）: drawn for the demo, not surveyed."""
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)


class PipelineTunnel(Timestamped, Base):
    """A pipeline's dedicated tunnel (管道专用隧道), centreline; 石油天然气管道保护法 第三十三条 guards 1,000 m each side."""

    __tablename__ = "pipeline_tunnel"
    __table_args__ = (_gist("pipeline_tunnel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipeline.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)

DATA_TABLES: tuple[str, ...] = tuple(t for t in Base.metadata.tables)
"""Every table, in dependency order (parents first)."""


INT4_MAX = 2**31 - 1
"""Largest PostgreSQL integer (int4)."""
EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
"""Working dates (inspections, findings, deadlines, plans) lie in 2000–2100: an inspection dated 9999-12-31 is a
typing error, and its default deadline would overflow Python's dates."""
TEXT_MAX = 10_000
"""Characters accepted for a free-text column (PostgreSQL text has no limit of its own; requests need one)."""


def max_length(table: str, column: str) -> int:
    """Most characters `table.column` holds: its varchar length, TEXT_MAX for text; read from the models above."""
    length = getattr(Base.metadata.tables[table].c[column].type, "length", None)
    return int(length) if length else TEXT_MAX


def max_integer(table: str, column: str) -> int:
    """Largest value of an integer column (int8 for BigInteger, int4 otherwise)."""
    return 2**63 - 1 if isinstance(Base.metadata.tables[table].c[column].type, BigInteger) else INT4_MAX


# Rows edited since the last risk run are found by index (`riskmap risk compute --changed`, migration 0015).
CHANGE_TRACKED = ("enterprise", "chemical_inventory", "hazard", "accident", "pipeline", "encroachment", "building",
                  "road", "mine", "mine_zone")
for _table in CHANGE_TRACKED:
    Index(f"ix_{_table}_updated_at", Base.metadata.tables[_table].c.updated_at)
