"""Many staff on the maps at once get answers, not errors: bench.load's own code, bounded to 10 users × 10 s.

The service runs on loopback against the demo county; locust's users open the county and township pages,
fetch each view's vector tiles, zoom to streets and list layers as GeoJSON, logged in as a county viewer.
Only errors are asserted (any non-2xx or connection error fails), never times.
"""

from __future__ import annotations

import pytest

from bench.load import KINDS, plan_requests, run_load


@pytest.mark.slow
def test_ten_users_for_ten_seconds_get_no_error(demo_county_db, out_dir):
    plan = plan_requests(demo_county_db)
    assert plan["county"][0] == "/maps" and any(p.startswith("/tiles/") for p in plan["county"])
    baseline, res = run_load(demo_county_db, users=10, duration_s=10, think_s=(0.5, 1.5),
                             log=out_dir / "load-server.log", plan=plan)
    assert baseline is None
    assert set(res.kinds) == set(KINDS), f"every kind of endpoint was asked for: {res.kinds}"
    assert all(k.requests > 0 for k in res.kinds.values())
    assert res.failures == 0, "\n".join(res.failure_lines)
    assert res.exit_code == 0
