"""cubeserver.errors is the one home of the exception classes and of the status table the OpenAPI
document's error responses are made from."""

from __future__ import annotations

import inspect
from http import HTTPStatus

import cubeserver.errors as errors
from cubeserver.openapi.responses import ERROR_TEXT


def _classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, errors.APIError) and c is not errors.APIError]


def test_every_exception_class_has_its_status_in_the_table_with_the_standard_phrase():
    for cls in _classes():
        title, text = errors.STATUSES[cls.status]
        assert cls.title == title == ({413: "Payload Too Large", 414: "URI Too Long"}.get(cls.status, HTTPStatus(cls.status).phrase))  # RFC 7231 name
        assert text


def test_moved_classes_still_import_from_their_old_modules():
    from cubeserver.auth.credentials import Forbidden, IdentityProviderDown, Unauthorized
    from cubeserver.auth.rates import TooManyRequests
    from cubeserver.budget import ServerBusy
    from cubeserver.http.limits import UnsupportedMediaType, URITooLong
    from cubeserver.processes.policy import TooManyJobs

    for cls in (Forbidden, IdentityProviderDown, Unauthorized, TooManyRequests, ServerBusy, UnsupportedMediaType,
                URITooLong, TooManyJobs):
        assert getattr(errors, cls.__name__) is cls


def test_openapi_error_texts_come_from_the_table(client):
    doc = client.get("/openapi.json").json()
    assert ERROR_TEXT == {code: errors.STATUSES[code][1] for code in errors.DOCUMENTED}
    for code, text in ERROR_TEXT.items():
        assert doc["components"]["responses"][str(code)]["description"] == text
