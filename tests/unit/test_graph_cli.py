"""python -m builder.graph validate|summary|export, as a user runs it."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
import torch

from builder.graph.__main__ import main
from builder.graph.examples import FOLDER

from tests.graphs import chain, example, graph, node

SEED = str(FOLDER / "seed_cnn.json")


def cli(*args, stdin=None, env=None):
    """The command line run in this process (a fresh interpreter would spend seconds importing torch): its exit
    status and output, as `python -m builder.graph` gives them."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), mock.patch("sys.stdin", io.StringIO(stdin or "")), \
            mock.patch.dict(os.environ, env or {}):
        try:
            status = main(list(args))
        except SystemExit as exit_:
            status = exit_.code
    return subprocess.CompletedProcess(["python", "-m", "builder.graph", *args], status, out.getvalue(),
                                       err.getvalue())


def test_python_m_builder_graph_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "builder.graph", "validate", SEED], capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert (result.returncode, result.stdout.strip()) == (0, "ok: 8 nodes, 693,962 parameters")


def test_summary_json_gives_every_node_and_the_totals():
    result = cli("summary", SEED, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["total_params"] == 693_962 and summary["output_shape"] == [10]
    assert summary["nodes"]["pool1"] == {"type": "MaxPool2d", "output_shape": [32, 13, 13], "dtype": "float32",
                                         "params": 0, "layout": "CHW"}


def test_summary_prints_a_table_and_validate_says_ok():
    table = cli("summary", SEED).stdout
    assert "fc1" in table and "692,352" in table and "total parameters: 693,962" in table
    assert cli("validate", SEED).stdout.strip() == "ok: 8 nodes, 693,962 parameters"


def test_export_prints_code_that_builds_the_model(tmp_path):
    source = cli("export", SEED).stdout
    namespace = {}
    exec(compile(source, "model.py", "exec"), namespace)
    model = namespace["SeedCNN"]()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("command", ["validate", "summary", "export"])
def test_an_invalid_graph_exits_non_zero_with_one_line_per_error_naming_the_node(command):
    doc = example("seed_cnn")
    doc["nodes"][1]["params"]["out_channels"] = 0
    doc["nodes"][5]["type"] = "Dense"
    result = cli(command, "-", stdin=json.dumps(doc))
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert "node 'conv1' (Conv2d): out_channels" in lines[0] and "node 'fc1': unknown layer type" in lines[1]


def test_a_missing_file_or_bad_json_is_reported_plainly(tmp_path):
    missing = cli("validate", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = cli("validate", str(bad))
    assert result.returncode == 1 and "not valid JSON" in result.stderr


def test_the_limits_come_from_the_environment():
    result = cli("validate", SEED, env={"GRAPH_MAX_PARAMS": "1000"})
    assert result.returncode == 1
    assert "the limit is 1,000 parameters (GRAPH_MAX_PARAMS)" in result.stderr and "node 'fc1'" in result.stderr
    bad = cli("validate", SEED, env={"GRAPH_MAX_NODES": "lots"})
    assert bad.returncode == 2 and "GRAPH_MAX_NODES must be a positive integer" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_validate_prints_warnings_naming_the_node_and_exits_zero():
    """A CNN without its Flatten runs (the Dense acts on the last axis only), so it is a warning, not an error."""
    doc = chain(node("in", "Input", shape=[1, 28, 28]), node("conv", "Conv2d", out_channels=8),
                node("fc", "Linear", out_features=10))
    result = cli("validate", "-", stdin=json.dumps(doc))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: 3 nodes, 350 parameters"
    [line] = result.stderr.splitlines()
    assert line.startswith("warning: node 'fc' (Dense) gets [8, 26, 26] (C×H×W)") and "insert a Flatten" in line


def test_validate_prints_warnings_with_the_errors_and_exits_non_zero():
    doc = graph([node("in", "Input", shape=[1, 28, 28]), node("conv", "Conv2d", out_channels=0),
                 node("fc", "Linear", out_features=3), node("sum", "Add")],
                [("in", "conv"), ("in", "fc"), ("conv", "sum"), ("fc", "sum")])
    result = cli("validate", "-", stdin=json.dumps(doc))
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and result.stdout == ""
    assert lines[0].startswith("warning: node 'fc' (Dense) gets [1, 28, 28] (C×H×W)")
    assert lines[1].startswith("error: node 'conv' (Conv2d): out_channels")


def test_summary_lists_each_output_of_a_multi_output_node():
    result = cli("summary", str(FOLDER / "lstm_classifier.json"))
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if line.startswith("lstm"))
    assert "0 sequence [28, 256] | 1 state [256]" in row and "T×F | F" in row
