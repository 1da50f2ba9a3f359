"""PyTorch modules imported through torch.fx: exact graphs with their weights, a round trip through the exported
code, and a refusal that names the op and its module path for whatever cannot be mapped."""

import copy
import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from builder.graph import Limits, analyze, generate_source
from builder.graph.__main__ import main
from builder.graph.codegen import class_name
from builder.graph.examples import EXAMPLES
from builder.graph.import_torch import ImportRefused, import_module, verify

from tests.graphs import chain, node
from tests.zoo import ZOO, PositionScale


@pytest.mark.parametrize("name", sorted(ZOO))
def test_a_real_architecture_imports_exactly_with_its_weights(name):
    make, shape = ZOO[name]
    torch.manual_seed(0)
    module = make()
    imported = import_module(module, shape, name=name)
    count, error = verify(module, imported, Limits())
    assert count == imported.module_params == sum(p.numel() for p in module.parameters())
    assert error < 1e-4


def canonical(analysis):
    """Types, parameters (defaults filled in) and wiring, by position in computing order rather than by id."""
    index = {node_id: i for i, node_id in enumerate(analysis.order)}
    nodes = [(analysis.graph.nodes[n].type, {k: v for k, v in analysis.params[n].items() if k != "input_layout"})
             for n in analysis.order]
    edges = sorted((index[s], k, index[t]) for t, sources in analysis.inputs.items() for s, k in sources)
    return nodes, edges


@pytest.mark.parametrize("slug", sorted(EXAMPLES))
def test_importing_the_exported_code_of_a_graph_gives_the_graph_back(slug):
    analysis = analyze(copy.deepcopy(EXAMPLES[slug]["graph"]), Limits())
    namespace = {}
    exec(generate_source(analysis), namespace)
    module = namespace[class_name(analysis.graph.name)]()
    source = analysis.shapes[analysis.input_node]
    imported = import_module(module, list(source.shape), source.dtype, name=analysis.graph.name)
    back = analyze(imported.doc, Limits())
    assert back.valid and canonical(back) == canonical(analysis)


def test_the_exported_code_of_a_layer_scale_and_a_channel_shuffle_imports_back_as_them():
    doc = chain(node("in", "Input", shape=[4, 5, 5]), node("conv", "Conv2d", out_channels=6, kernel_size=1),
                node("scale", "LayerScale"), node("shuffle", "ChannelShuffle", groups=3), node("pool", "GlobalAvgPool"),
                node("scale2", "LayerScale"))
    analysis = analyze(doc, Limits())
    namespace = {}
    exec(generate_source(analysis), namespace)
    module = namespace[class_name(analysis.graph.name)]()
    imported = import_module(module, [4, 5, 5])
    assert canonical(analyze(imported.doc, Limits())) == canonical(analysis)
    assert verify(module, imported, Limits())[1] < 1e-6


def test_each_node_keeps_its_module_path_as_label_and_group():
    make, shape = ZOO["resnet"]
    nodes = {n["id"]: n for n in import_module(make(), shape).doc["nodes"]}
    conv = nodes["layer1_0_conv1"]
    assert (conv["type"], conv["label"], conv["group"]) == ("Conv2d", "layer1.0.conv1", "layer1.0")
    assert conv["params"] == {"out_channels": 16, "padding": 1, "bias": False}
    assert nodes["fc"]["label"] == "fc" and "group" not in nodes["fc"]


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


class Doubling(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4))

    def forward(self, x):
        return self.body(x) * 2


class Bilinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.mix = nn.Bilinear(4, 4, 2)

    def forward(self, x):
        return self.mix(x, x)


@pytest.mark.parametrize("module, shape, words", [
    (Shared(), [4], ["call_module 'fc'", "module 'fc' is called twice"]),
    (Doubling(), [4], ["call_function 'mul'", "a constant or a parameter operand is not supported"]),
    (PositionScale(), [3, 4, 4], ["call_function 'mul' (fx node 'mul')", "supported only as a scale per channel "
                                  "or feature (shape [3, 1, 1] for this input), not of shape [1, 4, 4]"]),
    (Bilinear(), [4], ["call_module 'mix'", "Bilinear is not a layer type of the graph language"]),
    (nn.Sequential(nn.LSTM(4, 4)), [5, 4], ["call_module '0'", "only batch_first=True is supported"]),
])
def test_what_cannot_be_mapped_is_refused_naming_the_op_and_module(module, shape, words):
    with pytest.raises(ImportRefused) as refused:
        import_module(module, shape)
    assert all(w in str(refused.value) for w in words), str(refused.value)


def test_a_zoo_architecture_with_a_shuffle_or_layer_scale_maps_them_to_one_node_each():
    shuffle = import_module(ZOO["shufflenet"][0](), ZOO["shufflenet"][1]).doc["nodes"]
    assert [n["params"] for n in shuffle if n["type"] == "ChannelShuffle"] == [{"groups": 2}] * 2
    assert [n["type"] for n in shuffle].count("Chunk") == 1  # x.chunk(2, dim=1) of the shuffled channels
    module = ZOO["convnext"][0]()
    convnext = import_module(module, ZOO["convnext"][1])
    scales = [n for n in convnext.doc["nodes"] if n["type"] == "LayerScale"]
    assert [n["label"] for n in scales] == ["features.1.layer_scale", "features.2.layer_scale"]
    for scale, block in zip(scales, module.features[1:]):  # the (C, 1, 1) tensor itself, as model.py's weight
        assert torch.equal(convnext.weights[f"{scale['id']}.weight"], block.layer_scale)


class SizeArithmetic(nn.Module):
    """Sizes read with x.size() and computed on, as channel_shuffle does."""

    def forward(self, x):
        _, c, h, w = x.size()
        return x.view(x.size(0), c // 2, 2 * h * w).mean(-1)


def test_sizes_read_from_the_input_are_numbers_and_its_batch_stays_free():
    imported = import_module(SizeArithmetic(), [4, 3, 5])
    assert [n["params"]["shape"] for n in imported.doc["nodes"] if n["type"] == "Reshape"] == [[2, 30]]
    assert verify(SizeArithmetic(), imported, Limits())[1] < 1e-6


def test_the_command_writes_the_graph_and_the_weights_model_py_loads(tmp_path, capsys):
    out, weights = tmp_path / "vit.json", tmp_path / "vit.safetensors"
    assert main(["import-torch", "tests.zoo:TinyViT", "--input-shape", "3,16,16", "-o", str(out),
                 "--weights", str(weights)]) == 0
    assert "19,626 parameters (the same as the module's)" in capsys.readouterr().out
    analysis = analyze(json.loads(out.read_text()), Limits())
    namespace = {}
    exec(generate_source(analysis), namespace)
    model = namespace[class_name(analysis.graph.name)]()
    model.load_state_dict(load_file(str(weights)))  # strict: every name as model.py has it

    assert main(["import-torch", "tests.zoo:Missing", "--input-shape", "3", "-o", str(out)]) == 1
    assert "has no attribute 'Missing'" in capsys.readouterr().err
