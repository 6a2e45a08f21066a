"""The core ``/api/v1`` routes, pinned: splitting or moving route modules must not change a
path, a method, an operation id, a scope or a response schema (clients generate code from
the OpenAPI document)."""

from __future__ import annotations

from fastapi import FastAPI

from takedown.api import lookup, v1
from takedown.api.app import route_table

#: (method, path, operationId, x-required-scope, success status, success schema)
#: ``GET /api/v1/lookup`` is a route of the application itself, ahead of the rest (matched
#: first: ``lookup.add_hot_routes``), so its path comes first in the document.
CORE = [
    ("GET", "/api/v1/lookup", "lookup_hash_api_v1_lookup_get", "lookup", "200", "One_LookupOut_"),
    ("POST", "/api/v1/lookup", "lookup_hash_post_api_v1_lookup_post", "lookup", "200", "One_LookupOut_"),
    ("GET", "/api/v1/sightings", "list_sightings_api_v1_sightings_get", "read", "200", "Page_SightingOut_"),
    ("POST", "/api/v1/sightings", "submit_sighting_api_v1_sightings_post", "submit", "201", "One_SubmitResult_"),
    ("GET", "/api/v1/sightings/{sighting_id}", "get_sighting_api_v1_sightings__sighting_id__get", "read", "200", "One_SightingOut_"),
    ("POST", "/api/v1/sightings/upload", "upload_sighting_api_v1_sightings_upload_post", "submit", "201", "One_SubmitResult_"),
    ("POST", "/api/v1/sightings/batch", "batch_sightings_api_v1_sightings_batch_post", "submit", "201", "One_SubmitResult_"),
    ("GET", "/api/v1/content/{content_id}", "get_content_api_v1_content__content_id__get", "read", "200", "One_ContentOut_"),
    ("POST", "/api/v1/lookup/file", "lookup_file_api_v1_lookup_file_post", "lookup", "200", "One_FileLookupOut_"),
    ("POST", "/api/v1/lookup/batch", "lookup_batch_api_v1_lookup_batch_post", "lookup", "200", "One_LookupBatchOut_"),
    ("GET", "/api/v1/lookup/ready", "lookup_ready_api_v1_lookup_ready_get", "lookup", "200", "One_ReadyOut_"),
    ("GET", "/api/v1/banks", "list_banks_api_v1_banks_get", "read", "200", "Page_BankOut_"),
    ("POST", "/api/v1/banks", "create_bank_api_v1_banks_post", "banks:write", "201", "One_BankOut_"),
    ("GET", "/api/v1/banks/{name}", "get_bank_api_v1_banks__name__get", "read", "200", "One_BankOut_"),
    ("GET", "/api/v1/banks/{name}/entries", "list_entries_api_v1_banks__name__entries_get", "read", "200", "Page_EntryOut_"),
    ("POST", "/api/v1/banks/{name}/entries", "add_entries_api_v1_banks__name__entries_post", "banks:write", "200", "One_EntriesAdded_"),
    ("DELETE", "/api/v1/banks/{name}/entries/{entry_id}", "remove_entry_api_v1_banks__name__entries__entry_id__delete", "banks:write", "200", "One_EntryOut_"),
    ("GET", "/api/v1/clusters", "list_clusters_api_v1_clusters_get", "read", "200", "Page_ClusterOut_"),
    ("GET", "/api/v1/clusters/{cluster_id}", "get_cluster_api_v1_clusters__cluster_id__get", "read", "200", "One_ClusterDetail_"),
    ("GET", "/api/v1/figures", "list_figures_api_v1_figures_get", "figures", "200", "Page_FigureOut_"),
]  # fmt: skip


def test_the_core_routes_are_exactly_the_pinned_routes() -> None:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    lookup.add_hot_routes(app)
    app.include_router(v1.router)
    listed = [
        (method, path, extra["x-required-scope"])
        for path, methods, extra in route_table(app)
        for method in methods
    ]
    assert sorted(listed) == sorted((m, p, s) for m, p, _, s, *_ in CORE)


def test_the_openapi_document_describes_the_pinned_routes_unchanged(api: FastAPI) -> None:
    paths = api.openapi()["paths"]
    core = [p for p in paths if any(p == c[1] for c in CORE)]
    assert core == list(dict.fromkeys(c[1] for c in CORE)), "order of the core paths"
    for method, path, operation_id, scope, status, schema in CORE:
        operation = paths[path][method.lower()]
        assert operation["operationId"] == operation_id
        assert operation["x-required-scope"] == scope
        body = operation["responses"][status]["content"]["application/json"]["schema"]
        assert body["$ref"] == f"#/components/schemas/{schema}"
