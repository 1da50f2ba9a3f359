"""MNIST and Fashion-MNIST from IDX files: in a cache folder, downloaded into it, or uploaded as a ZIP.

Every file is generated here; nothing is downloaded (the download test fetches from a file:// URL).
"""

import gzip
import struct
import zipfile

import numpy as np
import pytest

from training.datasets import DatasetError, UploadLimits, load_dataset, load_idx_dataset, load_upload
from training.datasets.download import download
from training.datasets.idx import FILES, IDX_DATASETS, read_idx

CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B, np.dtype("i4"): 0x0C,
         np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}


def idx_bytes(array):
    header = bytes([0, 0, CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def mnist_files(train=6, test=4, size=28, seed=0):
    """The four files' contents: random images, labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (train, size, size), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(train) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, size, size), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(test) % 10).astype(np.uint8)}
    return {name: idx_bytes(array) for name, array in arrays.items()}, arrays


def write_cache(folder, gz, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    contents, arrays = mnist_files(**kwargs)
    for name, data in contents.items():
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return arrays


@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    np.array([-3, 0, 7], dtype=np.int8),
    np.array([[-300, 2], [5, 30000]], dtype=np.int16),
    np.array([1 << 20, -5], dtype=np.int32),
    np.array([0.5, -1.25], dtype=np.float32),
    np.array([[1e100]], dtype=np.float64),
])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_arrays_round_trip_plain_and_gzipped(array, gz, tmp_path):
    data = idx_bytes(array)
    path = tmp_path / "array.idx"
    path.write_bytes(gzip.compress(data) if gz else data)
    for source in (path, str(path), path.read_bytes()):
        loaded = read_idx(source)
        assert loaded.dtype == array.dtype.newbyteorder("=") and np.array_equal(loaded, array)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "is not an IDX file: it does not start with the IDX magic number"),
    (b"\x00", "is not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", "declares no dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", r"ends inside its header \(2 dimensions declared\)"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", r"declares shape \(3,\) \(3 bytes of data\) but the data is shorter"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "but the data goes on longer"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x02\x00\x00\x00\x01\x00", r"\(8 bytes of data\) but the data is shorter"),
])
def test_bad_idx_files_are_refused_with_the_reason(data, message, tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message) as error:
        read_idx(path)
    assert str(error.value).startswith(str(path))
    with pytest.raises(DatasetError, match=message):
        read_idx(gzip.compress(data), name="bad.gz")


def test_a_broken_gzip_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="labels.gz is not a valid gzip file"):
        read_idx(gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:30], name="labels.gz")


def test_an_idx_header_over_the_size_limit_is_refused_before_reading_the_data():
    huge = b"\x00\x00\x08\x03" + struct.pack(">3I", 100_000, 1000, 1000)
    with pytest.raises(DatasetError, match=r"declares shape \(100000, 1000, 1000\) \(100,000,000,000 bytes\), over "
                                           r"the limit of 1,000 bytes \(max_uncompressed_bytes\)"):
        read_idx(gzip.compress(huge), max_bytes=1000)


def test_a_missing_idx_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="cannot read .*nothing-here"):
        read_idx(tmp_path / "nothing-here")


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_from_the_cache_train_then_test(gz, tmp_path):
    arrays = write_cache(tmp_path / "mnist", gz)
    dataset = load_idx_dataset("mnist", tmp_path)
    assert (dataset.name, dataset.kind, dataset.task) == ("mnist", "image", "classification")
    assert dataset.classes == [str(d) for d in range(10)]
    assert dataset.X.dtype == np.float32 and dataset.X.shape == (10, 1, 28, 28)
    expected = np.concatenate([arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]]) / 255
    assert np.allclose(dataset.X[:, 0], expected)
    assert dataset.y.dtype == np.int64 and dataset.y.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]


def test_fashion_mnist_has_its_class_names(tmp_path):
    write_cache(tmp_path / "fashion_mnist", gz=True)
    dataset = load_dataset("fashion_mnist", cache_dir=tmp_path)
    assert dataset.classes[:3] == ["T-shirt/top", "Trouser", "Pullover"] and dataset.classes[-1] == "Ankle boot"
    assert dataset.title == "Fashion-MNIST" and dataset.info()["output_shape"] == [10]


def test_the_missing_cache_error_says_what_is_missing_where_and_what_to_do(tmp_path):
    write_cache(tmp_path / "mnist", gz=True)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as error:
        load_idx_dataset("mnist", tmp_path)
    message = str(error.value)
    assert "t10k-labels-idx1-ubyte (plain or .gz) not found in " + str(tmp_path / "mnist") in message
    assert "train-images" not in message
    assert "downloading is off" in message and "Upload a ZIP holding the four IDX files" in message


def test_an_empty_cache_lists_all_four_files(tmp_path):
    with pytest.raises(DatasetError, match=", ".join(FILES)):
        load_dataset("mnist", cache_dir=tmp_path)


def test_an_unknown_idx_dataset_is_named(tmp_path):
    with pytest.raises(DatasetError, match="unknown IDX dataset 'kmnist'; known: mnist, fashion_mnist"):
        load_idx_dataset("kmnist", tmp_path)


def test_mnist_takes_no_options(tmp_path):
    with pytest.raises(DatasetError, match="unknown option 'samples' for dataset 'mnist'"):
        load_dataset("mnist", cache_dir=tmp_path, samples=10)


def test_missing_files_are_downloaded_once_into_the_cache(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    write_cache(mirror, gz=True)
    spec = IDX_DATASETS["mnist"]
    monkeypatch.setitem(IDX_DATASETS, "mnist", type(spec)(spec.title, spec.description, spec.classes,
                                                          mirror.as_uri() + "/"))
    cache = tmp_path / "cache"
    assert len(load_dataset("mnist", cache_dir=cache, download=True).X) == 10
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(f + ".gz" for f in FILES)
    for file in mirror.iterdir():
        file.unlink()
    assert len(load_idx_dataset("mnist", cache, download=True).X) == 10  # from the cache, not the mirror


def test_a_failed_download_says_so_plainly_and_leaves_no_partial_file(tmp_path):
    mirror = (tmp_path / "nowhere").as_uri() + "/"
    with pytest.raises(DatasetError, match="The server could not download MNIST from .*nowhere.* it may have no "
                                           "internet access. Upload the same data instead: .*a ZIP holding the four "
                                           "IDX files"):
        load_idx_dataset("mnist", tmp_path / "cache", download=True, mirror=mirror)
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_a_download_over_its_size_limit_is_dropped(tmp_path):
    source = tmp_path / "big"
    source.write_bytes(b"x" * 5000)
    with pytest.raises(DatasetError, match="larger than the download limit of 1,000 bytes"):
        download(source.as_uri(), tmp_path / "cache" / "big", max_bytes=1000)
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("change, message", [
    ({"train-labels-idx1-ubyte": np.arange(5, dtype=np.uint8)}, "has 6 images but .* has 5 labels"),
    ({"t10k-labels-idx1-ubyte": np.array([0, 1, 2, 10], np.uint8)}, "has labels from 0 to 10; they must be 0 to 9"),
    ({"t10k-images-idx3-ubyte": np.zeros((4, 20, 20), np.uint8)}, "training images are 28×28 but the test images "
                                                                  "are 20×20"),
    ({"train-images-idx3-ubyte": np.zeros((6, 784), np.uint8)}, r"holds uint8 values of shape \(6, 784\); the images "
                                                               "must be unsigned bytes of shape"),
    ({"train-labels-idx1-ubyte": np.zeros(6, np.float32)}, "holds float32 values of shape .*the labels must be "
                                                           "integers"),
])
def test_inconsistent_mnist_files_are_refused(change, message, tmp_path):
    write_cache(tmp_path / "mnist", gz=False)
    for name, array in change.items():
        (tmp_path / "mnist" / name).write_bytes(idx_bytes(array))
    with pytest.raises(DatasetError, match=message):
        load_idx_dataset("mnist", tmp_path)


def write_zip(path, files, gz=True):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name + (".gz" if gz else ""), gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_a_zip_of_the_four_idx_files_loads_as_mnist(gz, tmp_path):
    contents, arrays = mnist_files()
    path = write_zip(tmp_path / "upload.zip", {f"mnist/{name}": data for name, data in contents.items()}, gz)
    dataset = load_upload(path, None, {}, UploadLimits(), "upload-3", "My MNIST")
    assert (dataset.name, dataset.title, dataset.classes[1]) == ("upload-3", "My MNIST", "1")
    assert dataset.X.shape == (10, 1, 28, 28)
    assert np.allclose(dataset.X[0, 0], arrays["train-images-idx3-ubyte"][0] / 255)


def test_an_idx_zip_says_fashion_by_option_or_by_name(tmp_path):
    contents, _ = mnist_files()
    plain = write_zip(tmp_path / "a.zip", contents)
    named = write_zip(tmp_path / "b.zip", {f"Fashion-MNIST/{name}": data for name, data in contents.items()})
    assert load_upload(plain, "zip", {"dataset": "fashion_mnist"}, UploadLimits(), "u", "U").classes[0] == \
        "T-shirt/top"
    assert load_upload(named, "zip", {}, UploadLimits(), "u", "U").classes[0] == "T-shirt/top"
    with pytest.raises(DatasetError, match="option 'dataset' must be one of mnist, fashion_mnist, got 'emnist'"):
        load_upload(plain, "zip", {"dataset": "emnist"}, UploadLimits(), "u", "U")


def test_an_idx_bomb_in_a_zip_stops_at_the_limit(tmp_path):
    contents, _ = mnist_files()
    contents["train-images-idx3-ubyte"] = b"\x00\x00\x08\x03" + struct.pack(">3I", 10_000, 100, 100) + \
        bytes(20_000_000)
    path = write_zip(tmp_path / "bomb.zip", contents)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz declares shape \(10000, 100, 100\).*over "
                                           "the limit of 10,000,000 bytes"):
        load_upload(path, None, {}, UploadLimits(max_uncompressed_bytes=10_000_000), "u", "U")
