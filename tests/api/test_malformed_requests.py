"""Requests no client should send, found by the fuzzer: each answered 4xx with what was wrong, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url, body", [
    ("/api/tokens", {"name": "laptop\u0000"}),
    ("/api/networks", {"name": "net", "graph": {"format": "netgraph", "version": 2, "name": "a\u0000b",
                                                "nodes": [], "edges": []}}),
])
def test_a_json_text_with_a_nul_character_is_refused_naming_it(ada, url, body):
    response = ada.post(url, body, content_type="application/json")
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]


def test_a_form_field_with_a_nul_character_is_refused_naming_it(ada):
    response = ada.post("/api/networks/import", {"name": "x\u0000", "file": b""})
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/datasets", "/api/networks/import"])
def test_a_multipart_body_without_a_boundary_is_refused(ada, url):
    response = ada.post(url, b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400 and "not a valid multipart form" in response.json()["detail"]


@pytest.mark.parametrize("version", [0, -1])
def test_a_graph_of_a_version_that_never_existed_is_refused_by_name(ada, version):
    doc = {"format": "netgraph", "version": version, "nodes": [], "edges": []}
    response = ada.post("/api/graphs/export", doc, content_type="application/json")
    assert response.status_code == 400 and f"version {version} does not exist" in response.content.decode()


@pytest.mark.parametrize("url", ["/api/runs?network_id=9223372036854775808", "/api/shares?run_id=9223372036854775808"])
def test_an_id_larger_than_the_database_holds_is_refused_naming_the_limit(ada, url):
    """SQLite can't take such a number in a query: the filter on it was a 500."""
    response = ada.get(url)
    assert response.status_code == 422 and "less than or equal to 9223372036854775807" in response.content.decode()
