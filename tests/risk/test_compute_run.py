"""A full recompute is one transaction: all of it is written, once, or none of it (the rules run beside the queries)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import geo.risk.enterprise
import geo.risk.pipeline
from riskfix import compute_now, explain_of


def history_rows(county) -> list[tuple[str, int]]:
    with county.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT kind, object_id FROM risk_assessment ORDER BY id")).all()]


def small_county(site) -> tuple[int, int]:
    """Two enterprises and a gas line of 350 m (four segments) by a house."""
    hazchem = site.enterprise("甲化工", "hazchem", (0, 0), in_chemical_park=True, standardisation_grade=1)
    site.inventory(hazchem, "液氯", 30)
    shop = site.enterprise("乙商贸", "industry_trade", (900, 0))
    site.pipeline("GX-1", [(-200, 300), (150, 300)])
    site.building((0, 350), floors=2)
    return hazchem, shop


@pytest.mark.parametrize("broken", ["enterprise", "segment"])
def test_a_rule_that_fails_beside_the_queries_leaves_no_history(site, county, monkeypatch, broken):
    """The enterprise and segment rules run in a second thread while PostgreSQL answers the next queries; an error
    there reaches the caller, and the run's transaction writes nothing — not the kinds that were already done."""
    small_county(site)

    def fails(*args, **kwargs):
        raise RuntimeError("规则出错")

    target = (geo.risk.enterprise, "supervision_findings") if broken == "enterprise" \
        else (geo.risk.pipeline, "segment_findings")
    monkeypatch.setattr(*target, fails)
    with pytest.raises(RuntimeError, match="规则出错"):
        compute_now(county)
    assert history_rows(county) == []


def test_a_first_run_writes_one_current_row_per_object_in_the_order_assessed(site, county):
    """Into an empty history (which the planner may take for empty even once the run has written to it), every
    enterprise, mine, segment and area gets exactly one row, in the order the run assessed them; a second run
    writes nothing new."""
    hazchem, shop = small_county(site)
    report = compute_now(county)
    rows = history_rows(county)
    assert len(rows) == len(set(rows)) == sum(report.assessed.values())
    assert [k for k, _ in rows] == sorted((k for k, _ in rows), key=["enterprise", "mine", "pipeline_segment",
                                                                      "grid_cell", "township"].index)
    assert [i for k, i in rows if k == "enterprise"] == [hazchem, shop]
    assert report.assessed["pipeline_segment"] == 4
    assert explain_of(county, "enterprise", hazchem)["level"] == "orange"
    again = compute_now(county)
    assert history_rows(county) == rows
    assert all(w["new"] == 0 and w["changed"] == 0 for w in again.written.values())
