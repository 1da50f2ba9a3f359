"""The download bundle: what a user unzips must run with torch alone and predict what the app predicted."""

import copy
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import onnxruntime
import pytest
import torch
from safetensors.torch import load_file

from builder.graph import Analysis, Limits, analyze, compile_graph
from training import bundle as bundle_module
from training.bundle import write_bundle

from tests.graphs import example, mlp

CONFIG = {"epochs": 3, "batch_size": 32, "lr": 0.001, "optimizer": "adam"}
METRICS = {"epoch": 3, "val_loss": 0.1234, "val_accuracy": 0.9612}


@dataclass
class Bundle:
    folder: Path
    report: dict
    model: torch.nn.Module
    analysis: Analysis
    graph: dict


def inputs(analysis: Analysis, batch: int) -> torch.Tensor:
    source = analysis.shapes[analysis.input_node]
    if source.dtype == "int64":
        return torch.randint(0, 100, (batch, *source.shape))  # token ids, within every example's vocabulary
    return torch.randn(batch, *source.shape)


def trained(graph: dict) -> tuple[Analysis, torch.nn.Module]:
    """The compiled model after one optimizer step, so weights and BatchNorm statistics are not defaults."""
    analysis = analyze(graph, Limits())
    model = compile_graph(analysis)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(inputs(analysis, 8)).square().mean().backward()
    optimizer.step()
    return analysis, model.eval()


def make_bundle(graph: dict, folder: Path) -> Bundle:
    analysis, model = trained(graph)
    report = write_bundle(folder, model, analysis, graph, CONFIG, METRICS, inputs(analysis, 4))
    return Bundle(folder, report, model, analysis, graph)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The bundle of a shipped example, written once per test module: ONNX export takes seconds."""
    torch.manual_seed(0)
    made = {}

    def get(slug: str) -> Bundle:
        if slug not in made:
            made[slug] = make_bundle(example(slug), tmp_path_factory.mktemp(slug))
        return made[slug]

    return get


def unzip(archive: Path, into: Path) -> Path:
    """Unpack the bundle and return its one top-level folder."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(into)
    (folder,) = into.iterdir()
    return folder


# Runs in an isolated interpreter (no cwd, no PYTHONPATH), with only what a user has: the unpacked files.
PREDICT_FROM_BUNDLE = """
import sys

import torch
from safetensors.torch import load_file

folder, class_name, work = sys.argv[1:]
sys.path.insert(0, folder)
import model as source

x = torch.load(work + "/input.pt", weights_only=True)
outputs = {}
for name, state in (("weights.safetensors", load_file(folder + "/weights.safetensors")),
                    ("state_dict.pt", torch.load(folder + "/state_dict.pt", weights_only=True))):
    net = getattr(source, class_name)()
    net.load_state_dict(state)
    net.eval()
    with torch.no_grad():
        outputs[name] = net(x)
torch.save(outputs, work + "/outputs.pt")

app = {"builder", "config", "training", "django"} & {name.split(".")[0] for name in sys.modules}
assert not app, f"loading the bundle imported the app: {sorted(app)}"
"""


@pytest.mark.parametrize("slug, class_name", [("seed_cnn", "SeedCNN"), ("residual_cnn", "ResidualCNN")])
def test_the_bundle_reproduces_predictions_in_a_fresh_process_with_only_torch_and_safetensors(
        bundle, tmp_path, slug, class_name):
    made = bundle(slug)
    folder = unzip(made.folder / "bundle.zip", tmp_path / "unpacked")
    x = inputs(made.analysis, 6)
    torch.save(x, tmp_path / "input.pt")

    subprocess.run([sys.executable, "-I", "-c", PREDICT_FROM_BUNDLE, str(folder), class_name, str(tmp_path)],
                   check=True, timeout=120)

    with torch.no_grad():
        expected = made.model(x)
    outputs = torch.load(tmp_path / "outputs.pt", weights_only=True)
    assert torch.equal(outputs["weights.safetensors"], expected)
    assert torch.equal(outputs["state_dict.pt"], expected)


@pytest.mark.parametrize("slug", ["seed_cnn", "lstm_classifier", "text_classifier"])
def test_the_onnx_file_matches_pytorch_at_any_batch_size(bundle, slug):
    made = bundle(slug)
    onnx = made.report["onnx"]
    assert onnx["ok"], onnx["error"]  # all three export in torch 2.13
    assert onnx["error"] is None and onnx["max_abs_diff"] <= 1e-4

    session = onnxruntime.InferenceSession(str(made.folder / "model.onnx"), providers=["CPUExecutionProvider"])
    (onnx_input,) = session.get_inputs()
    for batch in (1, 5):
        x = inputs(made.analysis, batch)
        (got,) = session.run(None, {onnx_input.name: x.numpy()})
        with torch.no_grad():
            expected = made.model(x)
        assert torch.allclose(torch.from_numpy(got), expected, atol=1e-4), batch


def test_a_model_that_does_not_export_gets_no_onnx_file_and_the_report_says_why(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise torch.onnx.OnnxExporterError("aten::made_up is not supported")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    made = make_bundle(mlp(), tmp_path)

    assert made.report["onnx"] == {"ok": False, "max_abs_diff": None,
                                   "error": "OnnxExporterError: aten::made_up is not supported"}
    assert not (tmp_path / "model.onnx").exists()
    assert "model.onnx" not in made.report["files"]
    assert "model.onnx" not in (tmp_path / "README.md").read_text()
    assert (tmp_path / "weights.safetensors").exists()  # the rest of the bundle is still there


def test_an_onnx_file_that_disagrees_with_pytorch_is_not_written(tmp_path, monkeypatch):
    export = torch.onnx.export

    def unfaithful(model, *args, **kwargs):  # an exporter that mistranslates a weight
        wrong = copy.deepcopy(model)
        with torch.no_grad():
            next(wrong.parameters()).add_(1.0)
        return export(wrong, *args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", unfaithful)
    made = make_bundle(mlp(), tmp_path)

    onnx = made.report["onnx"]
    assert not onnx["ok"] and onnx["max_abs_diff"] > bundle_module.ONNX_TOLERANCE
    assert "differs from PyTorch" in onnx["error"]
    assert not (tmp_path / "model.onnx").exists()


def test_the_zip_holds_every_file_under_one_folder_named_after_the_model(bundle):
    made = bundle("residual_cnn")
    files = {name: size for name, size in made.report["files"].items() if name != "bundle.zip"}
    assert set(files) == {"model.py", "weights.safetensors", "state_dict.pt", "model.onnx", "graph.json",
                          "config.json", "metrics.json", "README.md"}
    assert set(files) == {path.name for path in made.folder.iterdir()} - {"bundle.zip"}
    assert made.report["files"]["bundle.zip"] == (made.folder / "bundle.zip").stat().st_size

    with zipfile.ZipFile(made.folder / "bundle.zip") as zipped:
        entries = {info.filename: info for info in zipped.infolist()}
    assert set(entries) == {f"residual_cnn/{name}" for name in files}
    for name, size in files.items():
        assert entries[f"residual_cnn/{name}"].file_size == size
        assert entries[f"residual_cnn/{name}"].compress_type == zipfile.ZIP_DEFLATED


def test_the_readme_code_loads_the_model_by_its_class_name(bundle, tmp_path):
    made = bundle("text_classifier")
    folder = unzip(made.folder / "bundle.zip", tmp_path)
    readme = (folder / "README.md").read_text()
    assert readme.startswith("# Text classifier\n")
    assert "from model import TextClassifier\n" in readme
    assert "dtype=torch.int64" in readme  # token ids, not the float default

    (code,) = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    run = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "tensor(" in run.stdout


def test_the_bundle_keeps_the_documents_and_the_state_dict_keys(bundle):
    made = bundle("seed_cnn")
    assert json.loads((made.folder / "graph.json").read_text()) == made.graph
    assert json.loads((made.folder / "config.json").read_text()) == CONFIG
    assert json.loads((made.folder / "metrics.json").read_text()) == METRICS

    expected = made.model.state_dict()
    weights = load_file(made.folder / "weights.safetensors")
    state = torch.load(made.folder / "state_dict.pt", weights_only=True)
    assert set(weights) == set(expected)  # safetensors sorts its keys
    assert list(state) == list(expected)
    assert all(torch.equal(weights[key], value) and torch.equal(state[key], value)
               for key, value in expected.items())


def test_the_readme_says_how_inputs_are_scaled_and_names_the_classes():
    from training.datasets import load_dataset

    analysis = analyze(example("digits_cnn"), Limits())
    text = bundle_module.readme(analysis, with_onnx=True, dataset=load_dataset("digits").info())
    assert "Scale new inputs as the training inputs were: grayscale pixel values 0..16 divided by 16" in text
    assert "The 10 classes, by index:\n\n- 0: 0\n- 1: 1\n" in text and "- 9: 9\n" in text
    fashion = bundle_module.data_section({"title": "Fashion-MNIST", "task": "classification",
                                          "classes": ["T-shirt/top", "Trouser"], "scaling": "divided by 255"})
    assert "- 0: T-shirt/top" in fashion and "- 1: Trouser" in fashion
    regression = bundle_module.data_section({"title": "Sine", "task": "regression", "output_shape": [1],
                                             "classes": [], "scaling": "none"})
    assert any("predicted target, of shape [1]" in line for line in regression)
