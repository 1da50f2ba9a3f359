"""Upload budgets and the stored form: the decoded size and the pixels of everything in an upload are added up
from its headers and refused before anything is decoded; an accepted upload is parsed straight into the .npy
files it is stored as, a block at a time, and its messages name the user's file, never a temporary one."""

import gzip
import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from training.datasets import DatasetError, UploadLimits, image_zip, load_upload

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def gzipped_idx(dims, fill=b"\0"):
    """A gzipped IDX file of unsigned bytes, all `fill`, written a block at a time (the bombs are ~100 MB)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as gz:
        gz.write(bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))
        left = int(np.prod(dims))
        block = fill * (1 << 20)
        while left:
            gz.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    return out.getvalue()


def idx_zip(path, train, test, side=28):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, dims in zip(FILES, ((train, side, side), (train,), (test, side, side), (test,)), strict=True):
            archive.writestr(f"{name}.gz", gzipped_idx(dims, b"\1" if len(dims) == 1 else b"\0"))
    return path


def peak_python_memory(call):
    """What `call` raises or returns, and the most memory it held at once (numpy's arrays included)."""
    tracemalloc.start()
    try:
        try:
            result = call()
        except DatasetError as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def png(size, value=128):
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_idx_zip_whose_header_declares_too_many_images_is_refused_before_decoding(tmp_path):
    # The bomb: a small ZIP whose images file declares 127,000×28×28.
    path = idx_zip(tmp_path / "bomb.zip", 127_000, 1)
    assert path.stat().st_size < 500_000
    error, peak = peak_python_memory(
        lambda: load_upload(path, None, {}, UploadLimits(max_decoded_bytes=100_000_000), "u", "U"))
    assert isinstance(error, DatasetError)
    assert str(error) == ("train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz declare 127,001 images of "
                          "28×28: 399,291,144 bytes once decoded, over the limit of 100,000,000 bytes "
                          "(max_decoded_bytes)")
    assert peak < 2_000_000  # headers only: not one image decoded


def test_the_budget_counts_the_training_and_test_images_together(tmp_path):
    path = idx_zip(tmp_path / "mnist.zip", 600, 600)
    one_part = 600 * 784 * 4 + 600 * 8
    with pytest.raises(DatasetError, match=r"declare 1,200 images of 28×28: 3,772,800 bytes once decoded, over the "
                                           r"limit of 3,000,000 bytes \(max_decoded_bytes\)"):
        load_upload(path, None, {}, UploadLimits(max_decoded_bytes=3_000_000), "u", "U")
    assert one_part < 3_000_000
    idx_pixels = UploadLimits(max_total_pixels=1_000_000)  # 1,200 × 784 = 940,800 pixels: within
    assert len(load_upload(path, None, {}, idx_pixels, "u", "U").X) == 1200
    with pytest.raises(DatasetError, match=r"940,800 pixels to decode in all, over the limit of 900,000 pixels "
                                           r"\(max_total_pixels\)"):
        load_upload(path, None, {}, UploadLimits(max_total_pixels=900_000), "u", "U")


def test_a_zip_of_large_images_behind_a_small_one_is_refused_by_its_pixel_total_before_decoding(tmp_path,
                                                                                                monkeypatch):
    # The bomb: the first image (which sets the dataset's size) is 1×1, then 300 PNGs of 4096×4096.
    large = png((4096, 4096))
    path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a/000.png", png((1, 1)))
        for i in range(300):
            archive.writestr(f"{'ab'[i % 2]}/{i + 1:03d}.png", large)
    assert path.stat().st_size < 10_000_000

    def decoded(*args):
        raise AssertionError("an image was decoded")

    monkeypatch.setattr(image_zip, "pixels", decoded)
    with pytest.raises(DatasetError, match=r"the ZIP's 301 images, 5,033,164,801 pixels as stored, would become 301 "
                                           r"images of 1×1×1: 5,033,164,801 pixels to decode in all, over the limit "
                                           r"of 200,000,000 pixels \(max_total_pixels\)"):
        load_upload(path, None, {}, UploadLimits(), "u", "U")


def test_an_npz_whose_headers_declare_too_much_is_refused_before_its_data_is_read(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (1_000_000, 1_000)})
    y = io.BytesIO()
    np.save(y, np.zeros(1_000_000, np.int64))
    path = tmp_path / "arrays.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
        archive.writestr("y.npy", y.getvalue())
    with pytest.raises(DatasetError, match=r"the NPZ's arrays X \(1000000, 1000\) of float64 and y \(1000000,\) of "
                                           r"int64: 4,008,000,000 bytes once decoded, over the limit of "
                                           r"1,000,000,000 bytes \(max_decoded_bytes\)"):
        load_upload(path, None, {}, UploadLimits(), "u", "U")


def test_a_csv_whose_text_columns_one_hot_encode_over_the_budget_is_refused_naming_it(tmp_path):
    rows = "".join(f"{i},colour-{i % 500},{i % 2}\n" for i in range(20_000))
    path = tmp_path / "tmpx81kq.upload.csv"
    path.write_text("size,colour,label\n" + rows)
    with pytest.raises(DatasetError, match=r"^paint.csv has 20,000 rows of 501 features once its text columns are "
                                           r"one-hot encoded: 40,240,000 bytes once decoded, over the limit of "
                                           r"10,000,000 bytes \(max_decoded_bytes\)$"):
        load_upload(path, None, {}, UploadLimits(max_decoded_bytes=10_000_000), "u", "U", label="paint.csv")


def csv_upload(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text("a,b,kind\n" + "".join(f"{i},{'xy'[i % 2]},{'pq'[i % 3 == 0]}\n" for i in range(50)))
    return path


def npz_upload(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, X=np.arange(60, dtype=np.float64).reshape(10, 2, 3), y=np.arange(10) % 3)
    return path


def image_upload(tmp_path):
    path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(6):
            archive.writestr(f"{'ab'[i % 2]}/{i}.png", png((5, 4), 40 * i))
    return path


def mnist_upload(tmp_path):
    return idx_zip(tmp_path / "mnist.zip", 7, 3)


@pytest.mark.parametrize("make", [csv_upload, npz_upload, image_upload, mnist_upload])
def test_an_upload_parsed_into_a_folder_is_the_same_dataset_mapped_from_npy_files(make, tmp_path):
    path = make(tmp_path)
    in_memory = load_upload(path, None, {}, UploadLimits(), "upload-1", "Mine")
    folder = tmp_path / "arrays"
    folder.mkdir()
    stored = load_upload(path, None, {}, UploadLimits(), "upload-1", "Mine", out=folder)
    assert sorted(p.name for p in folder.iterdir()) == ["X.npy", "y.npy"]
    assert isinstance(stored.X, np.memmap) and isinstance(stored.y, np.memmap)
    assert stored.info() == in_memory.info()
    for mine, theirs, saved in ((stored.X, in_memory.X, "X.npy"), (stored.y, in_memory.y, "y.npy")):
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)
        assert np.array_equal(np.load(folder / saved, allow_pickle=False), theirs)
    assert stored.preview() == in_memory.preview()


def test_a_large_upload_is_parsed_into_its_files_a_block_at_a_time(tmp_path):
    path = idx_zip(tmp_path / "mnist.zip", 17_000, 3_000)  # 62.9 MB once decoded
    folder = tmp_path / "arrays"
    folder.mkdir()
    dataset, peak = peak_python_memory(lambda: load_upload(path, None, {}, UploadLimits(), "u", "U", out=folder))
    assert dataset.X.shape == (20_000, 1, 28, 28) and (folder / "X.npy").stat().st_size > 62_720_000
    assert peak < 12_000_000


def test_messages_and_descriptions_name_the_users_file_not_the_temporary_one(tmp_path):
    broken = tmp_path / "tmpk2j3wq.upload.zip"
    broken.write_bytes(b"PK not really a zip")
    with pytest.raises(DatasetError) as error:
        load_upload(broken, None, {}, UploadLimits(), "u", "U", label="holiday.zip")
    assert str(error.value).startswith("holiday.zip is not a readable ZIP file") and "tmp" not in str(error.value)
    table = tmp_path / "tmp9f8e7d.upload.csv"
    table.write_text("a,b\n1,x\n2,y\n")
    dataset = load_upload(table, None, {}, UploadLimits(), "u", "U", label="flowers.csv")
    assert dataset.description == "2 rows of flowers.csv: 1 features from 1 columns, target 'b'"
