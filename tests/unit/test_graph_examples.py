"""The shipped example graphs build the same models as hand-written PyTorch, and export exactly."""

import subprocess
import sys

import pytest
import torch

from builder.graph import Limits, analyze, compile_graph, generate_source
from builder.graph.examples import EXAMPLES, ORDER, RECOMMENDED
from training.config import check_config
from training.datasets.builtin import load_builtin
from training.engine import Trainer, build_model

from tests import reference_models as ref
from tests.graphs import example

HAND_WRITTEN = {"seed_cnn": ref.seed_cnn, "lstm_classifier": ref.SeedLSTM, "residual_cnn": ref.Residual,
                "text_classifier": ref.TextClassifier, "digits_cnn": ref.digits_cnn, "vit_tiny": ref.ViTTiny,
                "unet_digits": ref.UNetDigits, "mobilenet_se": ref.MobileNetSE, "text_transformer": ref.TextTransformer}
NEW = ("vit_tiny", "unet_digits", "mobilenet_se", "text_transformer")


def sample_input(slug, batch=4):
    torch.manual_seed(0)
    params = EXAMPLES[slug]["graph"]["nodes"][0]["params"]
    if params.get("dtype") == "int64":
        return torch.randint(0, 10000, (batch, *params["shape"]))
    return torch.randn(batch, *params["shape"])


def test_every_example_has_a_hand_written_twin():
    assert set(HAND_WRITTEN) == set(ORDER)


def test_the_seed_examples_have_the_advertised_parameter_counts():
    assert analyze(example("seed_cnn"), Limits()).total_params == 693_962
    assert analyze(example("lstm_classifier"), Limits()).total_params == 895_498


@pytest.mark.parametrize("slug", list(HAND_WRITTEN))
def test_each_example_matches_hand_written_pytorch(slug):
    analysis = analyze(example(slug), Limits())
    assert analysis.valid, analysis.errors
    model, reference = compile_graph(analysis).eval(), HAND_WRITTEN[slug]().eval()

    assert analysis.total_params == sum(p.numel() for p in reference.parameters())
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    # Same layers in the same order: the compiled weights load into the hand-written model one to one,
    # and then both compute the same function.
    reference.load_state_dict(dict(zip(reference.state_dict(), model.state_dict().values())))
    x = sample_input(slug)
    with torch.no_grad():
        expected, got = reference(x), model(x)
    assert list(got.shape[1:]) == summary_output(analysis)
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("slug", NEW)
def test_the_new_examples_recommend_the_settings_they_are_benchmarked_with(slug):
    settings = RECOMMENDED[slug]
    description = EXAMPLES[slug]["description"]
    assert (f"Recommended: {settings['epochs']} epochs, batch size {settings['batch_size']}, "
            f"learning rate {settings['lr']:g}") in description
    assert f"({analyze(example(slug), Limits()).total_params:,} parameters)" in description


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_vit_built_from_nodes_learns_the_digits(one_thread):
    """The ViT-tiny example, with the settings its description recommends, passes 90% validation accuracy
    (about 8 s on one thread; 94-97% over seeds 0-9)."""
    config = check_config({**RECOMMENDED["vit_tiny"], "seed": 0, "device": "cpu"})
    model = build_model(analyze(example("vit_tiny"), Limits()), config["seed"])
    result = Trainer(model, load_builtin("digits"), config).run()
    assert result.final["val_accuracy"] >= 0.90, result.final


def summary_output(analysis):
    return analysis.summary()["output_shape"]


PLAIN_TORCH = """
import sys, torch
sys.path.insert(0, sys.argv[1])
from model import {cls}
assert not any(name.split('.')[0] in ('builder', 'config', 'django') for name in sys.modules)
model = {cls}()
model.load_state_dict(torch.load(sys.argv[1] + '/weights.pt', weights_only=True))
model.eval()
with torch.no_grad():
    out = model(torch.load(sys.argv[1] + '/x.pt', weights_only=True))
torch.save(out, sys.argv[1] + '/out.pt')
"""


@pytest.mark.parametrize("slug", list(HAND_WRITTEN))
def test_exported_code_reproduces_the_compiled_outputs_with_only_torch(slug, tmp_path):
    analysis = analyze(example(slug), Limits())
    model = compile_graph(analysis).eval()
    source = generate_source(analysis)
    assert [line for line in source.splitlines() if line.startswith(("import", "from"))] == \
        ["import torch", "from torch import nn"]
    (tmp_path / "model.py").write_text(source)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    x = sample_input(slug)
    torch.save(x, tmp_path / "x.pt")

    cls = source.rsplit("\nclass ", 1)[1].split("(")[0]  # the model's class comes after any helper classes
    # -I: isolated from the project (no cwd, no PYTHONPATH); only the exported file and torch are used.
    subprocess.run([sys.executable, "-I", "-c", PLAIN_TORCH.format(cls=cls), str(tmp_path)], check=True,
                   timeout=120)
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(torch.load(tmp_path / "out.pt", weights_only=True), expected)


def test_exported_code_names_layers_after_node_ids():
    source = generate_source(analyze(example("seed_cnn"), Limits()))
    assert "self.conv1 = nn.Conv2d(1, 32, kernel_size=3)" in source
    assert "self.fc1 = nn.Linear(5408, 128)" in source
    assert "def forward(self, in_):" in source  # "in" is a keyword: the id is adjusted, not rejected


def test_the_readme_counts_the_examples_the_home_page_shows():
    from pathlib import Path

    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{words[len(EXAMPLES) - 1].capitalize()} example graphs ship in `builder/graph/examples/`" in readme
