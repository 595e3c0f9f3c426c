"""schemathesis over the app with every check, on a bounded budget (well under a minute).

The OpenAPI document (/openapi) drives generation; each generated request goes through the ASGI
app and its answer is checked for: not a server error, status documented, Content-Type documented,
body valid against the documented schema, headers, schema-invalid data refused, schema-valid data
accepted (widened to semantic 400/413 refusals, see schemathesis.toml), unsupported methods 405.
The bounded run covers the generic operations and the concrete paths of three collections
(coads, eraint with its `month` dimension, places); the README says how to run the long run by hand.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig

CONFIG = SchemathesisConfig.from_str((Path(__file__).with_name("schemathesis.toml")).read_text())
# the generic templates, the concrete entries of coads/eraint/places, Common, Processes, jobs
KEEP = r"^/($|conformance|collections$|openapi|processes|jobs|collections/(\{collectionId\}|coads|eraint|places)(/|$))"
# kept out of the bounded run (each stays in the long run): whole-grid answers that spend the budget
SLOW = r"/(cube|area|coverage|corridor)$|/zarr/\{key\}$"
# endless Server-Sent Events streams: an in-process ASGI call waits for the whole body (tests/remote/test_live.py
# reads them over a real socket)
STREAMS = r"/events$"


def test_schemathesis_all_checks(config, app, tmp_path):
    """Every check of schemathesis holds for generated requests (bounded: a few examples per operation,
    positive and negative data)."""
    from tests.conftest import app_on_shared_collections

    # an app of its own: schemathesis runs the ASGI lifespan, whose shutdown would stop the job manager of
    # the session's shared app (and with it every later test's job collections)
    # (the opened collections are the session's: opening every bundled collection again cost most of this test;
    # a shallow copy of its registry with job sources of its own)
    own = config.model_copy(deep=True)
    own.state_dir = str(tmp_path / "state")
    own_app = app_on_shared_collections(app, own)
    schema = schemathesis.openapi.from_asgi("/openapi", own_app, config=CONFIG).include(path_regex=KEEP).exclude(path_regex=SLOW).exclude(path_regex=STREAMS)
    failures, calls, operations = [], [0], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case):
            calls[0] += 1
            case.call_and_validate()

        try:
            run()
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collect every failure, report all
            failures.append(f"{operation.label}: {str(e)[:1500]}")
    assert operations > 40 and calls[0] > operations
    assert not failures, f"{len(failures)} of {operations} operations failed ({calls[0]} requests):\n" + "\n\n".join(failures)
