"""The OpenAPI document is valid, names every operation, and its docs page loads nothing from another host."""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/articles"),
    ("get", "/api/v1/articles/{slug}"),
    ("get", "/api/v1/articles/{slug}/sections"),
    ("get", "/api/v1/articles/{slug}/versions"),
    ("get", "/api/v1/articles/{slug}/versions/{number}"),
    ("get", "/api/v1/sections/{section_id}"),
    ("get", "/api/v1/sources"),
    ("get", "/api/v1/sources/{key}"),
    ("get", "/api/v1/sources/{key}/csl"),
    ("get", "/api/v1/topics"),
    ("get", "/api/v1/topics/{slug}"),
    ("get", "/api/v1/timeline-events"),
    ("get", "/api/v1/timeline-events/{event_id}"),
    ("post", "/api/v1/proposals/sections/{section_id}"),
    ("post", "/api/v1/proposals/sources/{key}"),
    ("post", "/api/v1/proposals/sources"),
    ("post", "/api/v1/proposals/topics/{slug}"),
    ("post", "/api/v1/proposals/timeline-events/{event_id}"),
    ("get", "/api/v1/proposals/{proposal_id}"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_schema_is_valid_openapi(schema):
    validate(schema)  # raises on any error
    assert schema["info"]["title"] == "Mali History API"


def test_the_schema_lists_every_operation_and_nothing_else(schema):
    listed = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert listed == OPERATIONS


def test_every_operation_the_site_routes_is_in_the_schema(schema):
    """A route added without a schema entry, or the reverse, fails here."""
    routes = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns)
    # The schema, its docs page, and the root django-ninja adds to know its own address (a 404).
    routes -= {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/"}
    assert routes == {path for _method, path in OPERATIONS}


def test_writes_declare_the_bearer_token_and_reads_need_none(schema):
    schemes = schema["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert bool(operation.get("security")) == path.startswith("/api/v1/proposals/"), (method, path)


def test_lists_declare_their_paging_parameters(schema):
    paged = set()
    for path, item in schema["paths"].items():
        content = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        if reference.startswith("#/components/schemas/Page"):
            assert {"page", "page_size"} <= {p["name"] for p in item["get"]["parameters"]}, path
            paged.add(path)
    assert len(paged) == 6


def test_the_docs_page_loads_only_this_sites_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses and all(a.startswith("/static/") for a in addresses), addresses
    assert "//" not in " ".join(addresses)
    settings_json = re.search(r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S)
    docs_settings = json.loads(settings_json.group(1))
    assert docs_settings["url"] == "/api/v1/openapi.json"
    assert docs_settings["validatorUrl"] is None  # no badge fetched from validator.swagger.io


def test_the_csl_operation_declares_its_media_type(schema):
    responses = schema["paths"]["/api/v1/sources/{key}/csl"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["application/vnd.citationstyles.csl+json"]


def test_the_schema_answers_304_when_unchanged(client):
    etag = client.get("/api/v1/openapi.json")["ETag"]
    assert client.get("/api/v1/openapi.json", headers={"If-None-Match": etag}).status_code == 304
