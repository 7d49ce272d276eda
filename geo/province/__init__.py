"""Many counties in one deployment (issue #16): a province.toml maps each county to its database (shard);
`riskmap province compute` runs each county's risk computation and encroachment check as one task — in-process
one after another, or on a Dask cluster (`--scheduler`) — with the neighbours' features near the border read in
first (halo) and each county's township colours rolled up for the city and province.

Modules: config (province.toml), halo (cross-border features), task (one county, one transaction), rollup,
run (local or Dask), cli. Nothing here is imported by the single-county code paths.
"""
