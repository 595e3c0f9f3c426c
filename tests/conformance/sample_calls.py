"""Real calls, good and bad, covering every operation of the OpenAPI document on the default config.

Each is (method, path with query, headers, json body or None). Ids are real ones of the bundled
data (coads, eraint with its `month` dimension, places/lakes features, the echo process); `{job}`
is replaced by a job the test creates. Bad inputs: an unknown `f`, an Accept no format satisfies,
a malformed parameter, an unknown id, a too large answer, a conditional GET.
"""

from __future__ import annotations

HTML = {"Accept": "text/html"}
XML = {"Accept": "application/xml"}
PT = "POINT(-30 10)"
POLY = "POLYGON((-40 0,-20 0,-20 20,-40 20,-40 0))"
LINE = "LINESTRING(-40 0,-20 10)"

CALLS: list[tuple[str, str, dict, dict | None]] = [
    ("GET", "/", {}, None), ("GET", "/?f=html", {}, None), ("GET", "/", XML, None), ("GET", "/?f=xml", {}, None),
    ("GET", "/conformance", {}, None), ("GET", "/conformance?f=html", {}, None),
    ("GET", "/collections", {}, None), ("GET", "/collections", HTML, None),
    ("GET", "/collections/coads", {}, None), ("GET", "/collections/places", {}, None),
    ("GET", "/collections/nope", {}, None), ("GET", "/collections/coads?f=html", {}, None),
    ("GET", "/openapi", {}, None), ("GET", "/openapi?f=yaml", {}, None),
    # EDR
    ("GET", f"/collections/coads/position?coords={PT}", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}&f=geojson", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}&f=csv", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}&f=netcdf", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}&f=json", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}", {"Accept": "application/geo+json"}, None),
    ("GET", f"/collections/coads/position?coords={PT}", XML, None),
    ("GET", f"/collections/coads/position?coords={PT}&f=png", {}, None),
    ("GET", "/collections/coads/position?coords=POINT(abc)", {}, None),
    ("GET", "/collections/coads/position", {}, None),
    ("GET", f"/collections/coads/position?coords={PT}&bogus=1", {}, None),
    ("GET", f"/collections/nope/position?coords={PT}", {}, None),
    ("GET", f"/collections/eraint/position?coords={PT}&month=1", {}, None),
    ("GET", f"/collections/eraint/position?coords={PT}&month=13", {}, None),
    ("GET", f"/collections/coads/area?coords={POLY}", {}, None),
    ("GET", f"/collections/coads/area?coords={POLY}&f=netcdf", {}, None),
    ("GET", f"/collections/coads/area?coords={POLY}&f=csv", {}, None),
    ("GET", "/collections/coads/cube?bbox=-40,0,-20,20", {}, None),
    ("GET", "/collections/coads/cube?bbox=-40,0,-20", {}, None),
    ("GET", "/collections/mur-sst/cube?bbox=-180,-90,180,90", {}, None),
    ("GET", f"/collections/coads/radius?coords={PT}&within=300&within-units=km", {}, None),
    ("GET", f"/collections/coads/radius?coords={PT}&within=300&within-units=km&f=geojson", {}, None),
    ("GET", f"/collections/coads/radius?coords={PT}&within=-1&within-units=km", {}, None),
    ("GET", f"/collections/coads/trajectory?coords={LINE}", {}, None),
    ("GET", f"/collections/coads/trajectory?coords={LINE}&f=csv", {}, None),
    ("GET", f"/collections/coads/corridor?coords={LINE}&corridor-width=200&width-units=km", {}, None),
    ("GET", f"/collections/coads/corridor?coords={LINE}&corridor-width=abc&width-units=km", {}, None),
    ("GET", "/collections/coads/locations", {}, None), ("GET", "/collections/coads/locations?bbox=1,2", {}, None),
    ("GET", "/collections/coads/locations/0", {}, None), ("GET", "/collections/coads/locations/0?f=geojson", {}, None),
    ("GET", "/collections/coads/locations/nope", {}, None),
    ("GET", "/collections/coads/instances", {}, None), ("GET", "/collections/coads/instances/x", {}, None),
    ("GET", f"/collections/coads/instances/x/position?coords={PT}", {}, None),
    ("GET", f"/collections/coads/instances/x/area?coords={POLY}", {}, None),
    ("GET", "/collections/coads/instances/x/cube?bbox=-40,0,-20,20", {}, None),
    ("GET", f"/collections/coads/instances/x/radius?coords={PT}&within=300&within-units=km", {}, None),
    ("GET", f"/collections/coads/instances/x/trajectory?coords={LINE}", {}, None),
    ("GET", f"/collections/coads/instances/x/corridor?coords={LINE}&corridor-width=200&width-units=km", {}, None),
    ("GET", "/collections/coads/instances/x/locations", {}, None),
    ("GET", "/collections/coads/instances/x/locations/0", {}, None),
    # Coverages
    ("GET", "/collections/coads/coverage?subset=lat(0:20),lon(-40:-20)", {}, None),
    ("GET", "/collections/coads/coverage?subset=lat(0:20),lon(-40:-20)&f=netcdf", {}, None),
    ("GET", "/collections/coads/coverage?subset=lat(0:20),lon(-40:-20)&f=geotiff", {}, None),
    ("GET", "/collections/coads/coverage?subset=lat(0:20),lon(-40:-20)&f=png", {}, None),
    ("GET", "/collections/coads/coverage?subset=lat(0:20),lon(-40:-20)&f=csv", {}, None),
    ("GET", "/collections/coads/coverage?subset=lat(0:20", {}, None),
    ("GET", "/collections/mur-sst/coverage", {}, None),
    ("GET", "/collections/coads/coverage/domainset", {}, None), ("GET", "/collections/coads/coverage/rangetype", {}, None),
    ("GET", "/collections/coads/coverage/rangetype?f=html", {}, None), ("GET", "/collections/coads/schema", {}, None),
    ("GET", "/collections/nope/coverage/domainset", {}, None), ("GET", "/collections/coads/schema", XML, None),
    # Maps
    ("GET", "/collections/coads/map?bbox=-40,0,-20,20&width=64", {}, None),
    ("GET", "/collections/coads/map?bbox=-40,0,-20,20&width=64&f=jpeg", {}, None),
    ("GET", "/collections/coads/map?width=64", {"Accept": "image/webp"}, None),
    ("GET", "/collections/coads/map?width=0", {}, None), ("GET", "/collections/coads/map?f=gif", {}, None),
    ("GET", "/collections/coads/map", XML, None), ("GET", "/collections/places/map", {}, None),
    ("GET", "/collections/eraint/styles/contours/map?properties=z&subset=level(500)&width=64", {}, None),
    ("GET", "/collections/coads/styles/nope/map", {}, None),
    ("GET", "/collections/coads/styles", {}, None), ("GET", "/collections/coads/styles?f=html", {}, None),
    ("GET", "/collections/coads/styles/default/legend?properties=SST", {}, None),
    ("GET", "/collections/coads/styles/default/legend?properties=SST&f=json", {}, None),
    ("GET", "/collections/coads/styles/default/legend?properties=nope", {}, None),
    # Features
    ("GET", "/collections/places/items?limit=3", {}, None), ("GET", "/collections/places/items?limit=3&f=html", {}, None),
    ("GET", "/collections/places/items?limit=0", {}, None), ("GET", "/collections/places/items?limit=100000", {}, None),
    ("GET", "/collections/lakes/items?limit=2", {}, None), ("GET", "/collections/places/items?bbox=1,2,3", {}, None),
    ("GET", "/collections/coads/items", {}, None), ("GET", "/collections/places/items/0", {}, None),
    ("GET", "/collections/places/items/nope", {}, None), ("GET", "/collections/places/items/0?f=html", {}, None),
    ("GET", "/collections/places/queryables", {}, None), ("GET", "/collections/places/queryables?f=html", {}, None),
    ("GET", "/collections/places/queryables", XML, None),
    # Processes
    ("GET", "/processes", {}, None), ("GET", "/processes?f=html", {}, None), ("GET", "/processes/echo", {}, None),
    ("GET", "/processes/nope", {}, None),
    ("POST", "/processes/echo/execution", {}, {"inputs": {"message": "hello"}}),
    ("POST", "/processes/echo/execution", {}, {"inputs": {"message": "hello"}, "response": "document"}),
    ("POST", "/processes/echo/execution", {"Prefer": "respond-async"}, {"inputs": {"message": "hi"}}),
    ("POST", "/processes/echo/execution", {}, {"inputs": {"nope": 1}}),
    ("POST", "/processes/nope/execution", {}, {"inputs": {}}),
    ("GET", "/jobs", {}, None), ("GET", "/jobs?limit=0", {}, None), ("GET", "/jobs?f=html", {}, None),
    ("GET", "/jobs/{job}", {}, None), ("GET", "/jobs/nope", {}, None),
    ("GET", "/jobs/{job}/results", {}, None), ("GET", "/jobs/{job}/results/echo", {}, None),
    ("GET", "/jobs/{job}/results/nope", {}, None), ("GET", "/jobs/nope/results", {}, None),
    ("DELETE", "/jobs/{job}", {}, None), ("DELETE", "/jobs/nope", {}, None),
    # Zarr
    ("GET", "/collections/coads/zarr", {}, None), ("GET", "/collections/coads/zarr/.zmetadata", {}, None),
    ("GET", "/collections/coads/zarr/SST/0.0.0", {}, None), ("GET", "/collections/coads/zarr/SST/99.0.0", {}, None),
    ("GET", "/collections/nope/zarr", {}, None),
]
