"""Generated xclim process descriptions against the official Processes 1.0 schemas, and the 400s.

Every description (all realms, ~300 processes) must validate against process.yaml; the list
pages against processList.yaml. Each refused request names the input at fault.
"""

from __future__ import annotations

import re

import pytest

from tests.conformance.official import errors

from ..conftest import client_for
from .xclim_support import PLEV, collections

pytest.importorskip("xclim")


@pytest.fixture(scope="module")
def xc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xclim-describe")
    with client_for(collections(tmp), tmp, dask={"workers": 1}) as c:
        c.tmp = tmp
        yield c


def xclim_ids(client) -> list[str]:
    doc = client.get("/processes", params={"limit": 10000}).json()
    return [p["id"] for p in doc["processes"] if p["id"].startswith("xclim.")]


def test_catalogue_lists_the_atmos_land_seaice_indicators_with_paging(xc):
    import xclim
    from xclim.core.indicator import registry

    ids = xclim_ids(xc)
    for key in ("TG_MEAN", "FROST_DAYS", "TG90P", "CDD", "xclim.core.indicator.SPI", "SNOW_DEPTH", "SEA_ICE_AREA"):
        cls = registry[key]
        assert f"xclim.{cls.realm}.{cls.identifier}" in ids, key
    assert "xclim.icclim.TG90p" in ids and "xclim.ensembles" in ids
    assert len(ids) > 250
    page = xc.get("/processes", params={"limit": 5, "offset": 20}).json()
    assert len(page["processes"]) == 5 and any(link["rel"] == "next" for link in page["links"])
    assert not errors(page, "processes-1.0/processList.yaml")
    desc = xc.get("/processes/xclim.atmos.tg_mean").json()
    assert desc["version"] == xclim.__version__ and f"xclim {xclim.__version__}" in desc["description"]


def test_every_description_validates(xc):
    """process.yaml is processSummary.yaml + each input per inputDescription.yaml + each output per
    outputDescription.yaml: every description is checked that way, each distinct input/output description once
    (most are shared), and a few whole descriptions against process.yaml itself."""
    import json

    bad, seen = {}, set()
    ids = xclim_ids(xc)
    for i, pid in enumerate(ids):
        doc = xc.get(f"/processes/{pid}").json()
        assert doc["id"] == pid
        if i % 60 == 0:
            bad.update({pid: e[:2] for e in [errors(doc, "processes-1.0/process.yaml")] if e})
        summary = {k: v for k, v in doc.items() if k not in ("inputs", "outputs")}
        bad.update({pid: e[:2] for e in [errors(summary, "processes-1.0/processSummary.yaml")] if e})
        for member, schema in (("inputs", "inputDescription.yaml"), ("outputs", "outputDescription.yaml")):
            assert isinstance(doc[member], dict) and doc[member], (pid, member)
            for key, spec in doc[member].items():
                text = json.dumps(spec, sort_keys=True)
                if text in seen:
                    continue
                seen.add(text)
                bad.update({f"{pid} {member}.{key}": e[:2] for e in [errors(spec, f"processes-1.0/{schema}")] if e})
    assert not bad, bad
    assert len(seen) > 100  # the generated parameters really are many different descriptions


def test_description_content_from_xclim_metadata(xc):
    from xclim.core.indicator import registry

    ind = registry["TX_DAYS_ABOVE"].get_instance()
    doc = xc.get("/processes/xclim.atmos.tx_days_above").json()
    assert doc["title"] == ind.title
    ins = doc["inputs"]
    assert ins["thresh"]["schema"]["default"] == ind.parameters["thresh"].default
    assert ins["freq"]["schema"]["default"] == "YS" and "MS" in ins["freq"]["schema"]["enum"]
    assert set(ins["op"]["schema"]["enum"]) == set(ind.parameters["op"].choices)
    assert "tasmax" in ins["variables"]["schema"]["properties"]
    assert ins["missing"]["schema"]["enum"][0] == "any" and "indexer" in ins
    assert ins["collection"]["minOccurs"] == 1
    cf = {p["name"]: p["value"][0] for p in doc["outputs"]["result"]["additionalParameters"]["parameters"]}
    assert cf["tx_days_above.units"] == ind.cf_attrs[0]["units"]
    assert cf["tx_days_above.standard_name"] == ind.cf_attrs[0]["standard_name"]
    tg90p = xc.get("/processes/xclim.atmos.tg90p").json()["inputs"]
    assert tg90p["baseline"]["minOccurs"] == 1 and tg90p["percentile"]["schema"]["default"] == 90


def execute(client, pid, inputs):
    return client.post(f"/processes/{pid}/execution", json={"inputs": inputs})


@pytest.mark.parametrize(("pid", "inputs", "parameter", "says"), [
    # a collection without the variable: COADS has no minimum temperature
    ("xclim.atmos.frost_days", {"collection": "coads"}, "variables", "tasmin"),
    # the caller names a variable the collection lacks
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "variables": {"tas": "tas"}}, "variables", "tas"),
    # monthly data for a daily indicator: xclim refuses to infer the frequency
    ("xclim.atmos.tg_mean", {"collection": "coads"}, "collection", "data_validation"),
    # annual 360_day data, same
    ("xclim.atmos.tx_max", {"collection": "hadcm3"}, "collection", "daily"),
    # SPI takes daily or monthly input (xclim's src_freq is a list): annual data was a 500
    ("xclim.atmos.spi", {"collection": "cmip5-pr"}, "collection", "daily or monthly"),
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "thresh": "0 metre"}, "thresh", "temperature"),
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "thresh": "cold"}, "thresh", "quantity"),
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "freq": "fortnightly"}, "freq", "YS"),
    ("xclim.atmos.tg90p", {"collection": "ipsl", "z": PLEV}, "baseline", "missing"),
    ("xclim.atmos.tg90p", {"collection": "ipsl", "z": PLEV, "baseline": "1900-01-01/1901-12-31"}, "baseline", ""),
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "indexer": {"season": "XYZ"}}, "indexer", "DJF"),
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "missing": "pct", "missing_options": {"n": 3}}, "missing_options", "tolerance"),
    ("xclim.atmos.tg_mean", {"collection": "nope"}, "collection", "available"),
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "datetime": "1700-01-01/1701-01-01"}, "datetime", ""),
    ("xclim.atmos.dtr", {"collection": "ipsl"}, "variables", "tasmin"),  # tasmin and tasmax from one variable
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "indexer": {"date_bounds": ["13-45", "02-30"]}},
     "indexer", "MM-DD"),
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "missing": "pct",
                                "missing_options": {"tolerance": 0.5, "subfreq": "XYZ"}}, "missing_options", "subfreq"),
    # two indexers at once: was xclim's "Only one method of indexing" blamed on `collection`
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "z": PLEV, "indexer": {"season": "JJA", "month": 3}}, "indexer",
     "at most 1"),
    # a subfreq coarser than freq: xclim's missing module refuses it; was blamed on `freq` ("freq" in "frequency")
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "z": PLEV, "freq": "MS", "datetime": "2001/2002", "missing": "pct",
                             "missing_options": {"tolerance": 0.1, "subfreq": "YS"}}, "missing_options", "first-step"),
    # ten days of baseline: percentiles for ten days of the year only, and a silently meaningless tg90p (was a 200)
    ("xclim.atmos.tg90p", {"collection": "ipsl", "z": PLEV, "baseline": "1981-01-01/1981-01-10"}, "baseline",
     "whole year"),
    # day-of-year parameters: not a date, or a date that does not exist (were xclim errors blamed on `collection`)
    ("xclim.atmos.growing_season_length", {"collection": "ipsl", "z": PLEV, "mid_date": "garbage"}, "mid_date",
     "pattern"),
    ("xclim.atmos.growing_season_length", {"collection": "ipsl", "z": PLEV, "mid_date": "02-30"}, "mid_date", "MM-DD"),
    # run lengths of zero or fewer days computed (28 s, meaningless counts)
    ("xclim.atmos.heat_wave_index", {"collection": "taiesm", "z": PLEV, "window": -3}, "window", "minimum 1"),
    # non-finite thresholds parsed by pint: xclim silently counts nothing
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "thresh": "nan degC"}, "thresh", "finite"),
    ("xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "thresh": "1e400 degC"}, "thresh", "finite"),
    # one day: xclim cannot infer the sampling and said "Inputs have different frequencies. Got : []"
    ("xclim.atmos.tg_mean", {"collection": "ipsl", "z": PLEV, "datetime": "2001-01-01/2001-01-01"}, "datetime",
     "at least 3"),
    # xclim's refusal names `bootstrap`; the whole-word match used to pick `percentile` out of "percentiles"
    ("xclim.atmos.cold_spell_duration_index", {"collection": "ipsl", "z": PLEV, "baseline": "1981/1990",
                                               "datetime": "2001/2002", "bootstrap": True}, "bootstrap", "bootstrap"),
])
def test_bad_inputs_are_400_naming_the_input(xc, pid, inputs, parameter, says):
    r = execute(xc, pid, inputs)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["parameter"] == parameter, body
    assert says in body["detail"], body["detail"]
    assert "Traceback" not in r.text and "/work/" not in r.text
    assert not re.search(r"\((\w+Error|\w+Exception)\)", body["detail"]), body["detail"]  # no Python class names


def test_every_offered_missing_method_computes_as_xclim(xc):
    """Each value of the `missing` enum computes the same values as xclim called directly. xclim 0.62 computes
    the wmo rule on dask input only with flox (without it: NameError inside xclim, a 500), so wmo is offered only
    when flox is installed, and otherwise is a 400 naming `missing`."""
    from importlib.util import find_spec

    from .xclim_support import assert_values, direct, netcdf_of, source

    offered = xc.get("/processes/xclim.atmos.tg_mean").json()["inputs"]["missing"]["schema"]["enum"]
    assert ("wmo" in offered) == (find_spec("flox") is not None)
    options = {"wmo": {"nm": 5, "nc": 3}, "pct": {"tolerance": 0.02}, "at_least_n": {"n": 20}}
    da = source("ipsl")["ta"].sel(plev=[PLEV]).sel(time=slice("2001-01-01", "2002-06-30")).chunk({"time": -1})
    for method in ["any", "wmo", "pct", "at_least_n", "skip"]:
        inputs = {"collection": "ipsl", "z": PLEV, "datetime": "2001-01-01/2002-06-30", "freq": "MS", "missing": method}
        if method in options:
            inputs["missing_options"] = options[method]
        r = xc.post("/processes/xclim.atmos.tg_mean/execution", json={"inputs": inputs, "response": "document"})
        if method not in offered:
            assert r.status_code == 400 and r.json()["parameter"] == "missing", r.text
            continue
        assert r.status_code == 200, (method, r.text)
        settings = {"check_missing": method, **({"missing_options": {method: options[method]}} if method in options else {})}
        want = direct("tg_mean", settings, tas=da, freq="MS")
        assert_values(netcdf_of(xc, r.headers["link"].split("/jobs/")[1].split(">")[0])["tg_mean"], want)


def test_every_offered_freq_is_accepted(xc):
    """Each value of a freq enum computes (cftime calendars have no weeks: "W" was offered and always refused)."""
    freqs = xc.get("/processes/xclim.atmos.frost_days").json()["inputs"]["freq"]["schema"]["enum"]
    for freq in freqs:
        r = xc.post("/processes/xclim.atmos.frost_days/execution", json={"response": "document", "inputs": {
            "collection": "ipsl", "z": PLEV, "freq": freq, "datetime": "2001-01-01/2001-12-31", "missing": "skip"}})
        assert r.status_code == 200, (freq, r.text)


def test_too_many_output_periods_is_a_413_before_any_graph(xc):
    """freq=D over 30 years: ~11,000 periods; refused at once (it used to build a graph for minutes, then run
    a job at 5 % for ten minutes)."""
    r = execute(xc, "xclim.atmos.tg_mean", {"collection": "ipsl", "z": PLEV, "freq": "D"})
    assert r.status_code == 413, r.text
    assert r.json()["parameter"] == "freq" and "10,957 output periods" in r.json()["detail"]


def test_missing_rule_masking_every_period_is_a_400_not_nan(xc):
    """A half year with the default missing=any: xclim masks the year; the job fails with a 400 naming `missing`."""
    r = execute(xc, "xclim.atmos.tg_mean", {"collection": "ipsl", "z": PLEV, "datetime": "2001-02-01/2001-06-30"})
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == "missing" and "missing=pct" in r.json()["detail"]
    # the same period with a tolerant rule computes (xclim's own missing options)
    r = xc.post("/processes/xclim.atmos.tg_mean/execution", json={"response": "document", "inputs": {
        "collection": "ipsl", "z": PLEV, "datetime": "2001-02-01/2001-06-30", "missing": "skip"}})
    assert r.status_code == 200, r.text


def test_all_null_result_with_missing_skip_says_why(xc):
    """At 850 hPa near the pole no growing season ends: with missing=skip nothing was masked, so the 400 must not
    send the caller back to missing=skip (it did)."""
    r = execute(xc, "xclim.atmos.growing_season_end", {"collection": "ipsl", "z": PLEV, "missing": "skip",
                                                       "datetime": "2001-01-01/2002-12-31"})
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == "datetime" and "found nothing" in r.json()["detail"]


def test_owslib_runs_an_indicator_over_http(xc):
    """The README example: OWSLib's Processes client over a real socket lists, describes and executes."""
    import requests
    from owslib.ogcapi.processes import Processes

    from ..conftest import serve_in_thread
    from .conftest import netcdf

    with serve_in_thread(xc.app) as base:
        api = Processes(base)
        desc = api.process("xclim.atmos.frost_days")
        assert desc["inputs"]["thresh"]["schema"]["default"] == "0 degC"
        doc = api.execute("xclim.atmos.frost_days", inputs={"collection": "ipsl", "z": PLEV,
                                                             "datetime": "2001-01-01/2002-12-31"})
        href = doc["result"]["href"]
        out = netcdf(requests.get(href, timeout=60).content)
    assert out["frost_days"].attrs["units"] == "days" and out["frost_days"].sizes["time"] == 2


def test_generated_catalogue_is_current(tmp_path):
    """docs/xclim_catalogue.md and the README's process list are what tools/xclim_catalogue.py makes from the
    installed xclim: a change to the descriptions or an xclim upgrade without regenerating them fails here."""
    import importlib.util
    import shutil

    from ..conftest import ROOT

    spec = importlib.util.spec_from_file_location("xclim_catalogue", ROOT / "tools" / "xclim_catalogue.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    tool.main(tmp_path / "catalogue.md", readme)
    fresh = (tmp_path / "catalogue.md").read_text()
    assert fresh == (ROOT / "docs" / "xclim_catalogue.md").read_text(), "run python tools/xclim_catalogue.py"
    assert "| `xclim.atmos.frost_days` |" in fresh and "| `xclim.ensembles` |" in fresh
    assert readme.read_text() == (ROOT / "README.md").read_text(), "run python tools/xclim_catalogue.py"
    block = readme.read_text().split(tool.START)[1].split(tool.END)[0]
    ids = xclim_ids_from(block)
    from cubeserver.processes.xclim import load

    assert len(ids) == len(load()) and "xclim.atmos.frost_days" in ids and "xclim.icclim.TG90p" in ids


def xclim_ids_from(block: str) -> set[str]:
    """The process ids the README block lists (`**group** (n, `xclim.group.<id>`): `a`, `b`...)."""
    import re

    ids = set(re.findall(r"^`(xclim\.ensembles)`$", block, re.M))
    for group, names in re.findall(r"^\*\*(\w+)\*\* \(\d+, `[^`]+`\): (.+)$", block, re.M):
        ids |= {f"xclim.{group}.{n}" for n in re.findall(r"`([^`]+)`", names)}
    return ids


@pytest.mark.parametrize(("inputs", "parameter", "says"), [
    ({"cal_start": "1900-01-01", "cal_end": "1901-01-01"}, "cal_start", "outside the data"),
    ({"cal_start": "2003-01-01", "cal_end": "2001-06-01"}, "cal_end", "not after"),
    ({"cal_start": "2001-13-01"}, "cal_start", "YYYY-MM-DD"),
])
def test_spi_calibration_period_errors_name_the_input(xc, inputs, parameter, says):
    """SPI's calibration dates outside the data or out of order were xclim's "'index' must contain datetime-like
    objects", blamed on `collection`."""
    r = execute(xc, "xclim.atmos.spi", {"collection": "pr-daily", **inputs})
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == parameter and says in r.json()["detail"], r.json()


def test_spi_fit_params_are_not_an_input_and_spi_matches_xclim(xc):
    """SPI's `params` (fitted distribution parameters, a DataArray computed in advance) was offered as a quantity
    string that could only fail; it is not an input. SPI itself, calibrated on 2001-2003, equals xclim's."""
    from .xclim_support import assert_values, direct, netcdf_of, source

    desc = xc.get("/processes/xclim.atmos.spi").json()["inputs"]
    assert "params" not in desc and "cal_start" in desc
    r = execute(xc, "xclim.atmos.spi", {"collection": "pr-daily", "params": "3"})
    assert r.status_code == 400 and r.json()["parameter"] == "params", r.text
    r = xc.post("/processes/xclim.atmos.spi/execution", json={"response": "document", "inputs": {
        "collection": "pr-daily", "window": 3, "cal_start": "2001-01-01", "cal_end": "2003-12-31"}})
    assert r.status_code == 200, r.text
    pr = source("", xc.tmp / "pr_day_synthetic.nc")["pr"]
    want = direct("xclim.core.indicator.SPI", pr=pr, window=3, cal_start="2001-01-01", cal_end="2003-12-31")
    got = netcdf_of(xc, r.headers["link"].split("/jobs/")[1].split(">")[0])["spi"]
    assert_values(got, want)
    assert float(abs(want).max()) > 0.5


def test_indicators_broken_inside_xclim_are_not_offered(xc):
    """cool_night_index (input sampling "M", which pandas no longer parses), rain_season on dask input and cf.sdii
    on pr in kg m-2 s-1 fail inside xclim 0.62 whatever the request: they were 400s blaming `collection`. They are
    not offered; this test fails once xclim computes them, so they can come back."""
    import xclim

    from cubeserver.processes.xclim import BROKEN

    from .xclim_support import source

    ids = xclim_ids(xc)
    assert "xclim.atmos.cool_night_index" not in ids and not set(BROKEN) & set(ids)
    assert xc.get("/processes/xclim.cf.sdii").status_code == 404
    pr = source("", xc.tmp / "pr_day_synthetic.nc")["pr"].chunk({"time": -1})
    tasmin = source("ipsl")["ta"].sel(plev=PLEV).chunk({"time": -1})
    calls = [lambda: xclim.atmos.cool_night_index(tasmin=tasmin), lambda: xclim.atmos.rain_season(pr=pr),
             lambda: xclim.indicators.cf.sdii(pr=pr)]
    for call in calls:
        with pytest.raises((ValueError, TypeError)), xclim.set_options(cf_compliance="log"):
            call()
