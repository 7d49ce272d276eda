"""What an edit can affect: the objects to reassess after rows changed since a time (updated_at triggers).

Each object kind is reassessed when its own row or a row its rules read changed: hazards, accidents and
inventories of an enterprise; buildings within the largest distance a rule looks at (persons within 500 m,
protected targets, class-location strip, blasting distance); zones, pipelines and mines near each other.
Deleted rows leave no updated_at: after deletions recompute the township (or the county).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.db import HEAVY_WORK_SQL
from geo.risk.findings import degree_margin
from geo.risk.rules import Rules
from geo.risk.scope import Scope

ENTERPRISES_SQL = """
SELECT e.id FROM enterprise e WHERE e.updated_at > :since
UNION SELECT enterprise_id FROM hazard WHERE updated_at > :since
UNION SELECT enterprise_id FROM accident WHERE updated_at > :since
UNION SELECT enterprise_id FROM chemical_inventory WHERE updated_at > :since
UNION SELECT e.id FROM building b
      JOIN enterprise e ON e.site_boundary IS NULL AND e.geom && ST_Expand(b.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(e.geom, :srid), ST_Transform(b.geom, :srid), :enterprise_m)
      WHERE b.updated_at > :since
UNION SELECT e.id FROM building b
      JOIN enterprise e ON e.site_boundary IS NOT NULL AND e.site_boundary && ST_Expand(b.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(e.site_boundary, :srid), ST_Transform(b.geom, :srid), :enterprise_m)
      WHERE b.updated_at > :since
UNION SELECT e.id FROM pipeline p
      JOIN enterprise e ON COALESCE(e.site_boundary, e.geom) && ST_Expand(p.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(COALESCE(e.site_boundary, e.geom), :srid), ST_Transform(p.geom, :srid),
                      :enterprise_m)
      WHERE p.updated_at > :since
"""
# (The building branches are split by whether the enterprise has a plant boundary so each can search its own
# spatial index — point or boundary, migration 0025; COALESCE(site_boundary, geom) has no index and read every
# enterprise for each edited building.)

MINES_SQL = """
SELECT m.id FROM mine m WHERE m.updated_at > :since
UNION SELECT m.id FROM mine_zone z JOIN mine m ON ST_Intersects(z.geom, m.licence_boundary) WHERE z.updated_at > :since
UNION SELECT m.id FROM building b
      JOIN mine m ON m.licence_boundary && ST_Expand(b.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(m.licence_boundary, :srid), ST_Transform(b.geom, :srid), :mine_m)
      WHERE b.updated_at > :since
UNION SELECT m.id FROM pipeline p
      JOIN mine m ON m.licence_boundary && ST_Expand(p.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(m.licence_boundary, :srid), ST_Transform(p.geom, :srid), :mine_m)
      WHERE p.updated_at > :since
"""

# A changed pipeline is re-segmented and all its segments reassessed. A register item of a pipeline counts on that
# pipeline's nearest segment at any distance, so a changed (or moved) item reassesses its pipeline.
PIPELINES_SQL = """
SELECT p.id FROM pipeline p WHERE p.updated_at > :since
UNION SELECT x.pipeline_id FROM encroachment x WHERE x.updated_at > :since AND x.pipeline_id IS NOT NULL
"""

# Features near a pipeline move only the segments within their reach, not the whole line. A building inside
# the class-location strip also moves every segment whose 2 km windows can hold it (GB 50251-2015 §4.2): those
# within the window length, along the line, of a segment the building lies within the strip of.
SEGMENTS_SQL = """
SELECT s.id FROM encroachment x
      JOIN pipeline_segment s ON s.geom && ST_Expand(x.geom, :dx, :dy)
      WHERE x.updated_at > :since
UNION SELECT s.id FROM building b
      JOIN pipeline_segment s ON s.geom && ST_Expand(b.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(s.geom, :srid), ST_Transform(b.geom, :srid), :pipeline_m)
      WHERE b.updated_at > :since
UNION SELECT s.id FROM building b
      JOIN pipeline_segment n ON n.geom && ST_Expand(b.geom, :sdx, :sdy)
       AND ST_DWithin(ST_Transform(n.geom, :srid), ST_Transform(b.geom, :srid), :strip_m)
      JOIN pipeline_segment s ON s.pipeline_id = n.pipeline_id
       AND s.to_m >= n.from_m - :window_m AND s.from_m <= n.to_m + :window_m
      WHERE b.updated_at > :since
UNION SELECT s.id FROM enterprise e
      JOIN pipeline_segment s ON s.geom && ST_Expand(e.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(s.geom, :srid), ST_Transform(e.geom, :srid), :pipeline_m)
      WHERE e.updated_at > :since
UNION SELECT s.id FROM mine m
      JOIN pipeline_segment s ON s.geom && ST_Expand(m.licence_boundary, :dx, :dy)
       AND ST_DWithin(ST_Transform(s.geom, :srid), ST_Transform(m.licence_boundary, :srid), :pipeline_m)
      WHERE m.updated_at > :since
UNION SELECT s.id FROM road r
      JOIN pipeline_segment s ON s.geom && ST_Expand(r.geom, :dx, :dy)
       AND ST_DWithin(ST_Transform(s.geom, :srid), ST_Transform(r.geom, :srid), :pipeline_m)
      WHERE r.updated_at > :since
"""


# A run after a few edits is milliseconds of work: starting parallel workers costs more than it saves, and with
# them the planner may scan a county-wide table (every building, to find the one edited since the last run) to
# split the other side of a join between workers — after an ANALYZE had seen a few recent edits, the ×1 county's
# enterprise scope took 50 ms instead of 1 ms that way.
SMALL_RUN_SQL = HEAVY_WORK_SQL + ", set_config('max_parallel_workers_per_gather', '0', true)"

SCOPE_QUERIES = {"enterprise": ENTERPRISES_SQL, "mine": MINES_SQL, "pipeline": PIPELINES_SQL, "segment": SEGMENTS_SQL}
# The four as one statement (one round trip: on a loaded machine each waits for the server to be scheduled).
SCOPE_SQL = "\nUNION ALL\n".join(f"SELECT '{name}' AS kind, q.id FROM ({sql}) q (id)"
                                  for name, sql in SCOPE_QUERIES.items())

LAST_RUN_SQL = """
SELECT max(t) FROM (SELECT max(computed_at) AS t FROM risk_assessment
                    UNION ALL SELECT max(last_run_at) FROM risk_rules_version) r
"""


def last_computed_at(conn: Connection) -> dt.datetime | None:
    """When the latest run was (None before the first): its newest history row, or its rules' last_run_at when
    nothing it assessed changed (indexed: ix_risk_assessment_computed_at)."""
    return conn.execute(text(LAST_RUN_SQL)).scalar()


def reach_m(rules: Rules) -> dict[str, float]:
    """How far (m) a changed row can move each kind's result, from the distances in the rules."""
    ent = rules["enterprise"]
    enterprise_m = max([float(rules["gb18218"]["population_radius_m"]) + float(ent["site"]["default_radius_m"]),
                        *map(float, ent["local_protected_target"]["external_safety_distance_m"].values())])
    mine = rules["mine"]
    mine_m = max(float(mine["blasting_dwellings"]["distance_m"]), float(mine["pipeline_nearby"]["distance_m"]))
    pr = rules["pipeline"]
    hca = pr["hca"]
    pipeline_m = max(float(pr["class_location"]["strip_m"]), float(hca["gas_e"]["distance_m"]),
                     float(hca["gas_f"]["distance_m"]), float(pr["mine_nearby"]["distance_m"]), 400.0)
    return {"enterprise_m": enterprise_m, "mine_m": mine_m, "pipeline_m": pipeline_m}


def changed_scope(conn: Connection, rules: Rules, *, since: dt.datetime, srid: int) -> Scope:
    """The Scope holding every enterprise, mine, pipeline and segment an edit after `since` can affect.

    Each query reads the rows edited since `since` through the updated_at indexes (migration 0015). JIT is off for
    the transaction: on a server with default settings it compiles these joins for a second or two, for
    statements that take milliseconds. So are parallel workers, for this run's recompute too (SMALL_RUN_SQL).
    """
    conn.execute(text(SMALL_RUN_SQL))
    reach = reach_m(rules)
    dx, dy = degree_margin(conn, max(reach.values()))
    cl = rules["pipeline"]["class_location"]
    sdx, sdy = degree_margin(conn, float(cl["strip_m"]))
    params = {"since": since, "srid": srid, "dx": dx, "dy": dy, "sdx": sdx, "sdy": sdy, **reach,
              "strip_m": float(cl["strip_m"]), "window_m": float(cl["window_m"])}
    found: dict[str, set[int]] = {name: set() for name in SCOPE_QUERIES}
    for name, i in conn.execute(text(SCOPE_SQL), params):
        if i is not None:
            found[name].add(int(i))
    ids = {name: tuple(sorted(values)) for name, values in found.items()}
    return Scope(enterprise_ids=ids["enterprise"], mine_ids=ids["mine"], pipeline_ids=ids["pipeline"],
                 segment_ids=ids["segment"], since=since)
