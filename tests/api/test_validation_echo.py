"""A graph with a near-1 MB node id: the validation answer names the problem in a few hundred bytes (before,
the id came back four times, a 4 MB answer)."""

import json

from tests.graphs import graph, node


def test_validating_a_huge_id_answers_briefly(ada):
    huge = "x" * 450_000  # twice in the document (node and edge), just under GRAPH_MAX_BYTES
    doc = graph([node(huge, "Input", shape=[3]), node("d", "Linear", out_features=2)], [(huge, "d")])
    response = ada.post("/api/graphs/validate", json.dumps(doc), content_type="application/json")
    assert response.status_code == 200
    assert len(response.content) < 3_000
    assert "450,000 characters long; at most 64 are allowed" in response.json()["errors"][0]["message"]
