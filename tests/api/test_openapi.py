"""The OpenAPI document describes every route and the graph format as the API checks it; its docs page is local."""

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from builder.graph.examples import EXAMPLES

from tests.graphs import example

pytestmark = pytest.mark.django_db


def test_the_openapi_document_describes_every_route(openapi, conforms, ada):
    documented = {(path, method) for path, ops in openapi["paths"].items() for method in ops}
    expected = {("/api/layers", "get"), ("/api/graphs/schema", "get"), ("/api/examples", "get"),
                ("/api/graphs/validate", "post"), ("/api/graphs/export", "post"), ("/api/networks", "get"),
                ("/api/networks", "post"), ("/api/networks/{network_id}", "get"),
                ("/api/networks/{network_id}", "patch"), ("/api/networks/{network_id}", "delete"),
                ("/api/networks/{network_id}/versions", "get"),
                ("/api/networks/{network_id}/versions/{number}", "get"),
                ("/api/networks/{network_id}/diff", "get"),
                ("/api/networks/import", "post"), ("/api/networks/{network_id}/export", "get"),
                ("/api/datasets", "get"), ("/api/datasets", "post"), ("/api/datasets/{key}", "get"),
                ("/api/datasets/{key}", "delete"), ("/api/datasets/{key}/fit", "post"),
                ("/api/training/config", "get"), ("/api/protocol", "get"), ("/api/runs", "get"),
                ("/api/runs", "post"),
                ("/api/runs/{run_id}", "get"), ("/api/runs/{run_id}/events", "get"),
                ("/api/runs/{run_id}/cancel", "post"), ("/api/runs/{run_id}/resume", "post"),
                ("/api/runs/{run_id}/checkpoints", "get"), ("/api/runs/{run_id}/fork", "post"),
                ("/api/runs/{run_id}/files/{name}", "get"), ("/api/runs/{run_id}/samples", "get"),
                ("/api/runs/{run_id}/predict", "post"),
                ("/api/runs/{run_id}/inspect", "post"), ("/api/runs/{run_id}/misclassified", "get"),
                ("/api/runs/{run_id}/predictions", "get"), ("/api/runs/{run_id}/units", "get"),
                ("/api/tokens", "get"), ("/api/tokens", "post"),
                ("/api/tokens/{token_id}", "delete"), ("/api/workers", "get"),
                ("/api/shares", "get"), ("/api/shares", "post"), ("/api/shares/{share_id}", "delete")}
    assert documented == expected
    components = openapi["components"]["schemas"]
    assert components["NetGraphParamsConv2d"]["properties"]["out_channels"]["minimum"] == 1
    published = ada.get("/api/graphs/schema").json()
    assert published["$defs"]["params"]["LSTM"]["properties"] == components["NetGraphParamsLSTM"]["properties"]
    # The same document: valid against one exactly when valid against the other.
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(openapi, DRAFT202012))
    in_openapi = jsonschema.Draft202012Validator({"$ref": "urn:openapi#/components/schemas/NetGraph"},
                                                 registry=registry)
    bad = example("seed_cnn")
    bad["nodes"][1]["params"]["kernel_size"] = 0
    for doc in (example("seed_cnn"), bad, {"format": "netgraph"}):
        assert in_openapi.is_valid(doc) == jsonschema.Draft202012Validator(published).is_valid(doc)
    examples = conforms(ada.get("/api/examples"), "/api/examples", "get")
    assert [e["slug"] for e in examples] == list(EXAMPLES)


def test_the_api_docs_page_loads_nothing_from_other_hosts(ada):
    page = ada.get("/api/docs").content.decode()
    assert "/api/openapi.json" in page and "https://" not in page and "http://" not in page
