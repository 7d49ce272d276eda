"""A full recompute is one transaction: all of it is written, once, or none of it (the rules run beside the queries)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import geo.risk.enterprise
import geo.risk.pipeline
from riskfix import compute_now, explain_of, rect, texts


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


def current_results(county) -> list[tuple]:
    with county.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT kind, object_id, level, score, reasons, details, township_id FROM risk_assessment "
            "WHERE valid_to IS NULL ORDER BY kind, object_id")).all()]


def twin_county(site) -> int:
    """People around a plant, a school by it, an open pit with houses, a restricted zone and a gas line near its
    workings, and the owner that inherits them; returns the owner's id."""
    town = site.township("140930100000", "文笔镇", -5000, -5000, 5000, 5000)
    site.grid_cell("140930100000-01", town, -5000, -5000, 0, 5000)
    hazchem, _ = small_county(site)
    site.inventory(hazchem, "液氨", 50)
    for i in range(6):
        site.building((100 + 60 * i, -200), floors=4)
    site.building((-150, 0), use="school")
    owner = site.enterprise("丙矿业", "non_coal_mine", (3000, -500))
    site.mine_zone("restricted_zone", "公路两侧", rect(2500, -2000, 4500, 2000))
    site.mine("丙露天矿", rect(3000, 0, 3500, 500), workings=rect(3000, 0, 3500, 500), enterprise_id=owner)
    site.building((3500 + 255, 250))
    site.pipeline("G9", [(2880, -1000), (2880, 1000)])
    return owner


def count_twins(monkeypatch) -> list:
    """The calls of geo.risk.engine.read_on_twin (each a run that read on a twin connection)."""
    import geo.risk.engine

    twins: list = []
    real = geo.risk.engine.read_on_twin
    monkeypatch.setattr(geo.risk.engine, "read_on_twin", lambda *a: twins.append(a) or real(*a))
    return twins


def rerun_from_scratch(county, engine=None, *, written_first: bool = False) -> None:
    """Empty the history and recompute, on `engine` (default: the county's); `written_first`: in a transaction that
    has its id already, as if it had written."""
    from geo.risk import compute
    from riskfix import NOW, TODAY

    with county.begin() as conn:
        conn.execute(text("TRUNCATE risk_assessment, risk_rules_version, pipeline_segment RESTART IDENTITY"))
    with (engine or county).begin() as conn:
        if written_first:
            conn.execute(text("SELECT txid_current()"))
        compute(conn, today=TODAY, now=NOW)


def test_the_twin_connection_and_a_run_on_one_connection_give_the_same_results(site, county, monkeypatch):
    """A county run reads the plants' surroundings and the mines' sites on a twin connection (geo.snapshot); a
    caller whose transaction has already written cannot share its snapshot, so its run reads them itself. Both
    give the same levels, reasons and details."""
    owner = twin_county(site)
    twins = count_twins(monkeypatch)
    compute_now(county)
    assert len(twins) == 1
    beside = current_results(county)
    assert {k for k, *_ in beside} == {"enterprise", "mine", "pipeline_segment", "grid_cell", "township"}
    rerun_from_scratch(county, written_first=True)
    assert len(twins) == 1
    assert current_results(county) == beside
    mine = explain_of(county, "mine", next(i for k, i, *_ in beside if k == "mine"))
    assert mine["level"] == "orange" and any("爆破安全距离" in t for t in texts(mine))
    assert any("距管道G9 120 m" in t for t in texts(mine))
    owner_texts = [t for t in texts(explain_of(county, "enterprise", owner)) if "所属矿山丙露天矿" in t]
    # the owner's reasons share one code, so they keep the mine rules' order: zone, pipelines, then blasting
    assert ["公路两侧" in owner_texts[0], "距管道G9" in owner_texts[1], "爆破安全距离" in owner_texts[2]] == [True] * 3


def test_a_run_with_no_second_connection_to_be_had_reads_everything_itself(site, county, monkeypatch):
    """A pool of one connection (or a server at max_connections) has no twin to give: the run does not wait for one
    or fail — it reads on its own connection, with the same results."""
    from sqlalchemy import create_engine

    twin_county(site)
    twins = count_twins(monkeypatch)
    compute_now(county)
    beside = current_results(county)
    one = create_engine(county.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        rerun_from_scratch(county, one)
    finally:
        one.dispose()
    assert len(twins) == 1
    assert current_results(county) == beside
