"""The datasets core: the Dataset record, the built-in sets, and the package's entry points."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training.datasets import BUILTINS, Dataset, DatasetError, list_builtins, load_builtin, load_dataset

GENERATED = ("spirals", "moons", "circles", "xor", "sine", "sequences")

# name: (input_shape, input_dtype, task, classes, samples)
EXPECTED = {
    "digits": ((1, 8, 8), "float32", "classification", [str(d) for d in range(10)], 1797),
    "iris": ((4,), "float32", "classification", ["setosa", "versicolor", "virginica"], 150),
    "wine": ((13,), "float32", "classification", ["class_0", "class_1", "class_2"], 178),
    "breast_cancer": ((30,), "float32", "classification", ["malignant", "benign"], 569),
    "spirals": ((2,), "float32", "classification", ["spiral A", "spiral B"], 1000),
    "moons": ((2,), "float32", "classification", ["upper moon", "lower moon"], 1000),
    "circles": ((2,), "float32", "classification", ["outer circle", "inner circle"], 1000),
    "xor": ((2,), "float32", "classification", ["same signs", "opposite signs"], 1000),
    "sine": ((32, 1), "float32", "regression", [], 1000),
    "sequences": ((32, 1), "float32", "classification", ["sine", "square", "sawtooth"], 1000),
}


def tiny(task="classification", **fields):
    y = np.array([0, 1, 1], dtype=np.int64) if task == "classification" else np.zeros((3, 2), np.float32)
    values = {"name": "tiny", "title": "Tiny", "description": "three samples",
              "X": np.arange(6, dtype=np.float32).reshape(3, 2) / 7, "y": y, "task": task,
              "classes": ["no", "yes"] if task == "classification" else [], "kind": "tabular"}
    return Dataset(**{**values, **fields})


def test_every_builtin_is_listed_with_its_info_and_expected():
    assert list(BUILTINS) == list(EXPECTED)
    assert [entry["name"] for entry in list_builtins()] == [*EXPECTED, "mnist", "fashion_mnist"]
    for entry in list_builtins():
        assert set(entry) == {"name", "title", "description", "kind", "task", "info"}
        if entry["name"] in EXPECTED:
            assert entry["task"] == EXPECTED[entry["name"]][2]
            assert entry["info"] == load_builtin(entry["name"]).info()


def test_mnist_is_listed_with_the_info_its_files_give(tmp_path):
    from tests.unit.test_datasets_idx import write_cache

    write_cache(tmp_path / "mnist", gz=False)
    listed = next(entry["info"] for entry in list_builtins() if entry["name"] == "mnist")
    loaded = load_dataset("mnist", cache_dir=tmp_path).info()
    assert listed == {key: value for key, value in loaded.items() if key != "samples"}  # the count needs the files


@pytest.mark.parametrize("name", EXPECTED)
def test_each_builtin_has_its_shapes_dtypes_task_and_classes(name):
    shape, dtype, task, classes, samples = EXPECTED[name]
    dataset = load_builtin(name)
    assert (dataset.name, dataset.kind, dataset.task) == (name, BUILTINS[name].kind, task)
    assert dataset.input_shape == shape and dataset.input_dtype == dtype
    assert dataset.X.dtype == np.float32 and dataset.X.shape == (samples, *shape)
    assert np.isfinite(dataset.X).all()
    assert dataset.classes == classes
    if task == "classification":
        assert dataset.y.dtype == np.int64 and dataset.y.shape == (samples,)
        assert set(np.unique(dataset.y)) == set(range(len(classes)))
        assert dataset.output_shape == (len(classes),)
    else:
        assert dataset.y.dtype == np.float32 and dataset.y.shape == (samples, 1)
        assert dataset.output_shape == (1,)


def test_digits_are_images_scaled_to_the_unit_interval():
    X = load_builtin("digits").X
    assert X.min() == 0.0 and X.max() == 1.0


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer"])
def test_tabular_features_are_standardised(name):
    X = load_builtin(name).X
    assert np.allclose(X.mean(axis=0), 0, atol=1e-5) and np.allclose(X.std(axis=0), 1, atol=1e-4)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_reproducible_from_their_seed(name):
    first, again, other = load_builtin(name, seed=3), load_builtin(name, seed=3), load_builtin(name, seed=4)
    assert np.array_equal(first.X, again.X) and np.array_equal(first.y, again.y)
    assert not np.array_equal(first.X, other.X)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_take_a_sample_count(name):
    assert len(load_builtin(name, samples=60).X) == 60


@pytest.mark.parametrize("name", ["spirals", "moons", "circles", "xor", "sequences"])
def test_generated_classes_are_balanced(name):
    counts = np.bincount(load_builtin(name, samples=300).y)
    assert counts.max() - counts.min() <= 1


def test_noise_spreads_the_points():
    clean, noisy = load_builtin("circles", noise=0.0), load_builtin("circles", noise=0.3)
    radius = np.linalg.norm(clean.X, axis=1)
    assert np.allclose(radius[clean.y == 0], 1.0, atol=1e-5) and np.allclose(radius[clean.y == 1], 0.5, atol=1e-5)
    assert np.linalg.norm(noisy.X, axis=1)[noisy.y == 0].std() > 0.1


def test_xor_labels_say_whether_the_coordinates_share_a_sign():
    dataset = load_builtin("xor", noise=0.0)
    same = np.sign(dataset.X[:, 0]) == np.sign(dataset.X[:, 1])
    assert np.array_equal(dataset.y == 0, same)


def test_sequence_length_is_an_option():
    assert load_builtin("sine", steps=10).input_shape == (10, 1)
    assert load_builtin("sequences", steps=50).input_shape == (50, 1)


def test_the_sine_target_continues_the_wave():
    dataset = load_builtin("sine", noise=0.0, steps=16)
    window, target = dataset.X[:, :, 0].astype(np.float64), dataset.y[:, 0]
    # A sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1]; w is recovered from the window itself.
    cos_w = (window[:, 2] + window[:, 0]) / (2 * window[:, 1])
    steady = np.abs(window[:, 1]) > 0.3
    predicted = 2 * cos_w * window[:, -1] - window[:, -2]
    assert np.allclose(predicted[steady], target[steady], atol=1e-3)


def test_an_unknown_builtin_names_the_known_ones():
    with pytest.raises(DatasetError, match="unknown dataset 'mnst'.*digits, iris"):
        load_builtin("mnst")


@pytest.mark.parametrize("options, message", [
    ({"samples": 5}, "option 'samples' must be a whole number from 10"),
    ({"samples": "many"}, "option 'samples'"),
    ({"samples": True}, "option 'samples'"),
    ({"noise": -1}, "option 'noise' must be a number from 0"),
    ({"noise": float("nan")}, "option 'noise'"),
    ({"radius": 2}, r"unknown option 'radius' for dataset 'spirals' \(it takes noise, samples\)"),
    ({"seed": -1}, "option 'seed'"),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(DatasetError, match=message):
        load_builtin("spirals", **options)


def test_options_that_are_whole_floats_count_as_integers():
    assert len(load_builtin("moons", samples=50.0).X) == 50


def test_fixed_sets_take_no_options():
    with pytest.raises(DatasetError, match="unknown option 'samples' for dataset 'iris' \\(it takes no options\\)"):
        load_builtin("iris", samples=10)


def test_load_dataset_loads_builtins_with_seed_and_options():
    assert np.array_equal(load_dataset("spirals", seed=2, samples=40).X, load_builtin("spirals", 2, samples=40).X)


def test_load_dataset_names_every_known_dataset_for_an_unknown_one():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'.*sequences, mnist, fashion_mnist"):
        load_dataset("cifar")


def test_load_dataset_needs_a_cache_folder_for_mnist():
    with pytest.raises(DatasetError, match="needs a cache_dir"):
        load_dataset("mnist")


def test_info_describes_the_dataset_as_json():
    info = tiny().info()
    assert info == {"name": "tiny", "title": "Tiny", "description": "three samples", "task": "classification",
                    "kind": "tabular", "classes": ["no", "yes"], "num_classes": 2, "input_shape": [2],
                    "input_dtype": "float32", "output_shape": [2], "samples": 3, "scaling": ""}
    assert json.loads(json.dumps(info)) == info


def test_regression_output_shape_is_the_target_shape():
    assert tiny("regression").output_shape == (2,)
    assert tiny("regression").info()["num_classes"] == 0


def test_token_ids_make_an_int64_input():
    dataset = tiny(X=np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int64), kind="tokens")
    assert dataset.input_dtype == "int64"
    assert dataset.preview(1)["samples"][0]["x"] == [1, 2]


def test_preview_rounds_values_and_names_labels():
    preview = tiny().preview(8)
    assert preview["samples"] == [{"x": [0.0, 0.1429], "label": "no"}, {"x": [0.2857, 0.4286], "label": "yes"},
                                  {"x": [0.5714, 0.7143], "label": "yes"}]
    assert preview["class_counts"] == {"no": 1, "yes": 2}


def test_preview_spreads_its_samples_over_the_set():
    dataset = load_builtin("digits")
    indices = np.linspace(0, len(dataset.X) - 1, 4).astype(int)
    labels = [sample["label"] for sample in dataset.preview(4)["samples"]]
    assert labels == [dataset.classes[dataset.y[i]] for i in indices]


def test_regression_preview_gives_target_lists_and_no_class_counts():
    preview = tiny("regression").preview(2)
    assert preview["samples"][0]["label"] == [0.0, 0.0]
    assert preview["class_counts"] == {}


@pytest.mark.parametrize("name", EXPECTED)
def test_every_builtin_preview_is_json(name):
    preview = load_builtin(name, **({"samples": 20} if name in GENERATED else {})).preview()
    assert len(preview["samples"]) == 8
    assert json.loads(json.dumps(preview)) == preview


def test_a_dataset_refuses_mismatched_or_unknown_fields():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        tiny(y=np.array([0, 1]))
    with pytest.raises(ValueError, match="task must be one of"):
        tiny(task="clustering")
    with pytest.raises(ValueError, match="kind one of"):
        tiny(kind="video")


def test_the_core_imports_no_django():
    code = "import sys, training.datasets; print('django' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "False"
