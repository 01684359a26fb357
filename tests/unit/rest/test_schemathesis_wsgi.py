"""Property-based run of the OpenAPI document against the WSGI app (in-memory herder): no 5xx,
and every response matches the document. Bounded: few examples per operation, no deadline."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from kconnect.rest.app import create_app
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.unit.rest.conftest import FakeHerder, Settings

app = create_app(FakeHerder(), Settings({"rest.request.timeout.ms": 2000}))
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case):
    case.call_and_validate(checks=CHECKS)
