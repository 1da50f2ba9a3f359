"""ZIP uploads of image folders, and the ZIP safety checks every ZIP upload goes through."""

import io
import json
import re
import struct
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from training.datasets import DatasetError, UploadLimits, load_upload


def png(mode="L", size=(4, 3), color=0):
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return buffer.getvalue()


def write_zip(path, files, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


DEFAULTS = UploadLimits()


def load(path, options=None, limits=DEFAULTS, kind=None):
    return load_upload(path, kind, options or {}, limits, "upload-2", "Pictures")


def two_classes(tmp_path, mode="L", prefix=""):
    return write_zip(tmp_path / "images.zip", {f"{prefix}cats/a.png": png(mode, color=0),
                                               f"{prefix}cats/b.png": png(mode, color=255 if mode == "L" else
                                                                          (255, 0, 0)),
                                               f"{prefix}dogs/c.png": png(mode, color=51 if mode == "L" else
                                                                          (0, 51, 255))})


def test_grayscale_images_load_as_one_channel_in_the_unit_interval(tmp_path):
    dataset = load(two_classes(tmp_path))
    assert (dataset.kind, dataset.task, dataset.classes) == ("image", "classification", ["cats", "dogs"])
    assert dataset.X.dtype == np.float32 and dataset.X.shape == (3, 1, 3, 4)
    assert [float(dataset.X[i].mean()) for i in range(3)] == pytest.approx([0.0, 1.0, 0.2])
    assert dataset.y.tolist() == [0, 0, 1]
    assert (dataset.name, dataset.title, dataset.output_shape) == ("upload-2", "Pictures", (2,))


def test_colour_images_load_as_rgb(tmp_path):
    dataset = load(two_classes(tmp_path, mode="RGB"))
    assert dataset.X.shape == (3, 3, 3, 4)
    assert dataset.X[1, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert dataset.X[2, :, 0, 0] == pytest.approx([0.0, 0.2, 1.0])


def test_one_colour_image_makes_every_image_rgb(tmp_path):
    path = write_zip(tmp_path / "mixed.zip", {"a/gray.png": png("L", color=51), "a/bits.png": png("1", color=1),
                                              "b/palette.png": png("P", color=3), "b/rgba.png": png("RGBA")})
    dataset = load(path)
    assert dataset.X.shape == (4, 3, 3, 4)
    assert dataset.X[1].reshape(3, -1).mean(axis=1) == pytest.approx([0.2, 0.2, 0.2])  # a/gray.png, sorted


def test_one_bit_images_count_as_grayscale(tmp_path):
    path = write_zip(tmp_path / "bits.zip", {"a/x.png": png("1", color=1), "b/y.png": png("L", color=0)})
    dataset = load(path)
    assert dataset.X.shape == (2, 1, 3, 4) and dataset.X[0].min() == 1.0


def test_images_are_resized_to_the_first_one(tmp_path):
    path = write_zip(tmp_path / "sizes.zip", {"a/1.png": png(size=(6, 2), color=255), "b/2.png": png(size=(30, 20)),
                                              "b/3.jpg": _jpeg((5, 5))})
    dataset = load(path)
    assert dataset.X.shape == (3, 1, 2, 6) and dataset.X[0].min() == 1.0


def _jpeg(size):
    buffer = io.BytesIO()
    Image.new("L", size, 128).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_image_size_option_sets_every_size(tmp_path):
    dataset = load(two_classes(tmp_path), {"image_size": [8, 5]})
    assert dataset.input_shape == (1, 8, 5)
    assert dataset.description == "3 images in 2 classes, grayscale 8×5"


@pytest.mark.parametrize("value, message", [
    ([8], r"option 'image_size' must be \[height, width\], got \[8\]"),
    ("8x8", r"option 'image_size' must be \[height, width\]"),
    ([0, 8], r"option 'image_size\[0\]' must be a whole number from 1"),
    ([100, 100], r"option 'image_size' 100×100 is over the limit of 1,000 pixels per image \(max_image_pixels\)"),
])
def test_a_bad_image_size_is_refused(value, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        load(two_classes(tmp_path), {"image_size": value}, UploadLimits(max_image_pixels=1000))


def test_a_single_top_folder_wrapping_the_classes_is_allowed(tmp_path):
    dataset = load(two_classes(tmp_path, prefix="pets/"))
    assert dataset.classes == ["cats", "dogs"]


def test_deeper_folders_belong_to_their_class_folder(tmp_path):
    path = write_zip(tmp_path / "deep.zip", {"cats/indoor/a.png": png(), "cats/outdoor/b.png": png(),
                                             "dogs/c.png": png()})
    assert load(path).y.tolist() == [0, 0, 1]


def test_system_junk_in_the_zip_is_ignored(tmp_path):
    files = {"cats/a.png": png(), "dogs/b.png": png(), "__MACOSX/cats/._a.png": b"\0", "cats/.DS_Store": b"\0",
             "dogs/Thumbs.db": b"\0"}
    assert len(load(write_zip(tmp_path / "mac.zip", files)).X) == 2


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    path = write_zip(tmp_path / "notes.zip", {"cats/a.png": png(), "dogs/readme.txt": b"hello"})
    with pytest.raises(DatasetError, match="'dogs/readme.txt' is not an image that Pillow can read"):
        load(path)


def test_a_damaged_image_is_named(tmp_path):
    path = write_zip(tmp_path / "cut.zip", {"cats/a.png": png(size=(64, 64)),
                                            "dogs/b.png": png("RGB", size=(64, 64), color=(1, 2, 3))[:60]})
    with pytest.raises(DatasetError, match="'dogs/b.png' could not be decoded"):
        load(path)


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path):
    path = write_zip(tmp_path / "big.zip", {"cats/a.png": png(size=(4, 3)), "dogs/b.png": png(size=(100, 60))})
    with pytest.raises(DatasetError, match=r"'dogs/b.png' is 100×60 = 6,000 pixels, over the limit of 5,000 pixels "
                                           r"per image \(max_image_pixels\)"):
        load(path, limits=UploadLimits(max_image_pixels=5000))
    with pytest.raises(DatasetError, match=r"'dogs/b.png' has more than twice the limit of 1,000 pixels per image"):
        load(path, limits=UploadLimits(max_image_pixels=1000))


def test_the_pixel_limit_is_only_changed_while_decoding(tmp_path):
    before = Image.MAX_IMAGE_PIXELS
    load(two_classes(tmp_path), limits=UploadLimits(max_image_pixels=1000))
    assert before == Image.MAX_IMAGE_PIXELS


def test_decoded_images_over_the_memory_limit_are_refused_before_decoding(tmp_path):
    with pytest.raises(DatasetError, match=r"would become 3 images of 1×100×100: 120,024 bytes once decoded, over the "
                                           r"limit of 100,000 bytes \(max_decoded_bytes\); set a smaller image_size"):
        load(two_classes(tmp_path), {"image_size": [100, 100]}, UploadLimits(max_decoded_bytes=100_000))


@pytest.mark.parametrize("files, message", [
    ({"cats/a.png": png(), "cats/b.png": png()}, "the ZIP holds only the class folder 'cats'; it needs one folder per "
                                                 "class, at least two"),
    ({"cats/": b"", "dogs/": b""}, "the class folder 'cats' has no images"),
    ({"cats/a.png": png(), "dogs/": b"", "emus/b.png": png()}, "the class folder 'dogs' has no images"),
    ({"top/cats/a.png": png(), "top/dogs/": b"", "top/emus/b.png": png()}, "the class folder 'dogs' has no images"),
    ({}, "the ZIP holds no images"),
    ({"cats/a.png": png(), "loose.png": png()}, "'loose.png' is not inside a class folder"),
    ({"top/cats/a.png": png(), "top/dogs/b.png": png(), "top/notes.png": png()},
     "'top/notes.png' is not inside a class folder"),
])
def test_a_zip_without_class_folders_says_what_is_wrong(files, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        load(write_zip(tmp_path / "bad.zip", files))


def test_an_image_zip_preview_is_json(tmp_path):
    preview = load(two_classes(tmp_path)).preview()
    assert json.loads(json.dumps(preview)) == preview
    assert preview["class_counts"] == {"cats": 2, "dogs": 1}
    assert [sample["label"] for sample in preview["samples"]] == ["cats", "cats", "dogs"]


def test_zip_options_are_checked(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown option 'size' for a ZIP upload \(it takes dataset, image_size\)"):
        load(two_classes(tmp_path), {"size": [4, 4]})


def test_it_rejects_a_zip_bomb_before_unpacking_it(tmp_path):
    path = write_zip(tmp_path / "bomb.zip", {"cats/a.png": png(), "dogs/b.png": bytes(50_000_000)})
    assert path.stat().st_size < 100_000
    started = time.perf_counter()
    with pytest.raises(DatasetError, match=r"the ZIP would unpack to 50,000,\d+ bytes; the limit is 10,000,000 bytes "
                                           r"\(max_uncompressed_bytes\)"):
        load(path, limits=UploadLimits(max_uncompressed_bytes=10_000_000))
    assert time.perf_counter() - started < 0.5


# Where a field sits in an entry's local header and in its central directory record, and its format.
FIELDS = {"flags": (6, 8, "<H"), "size": (22, 24, "<I")}


def forge(path, entry, field, value):
    """Overwrite one field of the `entry`-th member's headers, as someone crafting a hostile ZIP would."""
    data = bytearray(path.read_bytes())
    local, central, fmt = FIELDS[field]
    for signature, offset in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = -1
        for _ in range(entry + 1):
            start = data.index(signature, start + 1)
        struct.pack_into(fmt, data, start + offset, value)
    path.write_bytes(bytes(data))


def test_it_rejects_a_member_that_holds_more_than_its_header_declares(tmp_path):
    path = write_zip(tmp_path / "forged.zip", {"cats/a.png": png(), "dogs/b.png": bytes(5_000_000)})
    forge(path, 1, "size", 100)
    with pytest.raises(DatasetError, match="'dogs/b.png' in the ZIP is damaged: Bad CRC-32"):
        load(path, limits=UploadLimits(max_uncompressed_bytes=1000))


def test_it_rejects_too_many_entries(tmp_path):
    files = {f"{label}/{i}.png": png() for label in "ab" for i in range(3)}
    with pytest.raises(DatasetError, match=r"the ZIP has 6 entries; the limit is 5 \(max_zip_entries\)"):
        load(write_zip(tmp_path / "many.zip", files), limits=UploadLimits(max_zip_entries=5))


@pytest.mark.parametrize("name", ["../evil.png", "cats/../../evil.png", "/etc/evil.png", "cats\\..\\..\\evil.png",
                                  "C:/evil.png"])
def test_it_rejects_entries_that_point_outside_the_archive(name, tmp_path):
    path = write_zip(tmp_path / "escape.zip", {"cats/a.png": png(), "dogs/b.png": png(), name: png()})
    with pytest.raises(DatasetError, match=f"the ZIP entry '{re.escape(name)}' points outside the archive"):
        load(path)


def test_it_rejects_encrypted_entries(tmp_path):
    path = write_zip(tmp_path / "secret.zip", {"cats/a.png": png(), "dogs/b.png": png()})
    forge(path, 1, "flags", 0x1)
    with pytest.raises(DatasetError, match="the ZIP entry 'dogs/b.png' is encrypted"):
        load(path)


def test_it_rejects_compression_that_unpacks_without_bound(tmp_path):
    path = write_zip(tmp_path / "bz.zip", {"cats/a.png": png(), "dogs/b.png": png()}, zipfile.ZIP_BZIP2)
    with pytest.raises(DatasetError, match="the ZIP entry 'cats/a.png' uses compression method 12; only stored and "
                                           "deflated entries are accepted"):
        load(path)


def test_a_file_that_is_not_a_zip_is_named(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK but not really")
    with pytest.raises(DatasetError, match="fake.zip is not a readable ZIP file"):
        load(path)


def test_a_zip_over_the_size_limit_is_refused_before_opening(tmp_path):
    with pytest.raises(DatasetError, match=r"the file is [\d,]+ bytes; the limit is 100 bytes \(max_bytes\)"):
        load(two_classes(tmp_path), limits=UploadLimits(max_bytes=100))
