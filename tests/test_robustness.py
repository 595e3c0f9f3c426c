"""Black-box robustness sweep: every bad input gets a clear OGC exception, never a 500 or a leak.

For every gridded collection (EDR, Coverages, Zarr), the features collections, Processes
and jobs, a battery of malformed and hostile inputs is sent through the in-process client.
Each case asserts:
  - the request does not raise inside the server (TestClient re-raises unhandled errors: a 500),
  - the status is the expected 4xx (400 unless the case says 404/405/406/413),
  - the body is OGC exception JSON with `type`, `title`, `status` (equal to the HTTP status), `detail`,
    and the title of the status (e.g. "Not Found" for a 404, not "Bad Request" on a 405),
  - the parameter at fault is named (in `parameter` or in `detail`) when the case knows it,
  - neither body nor headers leak a traceback, a server path or a file's content.

Cases still failing are `xfail(strict=True)` with their root cause (see KNOWN_BUGS), so the
suite stays green while the bug is documented; remove the entry once the owner fixes it.
Runtime: about 40 s on 2 shared cores.
"""

from __future__ import annotations

import fnmatch
import json
import traceback
import zlib
from dataclasses import dataclass

import pytest

# ------------------------------------------------------------------ what the sweep knows about the data


@dataclass(frozen=True)
class Grid:
    id: str
    var: str  # a variable of the collection
    x: float  # a CRS84 point inside the collection
    y: float
    d: float  # half-size (degrees) of a small box around the point that holds a few cell centres
    ndim: int = 2  # dimensions of `var` (Zarr chunk keys have one number per dimension)
    time: bool = False
    z: bool = False
    height_units: str = "m"  # a corridor's required height-units: the z axis units (m, km or mi without z)

    @property
    def point(self) -> str:
        return f"POINT({self.x} {self.y})"

    @property
    def polygon(self) -> str:
        x0, y0, x1, y1 = self.x - self.d, self.y - self.d, self.x + self.d, self.y + self.d
        return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"

    @property
    def line(self) -> str:
        return f"LINESTRING({self.x - self.d} {self.y},{self.x + self.d} {self.y})"

    @property
    def bbox(self) -> str:
        return f"{self.x - self.d},{self.y - self.d},{self.x + self.d},{self.y + self.d}"

    @property
    def km(self) -> str:
        """A radius (km) that holds a few cell centres around the point."""
        return f"{self.d * 111 * 0.8:.4g}"


GRIDS = [
    Grid("coads", "SST", -30, 40, 5, 3, time=True),
    Grid("eraint", "z", 0, 45, 3, 4, z=True, height_units="millibars"),
    Grid("mur-sst", "analysed_sst", -27.5, 40.5, 0.2, 3, time=True),
    Grid("cmip5-pr", "pr", -100, 50, 3, 3, time=True),
    Grid("basin-mask", "basin", -30, 40, 3, 3, z=True),
    Grid("landsat-rgb", "band_1", -77.7, 24.5, 0.05),
    Grid("cogeo", "band_1", 128.658, 37.668, 0.001),
    Grid("shade", "band_1", -106.48, 39.6, 0.005),
    Grid("gem-global", "t2m", -73.6, 45.5, 1, 3, time=True),
    Grid("hrdps", "t", -100.2, 50.3, 0.1, 3, time=True),
    Grid("rotated-pole", "air_pressure_at_sea_level", 0.2, 52.1, 5, 3, time=True),
    Grid("hadcm3-a1b", "air_temperature", -100.2, 40.3, 5, 4, time=True, z=True),
    Grid("orca2", "votemper", -30.2, 40.3, 5, 4, time=True, z=True),
    Grid("nemo-sst", "tos", -30.2, 40.3, 3, 3, time=True),
    Grid("cmip6-ta", "ta", 0.94, 89.28, 0.5, 4, time=True, z=True, height_units="Pa"),
]
FEATURES = ["places", "lakes"]
CURVILINEAR = ("orca2", "nemo-sst")
# grammar batteries (parsing shared by every collection) run in full on these two (geographic with time,
# projected); the others get a compact version
FULL = ("coads", "landsat-rgb")
TIME_GRIDS = [g.id for g in GRIDS if g.time]

LEAKS = ("/work/", ".venv", "site-packages", "Traceback", 'File "', "root:x:0:", "/root/", "/home/")
TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
          409: "Conflict", 413: "Payload Too Large"}

# ------------------------------------------------------------------ one case = one request and what must come back


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    params: tuple = ()  # (name, value) pairs, repeats allowed
    body: bytes | None = None
    headers: tuple = ()
    expect: tuple | None = (400,)  # allowed statuses; None: anything but a 5xx (4xx still checked)
    param: tuple | str | None = None  # the parameter the error must name
    app: str = "main"  # "tiny": an app with limits.max_cells = 1000


def _short(v) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\x00", "\\0")
    return s if len(s) <= 40 else s[:30] + f"...({len(s)}:{zlib.crc32(s.encode()) % 10000:04d})"


CASES: list[Case] = []


def add(id_: str, method: str, path: str, params=(), *, body=None, headers=(), expect=(400,), param=None, app="main"):
    if isinstance(params, dict):
        params = tuple(params.items())
    CASES.append(Case(id_, method, path, tuple(params), body, tuple(headers), expect, param, app))


# ------------------------------------------------------------------ batteries

WKT_BLOB = 'GEOGCS["x",DATUM["y",SPHEROID["z",0,0]],PRIMEM["G",0],UNIT["degree",0.0174532925199433]]'
HOSTILE_IDS = [
    "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cetc%5Cpasswd", "%252e%252e%252fetc",
    "%00", "coads%00", "%C0%AE%C0%AE%2F", "%ff%fe", "x" * 5000, "%7B%7B7*7%7D%7D", "%3Cscript%3E", "..;",
]
DATETIME_BAD = ["2000-13-45", "../..", "a/b/c", "2000-02-01/2000-01-01", "yesterday", "9999-12-31T00:00:00Z",
                "0001-01-01", "2000-01-01T25:00:00Z", ",", "2000-01-01,", "NaT", "1e10", "2000-01-01/../2001",
                "\x00", "99999-01-01"]
# RFC 3339, but far from any data: 404 on a coverage time axis, 400 on a coverage without one
VALID_OUTSIDE = {"9999-12-31T00:00:00Z": (404, 400), "0001-01-01": (404, 400)}
Z_BAD = ["abc", "R0/1/2", "R999999999/0/1", "R2/a/1", "1/2/3", "10/5", "nan", "inf", "1,,2", "R-1/0/1", "999999"]
CRS_EDR_BAD = ["EPSG:0", "foo", WKT_BLOB, "EPSG:99999", "IAU_2015:30100", "EPSG:4978", "EPSG:5773",
               "http://www.opengis.net/def/crs/EPSG/0/", "EPSG:4326\x00"]
CRS_COV_BAD = CRS_EDR_BAD
BBOX_BAD = ["1,2,3", "a,b,c,d", "10,10,0,0", "nan,0,1,1", "0,0,inf,1", "", "1,2,3,4,5", "1,,2,3", "1e400,0,1,1",
            "1000,1000,1001,1001", "1;2;3;4", "[1,2,3,4]"]
F_BAD = ["xml", "json;evil", "../../etc/passwd", "\x00"]


def names_bad(var: str) -> list[str]:
    return ["nope", f"{var},nope", ",", "__class__", f"../{var}", f"{var}\x00"]


# WKT: grammar errors (the parser is shared: in full on FULL grids, sampled elsewhere) and geometry errors
# (outside, huge, non-finite: the outcome depends on the grid, so on every grid)
POINT_GRAMMAR = ["POINT(", "POINT(a b)", "POINT()", "POINT EMPTY", "POINT(1 2 3 4 5)", "LINESTRING(1 2)",
                 "POLYGON((0 0,1 1))", "GEOMETRYCOLLECTION(POINT(0 0))", "SRID=4326;POINT(0 0)", "POINT(0 0))",
                 "POINT(0 0) trailing", "MULTIPOINT()", "\x00POINT(0 0)", "POINT(0\x00 0)", "  ", "POINTQ(0 0)",
                 "POINT(" + "9" * 5000 + " 0)"]
POINT_GEOM = ["POINT(nan nan)", "POINT(inf 0)", "POINT(1e400 0)", "POINT(1e308 1e308)", "POINT(-1e308 -1e308)",
              "MULTIPOINT((1e308 1e308))", "POINT(1000 1000)"]
POLYGON_GRAMMAR = ["POLYGON((0 0,1 1))", "POLYGON((", "POLYGON((a b,c d,e f,a b))", "POLYGON EMPTY",
                   "POLYGON((0 0,10 10,10 0,0 10,0 0))", "POLYGON((0 0,1 0,1 1))", "POINT(0 0)",
                   "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((", "POLYGON((0 0,0 0,0 0,0 0))", ""]
POLYGON_GEOM = ["POLYGON((nan 0,1 0,1 1,nan 0))", "POLYGON((1000 1000,1001 1000,1001 1001,1000 1000))",
                "POLYGON((0 0,1e400 0,1 1,0 0))"]
LINE_GRAMMAR = ["LINESTRING(1 2)", "LINESTRING(", "LINESTRING(a b,c d)", "LINESTRING EMPTY", "POINT(0 0)",
                "LINESTRINGQ(0 0,1 1)", "MULTILINESTRING((0 0),(1 1))", ""]
LINE_GEOM = ["LINESTRING(nan 0,1 1)", "LINESTRING(-1e300 0,1e300 0)", "LINESTRING(-1e10 0,1e10 0)",
             "LINESTRING(0 0,1e400 0)", "LINESTRING(1000 1000,1001 1001)"]
NUM_BAD = ["0", "-1", "abc", "nan", "inf", "1e400", ""]
RES_BAD = ["-1", "abc", "1e99", "1.5", "nan"]

# ------------------------------------------------------------------ EDR

QTYPES = ["position", "area", "cube", "radius", "trajectory", "corridor"]


def edr_base(g: Grid, q: str) -> dict:
    return {
        "position": {"coords": g.point},
        "area": {"coords": g.polygon},
        "cube": {"bbox": g.bbox},
        "radius": {"coords": g.point, "within": g.km, "within-units": "km"},
        "trajectory": {"coords": g.line},
        "corridor": {"coords": g.line, "corridor-width": g.km, "width-units": "km", "corridor-height": "100",
                     "height-units": g.height_units},
    }[q]


for g in GRIDS:
    for q in QTYPES:
        path = f"/collections/{g.id}/{q}"
        base = edr_base(g, q)

        def edr(name, value, expect=(400,), param=None, _base=base, _path=path, _q=q, _g=g):
            add(f"edr-{_g.id}-{_q}-{name}={_short(value)}", "GET", _path, {**_base, name: value}, expect=expect,
                param=param or name)

        # the shared parameters (one parser for every query type): in full on position, a sample elsewhere
        full = q == "position" and g.id in FULL
        for v in DATETIME_BAD if full else ["2000-13-45", "../.."]:
            # a valid instant outside the data is "no data" (EDR /req/edr/query_type/no-data): 204 on timed grids
            outside = v in ("9999-12-31T00:00:00Z", "0001-01-01") and g.time
            edr("datetime", v, expect=(204,) if outside else (400,))
        for v in Z_BAD if full else ["abc"] + (["999999"] if q in ("position", "corridor") else []):
            edr("z", v)
        for v in names_bad(g.var) if full else ["nope"]:
            edr("parameter-name", v)
        for v in CRS_EDR_BAD if full else ["foo", "EPSG:4326\x00"]:
            edr("crs", v)
        for v in F_BAD if full else ["xml"]:
            edr("f", v)
        # the geometry parameter of each query type
        grammar, geom = {"position": (POINT_GRAMMAR, POINT_GEOM), "radius": (POINT_GRAMMAR[:6], POINT_GEOM),
                         "area": (POLYGON_GRAMMAR, POLYGON_GEOM), "trajectory": (LINE_GRAMMAR, LINE_GEOM),
                         "corridor": (LINE_GRAMMAR, LINE_GEOM), "cube": ([], [])}[q]
        for v in (grammar if g.id in FULL else grammar[:2]) + geom:
            edr("coords", v, expect=(400, 413) if "1e10" in v else (400,))
        if q in ("trajectory", "corridor"):
            x0, x1 = g.x - g.d, g.x + g.d
            edr("coords", f"LINESTRINGM({x0} {g.y} 1e300,{x1} {g.y} -1e300)")
            edr("coords", f"LINESTRINGZ({x0} {g.y} 1e300,{x1} {g.y} -1e300)")
            # a path round the globe 500 times: before 803a488 a corridor like this ran for minutes and took
            # gigabytes on mur-sst, a trajectory on a geographic grid answered after seconds
            edr("coords", "LINESTRING(-1e5 0,1e5 0)", expect=(400, 413))
            # in range but long (16 crossings of the globe) on a fine grid: refused by the size guard, quickly
            if g.id == "mur-sst":
                zigzag = ",".join(f"{(-1) ** i * 180} {(-1) ** i * 80}" for i in range(17))
                edr("coords", f"LINESTRING({zigzag})", expect=(413,))
        if q == "cube":
            for v in BBOX_BAD:
                edr("bbox", v)
        if q in ("area", "cube", "corridor"):
            for v in RES_BAD if g.id in FULL else ["-1", "abc"]:
                edr("resolution-x", v)
                edr("resolution-y", v)
                edr("resolution-z", v)
        if q == "radius":
            add(f"edr-{g.id}-radius-missing-within-units", "GET", path,
                {k: v for k, v in base.items() if k != "within-units"}, param="within-units")
            for v in NUM_BAD + ["1e300", "1e-100"]:
                edr("within", v)
            for v in ("furlongs", "km;drop", "\x00"):
                edr("within-units", v)
        if q == "corridor":
            for v in NUM_BAD:
                edr("corridor-width", v)
            # a line of one repeated position has no corridor (was a GEOS error, 500)
            edr("coords", f"LINESTRING({g.x} {g.y},{g.x} {g.y})")
            edr("coords", f"MULTILINESTRING(({g.x - g.d} {g.y},{g.x + g.d} {g.y}),({g.x} {g.y},{g.x} {g.y}))")
            for v in ("furlongs", "km;drop"):
                edr("width-units", v)
            for v in ("-1", "abc", "nan"):
                edr("corridor-height", v)
            edr("height-units", "furlongs")
            for name in ("width-units", "corridor-height", "height-units"):  # required by EDR 1.1
                add(f"edr-{g.id}-corridor-missing-{name}", "GET", path, {k: v for k, v in base.items() if k != name},
                    param=name)
            edr("corridor-width", "1e300")
            edr("corridor-width", "1e-100")

    # named locations and instances
    add(f"edr-{g.id}-locations-unknown", "GET", f"/collections/{g.id}/locations/nope", expect=(404,))
    add(f"edr-{g.id}-locations-f=xml", "GET", f"/collections/{g.id}/locations", {"f": "xml"}, expect=(400, 404))
    add(f"edr-{g.id}-instances", "GET", f"/collections/{g.id}/instances", expect=(404,))
    add(f"edr-{g.id}-instance-unknown", "GET", f"/collections/{g.id}/instances/nope", expect=(404,))
    add(f"edr-{g.id}-instance-position", "GET", f"/collections/{g.id}/instances/nope/position",
        {"coords": g.point}, expect=(404,))

add("edr-eraint-month=abc", "GET", "/collections/eraint/position", {"coords": "POINT(0 45)", "month": "abc"},
    param="month")
add("edr-eraint-month=13", "GET", "/collections/eraint/position", {"coords": "POINT(0 45)", "month": "13"},
    param="month")
add("edr-coads-location-bad-datetime", "GET", "/collections/coads/locations/0", {"datetime": "2000-13-45"},
    param="datetime")
add("edr-coads-location-bad-f", "GET", "/collections/coads/locations/0", {"f": "xml"}, param="f")
add("edr-coads-missing-coords", "GET", "/collections/coads/position", param="coords")
add("edr-coads-missing-bbox", "GET", "/collections/coads/cube", param="bbox")
add("edr-coads-missing-within", "GET", "/collections/coads/radius", {"coords": "POINT(-30 40)"}, param="within")

# ------------------------------------------------------------------ Coverages


def cov_crs(g: Grid) -> list[str]:
    """Bad CRSs for crs/bbox-crs/subset-crs: whether one is usable depends on the grid, so all on every grid."""
    return CRS_COV_BAD


def cov_battery(g: Grid) -> list[tuple[str, str, tuple]]:
    """(parameter, value, allowed statuses); pure grammar is sampled outside FULL."""
    X = "x" if g.id in ("landsat-rgb", "cogeo", "shade") else "Lon"
    out = []
    subsets = ["Lat(10:)", "nope(1:2)", "Lat(60:40)", "Lat(10:20", "Lat10:20)", "Lat((10:20))", 'Lat("10:20)',
               "Lat('10':'20')", "Lat(10:20)Lon(1:2)", "Lat()", "Lat(a:b)", "Lat(nan:1)", "Lat(10:20),Lat(30:40)",
               "", ",", "Lat(1:2:3)", 'time("2000-13-45")', 'time("a":"b")', '"Lat"(1:2)', "Lat(1e400:1)",
               "Lat(*:*:*)", "Lat(10:20),", "Lat(inf:1)", "Lat(10 20)", "x(1:2),Lon(1:2)", "Lat(" + "9" * 5000 + ")",
               "Lat(\x00)"]
    if g.id not in FULL:
        subsets = ["Lat(10:)", "nope(1:2)", "Lat(60:40)", "Lat(10:20", "Lat(a:b)", 'time("2000-13-45")']
    out += [("subset", v, (400,)) for v in subsets]
    out += [("bbox", v, (400,)) for v in BBOX_BAD]
    out += [("bbox-crs", v, (400,)) for v in cov_crs(g)]
    out += [("crs", v, (400,)) for v in cov_crs(g)]
    # well-formed instants entirely outside the time axis: Coverages /req/subsetting-temporal/out-of-bounds (204/404)
    out += [("datetime", v, VALID_OUTSIDE.get(v, (400,)))
            for v in (DATETIME_BAD if g.id in FULL else ["2000-13-45", "../..", "a/b/c"])]
    out += [("properties", v, (400,)) for v in (names_bad(g.var) + [""] if g.id in FULL else ["nope"])]
    sizes = [f"{X}(0)", f"{X}(-1)", f"{X}(abc)", f"{X}(1.5)", "nope(10)", f"{X}(10),{X}(20)", f"{X}(",
             f"{X}(inf)", f"{X}(nan)", ""]
    out += [("scale-size", v, (400,)) for v in (sizes if g.id in FULL else sizes[:3])]
    huge = (400,) if g.id in CURVILINEAR else (413,)  # curvilinear grids refuse any scaling (no regular spacing)
    out += [("scale-size", f"{X}(1000000000000)", huge), ("scale-size", f"{X}(" + "9" * 40 + ")", (400, 413))]
    out += [("scale-factor", v, (400,)) for v in ["0", "-1", "abc", "nan", "inf", ""][: 6 if g.id in FULL else 2]]
    out += [("scale-factor", v, huge) for v in ("1e-9", "1e-308")]  # 1e-308: n / factor overflows to infinity
    out += [("scale-axes", f"{X}(1e-308)", huge)]
    out += [("scale-axes", v, (400,)) for v in [f"{X}(0)", "nope(2)", f"{X}(-2)", f"{X}(abc)"]]
    out += [("f", v, (400,)) for v in (F_BAD + ["csv"] if g.id in FULL else ["xml"])]
    return out


for g in GRIDS:
    path = f"/collections/{g.id}/coverage"
    for name, value, expect in cov_battery(g):
        params = {"bbox": g.bbox, name: value}
        add(f"cov-{g.id}-{name}={_short(value)}", "GET", path, params, expect=expect,
            param=None if expect == (413,) else name)
    # subset-crs only matters with an X/Y subset (in that CRS)
    for v in cov_crs(g):
        add(f"cov-{g.id}-subset-crs={_short(v)}", "GET", path, {"subset": "Lon(0:1)", "subset-crs": v},
            param="subset-crs")
    for sub in ("domainset", "rangetype"):
        add(f"cov-{g.id}-{sub}-f=xml", "GET", f"{path}/{sub}", {"f": "xml"}, param="f")
    add(f"cov-{g.id}-schema-f=xml", "GET", f"/collections/{g.id}/schema", {"f": "xml"}, param="f")
    add(f"cov-{g.id}-accept-xml", "GET", path, {"bbox": g.bbox}, headers=[("accept", "application/xml")],
        expect=(406,))

# ------------------------------------------------------------------ Features

FILTER = {"places": ("pop_max", "abc"), "lakes": ("scalerank", "abc")}
for cid in FEATURES:
    items = f"/collections/{cid}/items"

    def feat(name, value, expect=(400,), param=None, _items=items, _cid=cid):
        add(f"feat-{_cid}-{name}={_short(value)}", "GET", _items, {name: value}, expect=expect, param=param or name)

    for v in ["-1", "0", "abc", "1e99", "1.5", "", "10001"]:  # 10001: over the documented maximum
        feat("limit", v)
    for v in ["-1", "abc", "1e99", ""]:
        feat("offset", v)
    for v in BBOX_BAD + ["0,-100,10,100", "-200,0,10,1"]:
        feat("bbox", v)
    for v in ["EPSG:0", "foo", WKT_BLOB, "EPSG:3857", "IAU_2015:30100", "\x00"]:
        feat("bbox-crs", v)
        feat("crs", v)
    for v in DATETIME_BAD:  # well-formed ones match every feature of a collection without times (fc-time-response C)
        feat("datetime", v, expect=(200,) if v in VALID_OUTSIDE else (400,))
    feat("properties", "nope")
    feat("properties", "name,nope")
    feat("nope", "1")
    feat("geometry", "POINT(0 0)")
    feat(*FILTER[cid])
    for v in F_BAD:
        feat("f", v)
    add(f"feat-{cid}-limit-twice", "GET", items, [("limit", "1"), ("limit", "2")], param="limit")
    add(f"feat-{cid}-bbox-twice", "GET", items, [("bbox", "0,0,1,1"), ("bbox", "0,0,2,2")], param="bbox")
    for v in ["nope", "-1", "1e3"] + HOSTILE_IDS:
        add(f"feat-{cid}-item={_short(v)}", "GET", f"{items}/{v}", expect=(404,))
    add(f"feat-{cid}-item-crs=foo", "GET", f"{items}/1", {"crs": "foo"}, param="crs")
    add(f"feat-{cid}-item-f=xml", "GET", f"{items}/1", {"f": "xml"}, param="f")
    add(f"feat-{cid}-queryables-f=xml", "GET", f"/collections/{cid}/queryables", {"f": "xml"}, param="f")
    add(f"feat-{cid}-accept-xml", "GET", items, headers=[("accept", "application/xml")], expect=(406,))
    # a features collection is not a coverage
    for sub in ("position?coords=POINT(0 0)", "coverage", "coverage/domainset", "zarr/.zmetadata", "zarr"):
        add(f"feat-{cid}-as-grid-{sub.split('?')[0]}", "GET", f"/collections/{cid}/{sub}", expect=(404,))
for g in GRIDS[:2]:
    add(f"feat-grid-{g.id}-items", "GET", f"/collections/{g.id}/items", expect=(404,))

# ------------------------------------------------------------------ Zarr

for g in GRIDS:
    base = f"/collections/{g.id}/zarr"
    keys = ["../../.zmetadata", "..%2F..%2F.zmetadata", "%2e%2e/%2e%2e/.zmetadata", f"{g.var}/9.9.9", f"{g.var}/-1.0.0",
            "nonexistent/.zarray", "nonexistent/0.0.0", f"{g.var}/0.0.0.0.0", f"{g.var}/00.0", f"{g.var}/1e3.0",
            f"{g.var}/0.0.0/extra", ".zmetadata%00", f"{g.var}/%00", "x" * 5000,
            f"{g.var}/99999999999999999999.0", f"{g.var}/.zarray%2F..%2F..%2F..", "%ff/.zarray", "/etc/passwd",
            f"{g.var}/..%2F..%2F..%2F..%2Fetc%2Fpasswd", f"{g.var}/0.0.", f"{g.var}/.0.0", f"{g.var}/+1.0"]
    if g.id not in FULL:
        keys = keys[:6]
    zeros = ["0"] * (g.ndim - 1)
    # keys with the right number of parts whose "digits" are not ASCII: superscript two, Arabic-Indic zero,
    # fullwidth zero, a sign, whitespace: a Zarr key is [0-9]+ per dimension, nothing else
    for first in ["%C2%B2", "%D9%A0", "%EF%BC%90"] + (["+0", "-0", "%200", "0_0"] if g.id in FULL else []):
        keys.append(f"{g.var}/" + ".".join([first, *zeros]))
    for k in keys:
        add(f"zarr-{g.id}-{_short(k)}", "GET", f"{base}/{k}", expect=(404,))

# ------------------------------------------------------------------ path parameters of every route

for v in HOSTILE_IDS + ["nope"]:
    every = v in ("..%2F..%2Fetc%2Fpasswd", "%00", "x" * 5000, "nope")
    for tpl in ["/collections/{}", "/collections/{}/position?coords=POINT(0 0)", "/collections/{}/cube?bbox=0,0,1,1",
                "/collections/{}/coverage", "/collections/{}/coverage/domainset", "/collections/{}/schema",
                "/collections/{}/items", "/collections/{}/queryables", "/collections/{}/zarr",
                "/collections/{}/zarr/.zmetadata", "/collections/{}/locations", "/collections/{}/instances",
                "/collections/coads/locations/{}", "/collections/coads/instances/{}/position?coords=POINT(0 0)",
                "/processes/{}", "/jobs/{}", "/jobs/{}/results", "/jobs/{}/results/x"]:
        route = tpl.split("?")[0].replace("{}", "ID")
        if not every and route not in ("/collections/ID", "/collections/ID/zarr/.zmetadata", "/jobs/ID",
                                       "/processes/ID", "/collections/coads/locations/ID"):
            continue
        path, _, query = tpl.format(v).partition("?")
        add(f"path-{route}-{_short(v)}", "GET", path + ("?" + query if query else ""), expect=(404,))
    add(f"path-DELETE-/jobs/ID-{_short(v)}", "DELETE", f"/jobs/{v}", expect=(404,))
    add(f"path-POST-/processes/ID/execution-{_short(v)}", "POST", f"/processes/{v}/execution",
        body=b'{"inputs": {}}', headers=[("content-type", "application/json")], expect=(404,))

# ------------------------------------------------------------------ Common: f, Accept, methods

for p in ["/", "/conformance", "/collections", "/collections/coads", "/processes", "/processes/echo", "/jobs",
          "/openapi"]:
    add(f"common-{p}-f=xml", "GET", p, {"f": "xml"}, param="f")
for p in ["/", "/collections", "/collections/coads", "/processes", "/jobs"]:
    add(f"common-{p}-accept-xml", "GET", p, headers=[("accept", "application/xml")], expect=(406,))
add("common-unknown-path", "GET", "/nope", expect=(404,))
add("common-unknown-collection-html", "GET", "/collections/nope", {"f": "html"}, expect=(404,))
for method, p in [("POST", "/collections"), ("DELETE", "/collections/coads"), ("PUT", "/processes/echo/execution"),
                  ("GET", "/processes/echo/execution"), ("POST", "/jobs"), ("PATCH", "/collections/coads/coverage")]:
    add(f"common-{method}-{p}", method, p, expect=(405,))
for accept in ["application/json;q=nan", "*/*;q=abc", ";;;,", "text/html;q=1e999, application/json"]:
    add(f"common-weird-accept-{_short(accept)}", "GET", "/collections", headers=[("accept", accept)], expect=None)

# ------------------------------------------------------------------ Processes: execution bodies

JSON = [("content-type", "application/json")]


def execute(id_, pid, body, *, param=None, expect=(400,), raw: bytes | None = None):
    add(f"proc-{pid}-{id_}", "POST", f"/processes/{pid}/execution",
        body=raw if raw is not None else json.dumps(body).encode(), headers=JSON, expect=expect, param=param)


execute("not-json", "echo", None, raw=b"not json")
execute("truncated-json", "echo", None, raw=b'{"inputs": {"message": ')
execute("deeply-nested", "echo", None, raw=b"[" * 100_000 + b"]" * 100_000)
execute("NaN-literal", "echo", None, raw=b'{"inputs": {"message": NaN}}')
execute("binary", "echo", None, raw=b"\xff\xfe\x00\x01")
execute("array", "echo", [])
execute("string", "echo", "inputs")
execute("number", "echo", 5)
execute("inputs-array", "echo", {"inputs": []}, param="inputs")
execute("inputs-string", "echo", {"inputs": "x"}, param="inputs")
execute("missing-input", "echo", {"inputs": {}}, param="message")
execute("extra-input", "echo", {"inputs": {"message": "x", "extra": 1}}, param="extra")
execute("wrong-type", "echo", {"inputs": {"message": 5}}, param="message")
execute("href-file", "echo", {"inputs": {"message": {"href": "file:///etc/passwd"}}}, param="message")
execute("href-typed-file", "echo", {"inputs": {"message": {"href": "file:///etc/passwd", "type": "text/plain"}}},
        param="message")
execute("value-href", "echo", {"inputs": {"message": {"value": {"href": "file:///etc/passwd"}}}}, param="message")
execute("response-xml", "echo", {"inputs": {"message": "x"}, "response": "xml"}, param="response")
execute("response-list", "echo", {"inputs": {"message": "x"}, "response": ["raw"]}, param="response")
execute("outputs-unknown", "echo", {"inputs": {"message": "x"}, "outputs": {"nope": {}}}, param="outputs")
execute("outputs-list", "echo", {"inputs": {"message": "x"}, "outputs": []}, param="outputs")
execute("outputs-mode", "echo", {"inputs": {"message": "x"}, "outputs": {"echo": {"transmissionMode": "carrier"}}},
        param="outputs")
execute("outputs-mode-list", "echo", {"inputs": {"message": "x"},
                                      "outputs": {"echo": {"transmissionMode": ["value"]}}}, param="outputs")
execute("outputs-format", "echo", {"inputs": {"message": "x"},
                                   "outputs": {"echo": {"format": {"mediaType": "application/x-python"}}}},
        param="outputs")
execute("outputs-format-list", "echo", {"inputs": {"message": "x"},
                                        "outputs": {"echo": {"format": {"mediaType": ["a"]}}}}, param="outputs")

PY = "__import__('os').system('id')"
FILES = ["/etc/passwd", "file:///etc/passwd", "../../etc/passwd", "datasets/coads_sst.nc", "../datasets/coads_sst.nc",
         "places", PY, "coads\x00", "http://127.0.0.1:1/x"]
for pid, extra in [("temporal-aggregate", {}), ("coarsen", {"factors": {"x": 2}})]:
    for v in FILES:
        execute(f"collection={_short(v)}", pid, {"inputs": {"collection": v, **extra}}, param="collection")
for pid, extra in [("anomaly", {"baseline": "2000-01-01/2000-06-01"}), ("threshold-exceedance", {"threshold": 1}),
                   ("zonal-statistics", {"features": "lakes"})]:
    for v in FILES[:4] + [PY]:
        execute(f"collection={_short(v)}", pid, {"inputs": {"collection": v, "variable": "SST", **extra}},
                param="collection")
    for v in ["__class__", "../SST", PY, "SST\x00"]:
        execute(f"variable={_short(v)}", pid, {"inputs": {"collection": "coads", "variable": v, **extra}},
                param="variable")
TA = {"collection": "coads", "variables": "SST"}
for name, v in [("collection", ["coads"]), ("collection", {"value": "../../etc/passwd"}), ("collection", ""),
("variables", ["__class__"]), ("variables", []), ("variables", PY),
                ("bbox", [1, 2, 3]), ("bbox", "1,2,3,4"), ("bbox", [10, 10, 0, 0]), ("bbox", [1e308] * 4),
                ("bbox", {"bbox": [1, 2, 3, 4], "crs": "EPSG:0"}), ("bbox", {"bbox": [1, 2, 3, 4], "crs": 5}),
                ("bbox", {"bbox": [1, 2, 3, 4], "crs": ["EPSG:4326"]}), ("bbox", {"bbox": [1, 2, 3, 4], "crs": PY}),
                ("bbox", {"bbox": [1, 2, 3, 4], "crs": "IAU_2015:30100"}), ("bbox", {"bbox": "x"}),
                ("datetime", "2000-13-45"), ("datetime", PY), ("datetime", "a/b/c"), ("datetime", 5),
                ("z", "abc"), ("z", "R0/1/2"), ("z", [1]), ("reducer", PY), ("reducer", "eval"),
                ("grouping", "hour"), ("grouping", PY)]:
    label = f"{name}.crs={_short(v['crs'])}" if isinstance(v, dict) and "crs" in v else f"{name}={_short(v)}"
    execute(label, "temporal-aggregate", {"inputs": {**TA, name: v}}, param=name)
execute("collection-missing", "temporal-aggregate", {"inputs": {"variables": "SST"}}, param="collection")
for v in [{"x": 0}, {"x": 1e9}, {"q": 2}, {}, {"x": "2"}, {"x": 2.5}, {"x": -1}, {"t": 2, "x": PY}, "x(2)", [2]]:
    execute(f"factors={_short(v)}", "coarsen", {"inputs": {"collection": "coads", "factors": v}}, param="factors")
execute("factors-no-t-axis", "coarsen", {"inputs": {"collection": "landsat-rgb", "factors": {"t": 2}}},
        param=("factors", "t"))
execute("reducer-code", "coarsen", {"inputs": {"collection": "coads", "factors": {"x": 2}, "reducer": PY}},
        param="reducer")
for v in ["abc", None, [1], {"value": "1"}, True]:
    execute(f"threshold={_short(v)}", "threshold-exceedance",
            {"inputs": {"collection": "coads", "variable": "SST", "threshold": v}}, param="threshold")
execute("operator-code", "threshold-exceedance",
        {"inputs": {"collection": "coads", "variable": "SST", "threshold": 1, "operator": "__gt__"}}, param="operator")
execute("no-time-axis", "threshold-exceedance",
        {"inputs": {"collection": "landsat-rgb", "variable": "band_1", "threshold": 1, "per_year": True}},
        param="collection")
for v in ["abc", "2000-13-45/2001-01-01", "2001-01-01/2000-01-01", "9999-01-01/9999-02-01", PY]:
    execute(f"baseline={_short(v)}", "anomaly", {"inputs": {"collection": "coads", "variable": "SST", "baseline": v}},
            param="baseline")
FC = {"type": "FeatureCollection"}
for v in ["/etc/passwd", "file:///etc/passwd", "../places", "coads", PY, {**FC, "features": "x"},
          {**FC, "features": []}, {**FC, "features": [{"type": "Feature", "geometry": {"type": "Polygon",
                                                                                         "coordinates": "x"}}]},
          {**FC, "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}]},
          {**FC, "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}]},
          {**FC, "features": [1]}, {"type": "Feature"}]:
    execute(f"features={_short(v)}", "zonal-statistics",
            {"inputs": {"collection": "coads", "variable": "SST", "features": v}}, param="features")
for v in [{"type": "Point"}, {"type": "Point", "coordinates": ["a", "b"]}, {"type": "Point", "coordinates": [1e308, 1e308]},
          {"type": "Point", "coordinates": [200, 100]}, {"type": "GeometryCollection", "geometries": []},
          {"type": "Feature"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, {"type": PY}, "POINT(0 0)",
          {"type": "Point", "coordinates": [0, 0, 0, 0, 0]}]:
    execute(f"geometry={_short(v)}", "buffer", {"inputs": {"geometry": v, "distance": 10}}, param="geometry")
for v in [1e8, -1e8, "10", None, float("1e300")]:
    execute(f"distance={_short(v)}", "buffer",
            {"inputs": {"geometry": {"type": "Point", "coordinates": [0, 0]}, "distance": v}}, param="distance")
execute("resolution-huge", "buffer",
        {"inputs": {"geometry": {"type": "Point", "coordinates": [0, 0]}, "distance": 10, "resolution": 1e9}},
        param="resolution")

# ------------------------------------------------------------------ jobs

for name, v in [("limit", "-1"), ("limit", "0"), ("limit", "abc"), ("limit", "1e99"), ("limit", "1.5"), ("limit", "10001"),
                ("offset", "-1"), ("offset", "abc"), ("offset", "1e99"), ("offset", "99999999999999999999999"),
                ("status", "bogus"), ("status", "running,bogus"), ("f", "xml")]:
    add(f"jobs-{name}={_short(v)}", "GET", "/jobs", {name: v}, param=name)
add("jobs-processID-sql", "GET", "/jobs", {"processID": "'; DROP TABLE jobs;--"}, expect=None)

# ------------------------------------------------------------------ too large: an app with max_cells = 1000

TINY = [
    ("edr-cube", "/collections/coads/cube", {"bbox": "-180,-90,180,90"}),
    ("edr-area", "/collections/coads/area", {"coords": "POLYGON((-60 -30,60 -30,60 30,-60 30,-60 -30))"}),
    ("edr-radius", "/collections/coads/radius", {"coords": "POINT(-30 40)", "within": "3000", "within-units": "km"}),
    ("edr-corridor", "/collections/coads/corridor", {"coords": "LINESTRING(-60 0,60 0)", "corridor-width": "2000",
                                                     "width-units": "km", "corridor-height": "1", "height-units": "m"}),
    ("edr-trajectory", "/collections/coads/trajectory", {"coords": "LINESTRING(-170 0,170 0)"}),
    ("edr-multipoint", "/collections/coads/position",
     {"coords": "MULTIPOINT(" + ",".join(f"({x} 0)" for x in range(-170, 170, 3)) + ")"}),
    ("edr-cube-netcdf", "/collections/coads/cube", {"bbox": "-180,-90,180,90", "f": "netcdf"}),
    ("edr-cube-eraint", "/collections/eraint/cube", {"bbox": "-180,-90,180,90", "z": "500"}),
    ("cov-covjson", "/collections/coads/coverage", {}),
    ("cov-netcdf", "/collections/coads/coverage", {"f": "netcdf"}),
    ("cov-geotiff", "/collections/coads/coverage", {"f": "geotiff"}),
    ("cov-png", "/collections/coads/coverage", {"f": "png"}),
    ("cov-reproject", "/collections/landsat-rgb/coverage", {"crs": "EPSG:4326", "scale-size": "x(20),y(20)"}),
    ("cov-upscale", "/collections/coads/coverage", {"subset": "Lat(0:4),Lon(0:4)", "scale-factor": "0.01"}),
]
for id_, path, params in TINY:
    add(f"tiny-{id_}", "GET", path, params, expect=(413,), app="tiny")
for pid, inputs in [("temporal-aggregate", {"collection": "coads", "variables": "SST"}),
                    ("coarsen", {"collection": "coads", "factors": {"x": 2}})]:
    add(f"tiny-proc-{pid}", "POST", f"/processes/{pid}/execution", body=json.dumps({"inputs": inputs}).encode(),
        headers=JSON, expect=(413,), app="tiny")

# ------------------------------------------------------------------ known bugs (xfail, strict): pattern -> root cause

# Every case that failed when this sweep was written was fixed in 803a488 (CRS validation, '../..', path and
# corridor coordinate checks and size guards, corridor z on 2-D grids, huge M values, ASCII-only Zarr keys,
# 405 title and Allow header, /openapi f, jobs offset bound). A new failure goes here as
# KNOWN_BUGS["<case id or fnmatch pattern>"] = "<root cause (file:line) and fix>" until its owner fixes it.
KNOWN_BUGS: dict[str, str] = {}


def test_known_bugs_name_existing_cases():
    ids = [c.id for c in CASES]
    stale = [p for p in KNOWN_BUGS if not any(fnmatch.fnmatchcase(i, p) for i in ids)]
    assert not stale, f"KNOWN_BUGS patterns matching no case: {stale}"


def _marks(case_id: str):
    for pattern, reason in KNOWN_BUGS.items():
        if fnmatch.fnmatchcase(case_id, pattern):
            return [pytest.mark.xfail(reason=reason, strict=True)]
    return []


def _params(app: str):
    seen: set[str] = set()
    out = []
    for c in CASES:
        if c.app != app:
            continue
        assert c.id not in seen, f"duplicate case id {c.id}"
        seen.add(c.id)
        out.append(pytest.param(c, id=c.id, marks=_marks(c.id)))
    return out


# ------------------------------------------------------------------ fixtures and the one check


@pytest.fixture(scope="module")
def tiny_client(app, tmp_path_factory):
    """A second app over the same opened collections, with limits.max_cells = 1000."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app

    cfg = app.state.ctx.config.model_copy(deep=True)
    cfg.limits.max_cells = 1000
    cfg.state_dir = str(tmp_path_factory.mktemp("tiny-state"))
    with TestClient(create_app(cfg, registry=app.state.ctx.registry)) as c:
        yield c


def _where(exc: BaseException) -> str:
    """The innermost project frame of an unhandled server error (for the failure message only)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/cubeserver/" in f.filename]
    return f" at {frames[-1].filename.split('/cubeserver/')[-1]}:{frames[-1].lineno}" if frames else ""


def check(client, case: Case) -> None:
    try:
        r = client.request(case.method, case.path, params=list(case.params) or None, content=case.body,
                           headers=dict(case.headers) or None)
    except Exception as exc:  # noqa: BLE001 - TestClient re-raises what the server did not handle: a 500
        pytest.fail(f"500: unhandled {type(exc).__name__}{_where(exc)}: {str(exc)[:300]}")
    text = r.text
    for name, value in [("body", text)] + [(f"header {k}", v) for k, v in r.headers.items()]:
        leaked = [s for s in LEAKS if s in value]
        assert not leaked, f"{r.status_code}: {name} leaks {leaked}: {value[:300]!r}"
    assert r.status_code < 500, f"{r.status_code}: {text[:300]}"
    if case.expect is not None:
        assert r.status_code in case.expect, f"expected {case.expect}, got {r.status_code}: {text[:300]!r}"
    if r.status_code < 400:
        return
    assert r.headers.get("content-type", "").split(";")[0] in ("application/json", "application/problem+json"), \
        f"{r.status_code}: error is not JSON ({r.headers.get('content-type')}): {text[:200]!r}"
    body = r.json()
    missing = [k for k in ("type", "title", "status", "detail") if not body.get(k)]
    assert not missing, f"{r.status_code}: OGC exception lacks {missing}: {body}"
    assert body["status"] == r.status_code, f"body status {body['status']} != HTTP {r.status_code}"
    assert isinstance(body["type"], str) and body["type"].startswith("http"), f"type is not a URI: {body['type']!r}"
    if r.status_code in TITLES:
        assert body["title"] == TITLES[r.status_code], f"{r.status_code} titled {body['title']!r}: {body}"
    if case.param and r.status_code == 400:
        wanted = (case.param,) if isinstance(case.param, str) else case.param
        named = str(body.get("parameter") or "") + " " + str(body["detail"])
        assert any(p in named for p in wanted), f"error does not name {wanted}: {body}"


@pytest.mark.parametrize("case", _params("main"))
def test_bad_input(client, case: Case):
    check(client, case)


@pytest.mark.parametrize("case", _params("tiny"))
def test_too_large(tiny_client, case: Case):
    check(tiny_client, case)


# ------------------------------------------------------------------ sanity: the bases of the sweep are valid requests


@pytest.mark.parametrize("g", GRIDS, ids=[g.id for g in GRIDS])
def test_sweep_bases_are_valid(client, g: Grid):
    """Each bad value above replaces one parameter of a request that works, so it is what the error is about."""
    for q in QTYPES:
        r = client.get(f"/collections/{g.id}/{q}", params=edr_base(g, q))
        assert r.status_code == 200, f"{q}: {r.text[:300]}"
    r = client.get(f"/collections/{g.id}/coverage", params={"bbox": g.bbox})
    assert r.status_code == 200, r.text[:300]


def test_code_in_inputs_is_data(client):
    """A string that looks like code or a template comes back as the same string."""
    for message in [PY, "{{7*7}}", "${7*7}", "<script>alert(1)</script>"]:
        r = client.post("/processes/echo/execution", json={"inputs": {"message": message}, "response": "document"})
        assert r.status_code == 200, r.text
        assert r.json()["echo"] == message


def test_jobs_table_survives_sql_in_filters(client):
    client.get("/jobs", params={"processID": "'; DROP TABLE jobs;--", "status": "successful"})
    r = client.get("/jobs")
    assert r.status_code == 200 and "jobs" in r.json()
