"""A new user's whole path through the product, in one headless Chromium session against the real server,
a real worker and a real Redis: sign up, build the classic CNN with the mouse, break and fix it, save, train on
digits while the chart updates, reload mid-run, stop a second run and compare the two, download the bundle and
try the model on a drawn digit. The `page` fixture fails the test on any console error or foreign request."""

import re
import zipfile

import pytest
from playwright.sync_api import expect

from builder.models import Network
from training.models import Run, RunEvent

from .test_dashboard_page import RUN_TIMEOUT, epochs_plotted, wait_plotted
from .test_editor_page import build_classic_cnn, caption, set_param

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def journey(page, worker):
    """The page, with a worker to train (tests/conftest.py stops what is left running)."""
    return page


def draw_a_one(page):
    """A "1" drawn with the mouse on the try-it pad: a short upstroke, then down the middle."""
    canvas = page.get_by_test_id("tryit-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] / 2, box["y"] + 0.15 * box["height"], box["y"] + 0.85 * box["height"]
    page.mouse.move(x - 20, top + 20)
    page.mouse.down()
    page.mouse.move(x, top, steps=5)
    page.mouse.move(x, bottom, steps=20)
    page.mouse.up()


def sign_up(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # a visitor is asked to log in
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("#id_username", "newcomer")
    page.fill("#id_password1", "a long and unusual passphrase")
    page.fill("#id_password2", "a long and unusual passphrase")
    page.click("button[type=submit]")
    # The example cards come from the page's script: once they show, its buttons work.
    expect(page.get_by_test_id("example-seed_cnn")).to_be_visible()


def build_the_classic_cnn(page):
    page.get_by_test_id("new-network").click()
    expect(page).to_have_url(re.compile(r"/networks/\d+/$"))
    expect(page.get_by_test_id("total-params")).to_have_text("—")  # the editor is up and has validated (a lone Input)
    build_classic_cnn(page)
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    assert caption(page, "conv2d_1") == "conv2d_1 · Conv2d\n[32, 26, 26] · 320 params"


def break_and_fix(page):
    set_param(page, "conv2d_1", "kernel_size", "30")  # larger than the 28×28 image
    problems = page.get_by_test_id("problems").get_by_role("button")
    expect(problems.first).to_contain_text("conv2d_1")
    expect(problems.first).to_contain_text("[1, 28, 28]")
    page.get_by_test_id("param-kernel_size").fill("3")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")


def test_a_new_user_builds_trains_compares_downloads_and_tries_a_model(journey, tmp_path):
    page = journey
    sign_up(page)
    build_the_classic_cnn(page)
    break_and_fix(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_text(re.compile(r"Saved · version \d+"))
    network = Network.objects.get(owner__username="newcomer")

    # Train on digits: the 28×28 network does not fit 8×8 images until the one-click fix.
    page.get_by_test_id("train").click()
    expect(page).to_have_url(f"/networks/{network.pk}/train/")
    page.get_by_test_id("dataset-select").select_option("digits")
    fit = page.get_by_test_id("fit-status")
    expect(fit).to_have_attribute("data-fits", "false")
    page.get_by_test_id("fix-button").click()
    page.get_by_test_id("fix-apply").click()  # after reading the diff
    expect(fit).to_have_attribute("data-fits", "true")
    network.refresh_from_db()
    assert network.graph["nodes"][0]["params"]["shape"] == [1, 8, 8]

    page.get_by_test_id("config-epochs").fill("30")
    page.get_by_test_id("config-lr").fill("0.003")
    page.get_by_test_id("start-button").click()
    status = page.get_by_test_id("run-status")
    expect(status).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT)
    first = Run.objects.get(network=network)
    steps = wait_plotted(page, "chart-step-loss", 1)
    wait_plotted(page, "chart-step-loss", steps + 50)  # the chart updates live
    seen = wait_plotted(page, "chart-epoch-loss", 3)

    page.reload()  # mid-run: the whole curve comes back, then it goes on
    wait_plotted(page, "chart-epoch-loss", seen + 1)
    assert epochs_plotted(page)[:seen + 1] == list(range(1, seen + 2))
    expect(status).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    stored = RunEvent.objects.filter(run=first, kind="epoch").count()
    assert stored == 30 and epochs_plotted(page) == list(range(1, 31))

    # A second run with another learning rate, stopped by the user.
    page.get_by_test_id("config-lr").fill("0.01")
    page.get_by_test_id("config-epochs").fill("500")
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("run-view")).not_to_have_attribute("data-run-id", str(first.pk))
    expect(status).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT)
    wait_plotted(page, "chart-epoch-loss", 1)
    page.get_by_test_id("stop-button").click()
    expect(status).to_have_attribute("data-status", "cancelled", timeout=15_000)
    second = Run.objects.exclude(pk=first.pk).get(network=network)
    assert second.status == "cancelled"

    page.get_by_test_id(f"compare-{first.pk}").check()
    page.get_by_test_id(f"compare-{second.pk}").check()
    table = page.get_by_test_id("compare-table")
    expect(table.get_by_test_id("compare-row-lr").locator("td")).to_have_text(["0.01", "0.003"])
    expect(table.get_by_test_id("compare-row-status")).to_contain_text("cancelled")

    # The finished run: its bundle, and a digit drawn with the mouse.
    page.get_by_test_id(f"run-row-{first.pk}").click()
    expect(page.get_by_test_id("run-view")).to_have_attribute("data-run-id", str(first.pk))
    with page.expect_download() as download:
        page.get_by_test_id("download-bundle.zip").click()
    download.value.save_as(tmp_path / "bundle.zip")
    assert any(name.endswith("/model.py") for name in zipfile.ZipFile(tmp_path / "bundle.zip").namelist())

    draw_a_one(page)
    page.get_by_test_id("predict-button").click()
    expect(page.get_by_test_id("prediction")).to_have_attribute("data-predicted", re.compile(r"^\d$"))
    expect(page.get_by_test_id("prediction-bars").locator(".bar-value")).to_have_count(10)
