"""Declarative layer specs: which table a layer fills, its fields, their Chinese headers, types and code lists.

One place per layer holds everything the importers and exporters need: the first header of each
field is the Chinese header written on export, the rest (and the English column name) are accepted
on import; `shp` is the ≤10-byte English field name used in shapefiles (dBase limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from geo import codes as m

FieldKind = Literal["str", "int", "float", "bool", "date", "code", "json", "wkt"]
"""wkt: a second geometry given as WKT text in the file's CRS (stored as a Multi* in EPSG:4490)."""
GeomKind = Literal["point", "line", "polygon", "any"]

HAZARD_STATUSES = {"found": "发现", "rectifying": "整改中", "rectified": "已整改", "closed": "销号"}
ENCROACHMENT_STATUSES = {
    "found": "发现",
    "confirmed": "已确认",
    "rectifying": "整改中",
    "rectified": "已整改",
    "closed": "销号",
}


@dataclass(frozen=True)
class Ref:
    """A reference to another table by its business code, resolved to the foreign key on import."""

    table: str
    key: str
    fk: str
    label: str


@dataclass(frozen=True)
class Field:
    """One column of a layer: the table column (or a reference code) with its headers and type."""

    name: str
    headers: tuple[str, ...]
    kind: FieldKind = "str"
    required: bool = False
    codes: Mapping[str, str] | None = None
    default: Any = None
    max_len: int | None = None
    shp: str | None = None
    ref: Ref | None = None
    form: Literal["uscc", "township"] | None = None
    """Business-code form checked on import: USCC check character, 12-digit township code."""
    bounds: tuple[float, float] | None = None
    """Inclusive range of an int/float field, checked on import (e.g. a grade 1–4, a percentage 0–100)."""

    @property
    def header(self) -> str:
        """The Chinese header written on export."""
        return self.headers[0]

    @property
    def shp_name(self) -> str:
        """The dBase field name (≤ 10 bytes) written to shapefiles."""
        return self.shp or self.name[:10]


@dataclass(frozen=True)
class Layer:
    """A layer users import and export: table, geometry column and kind, business key, fields."""

    name: str
    label: str
    table: str
    fields: tuple[Field, ...]
    geom_column: str | None = "geom"
    geom_kind: GeomKind | None = "point"
    multi: bool = False
    key: str | None = "code"
    township_by_location: bool = False
    explode: bool = False

    @property
    def spatial(self) -> bool:
        return self.geom_column is not None

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def ref_field(self) -> Field | None:
        """The one non-township reference (enterprise, pipeline) of this layer, if any."""
        return next((f for f in self.fields if f.ref and f.ref.table != "township"), None)

    @property
    def township_field(self) -> Field | None:
        return next((f for f in self.fields if f.ref and f.ref.table == "township"), None)


ENTERPRISE_REF = Ref("enterprise", "uscc", "enterprise_id", "企业")
TOWNSHIP_REF = Ref("township", "code", "township_id", "乡镇")
PIPELINE_REF = Ref("pipeline", "code", "pipeline_id", "管道")


def _uscc_ref(*, required: bool) -> Field:
    return Field("enterprise_uscc", ("统一社会信用代码", "社会信用代码", "信用代码", "uscc"), required=required,
                 ref=ENTERPRISE_REF, shp="uscc", form="uscc")


def _township_ref(*, required: bool = False) -> Field:
    return Field("township_code", ("乡镇代码", "乡镇街道代码", "所属乡镇代码", "乡镇编码", "township"),
                 required=required, ref=TOWNSHIP_REF, shp="town_code", form="township")


_CODE = ("编号", "代码", "编码")

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer("township", "乡镇（街道）", "township", (
            Field("code", ("乡镇代码", "统计用区划代码", "区划代码", "代码", "编码"), required=True, max_len=12,
                  form="township"),
            Field("name", ("乡镇名称", "名称", "乡镇", "街道"), required=True, max_len=100),
            Field("county_code", ("县区代码", "所属县区代码"), max_len=6, shp="county"),
            Field("is_illustrative", ("示意边界", "是否示意边界"), kind="bool", default=False, shp="illustr"),
        ), geom_kind="polygon", multi=True),
        Layer("grid_cell", "网格", "grid_cell", (
            Field("code", ("网格编码", "网格编号", "网格代码", *_CODE), required=True, max_len=32),
            Field("name", ("网格名称", "名称"), max_len=100),
            _township_ref(),
            Field("officer_name", ("网格员", "网格员姓名"), max_len=50, shp="officer"),
            Field("officer_phone", ("网格员电话", "联系电话", "电话"), max_len=20, shp="phone"),
        ), geom_kind="polygon", multi=True, township_by_location=True),
        Layer("enterprise", "企业", "enterprise", (
            Field("uscc", ("统一社会信用代码", "社会信用代码", "信用代码"), required=True, max_len=18, form="uscc"),
            Field("name", ("企业名称", "单位名称", "名称"), required=True, max_len=200),
            Field("category", ("行业类别", "行业", "类别", "行业分类"), kind="code", required=True,
                  codes=m.INDUSTRY_CATEGORIES),
            Field("address", ("地址", "详细地址", "经营地址", "注册地址")),
            _township_ref(),
            Field("employees", ("从业人数", "从业人员", "员工人数", "职工人数"), kind="int"),
            Field("key_process", ("重点监管危险化工工艺", "涉及重点监管危险化工工艺"), kind="bool", default=False,
                  shp="key_proc"),
            Field("key_chemical", ("重点监管危险化学品", "涉及重点监管危险化学品"), kind="bool", default=False,
                  shp="key_chem"),
            Field("major_hazard_source", ("重大危险源", "构成重大危险源"), kind="bool", default=False, shp="major_haz"),
            Field("standardisation_grade", ("安全生产标准化等级", "标准化等级"), kind="int", shp="std_grade", bounds=(1, 3)),
            Field("in_chemical_park", ("位于化工园区", "化工园区", "是否在化工园区"), kind="bool", default=False,
                  shp="chem_park"),
            # GB 18218-2018 表5 (厂区边界) and 备案等级; facts of the 应急〔2018〕19号 diagnostic table (blank = 未填报).
            Field("site_boundary", ("厂区边界(WKT)", "厂区边界", "厂区范围(WKT)"), kind="wkt", shp="site_wkt"),
            Field("site_radius_m", ("厂区半径(m)", "厂区半径"), kind="float", shp="site_r_m", bounds=(0.1, 5000)),
            # (no header begins 重大危险源: a UTF-8 shapefile cuts that to 重大危, which must stay major_hazard_source's)
            Field("registered_major_hazard_grade", ("备案重大危险源等级", "备案等级"), kind="int",
                  shp="reg_grade", bounds=(1, 4)),
            Field("key_process_count", ("重点监管危险化工工艺种数", "危险化工工艺种数"), kind="int", shp="proc_n", bounds=(0, 1000)),
            Field("key_processes", ("重点监管危险化工工艺名称", "危险化工工艺名称", "危险化工工艺"), shp="processes"),
            Field("key_chemical_count", ("重点监管危险化学品种数",), kind="int", shp="chem_n", bounds=(0, 1000)),
            Field("explosive_count", ("爆炸品种数",), kind="int", shp="expl_n", bounds=(0, 1000)),
            Field("toxic_inhalation_count", ("吸入性剧毒化学品种数", "吸入性剧毒品种数"), kind="int", shp="toxic_n", bounds=(0, 1000)),
            Field("external_distance_ok", ("外部安全防护距离符合要求", "外部安全防护距离评估结论"), kind="bool",
                  shp="ext_dist"),
            Field("reaction_risk_unassessed", ("未开展反应安全风险评估",), kind="bool", shp="no_react"),
            Field("designed_by_class_a", ("全部装置甲级资质设计", "甲级资质设计"), kind="bool", shp="class_a"),
            Field("obsolete_equipment_count", ("淘汰落后工艺设备项数",), kind="int", shp="obsolete", bounds=(0, 1000)),
            Field("automation_missing", ("重点工艺未实现自动化控制",), kind="bool", shp="no_auto"),
            Field("gas_detection_missing_count", ("未设气体检测报警处数",), kind="int", shp="no_gasdet", bounds=(0, 1000)),
            Field("uncertified_managers", ("未持安全合格证负责人数", "未持证负责人数"), kind="int", shp="uncert_mgr", bounds=(0, 1000)),
            Field("registered_safety_engineer", ("配备注册安全工程师",), kind="bool", shp="reg_eng"),
            Field("chemistry_degree_leaders", ("化工类学历负责人数",), kind="int", shp="chem_deg", bounds=(0, 1000)),
            Field("own_fire_team", ("专职消防队", "专职应急救援队伍"), kind="bool", shp="fire_team"),
            Field("untrialled_new_process", ("新工艺未经试验直接生产",), kind="bool", shp="untrialed"),
            Field("undesigned_unit", ("装置未经正规设计",), kind="bool", shp="undesign"),
            Field("special_ops_uncertified", ("特种作业人员未持证",), kind="bool", shp="spec_ops"),
        ), key="uscc", township_by_location=True),
        Layer("chemical_inventory", "危险化学品储存", "chemical_inventory", (
            _uscc_ref(required=True),
            Field("substance", ("物质名称", "危险化学品名称", "品名", "化学品名称"), required=True, max_len=100),
            Field("cas", ("CAS号", "CAS"), max_len=20),
            Field("max_quantity_t", ("最大储存量(吨)", "最大储存量", "最大存量(吨)", "最大量(t)", "储存量(吨)"),
                  kind="float", required=True, shp="max_t"),
            Field("hazard_class", ("危险性类别", "类别符号"), max_len=8, shp="haz_class"),
            Field("unit_name", ("生产储存单元", "单元名称", "单元"), max_len=100),
            Field("concentration_pct", ("含量(%)", "浓度(%)", "含量", "浓度"), kind="float", shp="conc_pct", bounds=(0, 100)),
            Field("combustible_pct", ("可燃物含量(%)", "可燃物含量"), kind="float", shp="comb_pct", bounds=(0, 100)),
        ), geom_column=None, geom_kind=None, key=None),
        Layer("hazard", "隐患", "hazard", (
            Field("code", ("隐患编号", *_CODE), max_len=40),
            _uscc_ref(required=True),
            Field("level", ("隐患等级", "等级", "隐患级别"), kind="code", required=True, codes=m.HAZARD_LEVELS),
            Field("description", ("隐患描述", "隐患内容", "描述"), shp="descr"),
            Field("found_on", ("发现日期", "排查日期"), kind="date", required=True),
            Field("deadline", ("整改期限", "整改时限"), kind="date"),
            Field("status", ("整改状态", "状态"), kind="code", codes=HAZARD_STATUSES, default="found"),
            Field("rectified_on", ("整改完成日期", "整改日期"), kind="date", shp="rect_on"),
            Field("closed_on", ("销号日期",), kind="date"),
            Field("closed_by", ("销号人",), max_len=50),
            Field("supervising_department", ("挂牌督办部门", "督办部门"), max_len=100, shp="supervisor"),
        ), geom_column=None, geom_kind=None),
        Layer("accident", "事故", "accident", (
            _uscc_ref(required=True),
            Field("occurred_on", ("事故日期", "发生日期", "发生时间"), kind="date", required=True),
            Field("deaths", ("死亡人数", "死亡"), kind="int", default=0),
            Field("serious_injuries", ("重伤人数", "重伤"), kind="int", default=0, shp="injuries"),
            Field("direct_loss_10k_yuan", ("直接经济损失(万元)", "直接经济损失"), kind="float", default=0.0,
                  shp="loss_10k"),
            Field("description", ("事故简况", "事故经过", "描述"), shp="descr"),
        ), geom_column=None, geom_kind=None, key=None),
        Layer("pipeline", "管道", "pipeline", (
            Field("code", ("管道编号", "管线编号", *_CODE), required=True, max_len=40),
            Field("name", ("管道名称", "管线名称", "名称"), required=True, max_len=200),
            Field("operator", ("管道企业", "运营单位", "管道运营单位"), max_len=200),
            Field("medium", ("输送介质", "介质"), kind="code", required=True, codes=m.PIPELINE_MEDIA),
            Field("design_pressure_mpa", ("设计压力(MPa)", "设计压力"), kind="float", shp="press_mpa"),
            Field("maop_mpa", ("最大允许操作压力(MPa)", "最大允许操作压力", "MAOP(MPa)", "MAOP"), kind="float",
                  shp="maop_mpa"),
            Field("outside_diameter_mm", ("管径(mm)", "外径(mm)", "管径", "外径"), kind="float", shp="diam_mm"),
            Field("burial_depth_m", ("埋深(m)", "埋深"), kind="float", shp="depth_m"),
            Field("commissioning_year", ("投产年份", "投产时间"), kind="int", shp="year"),
        ), geom_kind="line", multi=True),
        Layer("pipeline_facility", "管道附属设施", "pipeline_facility", (
            Field("pipeline_code", ("管道编号", "管线编号"), required=True, ref=PIPELINE_REF, shp="pipe_code"),
            Field("kind", ("设施类型", "类型"), kind="code", required=True, codes=m.FACILITY_KINDS),
            Field("name", ("设施名称", "名称"), max_len=200),
        ), key=None),
        Layer("encroachment", "占压点", "encroachment", (
            Field("code", ("占压点编号", "隐患编号", *_CODE), required=True, max_len=40),
            Field("pipeline_code", ("管道编号", "管线编号"), ref=PIPELINE_REF, shp="pipe_code"),
            Field("kind", ("类型", "占压类型", "隐患类型"), kind="code", codes=m.ENCROACHMENT_KINDS,
                  default="encroachment"),
            Field("description", ("描述", "占压情况"), shp="descr"),
            Field("formed_on", ("形成日期", "形成时间"), kind="date"),
            Field("nature", ("性质", "占压性质"), kind="code", codes=m.ENCROACHMENT_NATURES),
            _township_ref(),
            Field("status", ("状态", "整改状态"), kind="code", codes=ENCROACHMENT_STATUSES, default="found"),
            Field("found_on", ("发现日期",), kind="date"),
            Field("measure", ("整改措施", "一点一策"), shp="measure"),
            Field("deadline", ("整改期限", "整改时限"), kind="date"),
            Field("responsible_operator", ("责任单位", "责任企业"), max_len=200, shp="resp_op"),
            Field("closed_on", ("销号日期",), kind="date"),
            Field("closed_by", ("销号人",), max_len=50),
            Field("dossier", ("档案(JSON)", "一点一档"), kind="json", default={}),
        ), geom_kind="any", township_by_location=True),
        Layer("building", "建筑", "building", (
            Field("code", ("建筑编号", *_CODE), max_len=40),
            Field("name", ("建筑名称", "名称"), max_len=200),
            Field("use_class", ("用途", "建筑用途", "使用性质"), kind="code", codes=m.BUILDING_USES,
                  default="residential", shp="use"),
            Field("floors", ("层数", "楼层数"), kind="int", default=1),
            Field("households", ("户数", "住户数"), kind="int"),
            _township_ref(),
        ), geom_kind="polygon", multi=True, township_by_location=True),
        Layer("road", "道路", "road", (
            Field("code", ("道路编号", *_CODE), max_len=40),
            Field("name", ("道路名称", "名称"), max_len=200),
            Field("road_class", ("道路等级", "等级"), kind="code", codes=m.ROAD_CLASSES, default="unclassified",
                  shp="class"),
            Field("oneway", ("单行", "是否单行"), kind="bool", default=False),
        ), geom_kind="line", explode=True),
        Layer("mine", "矿山", "mine", (
            Field("licence_no", ("采矿许可证号", "许可证号", "采矿证号"), required=True, max_len=40, shp="licence"),
            Field("name", ("矿山名称", "名称"), required=True, max_len=200),
            Field("mineral", ("开采矿种", "矿种"), max_len=50),
            Field("mine_type", ("矿山类型", "类型"), kind="code", required=True, codes=m.MINE_TYPES, shp="type"),
            Field("method", ("开采方式",), kind="code", required=True, codes=m.MINING_METHODS),
            _uscc_ref(required=False),
            _township_ref(),
            Field("operating", ("是否生产", "生产状态", "在产"), kind="bool", default=True),
            Field("floor_elevation_m", ("开采标高下限(m)", "最低开采标高"), kind="float", shp="floor_m"),
            Field("ceiling_elevation_m", ("开采标高上限(m)", "最高开采标高"), kind="float", shp="ceiling_m"),
            Field("workings", ("开采区域(WKT)", "实际开采范围(WKT)", "开采区域"), kind="wkt"),
        ), geom_column="licence_boundary", geom_kind="polygon", multi=True, key="licence_no",
            township_by_location=True),
        Layer("mine_zone", "矿产规划分区", "mine_zone", (
            Field("code", ("分区编号", *_CODE), max_len=40),
            Field("name", ("分区名称", "名称"), max_len=200),
            Field("kind", ("分区类型", "类型"), kind="code", required=True, codes=m.MINE_ZONE_KINDS),
            Field("source_document", ("规划依据", "来源文件"), shp="document"),
        ), geom_kind="polygon", multi=True),
        Layer("waterway", "河流水系", "waterway", (
            Field("code", ("河流编号", *_CODE), max_len=40),
            Field("name", ("河流名称", "名称"), max_len=200),
            Field("kind", ("类型", "水系类型"), kind="code", codes=m.WATERWAY_KINDS, default="river"),
            Field("is_illustrative", ("示意数据", "是否示意"), kind="bool", default=False, shp="illustr"),
        ), geom_kind="line", multi=True),
        Layer("pipeline_tunnel", "管道专用隧道", "pipeline_tunnel", (
            Field("code", ("隧道编号", *_CODE), max_len=40),
            Field("pipeline_code", ("管道编号", "管线编号"), required=True, ref=PIPELINE_REF, shp="pipe_code"),
            Field("name", ("隧道名称", "名称"), max_len=200),
        ), geom_kind="line", multi=True),
        Layer("inspection", "执法检查", "inspection", (
            _uscc_ref(required=True),
            Field("inspected_on", ("检查日期", "检查时间"), kind="date", required=True, shp="date"),
            Field("team", ("检查组", "执法人员", "检查人员"), max_len=50),
            Field("result", ("检查结果", "检查情况"),),
        ), geom_column=None, geom_kind=None, key=None),
    )
}


def get_layer(name: str) -> Layer:
    """The spec of a layer by its English name; InvalidInput (Chinese) for an unknown one."""
    from geo.errors import InvalidInput

    try:
        return LAYERS[name]
    except KeyError:
        raise InvalidInput(f"未知图层 {name}；可用图层：{'、'.join(LAYERS)}") from None
