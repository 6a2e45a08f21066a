"""Property-based run of the OpenAPI document (schemathesis, in-process over ASGI).

No 500s; every response matches its documented status, content type and schema. Kept small
(a few examples per operation) so the suite stays fast; run on SQLite with seeded data.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from takedown.api.app import create_app
from takedown.api.auth import SCOPES, create_key
from takedown.app import App
from tests.api.seed import seed

MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_openapi_document_is_complete(sqlite_app: App) -> None:
    document = create_app(sqlite_app).openapi()
    assert document["info"]["version"] == "1"
    schemes = document["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("x-required-scope") in SCOPES, (method, path)
            assert "401" in operation["responses"] and "403" in operation["responses"]


def test_api_holds_its_schema_under_generated_requests(sqlite_app: App, tmp_path: Path) -> None:
    seed(sqlite_app, tmp_path / "seed", hostile=False)
    api = create_app(sqlite_app)
    key = create_key(sqlite_app, "schemathesis", list(SCOPES), agency="IRU").secret
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api, headers={"X-API-Key": key})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"X-API-Key": key})
            case.validate_response(response, checks=CHECKS)

        check()
