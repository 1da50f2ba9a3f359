"""NPZ uploads: arrays X and y, parsed without ever unpickling."""

import io
import json
import zipfile

import numpy as np
import pytest

from training.datasets import DatasetError, UploadLimits, load_upload


def save(tmp_path, filename="data.npz", compressed=False, **arrays):
    path = tmp_path / filename
    with path.open("wb") as file:
        (np.savez_compressed if compressed else np.savez)(file, **arrays)
    return path


def load(path, options=None, kind="npz"):
    return load_upload(path, kind, options or {}, UploadLimits(), "upload-5", "Arrays")


def test_integer_targets_become_sorted_classes(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    dataset = load(save(tmp_path, X=X, y=np.array([9, 5, 7, 5])))
    assert dataset.task == "classification" and dataset.classes == ["5", "7", "9"]
    assert dataset.y.dtype == np.int64 and dataset.y.tolist() == [2, 0, 1, 0]
    assert dataset.X.dtype == np.float32 and np.array_equal(dataset.X, X)
    assert (dataset.kind, dataset.input_shape, dataset.output_shape) == ("tabular", (3,), (3,))


def test_boolean_targets_are_two_classes(tmp_path):
    dataset = load(save(tmp_path, X=np.ones((3, 2)), y=np.array([True, False, True])))
    assert dataset.classes == ["False", "True"] and dataset.y.tolist() == [1, 0, 1]


def test_float_targets_are_regression(tmp_path):
    one = load(save(tmp_path, X=np.ones((3, 2)), y=np.array([0.5, 1.5, 2.0])))
    assert one.task == "regression" and one.y.shape == (3, 1) and one.y.dtype == np.float32
    assert one.output_shape == (1,) and one.classes == []
    many = load(save(tmp_path, X=np.ones((3, 2)), y=np.zeros((3, 2, 2))))
    assert many.output_shape == (2, 2)


@pytest.mark.parametrize("shape, kind", [((5, 3), "tabular"), ((5, 7, 2), "sequence"), ((5, 1, 4, 4), "image")])
def test_the_kind_follows_the_rank_of_x(shape, kind, tmp_path):
    dataset = load(save(tmp_path, compressed=True, X=np.zeros(shape, np.uint8), y=np.arange(5) % 2))
    assert dataset.kind == kind and dataset.input_shape == shape[1:] and dataset.X.dtype == np.float32


def test_integer_x_is_token_ids_when_asked(tmp_path):
    path = save(tmp_path, X=np.array([[1, 2, 3], [4, 0, 0]], np.int32), y=np.array([0, 1]))
    tokens = load(path, {"tokens": True})
    assert tokens.kind == "tokens" and tokens.X.dtype == np.int64 and tokens.input_dtype == "int64"
    assert load(path).X.dtype == np.float32


@pytest.mark.parametrize("X, message", [
    (np.ones((2, 3)), r"with the option 'tokens', X must hold integer token ids of shape \(N, T\); it holds float64"),
    (np.ones((2, 3, 1), np.int64), r"of shape \(2, 3, 1\)"),
    (np.array([[1, -2], [0, 0]]), "X holds the negative token id -2; token ids start at 0"),
])
def test_bad_token_ids_are_refused(X, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        load(save(tmp_path, X=X, y=np.array([0, 1])), {"tokens": True})


@pytest.mark.parametrize("arrays, message", [
    ({"X": np.ones((2, 2))}, r"the NPZ file has no array 'y' \(it has X\); save the features as X and the targets"),
    ({"features": np.ones((2, 2)), "labels": np.ones(2)}, r"no array 'X' \(it has features, labels\)"),
    ({"X": np.ones((3, 2)), "y": np.arange(2)}, "X has 3 samples but y has 2"),
    ({"X": np.ones((0, 2)), "y": np.arange(0)}, "X and y hold no samples"),
    ({"X": np.ones(3), "y": np.arange(3)}, r"X has shape \(3,\); it needs at least 2 dimensions, the first one"),
    ({"X": np.ones((1, 2)), "y": np.array(1)}, r"y has shape \(\); it needs at least 1 dimensions"),
    ({"X": np.ones((1, 1, 1, 1, 2)), "y": np.arange(1)}, r"array 'X' has shape \(1, 1, 1, 1, 2\); at most 4 dim"),
    ({"X": np.array([["a", "b"]]), "y": np.arange(1)}, "array 'X' holds <U1 values; only numeric arrays are accepted"),
    ({"X": np.ones((2, 2), np.complex64), "y": np.arange(2)}, "array 'X' holds complex64 values"),
    ({"X": np.array([[1.0, np.nan]]), "y": np.arange(1)}, "array 'X' contains NaN, infinite values, or values too"),
    ({"X": np.ones((2, 1)), "y": np.array([1.0, np.inf])}, "array 'y' contains NaN, infinite values"),
    ({"X": np.array([[1e39]]), "y": np.arange(1)}, "array 'X' contains .* values too large for float32"),
    ({"X": np.ones((2, 1)), "y": np.array([[1, 2], [3, 4]])}, r"integer y holds class labels, so it must have shape "
                                                              r"\(N,\); it has shape \(2, 2\)"),
    ({"X": np.ones((2, 1)), "y": np.array([3, 3])}, r"y has a single class \(3\); classification needs at least two"),
])
def test_bad_arrays_are_refused_with_the_reason(arrays, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        load(save(tmp_path, **arrays))


class Trap:
    """Unpickling this creates a file: proof that something was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_pickled_object_array_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    objects = np.empty(2, dtype=object)
    objects[:] = [Trap(marker), Trap(marker)]
    buffer = io.BytesIO()
    np.save(buffer, objects, allow_pickle=True)
    path = tmp_path / "trap.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", buffer.getvalue())
        archive.writestr("y.npy", buffer.getvalue())
    with pytest.raises(DatasetError, match="array 'X' holds Python objects, which would have to be unpickled"):
        load(path)
    assert not marker.exists()
    np.load(path, allow_pickle=True)["X"]  # the trap works: loading it the unsafe way springs it
    assert marker.exists()


def test_a_member_that_is_not_an_npy_array_is_named(tmp_path):
    path = tmp_path / "fake.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"not an array")
        archive.writestr("y.npy", b"")
    with pytest.raises(DatasetError, match="array 'X' is not a readable .npy array"):
        load(path)


def test_a_truncated_npy_array_is_named(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.ones((100, 10)))
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", buffer.getvalue()[:-80])
        archive.writestr("y.npy", buffer.getvalue())
    with pytest.raises(DatasetError, match="array 'X' is damaged"):
        load(path)


def test_an_npz_is_detected_by_content(tmp_path):
    save(tmp_path, filename="upload-9", X=np.ones((2, 2)), y=np.arange(2))
    assert load(tmp_path / "upload-9", kind=None).classes == ["0", "1"]
    with zipfile.ZipFile(tmp_path / "arrays.zip", "w") as archive, zipfile.ZipFile(tmp_path / "upload-9") as npz:
        for name in npz.namelist():
            archive.writestr(name, npz.read(name))
    assert load(tmp_path / "arrays.zip", kind=None).classes == ["0", "1"]


def test_npz_options_are_checked(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown option 'target' for an NPZ upload \(it takes tokens\)"):
        load(save(tmp_path, X=np.ones((2, 2)), y=np.arange(2)), {"target": "y"})


def test_an_npz_preview_is_json(tmp_path):
    dataset = load(save(tmp_path, X=np.random.default_rng(0).random((20, 1, 3, 3)), y=np.arange(20) % 4))
    preview = dataset.preview(4)
    assert json.loads(json.dumps(preview)) == preview
    assert len(preview["samples"]) == 4 and np.array(preview["samples"][0]["x"]).shape == (1, 3, 3)
