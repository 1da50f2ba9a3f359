"""Fine-tuning as a new user does it, in Chromium with a real worker: import an ONNX ResNet on the home page,
freeze its first convolution, upload an image ZIP, train starting from the imported weights, download the bundle."""

import io
import re
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import expect
from safetensors.torch import load as load_safetensors

from builder.models import Network
from training import storage
from training.models import Run

from tests.zoo import TinyResNet

from .test_editor_page import EDITOR_URL, log_in, select

pytestmark = pytest.mark.django_db(transaction=True)

TRAIN_TIMEOUT = 300_000  # ms


def resnet_onnx() -> bytes:
    torch.manual_seed(0)
    program = torch.onnx.export(TinyResNet(classes=3).eval(), (torch.randn(2, 3, 16, 16),), dynamo=True,
                                verbose=False, dynamic_shapes=({0: torch.export.Dim("batch")},))
    return program.model_proto.SerializeToString()


def colour_zip() -> bytes:
    """Three classes of 16×16 RGB images: mostly red, green or blue squares, with noise."""
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for channel, name in enumerate(("red", "green", "blue")):
            for i in range(24):
                pixels = rng.integers(0, 90, (16, 16, 3), dtype=np.uint8)
                pixels[:, :, channel] = rng.integers(150, 255, (16, 16), dtype=np.uint8)
                image = io.BytesIO()
                Image.fromarray(pixels, "RGB").save(image, "PNG")
                archive.writestr(f"{name}/{i}.png", image.getvalue())
    return out.getvalue()


def test_an_imported_onnx_resnet_is_fine_tuned_on_an_image_zip_with_its_first_layer_frozen(page, user, worker,
                                                                                             tmp_path):
    log_in(page, user)
    page.get_by_test_id("import-file").set_input_files(files=[{"name": "resnet.onnx", "mimeType":
                                                               "application/octet-stream", "buffer": resnet_onnx()}])
    expect(page).to_have_url(EDITOR_URL, timeout=60_000)
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    network = Network.objects.get(owner=user)
    first_conv = next(n["id"] for n in network.graph["nodes"] if n["type"] == "Conv2d")

    select(page, first_conv)
    page.get_by_test_id("node-trainable").uncheck()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_have_text(re.compile(r"Saved · version 2"))

    page.get_by_test_id("train").click()
    expect(page).to_have_url(f"/networks/{network.pk}/train/")
    expect(page.get_by_test_id("network-summary")).to_contain_text("frozen parameters")
    page.get_by_text("Upload your own data").click()
    page.get_by_test_id("upload-file").set_input_files(files=[{"name": "colours.zip", "mimeType": "application/zip",
                                                               "buffer": colour_zip()}])
    page.get_by_test_id("upload-name").fill("Colours")
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("dataset-select").locator("option:checked")).to_have_text("Colours")
    expect(page.get_by_test_id("fit-status")).to_have_attribute("data-fits", "true")
    # An imported network's first run starts from what it imported.
    expect(page.get_by_test_id("start-from")).to_have_value("version:1")
    page.get_by_test_id("config-epochs").fill("4")
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded", timeout=TRAIN_TIMEOUT)

    run = Run.objects.get(network=network)
    assert run.init_version.number == 1 and run.version.number == 2
    imported = load_safetensors(network.versions.get(number=1).weights.read())
    trained = storage.read_weights(run)
    frozen = [key for key in trained if key.startswith(f"{first_conv}.")]
    assert frozen and all(torch.equal(trained[k], imported[k]) for k in frozen)  # the frozen layer kept its weights
    head = next(n["id"] for n in network.graph["nodes"] if n["type"] == "Linear")
    assert not torch.equal(trained[f"{head}.weight"], imported[f"{head}.weight"])  # the rest trained

    with page.expect_download() as download:
        page.get_by_test_id("download-bundle.zip").click()
    download.value.save_as(tmp_path / "bundle.zip")
    assert any(name.endswith("/model.py") for name in zipfile.ZipFile(tmp_path / "bundle.zip").namelist())
