"""Real architectures built by hand in Chromium, as a new user would: a ViT-tiny from palette nodes alone, and a
CNN whose forgotten Flatten is fixed with one click; both trained by the real worker. And a multi-output node:
the connection's inspector picks which output (an LSTM's sequence or state) an edge carries."""

import re

import pytest
from playwright.sync_api import expect

from builder.models import Network
from training.models import Run

from tests.graphs import example

from .test_editor_page import EDITOR_URL, canvas_state, log_in, open_editor, point, select, set_param, wire

pytestmark = pytest.mark.django_db(transaction=True)

TRAIN_TIMEOUT = 300_000  # ms: 30 ViT epochs on two cores shared with the browser, the server and the worker


def drop_at(page, layer, x, y):
    page.get_by_test_id(f"palette-{layer}").drag_to(page.get_by_test_id("canvas"), target_position={"x": x, "y": y})


def place(page, columns):
    """Move the lone Input to the top of the first column, and drop the other layers below it, column by column."""
    canvas = page.get_by_test_id("canvas").bounding_box()
    start = point(page, "input_1")
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(canvas["x"] + canvas["width"] / (len(columns) + 1), canvas["y"] + 50, steps=5)
    page.mouse.up()
    count = 1
    for c, layers in enumerate(columns):
        x = canvas["width"] * (c + 1) / (len(columns) + 1)
        for row, layer in enumerate(layers, start=1 if c == 0 else 0):
            drop_at(page, layer, x, 50 + 90 * row)
            count += 1
            page.wait_for_function("n => window.netbuilder.cy.nodes().length === n", arg=count)


def shown(page, node_id):
    return page.evaluate("id => window.netbuilder.cy.getElementById(id).data('shown')", node_id)


def new_network(page):
    page.goto("/")
    page.get_by_test_id("new-network").click()
    expect(page).to_have_url(EDITOR_URL)
    expect(page.get_by_test_id("total-params")).to_have_text("—")
    return Network.objects.get(pk=int(EDITOR_URL.search(page.url).group(1)))


def save_and_train(page, network, epochs, lr, batch_size):
    """Save, open the dashboard, train on digits, and wait for the run to succeed; returns the run."""
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_have_text(re.compile(r"Saved · version \d+"))
    page.get_by_test_id("train").click()
    expect(page).to_have_url(f"/networks/{network.pk}/train/")
    page.get_by_test_id("dataset-select").select_option("digits")
    expect(page.get_by_test_id("fit-status")).to_have_attribute("data-fits", "true")
    page.get_by_test_id("config-epochs").fill(str(epochs))
    page.get_by_test_id("config-lr").fill(str(lr))
    page.get_by_test_id("config-batch_size").fill(str(batch_size))
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded", timeout=TRAIN_TIMEOUT)
    return Run.objects.get(network=network)


def test_a_vit_tiny_built_from_nodes_by_hand_reaches_90_percent_on_digits(page, user, worker):
    log_in(page, user)
    network = new_network(page)
    place(page, [["Conv2d", "Reshape", "Permute", "ClassToken", "PositionalEmbedding"],
                 ["TransformerEncoderLayer", "TransformerEncoderLayer", "Select", "LayerNorm", "Linear"]])
    ids = ["input_1", "conv2d_1", "reshape_1", "permute_1", "classtoken_1", "positionalembedding_1",
           "transformerencoderlayer_1", "transformerencoderlayer_2", "select_1", "layernorm_1", "linear_1"]
    assert canvas_state(page)["nodes"] == ids
    for source, target in zip(ids, ids[1:]):
        wire(page, source, target)

    set_param(page, "input_1", "shape", "[1, 8, 8]")
    set_param(page, "conv2d_1", "out_channels", "32")  # a 2×2 patchify convolution: 16 patches of 32 features
    page.get_by_test_id("param-kernel_size").fill("2")
    page.get_by_test_id("param-stride").fill("2")
    set_param(page, "reshape_1", "shape", "[32, 16]")  # channels along the patches, C×L: Permute makes them tokens
    for encoder in ("transformerencoderlayer_1", "transformerencoderlayer_2"):
        set_param(page, encoder, "dim_feedforward", "64")
        page.get_by_test_id("param-activation").select_option(label="gelu")
        page.get_by_test_id("param-norm_first").check()
    set_param(page, "linear_1", "out_features", "10")

    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_test_id("total-params")).to_have_text("18,218")  # as the vit_tiny example
    assert shown(page, "permute_1").endswith("[16, 32] T×F")
    assert shown(page, "classtoken_1").endswith("[17, 32] T×F · 32 params")
    assert shown(page, "select_1").endswith("[32] F")  # the class token alone

    run = save_and_train(page, network, epochs=30, lr=0.002, batch_size=64)
    assert run.final_metrics["val_accuracy"] >= 0.9, run.final_metrics


def test_a_cnn_without_its_flatten_is_fixed_with_one_click_and_trains(page, user, worker):
    log_in(page, user)
    network = new_network(page)
    place(page, [["Conv2d", "ReLU", "MaxPool2d", "Linear"]])
    ids = ["input_1", "conv2d_1", "relu_1", "maxpool2d_1", "linear_1"]
    for source, target in zip(ids, ids[1:]):
        wire(page, source, target)
    set_param(page, "input_1", "shape", "[1, 8, 8]")
    set_param(page, "conv2d_1", "out_channels", "16")
    set_param(page, "linear_1", "out_features", "10")

    expect(page.get_by_test_id("problem-count")).to_have_text("1 warning")
    expect(page.get_by_test_id("problems")).to_contain_text("node 'linear_1' (Dense) gets [16, 3, 3] (C×H×W)")
    page.get_by_test_id("fix").click()
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert ["maxpool2d_1", "flatten_1"] in canvas_state(page)["edges"]
    assert shown(page, "linear_1").endswith("[10] F · 1,450 params")

    run = save_and_train(page, network, epochs=10, lr=0.003, batch_size=32)
    assert run.final_metrics["val_accuracy"] >= 0.8, run.final_metrics


def test_a_connection_from_an_lstm_carries_the_output_picked_in_its_inspector(page, user):
    network = Network.create(user, "LSTM", example("lstm_classifier"))
    log_in(page, user)
    open_editor(page, network, "895,498")
    # The LSTM shows both outputs; its connection to the classifier carries the state.
    assert shown(page, "lstm").split("\n")[1].startswith("0 sequence [28, 256] T×F | 1 state [256] F")
    edge = "window.netbuilder.cy.edges('[source = \"lstm\"]')"
    assert page.evaluate(f"{edge}.data('shown')") == "state · F"
    middle = page.evaluate(f"""() => {{ const box = window.netbuilder.cy.container().getBoundingClientRect();
        const at = {edge}.renderedMidpoint();
        return {{x: box.left + at.x, y: box.top + at.y}}; }}""")
    page.mouse.click(middle["x"], middle["y"])
    choice = page.get_by_test_id("edge-output")
    expect(choice).to_be_visible()
    expect(choice).to_have_value("1")
    expect(page.get_by_test_id("fact-shape")).to_have_text("[256]")

    choice.select_option(label="0 sequence [28, 256]")  # the Dense now reads every step
    expect(page.get_by_test_id("fact-shape")).to_have_text("[28, 256]")
    select(page, "out")
    expect(page.get_by_test_id("fact-shape")).to_have_text("[28, 10]")
    assert "output" not in page.evaluate("window.netbuilder.documentOf()")["edges"][1]

    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("895,498")
    assert page.evaluate("window.netbuilder.documentOf()")["edges"][1] == {"source": "lstm", "target": "out",
                                                                          "output": 1}


def test_a_layer_is_frozen_for_fine_tuning_from_its_inspector(page, user):
    network = Network.create(user, "Digits", example("digits_cnn"))
    log_in(page, user)
    open_editor(page, network, "33,802")
    select(page, "conv1")
    page.get_by_test_id("node-trainable").uncheck()
    assert page.evaluate("window.netbuilder.cy.getElementById('conv1').hasClass('frozen')")
    assert shown(page, "conv1").endswith("· frozen")
    corner = page.get_by_test_id("canvas").bounding_box()
    page.mouse.click(corner["x"] + 8, corner["y"] + 8)  # nothing selected: the network's summary
    expect(page.get_by_test_id("fact-params")).to_have_text("33,802 (320 frozen)")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_have_text(re.compile(r"Saved · version 2"))
    network.refresh_from_db()
    assert next(n for n in network.graph["nodes"] if n["id"] == "conv1")["trainable"] is False
