"""Code lists and kinds: stored codes (English, per the glossary) and their Chinese labels.

Free of heavy imports, so command-line parsers can offer them as choices without loading the ORM
(`riskmap --help` stays quick); geo.models, geo.access.roles and geo.risk.scope re-export them.
"""

from __future__ import annotations

# Code lists: the stored code (English, per the glossary) and its Chinese label.
INDUSTRY_CATEGORIES: dict[str, str] = {
    "hazchem": "危险化学品",
    "coal_mine": "煤矿",
    "non_coal_mine": "非煤矿山",
    "metallurgy": "冶金",
    "fireworks": "烟花爆竹",
    "construction": "建筑施工",
    "industry_trade": "工贸",
    "gas": "燃气",
    "other": "其他",
}
HAZARD_LEVELS = {"general": "一般隐患", "major": "重大隐患"}
PIPELINE_MEDIA = {"gas": "天然气", "crude": "原油", "product": "成品油", "chemical": "危险化学品"}
ENCROACHMENT_KINDS = {"encroachment": "占压", "insufficient_distance": "安全距离不足", "crossing": "交叉穿越"}
ENCROACHMENT_NATURES = {"illegal_construction": "违法建设", "historical": "历史遗留", "legality_pending": "合法性待认定"}
BUILDING_USES = {
    "residential": "住宅",
    "school": "学校",
    "hospital": "医院",
    "market": "商场/市场",
    "industrial": "工业",
    "other": "其他",
    "fuel_station": "加油站/加气站",
    "oil_depot": "油库",
}
ROAD_CLASSES = {
    "motorway": "高速公路",
    "trunk": "国道",
    "primary": "省道",
    "secondary": "县道",
    "tertiary": "乡道",
    "unclassified": "村道",
    "residential": "街巷",
    "service": "专用道路",
    "track": "机耕路",
}
MINE_TYPES = {"coal": "煤矿", "non_coal": "非煤矿山"}
MINING_METHODS = {"open_pit": "露天", "underground": "地下"}
MINE_ZONE_KINDS = {"no_mining_zone": "禁采区", "restricted_zone": "限采区", "mining_zone": "可采区"}
WATERWAY_KINDS = {"river": "河流", "canal": "渠道"}
FACILITY_KINDS = {
    "station": "站场",
    "valve": "阀室/阀井",
    "depot": "油库/储气库",
    "pigging": "清管站",
    "other": "其他附属设施",
}


# Application roles (geo/access/roles.py maps them to database roles).
ROLE_LABELS: dict[str, str] = {
    "admin": "系统管理员", "county_editor": "县级编辑", "county_viewer": "县级查看",
    "township_editor": "乡镇编辑", "inspector": "巡查员", "region_viewer": "市/省级查看",
}

# Objects the risk engine grades (geo/risk/scope.py).
KINDS: tuple[str, ...] = ("enterprise", "mine", "pipeline_segment", "grid_cell", "township")
KIND_LABELS: dict[str, str] = {"enterprise": "企业", "mine": "矿山", "pipeline_segment": "管段",
                               "grid_cell": "网格", "township": "乡镇"}
