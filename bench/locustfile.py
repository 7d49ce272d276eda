"""Locust users for bench.load: staff browsing the county map, townships and streets, and staff working on lists.

Run by bench.load (never by hand): it writes the request plan (JSON, env RISKMAP_LOAD_PLAN) and passes the
bearer header (env RISKMAP_LOAD_AUTH, empty before the service has logins) and the think time in seconds
between two actions (env RISKMAP_LOAD_THINK, "min,max"). Each request is named by its kind (map, tile,
geojson) so locust's statistics come out per kind; any non-2xx answer or connection error is a failure.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

_PLAN: dict[str, Any] = json.loads(open(os.environ["RISKMAP_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_AUTH = os.environ.get("RISKMAP_LOAD_AUTH", "")
_THINK = tuple(float(x) for x in os.environ.get("RISKMAP_LOAD_THINK", "1,3").split(","))


def kind_of(path: str) -> str:
    """The endpoint kind a request path belongs to, which is the name its statistics go under."""
    if path.startswith("/tiles/"):
        return "tile"
    if path.startswith("/maps"):
        return "map"
    return "geojson"


class _Staff(FastHttpUser):
    abstract = True
    wait_time = between(_THINK[0], _THINK[1])
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.headers = {"Authorization": _AUTH} if _AUTH else {}
        self.rng = random.Random()

    def fetch(self, paths: list[str]) -> None:
        """Request each path in turn (as one browser view does), failing any non-2xx answer; a connection
        error (status 0) is failed by locust itself."""
        for path in paths:
            with self.client.get(path, name=kind_of(path), headers=self.headers, catch_response=True) as r:
                if r.status_code and not 200 <= r.status_code < 300:
                    r.failure(f"HTTP {r.status_code} {path} {(r.text or '')[:160]}")

    def township(self) -> dict[str, Any]:
        return self.rng.choice(_PLAN["townships"])

    def list_features(self) -> None:
        lists = self.township()["geojson"]
        self.fetch(self.rng.sample(lists, k=min(2, len(lists))))


class MapUser(_Staff):
    """Four in five: open maps and let the browser fetch each view's tiles, now and then list a layer."""

    weight = 4

    @task(1)
    def county_map(self) -> None:
        self.fetch(_PLAN["county"])

    @task(3)
    def township_map(self) -> None:
        self.fetch(self.township()["page"])

    @task(4)
    def zoom_in(self) -> None:
        views = self.township()["zooms"]
        if views:
            self.fetch(self.rng.choice(views))

    @task(1)
    def lists(self) -> None:
        self.list_features()


class ListUser(_Staff):
    """One in five: works on layer lists (GeoJSON filtered by township, colour and bbox, paged), no map."""

    weight = 1

    @task
    def lists(self) -> None:
        self.list_features()
