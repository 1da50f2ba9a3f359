"""Every registry layer compiles, runs forward and backward, and has the shape that inference predicted."""

import jsonschema
import pytest
import torch

from builder.graph import LAYERS, Limits, analyze, compile_graph, generate_source, published_schema, registry_document
from builder.graph.codegen import python_names

from tests.graphs import example, graph, node

SAMPLE = {1: [12], 2: [6, 12], 3: [3, 12, 12]}
REQUIRED_TYPES = {
    "Input", "Linear", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "GlobalAvgPool",
    "Flatten", "Reshape", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "ReLU", "LeakyReLU", "GELU",
    "Tanh", "Sigmoid", "Softmax", "Embedding", "LSTM", "GRU", "RNN", "TransformerEncoderLayer", "Add", "Concat"}

VARIANTS = [
    ("Conv2d", {"kernel_size": [3, 5], "stride": 2, "padding": [1, 2], "out_channels": 4}),
    ("MaxPool2d", {"kernel_size": 3, "stride": None, "padding": 1}),
    ("LSTM", {"bidirectional": True, "num_layers": 2, "hidden_size": 5}),
    ("GRU", {"bidirectional": True, "hidden_size": 7}),
    ("RNN", {"nonlinearity": "relu"}),
    ("Split", {"sizes": [5, 7]}),
    ("ChannelShuffle", {"groups": 3}),
    ("Softmax", {"dim": 0}),
    ("Concat", {"dim": -1}),
    ("Reshape", {"shape": [3, -1]}),
    ("TransformerEncoderLayer", {"nhead": 3, "activation": "gelu", "norm_first": True}),
]


def single_layer_graph(layer_type, params):
    spec = LAYERS[layer_type]
    rank = spec.ranks[0] if spec.ranks else 1
    source = node("in", "Input", shape=SAMPLE[rank], dtype="int64" if spec.takes_tokens else "float32")
    params = {**{p.name: p.default for p in spec.params if p.required}, **params}
    if spec.takes_tokens:
        params["num_embeddings"] = 20
    fan_in = max(spec.min_inputs, 1)
    return graph([source, node("layer", layer_type, **params)], [("in", "layer")] * fan_in)


# Split's sizes and ChannelShuffle's groups depend on the input
CASES = [(t, {}) for t in LAYERS if t not in ("Input", "Split", "ChannelShuffle")] + VARIANTS


def test_the_registry_has_every_layer_the_palette_promises():
    assert set(LAYERS) >= REQUIRED_TYPES
    document = registry_document()
    assert {layer["type"] for layer in document["layers"]} == set(LAYERS)
    assert {layer["category"] for layer in document["layers"]} <= set(document["categories"])
    dense = next(layer for layer in document["layers"] if layer["type"] == "Linear")
    assert dense["label"] == "Dense"
    assert dense["params"][0] == {"name": "out_features", "kind": "int", "default": 128, "minimum": 1,
                                  "maximum": 1_000_000, "help": "Number of output units.", "required": False,
                                  "nullable": False}
    for layer in document["layers"]:
        assert layer["description"] and all(p["help"] for p in layer["params"])


@pytest.mark.parametrize("layer_type, params", CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)])
def test_each_layer_compiles_trains_and_matches_its_inferred_shape(layer_type, params):
    doc = single_layer_graph(layer_type, params)
    analysis = analyze(doc, Limits())
    assert analysis.valid, analysis.errors
    model = compile_graph(analysis)
    shape = analysis.shapes["in"].shape
    if LAYERS[layer_type].takes_tokens:
        x = torch.randint(0, 20, (3, *shape))
    else:
        x = torch.randn(3, *shape, requires_grad=True)
    out = model(x)
    assert tuple(out.shape) == (3, *analysis.shapes["layer"].shape)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    out.float().sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_a_dag_with_branches_and_a_skip_connection_runs_as_wired():
    doc = graph([node("in", "Input", shape=[4]), node("a", "Linear", out_features=4),
                 node("b", "Linear", out_features=4), node("sum", "Add"), node("cat", "Concat"),
                 node("out", "Linear", out_features=2)],
                [("in", "a"), ("in", "b"), ("a", "sum"), ("b", "sum"), ("sum", "cat"), ("in", "cat"),
                 ("cat", "out")])
    model = compile_graph(analyze(doc, Limits()))
    x = torch.randn(5, 4)
    expected = model.out(torch.cat([model.a(x) + model.b(x), x], dim=1))
    assert torch.equal(model(x), expected)


def test_node_ids_that_are_not_python_names_still_compile():
    assert python_names(["in", "conv 1", "conv_1", "2x", "forward", "self", ""]) == {
        "in": "in_", "conv 1": "conv_1", "conv_1": "conv_1_2", "2x": "n_2x", "forward": "forward_",
        "self": "self_", "": "n_"}
    doc = example("seed_cnn")
    doc["name"] = 'Evil"""\nimport os\n#'
    source = generate_source(analyze(doc, Limits()))
    assert "import os" not in source.replace("# Evil\"\"\" import os #", "")
    compile_graph(analyze(doc, Limits()))


def test_the_published_schema_accepts_the_examples_and_rejects_what_the_validator_rejects():
    validator = jsonschema.Draft202012Validator(published_schema())
    for slug in ("seed_cnn", "lstm_classifier", "residual_cnn", "text_classifier"):
        validator.validate(example(slug))
    bad = example("seed_cnn")
    bad["nodes"][1]["params"]["kernel_size"] = 0
    assert not validator.is_valid(bad) and not analyze(bad, Limits()).valid


@pytest.mark.parametrize("spec_type", sorted(LAYERS))
def test_each_parameter_schema_agrees_with_its_check(spec_type):
    """The published schema and the validator accept and refuse the same values."""
    samples = [0, 1, -1, 3, 2.5, 1e300, True, "relu", None, [3, 3], [1], [2, -1], [1, 2, 3, 4], "x"]
    for param in LAYERS[spec_type].params:
        schema = jsonschema.Draft202012Validator(param.json_schema())
        for value in samples + [param.default]:
            try:
                param.check(value)
                accepted = True
            except ValueError:
                accepted = False
            assert schema.is_valid(value) == accepted, (spec_type, param.name, value)
