"""Property-based tests of the schema and validator: any input gets an answer, never an exception, and every
graph the validator accepts compiles to a model whose real output has the shape inference promised."""

import json

import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from builder.graph import LAYERS, GraphError, Limits, analyze, compile_graph, parse_json
from builder.graph.schema import _fast_validator, _validator
from builder.graph.validate import LISTED_IDS

from tests.graphs import example

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
TYPES = sorted(t for t in LAYERS if t != "Input")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_answered(analysis):
    assert all(isinstance(e, GraphError) and e.message for e in analysis.errors)
    json.dumps(analysis.summary())  # the answer is always plain JSON


@PROPERTY
@given(JSON)
def test_any_json_value_gets_an_answer_not_an_exception(doc):
    assert_answered(analyze(doc, Limits()))


@PROPERTY
@given(st.text(max_size=200))
def test_any_text_parses_or_gets_a_clear_error(text):
    doc, errors = parse_json(text)
    if errors:
        assert doc is None and all(e.message for e in errors)
    else:  # a parsed document may be None itself: the text "null"
        assert doc == json.loads(text)


@PROPERTY
@given(st.data())
def test_a_mutated_example_gets_errors_that_name_the_node(data):
    doc = example(data.draw(st.sampled_from(["seed_cnn", "residual_cnn", "text_classifier"])))
    victim = data.draw(st.sampled_from(doc["nodes"]))
    spec = LAYERS[victim["type"]]
    key = data.draw(st.sampled_from([p.name for p in spec.params] + ["surprise"]))
    victim.setdefault("params", {})[key] = data.draw(JSON)
    analysis = analyze(doc, Limits())
    assert_answered(analysis)
    for error in analysis.errors:
        if error.node is not None:
            assert f"'{error.node}'" in error.message


@st.composite
def random_graphs(draw):
    """A random chain, sometimes with a skip or a branch, of registry layers with random parameters."""
    rank = draw(st.sampled_from([1, 2, 3]))
    shape = [draw(st.integers(1, 6))] + [draw(st.integers(1, 12)) for _ in range(rank - 1)]
    nodes = [{"id": "in", "type": "Input", "params": {"shape": shape}}]
    edges = []
    for i in range(draw(st.integers(1, 5))):
        layer = draw(st.sampled_from(TYPES))
        params = {}
        for p in LAYERS[layer].params:
            if p.kind in ("int", "size") and draw(st.booleans()):
                params[p.name] = draw(st.integers(int(p.minimum or 0), min(int(p.maximum or 8), 8)))
            elif p.kind == "choice":
                params[p.name] = draw(st.sampled_from(p.choices))
            elif p.kind == "bool":
                params[p.name] = draw(st.booleans())
            elif p.required:
                params[p.name] = p.default
        node_id = f"n{i}"
        sources = [nodes[-1]["id"]] * max(LAYERS[layer].min_inputs, 1)
        if LAYERS[layer].min_inputs >= 2:
            sources[0] = draw(st.sampled_from([n["id"] for n in nodes]))
        nodes.append({"id": node_id, "type": layer, "params": params})
        edges += [{"source": s, "target": node_id} for s in sources]
    return {"format": "netgraph", "version": 1, "name": "random", "nodes": nodes, "edges": edges}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(random_graphs())
def test_every_accepted_graph_compiles_and_runs_with_the_inferred_shapes(doc):
    analysis = analyze(doc, Limits())
    assert_answered(analysis)
    assume(analysis.valid)
    model = compile_graph(analysis).eval()
    x = torch.randn(2, *analysis.shapes["in"].shape)
    with torch.no_grad():
        out = model(x)
    assert tuple(out.shape) == (2, *analysis.shapes[analysis.output_node].shape)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@st.composite
def random_wiring(draw):
    """Any edges at all between a few nodes: cycles, self-loops, repeats."""
    ids = [f"n{i}" for i in range(draw(st.integers(1, 8)))]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=20))
    return ids, pairs


@PROPERTY
@given(random_wiring())
def test_every_node_on_a_cycle_is_named_with_the_nodes_it_cycles_with(wiring):
    ids, pairs = wiring
    doc = {"format": "netgraph", "version": 1, "nodes": [{"id": i, "type": "Add"} for i in ids],
           "edges": [{"source": s, "target": t} for s, t in pairs]}
    reach = {i: {t for s, t in pairs if s == i and t != i} for i in ids}  # self-loops are reported apart
    for _ in ids:  # transitive closure, by repeated widening
        reach = {i: r.union(*(reach[j] for j in r)) for i, r in reach.items()}
    errors = [e for e in analyze(doc, Limits()).errors if e.code == "cycle" and e.edge is None]
    assert {e.node for e in errors} == {i for i in ids if i in reach[i]}
    for error in errors:
        group = [j for j in ids if j in reach[error.node] and error.node in reach[j]]
        more = f" and {len(group) - LISTED_IDS} more" if len(group) > LISTED_IDS else ""  # long cycles are cut
        assert error.message.endswith(f"is part of a cycle ({' → '.join(group[:LISTED_IDS])}{more})")


@st.composite
def near_graphs(draw):
    """Documents close to valid ones: an example with one field of one node or edge replaced by any JSON."""
    doc = example(draw(st.sampled_from(["seed_cnn", "lstm_classifier", "residual_cnn"])))
    item = draw(st.sampled_from(doc[draw(st.sampled_from(["nodes", "edges"]))]))
    item[draw(st.sampled_from([*item, "port", "output", "params", "extra"]))] = draw(JSON)
    return doc


@PROPERTY
@given(st.one_of(JSON, near_graphs()))
def test_the_fast_schema_check_agrees_with_jsonschema(doc):
    """Valid documents skip jsonschema (jsonschema-rs says so, 300 times faster): the two must agree."""
    assert _fast_validator().is_valid(doc) == _validator().is_valid(doc)
