"""A corpus of malformed graphs sent to the live server: each gets a 4xx that names the problem, and the
server stays responsive."""

import json
import time
import urllib.error
import urllib.request

import pytest

from accounts.models import ApiToken

from tests.graphs import chain, example, graph, node

pytestmark = pytest.mark.django_db(transaction=True)


def huge_graph(count):
    nodes = [node("in", "Input", shape=[4])] + [node(f"r{i}", "ReLU") for i in range(count - 1)]
    return chain(*nodes)


def cyclic():
    return graph([node("in", "Input", shape=[4]), node("a", "Linear"), node("b", "Add"), node("c", "ReLU"),
                  node("out", "Linear")], [("in", "a"), ("a", "b"), ("c", "b"), ("b", "c"), ("c", "out")])


CORPUS = [
    ("a cycle", json.dumps(cyclic()), "is part of a cycle"),
    ("a huge shape", json.dumps(chain(node("in", "Input", shape=[65536, 65536, 65536]), node("f", "Flatten"),
                                      node("out", "Linear", out_features=10))), "parameters; the limit is"),
    ("an absurd dimension", json.dumps(chain(node("in", "Input", shape=[10**12]), node("f", "Linear"))),
     "shape must be at most 65536"),
    ("NaN", json.dumps(example("seed_cnn")).replace('"kernel_size": 3', '"kernel_size": NaN'),
     "NaN is not a number JSON allows"),
    ("deep nesting", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ("10,000 nodes", json.dumps(huge_graph(10_000)), "the limit is 500 nodes"),
    ("text that is not JSON", "this is not a graph", "not valid JSON"),
    ("a list instead of an object", "[1, 2, 3]", "Input should be a valid dictionary"),
    ("nodes that are not objects", json.dumps({**example("seed_cnn"), "nodes": ["conv"]}), "is not of type 'object'"),
    ("a Python pickle", "\x80\x04\x95", "not valid JSON"),
]


@pytest.fixture
def call(server, make_user):
    key = ApiToken.issue(make_user("fuzzer"), "corpus")[1]

    def post(path, body: str | bytes):
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(server.url + path, data=data, method="POST", headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    return post


@pytest.mark.parametrize("what, body, words", CORPUS, ids=[c[0] for c in CORPUS])
def test_a_malformed_graph_gets_a_4xx_that_names_the_problem(call, what, body, words):
    status, text = call("/api/graphs/export", body)
    assert 400 <= status < 500, (status, text[:300])
    assert words in text, text[:500]
    assert "Traceback" not in text


def test_the_server_stays_responsive_through_the_corpus(call):
    for _, body, _ in CORPUS:
        call("/api/graphs/validate", body)
    oversized = json.dumps({**example("seed_cnn"), "description": "x" * 6_000_000})
    status, _ = call("/api/graphs/validate", oversized)
    assert status in (400, 413)
    start = time.monotonic()
    status, text = call("/api/graphs/validate", json.dumps(example("seed_cnn")))
    assert status == 200 and json.loads(text)["total_params"] == 693_962
    assert time.monotonic() - start < 5
