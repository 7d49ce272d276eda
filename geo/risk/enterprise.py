"""Enterprise risk: GB 18218-2018 major hazard sources, the hazchem diagnostic score, supervision class, dynamics.

Every threshold comes from the rules file (geo/risk/rules.toml); distances are metres in the county's
Gauss–Krüger zone. Spatial parts are one SQL statement each over all enterprises in scope.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from geo.codes import INDUSTRY_CATEGORIES  # light: the CLI need not load the ORM models
from geo.risk.findings import Assessment, Finding, combine_findings, degree_margin, fmt_number
from geo.risk.rules import LEVEL_RANK, Rules, highest

KIND = "enterprise"


# --- GB 18218-2018 ---------------------------------------------------------------------------------------

@dataclass
class UnitResult:
    """One 生产/储存单元: S = Σq/Q, βS = Σβq/Q, R = α·βS and the grade when S ≥ 1 (GB 18218-2018 §4.2–4.3)."""

    unit: str
    s: float = 0.0
    beta_s: float = 0.0
    r: float = 0.0
    grade: int | None = None
    unknown: list[str] = field(default_factory=list)


def normalise_name(name: str | None) -> str:
    """Substance name compared without spaces and with full-width brackets/commas/percent as ASCII."""
    table = str.maketrans({"（": "(", "）": ")", "，": ",", "％": "%", "＞": ">", "　": ""})
    return "".join((name or "").translate(table).split())


def lookup_substance(rules: Rules, *, substance: str, cas: str | None,
                     hazard_class: str | None) -> tuple[float, float] | None:
    """(Q in t, β) for an inventory line: Table 1 by CAS or name first, else Table 2/4 by class; None if neither."""
    table1 = rules["gb18218"]["substances"]
    name = normalise_name(substance)
    for entry in table1:
        if cas and entry.get("cas") == cas.strip():
            return float(entry["q_t"]), float(entry["beta"])
    for entry in table1:
        if name in {normalise_name(n) for n in [entry["name"], *entry.get("aliases", [])]}:
            return float(entry["q_t"]), float(entry["beta"])
    classes = rules["gb18218"]["classes"]
    if hazard_class and hazard_class.strip() in classes:
        c = classes[hazard_class.strip()]
        return float(c["q_t"]), float(c["beta"])
    return None


def alpha_for(persons: float, rules: Rules) -> float:
    """α from the persons within 500 m (GB 18218-2018 Table 5)."""
    for band in rules["gb18218"]["alpha"]:
        if persons >= band["min_persons"]:
            return float(band["alpha"])
    return float(rules["gb18218"]["alpha"][-1]["alpha"])


def grade_for(r: float, rules: Rules) -> int:
    """Major hazard source grade 1–4 from R (GB 18218-2018 Table 6)."""
    for band in rules["gb18218"]["grades"]:
        if r >= band["min_r"]:
            return int(band["grade"])
    return int(rules["gb18218"]["grades"][-1]["grade"])


def identify_major_hazards(lines: list[dict[str, Any]], *, persons: float, rules: Rules) -> list[UnitResult]:
    """Per unit: S = Σq/Q ≥ 1 identifies a major hazard source; R = α·Σβq/Q grades it (GB 18218-2018 §4.2–4.3)."""
    alpha = alpha_for(persons, rules)
    units: dict[str, UnitResult] = {}
    for line in lines:
        unit = line.get("unit_name") or "全厂"
        res = units.setdefault(unit, UnitResult(unit=unit))
        found = lookup_substance(rules, substance=line["substance"], cas=line.get("cas"),
                                 hazard_class=line.get("hazard_class"))
        if found is None:
            res.unknown.append(line["substance"])
            continue
        q_t, beta = found
        ratio = float(line["max_quantity_t"]) / q_t
        res.s += ratio
        res.beta_s += beta * ratio
    for res in units.values():
        res.r = alpha * res.beta_s
        res.grade = grade_for(res.r, rules) if res.s >= 1.0 else None
    return list(units.values())


# --- accidents ---------------------------------------------------------------------------------------------

def accident_grade(*, deaths: int, serious_injuries: int, loss_10k_yuan: float, rules: Rules) -> str:
    """Accident grade code by 生产安全事故报告和调查处理条例 Art 3: the highest grade any threshold reaches."""
    grades = rules["accident_grades"]
    result = "general"
    for code in grades["order"][1:]:
        t = grades[code]
        if deaths >= t["deaths"] or serious_injuries >= t["serious_injuries"] or loss_10k_yuan >= t["loss_10k_yuan"]:
            result = code
    return result


def grade_rank(code: str, rules: Rules) -> int:
    return list(rules["accident_grades"]["order"]).index(code)


# --- SQL over all enterprises in scope ------------------------------------------------------------------

ENTERPRISES_SQL = """
SELECT e.id, e.name, e.category, e.major_hazard_source, e.key_process, e.key_chemical,
       e.standardisation_grade, e.in_chemical_park,
       COALESCE((SELECT t.id FROM township t WHERE ST_Intersects(t.geom, e.geom) ORDER BY t.id LIMIT 1),
                e.township_id) AS township_id
FROM enterprise e JOIN risk_scope_enterprise s USING (id)
"""

INVENTORY_SQL = """
SELECT c.enterprise_id, c.unit_name, c.substance, c.cas, c.max_quantity_t, c.hazard_class
FROM chemical_inventory c JOIN risk_scope_enterprise s ON s.id = c.enterprise_id
ORDER BY c.enterprise_id, c.id
"""

POPULATION_SQL = """
SELECT e.id,
       COALESCE(sum(b.floors * COALESCE(CAST(CAST(:ppf AS jsonb) ->> b.use_class AS double precision), 0)), 0)
FROM enterprise e
JOIN risk_scope_enterprise s USING (id)
LEFT JOIN building b
  ON b.geom && ST_Expand(e.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(e.geom, :srid), :radius_m)
WHERE EXISTS (SELECT 1 FROM chemical_inventory c WHERE c.enterprise_id = e.id)
GROUP BY e.id
"""


def count_population(conn: Connection, rules: Rules, *, srid: int) -> dict[int, float]:
    """Persons within the GB 18218 radius (500 m) of each enterprise holding an inventory: Σ floors × persons/floor."""
    radius_m = float(rules["gb18218"]["population_radius_m"])
    dx, dy = degree_margin(conn, radius_m)
    rows = conn.execute(text(POPULATION_SQL), {"ppf": json.dumps(rules["population"]["persons_per_floor"]),
                                               "dx": dx, "dy": dy, "srid": srid, "radius_m": radius_m})
    return {int(i): float(p) for i, p in rows}


TARGETS_SQL = """
SELECT e.id, b.use_class,
       min(ST_Distance(ST_Transform(b.geom, :srid), ST_Transform(e.geom, :srid))) AS distance_m
FROM enterprise e
JOIN risk_scope_enterprise s USING (id)
JOIN building b
  ON b.use_class = ANY(CAST(:uses AS text[]))
 AND b.geom && ST_Expand(e.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(e.geom, :srid), :max_m)
WHERE e.category = ANY(CAST(:cats AS text[]))
GROUP BY e.id, b.use_class
"""


def find_protected_targets(conn: Connection, rules: Rules, *, srid: int) -> dict[int, dict[str, float]]:
    """Nearest protected target (m) per use class inside its external safety distance, for diagnosed enterprises."""
    limits = {k: float(v) for k, v in rules["diagnostic"]["surroundings"]["external_safety_distance_m"].items()}
    if not limits:
        return {}
    max_m = max(limits.values())
    dx, dy = degree_margin(conn, max_m)
    rows = conn.execute(text(TARGETS_SQL), {"srid": srid, "uses": list(limits), "dx": dx, "dy": dy, "max_m": max_m,
                                            "cats": list(rules["diagnostic"]["categories"])})
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for eid, use, distance_m in rows:
        if distance_m < limits[use]:
            out[int(eid)][use] = float(distance_m)
    return out


SITE_PIPELINES_SQL = """
SELECT e.id, p.code, min(ST_Distance(ST_Transform(g.geom, :srid), ST_Transform(e.geom, :srid))) AS distance_m
FROM enterprise e
JOIN risk_scope_enterprise s USING (id)
JOIN pipeline_segment g
  ON g.geom && ST_Expand(e.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(g.geom, :srid), ST_Transform(e.geom, :srid), :radius_m)
JOIN pipeline p ON p.id = g.pipeline_id
WHERE e.category = ANY(CAST(:cats AS text[]))
GROUP BY e.id, p.code
ORDER BY e.id, distance_m, p.code
"""


def find_site_pipelines(conn: Connection, rules: Rules, *, srid: int) -> dict[int, list[tuple[str, float]]]:
    """Pipelines (by their stored segments) within the assumed site radius of each diagnosed enterprise: (code, m)."""
    radius_m = float(rules["diagnostic"]["surroundings"]["pipeline_site_radius_m"])
    dx, dy = degree_margin(conn, radius_m)
    rows = conn.execute(text(SITE_PIPELINES_SQL), {"srid": srid, "dx": dx, "dy": dy, "radius_m": radius_m,
                                                   "cats": list(rules["diagnostic"]["categories"])})
    out: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for eid, code, distance_m in rows:
        out[int(eid)].append((str(code), float(distance_m)))
    return out


HAZARDS_SQL = """
SELECT h.enterprise_id,
       count(*) FILTER (WHERE h.level = 'major' AND h.status = ANY(CAST(:major_open AS text[]))),
       count(*) FILTER (WHERE h.level = 'general' AND h.status = ANY(CAST(:general_open AS text[]))
                        AND h.deadline < :today)
FROM hazard h JOIN risk_scope_enterprise s ON s.id = h.enterprise_id
GROUP BY h.enterprise_id
"""


def count_hazards(conn: Connection, rules: Rules, *, today: dt.date) -> dict[int, tuple[int, int]]:
    """(open major hazards, overdue general hazards) per enterprise, as of `today`."""
    ent = rules["enterprise"]
    rows = conn.execute(text(HAZARDS_SQL), {"major_open": list(ent["open_major_hazard"]["open_statuses"]),
                                            "general_open": list(ent["overdue_general_hazard"]["open_statuses"]),
                                            "today": today})
    return {int(i): (int(m), int(g)) for i, m, g in rows}


ACCIDENTS_SQL = """
SELECT a.enterprise_id, a.occurred_on, a.deaths, a.serious_injuries, a.direct_loss_10k_yuan
FROM accident a JOIN risk_scope_enterprise s ON s.id = a.enterprise_id
WHERE a.occurred_on >= :since AND a.occurred_on <= :today
ORDER BY a.enterprise_id, a.occurred_on, a.id
"""


def list_accidents(conn: Connection, rules: Rules, *, today: dt.date) -> dict[int, list[dict[str, Any]]]:
    """Accidents per enterprise within the longest look-back window of the rules, with their grade."""
    ent = rules["enterprise"]
    years = max(int(ent["serious_accident"]["lookback_years"]), int(ent["recent_accident"]["lookback_years"]))
    since = shift_years(today, -years)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for eid, on, deaths, injuries, loss in conn.execute(text(ACCIDENTS_SQL), {"since": since, "today": today}):
        grade = accident_grade(deaths=int(deaths), serious_injuries=int(injuries), loss_10k_yuan=float(loss),
                               rules=rules)
        out[int(eid)].append({"occurred_on": on, "deaths": int(deaths), "serious_injuries": int(injuries),
                              "loss_10k_yuan": float(loss), "grade": grade})
    return out


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (Feb 29 → Feb 28)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- rules on one enterprise (pure Python over the rows fetched above) ------------------------------------

@dataclass
class EnterpriseFacts:
    """What the rules read about one enterprise."""

    row: dict[str, Any]
    units: list[UnitResult]
    persons: float
    open_major: int
    overdue_general: int
    accidents: list[dict[str, Any]]
    targets: dict[str, float]
    site_pipelines: list[tuple[str, float]]
    mine_findings: list[Finding]


def best_unit(units: list[UnitResult]) -> UnitResult | None:
    """The unit with the most severe grade (lowest number, then highest R)."""
    graded = [u for u in units if u.grade is not None]
    return min(graded, key=lambda u: (u.grade, -u.r)) if graded else None


def supervision_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> list[Finding]:
    """Supervision class (red for open major hazards / serious accidents, key sectors yellow) and dynamic factors."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    out: list[Finding] = []
    key = ent["key_sector"]
    if facts.row["category"] in key["categories"]:
        out.append(Finding(KIND, eid, "enterprise.key_sector", key["level"], float(key["points"]),
                           key["text"].format(category=INDUSTRY_CATEGORIES.get(facts.row["category"], "")),
                           key["clause"]))
    rule = ent["open_major_hazard"]
    if facts.open_major:
        out.append(Finding(KIND, eid, "enterprise.open_major_hazard", rule["level"],
                           float(rule["points"]) * facts.open_major, rule["text"].format(n=facts.open_major),
                           rule["clause"], {"n": facts.open_major}))
    rule = ent["overdue_general_hazard"]
    if facts.overdue_general:
        level = "orange" if facts.overdue_general >= int(rule["orange_from"]) else rule["level"]
        level = highest([level, rule["level"]])
        out.append(Finding(KIND, eid, "enterprise.overdue_general_hazard", level,
                           float(rule["points"]) * facts.overdue_general,
                           rule["text"].format(n=facts.overdue_general), rule["clause"], {"n": facts.overdue_general}))
    out.extend(accident_findings(facts, rules, today=today))
    out.extend(major_hazard_findings(facts, rules))
    for f in facts.mine_findings:
        rule = ent["mine"]
        out.append(Finding(KIND, eid, "enterprise.mine", f.level, float(rule["points"]),
                           rule["text"].format(name=f.value.get("mine_name", ""), reason=f.text), rule["clause"],
                           {"mine_id": f.object_id, "mine_rule": f.code}))
    return out


def accident_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> list[Finding]:
    """较大及以上 accidents → red; other accidents in the last years → yellow (orange with deaths)."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    labels = rules["accident_grades"]["labels"]
    serious = ent["serious_accident"]
    serious_since = shift_years(today, -int(serious["lookback_years"]))
    min_rank = grade_rank(serious["min_grade"], rules)
    out: list[Finding] = []
    minor: list[dict[str, Any]] = []
    recent = ent["recent_accident"]
    recent_since = shift_years(today, -int(recent["lookback_years"]))
    for acc in facts.accidents:
        if grade_rank(acc["grade"], rules) >= min_rank and acc["occurred_on"] >= serious_since:
            out.append(Finding(KIND, eid, "enterprise.serious_accident", serious["level"], float(serious["points"]),
                               serious["text"].format(date=acc["occurred_on"].isoformat(), grade=labels[acc["grade"]],
                                                      deaths=acc["deaths"], injuries=acc["serious_injuries"],
                                                      loss=fmt_number(acc["loss_10k_yuan"])),
                               serious["clause"], {"grade": acc["grade"], "occurred_on": acc["occurred_on"].isoformat()}))
        elif acc["occurred_on"] >= recent_since:
            minor.append(acc)
    if minor:
        deaths = sum(a["deaths"] for a in minor)
        level = recent["level_with_deaths"] if deaths else recent["level"]
        out.append(Finding(KIND, eid, "enterprise.recent_accident", level, float(recent["points"]) * len(minor),
                           recent["text"].format(years=recent["lookback_years"], n=len(minor), deaths=deaths),
                           recent["clause"], {"n": len(minor), "deaths": deaths}))
    return out


def major_hazard_findings(facts: EnterpriseFacts, rules: Rules) -> list[Finding]:
    """GB 18218 grade of the most severe unit; a declared source the inventory does not bear out; unknown lines."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    out: list[Finding] = []
    unit = best_unit(facts.units)
    labels = rules["gb18218"]["grade_labels"]
    if unit is not None:
        rule = ent["major_hazard_source"]
        g = str(unit.grade)
        out.append(Finding(KIND, eid, "enterprise.major_hazard_source", rule["levels"][g], float(rule["points"][g]),
                           rule["text"].format(grade_label=labels[g], r=fmt_number(unit.r)), rule["clause"],
                           {"grade": unit.grade, "r": round(unit.r, 2), "s": round(unit.s, 3), "unit": unit.unit,
                            "alpha": alpha_for(facts.persons, rules), "persons_500m": round(facts.persons, 1)}))
    elif facts.row["major_hazard_source"]:
        rule = ent["declared_major_hazard_source"]
        s = max((u.s for u in facts.units), default=0.0)
        out.append(Finding(KIND, eid, "enterprise.declared_major_hazard_source", rule["level"], float(rule["points"]),
                           rule["text"].format(s=fmt_number(s, 2)), rule["clause"]))
    unknown = sorted({name for u in facts.units for name in u.unknown})
    if unknown:
        rule = ent["unknown_substance"]
        out.append(Finding(KIND, eid, "enterprise.unknown_substance", None, 0.0,
                           rule["text"].format(n=len(unknown), names="、".join(unknown)), rule["clause"]))
    return out


def diagnostic_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> tuple[list[Finding], dict[str, Any]]:
    """Hazchem diagnostic score (100 minus deductions by item), its band, and direct-red conditions."""
    diag = rules["diagnostic"]
    eid = int(facts.row["id"])
    deductions: list[dict[str, Any]] = []

    def deduct(item: str, points: float, reason: str) -> None:
        if points > 0:
            deductions.append({"item": item, "item_label": diag["item_labels"][item], "points": points,
                               "text": reason})

    inh = diag["inherent"]
    unit = best_unit(facts.units)
    if unit is not None:
        deduct("inherent", float(inh["major_hazard_grade"][str(unit.grade)]),
               f"重大危险源{rules['gb18218']['grade_labels'][str(unit.grade)]}（R={fmt_number(unit.r)}）")
    if facts.row["key_process"]:
        deduct("inherent", float(inh["key_process"]), "涉及重点监管危险化工工艺")
    if facts.row["key_chemical"]:
        deduct("inherent", float(inh["key_chemical"]), "涉及重点监管危险化学品")
    sur = diag["surroundings"]
    for use, distance_m in sorted(facts.targets.items()):
        deduct("surroundings", float(sur["protected_target"]),
               sur["protected_target_text"].format(target=sur["target_labels"].get(use, use),
                                                   distance_m=fmt_number(distance_m, 0),
                                                   limit_m=fmt_number(sur["external_safety_distance_m"][use], 0)))
    if not facts.row["in_chemical_park"]:
        deduct("surroundings", float(sur["outside_chemical_park"]), sur["outside_chemical_park_text"])
    for code, distance_m in facts.site_pipelines:
        deduct("surroundings", float(sur["pipeline_crossing"]),
               sur["pipeline_crossing_text"].format(code=code, distance_m=fmt_number(distance_m, 0)))
    man = diag["management"]
    std_key = str(facts.row["standardisation_grade"]) if facts.row["standardisation_grade"] else "none"
    deduct("management", float(man["standardisation"][std_key]), man["standardisation_text"].get(std_key, ""))
    if facts.overdue_general:
        deduct("management", min(float(man["overdue_general_hazard"]) * facts.overdue_general,
                                 float(man["overdue_general_hazard_max"])), f"逾期未整改一般隐患 {facts.overdue_general} 项")
    if facts.accidents:
        deduct("management", min(float(man["accident_recent"]) * len(facts.accidents),
                                 float(man["accident_recent_max"])), f"近年发生事故 {len(facts.accidents)} 起")
    score = max(float(diag["full_score"]) - sum(d["points"] for d in deductions), 0.0)
    band = next(b["level"] for b in diag["bands"] if score >= b["min_score"])
    findings = [Finding(KIND, eid, "diagnostic.score", band, float(diag["full_score"]) - score,
                        diag["text"].format(score=fmt_number(score), band=rules.label(band)), diag["clause"],
                        {"score": score})]
    for d in deductions:
        findings.append(Finding(KIND, eid, f"diagnostic.{d['item']}", None, 0.0, f"{d['text']}（{d['item_label']} 扣 "
                                f"{fmt_number(d['points'])} 分）", diag["clause"], {"deduction": d["points"]}))
    for condition in direct_red_conditions(facts, rules, today=today):
        findings.append(Finding(KIND, eid, "diagnostic.direct_red", "red", 0.0,
                                diag["direct_red"]["text"].format(condition=condition), diag["clause"]))
    details = {"score": score, "band": band, "deductions": deductions, "not_scored": list(diag["not_scored"])}
    return findings, details


def direct_red_conditions(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> list[str]:
    """Conditions of the diagnostic rules that make a hazchem enterprise red whatever its score."""
    red = rules["diagnostic"]["direct_red"]
    labels = red["labels"]
    out: list[str] = []
    unit = best_unit(facts.units)
    if red.get("major_hazard_grade_1_with_target") and unit is not None and unit.grade == 1 and facts.targets:
        out.append(labels["major_hazard_grade_1_with_target"])
    if red.get("open_major_hazard") and facts.open_major:
        out.append(labels["open_major_hazard"])
    years = int(red.get("fatal_accident_years", 0))
    if years and any(a["deaths"] > 0 and a["occurred_on"] >= shift_years(today, -years) for a in facts.accidents):
        out.append(labels["fatal_accident"].format(years=years))
    return out


def assess_enterprises(conn: Connection, rules: Rules, *, srid: int, today: dt.date,
                       mine_findings: dict[int, list[Finding]] | None = None) -> list[Assessment]:
    """Assess every enterprise in risk_scope_enterprise: level = highest of all rules, score orders within a colour."""
    rows = [dict(r._mapping) for r in conn.execute(text(ENTERPRISES_SQL))]
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(text(INVENTORY_SQL)):
        lines[int(r.enterprise_id)].append(dict(r._mapping))
    persons = count_population(conn, rules, srid=srid) if lines else {}
    targets = find_protected_targets(conn, rules, srid=srid)
    site_pipes = find_site_pipelines(conn, rules, srid=srid)
    hazards = count_hazards(conn, rules, today=today)
    accidents = list_accidents(conn, rules, today=today)
    mine_findings = mine_findings or {}
    out: list[Assessment] = []
    diag_cats = set(rules["diagnostic"]["categories"])
    for row in rows:
        eid = int(row["id"])
        p = persons.get(eid, 0.0)
        facts = EnterpriseFacts(row=row, units=identify_major_hazards(lines.get(eid, []), persons=p, rules=rules),
                                persons=p, open_major=hazards.get(eid, (0, 0))[0],
                                overdue_general=hazards.get(eid, (0, 0))[1], accidents=accidents.get(eid, []),
                                targets=targets.get(eid, {}), site_pipelines=site_pipes.get(eid, []),
                                mine_findings=mine_findings.get(eid, []))
        findings = supervision_findings(facts, rules, today=today)
        details: dict[str, Any] = {"name": row["name"], "category": row["category"]}
        if row["category"] in diag_cats:
            diag, details["diagnostic"] = diagnostic_findings(facts, rules, today=today)
            findings.extend(diag)
        if facts.units:
            details["units"] = [{"unit": u.unit, "s": round(u.s, 3), "beta_s": round(u.beta_s, 3),
                                 "r": round(u.r, 2), "grade": u.grade} for u in facts.units]
            details["persons_500m"] = round(p, 1)
            details["alpha"] = alpha_for(p, rules)
        out.append(combine_findings(KIND, eid, findings, township_id=row["township_id"], details=details))
    return out


__all__ = ["assess_enterprises", "identify_major_hazards", "alpha_for", "grade_for", "accident_grade",
           "LEVEL_RANK"]
