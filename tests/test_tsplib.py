"""The TSPLIB instances behind issue 6's quality figure are intact and read with TSPLIB's own distance rule.

No solver and no database: each shipped optimal tour, measured with our reader and EUC_2D = nint(√(dx²+dy²)),
must come to exactly the optimum TSPLIB publishes — a wrong rounding rule or one damaged coordinate breaks it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.tsplib import (
    DATA_DIR,
    OPTIMA,
    TsplibError,
    euc_2d,
    read_instance,
    read_tour,
    shipped_instances,
    shipped_tours,
    tour_length,
)

TOURS = shipped_tours()


def test_at_least_ten_instances_of_50_to_150_nodes_each_with_a_published_optimum() -> None:
    instances = shipped_instances()
    assert len(instances) >= 10
    assert {i.name for i in instances} <= set(OPTIMA)
    sizes = [i.dimension for i in instances]
    assert all(50 <= n <= 150 for n in sizes)
    assert min(sizes) <= 60 and max(sizes) >= 140  # spread over the range, not bunched at one size


@pytest.mark.parametrize("instance", shipped_instances(), ids=lambda i: i.name)
def test_header_says_symmetric_euc_2d_and_dimension_matches_the_coordinates(instance) -> None:
    assert instance.header["TYPE"] == "TSP"
    assert instance.header["EDGE_WEIGHT_TYPE"] == "EUC_2D"
    assert int(instance.header["DIMENSION"]) == len(instance.coords)
    assert len(set(instance.coords)) == len(instance.coords)  # no node repeated by a copy-paste slip


@pytest.mark.parametrize("name", sorted(TOURS))
def test_optimal_tour_has_exactly_the_published_length(name: str) -> None:
    instance = read_instance(DATA_DIR / f"{name}.tsp")
    tour = read_tour(TOURS[name], instance.dimension)
    assert tour_length(instance, tour) == OPTIMA[name]


def test_most_instances_ship_an_optimal_tour() -> None:
    assert len(TOURS) >= 10
    assert set(TOURS) <= {i.name for i in shipped_instances()}


def test_a_wrong_distance_rule_would_be_caught() -> None:
    """Rounding up (CEIL_2D), truncating, or not rounding at all gives other lengths: the check has teeth."""
    unrounded_differs = 0
    for name, path in TOURS.items():
        instance = read_instance(DATA_DIR / f"{name}.tsp")
        tour = read_tour(path, instance.dimension)
        legs = [math.dist(instance.coords[a - 1], instance.coords[b - 1])
                for a, b in zip(tour, tour[1:] + tour[:1], strict=True)]
        assert sum(math.ceil(leg) for leg in legs) != OPTIMA[name]
        assert sum(math.floor(leg) for leg in legs) != OPTIMA[name]
        unrounded_differs += round(sum(legs)) != OPTIMA[name]
    assert unrounded_differs >= len(TOURS) - 3


def test_nint_rounds_half_up_as_tsplib_does() -> None:
    assert euc_2d((0, 0), (3, 4)) == 5
    assert euc_2d((0, 0), (0, 2.5)) == 3  # Python's round() would give 2
    assert euc_2d((0, 0), (1, 1)) == 1


def test_a_damaged_instance_is_refused(tmp_path: Path) -> None:
    """A copy with a coordinate line lost, or another distance type, is rejected with a Chinese message."""
    text = (DATA_DIR / "eil51.tsp").read_text(encoding="ascii")
    lost = tmp_path / "eil51.tsp"
    lost.write_text(text.replace("\n51 30 40\n", "\n"), encoding="ascii")
    with pytest.raises(TsplibError, match="DIMENSION 为 51，坐标行却有 50 行"):
        read_instance(lost)
    geo = tmp_path / "other" / "eil51.tsp"
    geo.parent.mkdir()
    geo.write_text(text.replace("EUC_2D", "GEO"), encoding="ascii")
    with pytest.raises(TsplibError, match="只支持 EUC_2D"):
        read_instance(geo)


def test_a_tour_that_is_not_a_permutation_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "eil51.opt.tour"
    bad.write_text("\n".join(str(k) for k in [*range(1, 51), 50]) + "\n-1\nEOF\n", encoding="ascii")
    with pytest.raises(TsplibError, match="不是 1…51 的一个排列"):
        read_tour(bad, 51)
