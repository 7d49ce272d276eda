"""Issue #16: while a county's task runs, its stages (halo, risk levels, encroachment check, roll-up) come back to
whoever started the run — in-process as calls, from Dask workers as events — and the CLI prints them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from geo.province.config import load_province
from geo.province.task import STAGES
from tests.test_province import own_prefix, rolled_up_province

PREFIX = own_prefix("province_stages")


@pytest.fixture(scope="module")
def two_counties(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with rolled_up_province(db_url, tmp_path_factory, PREFIX, seed=13) as made:
        yield {"file": made["file"], "province": load_province(made["file"])}


def test_stages_come_back_in_order_in_process(two_counties):
    from geo.province.run import compute_province

    p = two_counties["province"]
    seen: list[tuple[str, str]] = []
    run = compute_province(p, on_stage=lambda code, stage: seen.append((code, stage)))
    assert not run.failed
    assert seen == [(c.code, s) for c in p.counties for s in STAGES]


def test_stages_stream_back_from_dask_workers(two_counties):
    from distributed import Client, LocalCluster

    from geo.province.run import compute_province

    p = two_counties["province"]
    seen: list[tuple[str, str]] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        run = compute_province(p, scheduler=client, on_stage=lambda code, stage: seen.append((code, stage)))
        assert not run.failed
        deadline = time.monotonic() + 30  # events travel worker → scheduler → client beside the results
        while len(seen) < len(STAGES) * len(p.counties) and time.monotonic() < deadline:
            time.sleep(0.1)
    for c in p.counties:
        assert [s for code, s in seen if code == c.code] == list(STAGES), seen


def test_the_cli_prints_each_stage(two_counties, capsys):
    from geo.cli import main

    p = two_counties["province"]
    code = p.counties[1].code
    assert main(["province", "--province", str(two_counties["file"]), "compute", "--county", code]) == 0
    out = capsys.readouterr().out
    for label in STAGES.values():
        assert f"… {code} {p.counties[1].name}：{label}" in out, out
    assert out.index("计算风险等级") < out.index("占压排查") < out.index("[1/1]")
