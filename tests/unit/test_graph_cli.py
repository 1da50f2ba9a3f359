"""python -m builder.graph validate|summary|export, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from builder.graph.examples import FOLDER

from .graphs import example

SEED = str(FOLDER / "seed_cnn.json")


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "builder.graph", *args], capture_output=True, text=True,
                          input=stdin, timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_summary_json_gives_every_node_and_the_totals():
    result = cli("summary", SEED, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["total_params"] == 693_962 and summary["output_shape"] == [10]
    assert summary["nodes"]["pool1"] == {"type": "MaxPool2d", "output_shape": [32, 13, 13], "dtype": "float32",
                                         "params": 0}


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
