"""Building fast in the editor, in a real browser: a layer added from the palette goes below the selected one,
connected to it; a layer dropped on a connection goes into it; Conv and Dense layers take their activation in
one click; and the palette and the inspector work from the keyboard alone. Also the rough edges: an edit undone
by hand is no unsaved change, a refused connection says why, and the view is kept with the graph."""

import pytest
from playwright.sync_api import expect

from builder.graph import Limits, analyze
from builder.models import Network

from tests.graphs import example

from .test_editor_page import EDITOR_URL, canvas_state, click_node, drag_wire, log_in, open_editor, select

pytestmark = pytest.mark.django_db(transaction=True)

MNIST_CNN = ["input_1", "conv2d_1", "relu_1", "maxpool2d_1", "conv2d_2", "relu_2", "maxpool2d_2", "flatten_1",
             "linear_1", "relu_3", "dropout_1", "linear_2"]


class Actions:
    """What the user does, counted: each click, drag and key press is one action, and so is typing one value
    into a field (the keystroke-level model's "enter a value")."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, testid):
        self.page.get_by_test_id(testid).click()
        self.count += 1

    def click_node(self, node_id):
        click_node(self.page, node_id)
        self.count += 1

    def type_value(self, testid, value):
        self.page.get_by_test_id(testid).fill(value)
        self.count += 1

    def press(self, key):
        self.page.keyboard.press(key)
        self.count += 1

    def drop_on_edge(self, layer, source, target):
        """Drag a palette layer onto the middle of the connection source → target."""
        at = self.page.evaluate("""([s, t]) => {
            const cy = window.netbuilder.cy, edge = cy.getElementById(s).edgesTo(cy.getElementById(t));
            const box = cy.container().getBoundingClientRect(), middle = edge.renderedMidpoint();
            return {x: middle.x, y: middle.y, inside: middle.x > 0 && middle.y > 0 && middle.x < box.width
                    && middle.y < box.height};
        }""", [source, target])
        assert at["inside"], "the connection is out of view"
        self.page.get_by_test_id(f"palette-{layer}").drag_to(self.page.get_by_test_id("canvas"),
                                                              target_position={"x": at["x"], "y": at["y"]})
        self.count += 1


def added(page, node_id):
    """The layer just added is the selected one (its form is up): the next action goes to it."""
    expect(page.get_by_test_id("node-id")).to_have_value(node_id)


def test_it_builds_the_two_convolution_mnist_cnn_in_at_most_15_actions(page, user):
    log_in(page, user)
    page.get_by_test_id("new-network").click()
    expect(page).to_have_url(EDITOR_URL)
    expect(page.get_by_test_id("problem-count")).not_to_have_text("")
    act = Actions(page)

    act.click_node("input_1")  # its default shape is MNIST's, 1×28×28
    added(page, "input_1")
    act.click("palette-Conv2d")  # 32 channels, 3×3 are the defaults
    added(page, "conv2d_1")
    act.click("activation-ReLU")
    added(page, "relu_1")
    act.click("palette-MaxPool2d")
    act.click("palette-Conv2d")
    added(page, "conv2d_2")
    act.type_value("param-out_channels", "64")
    act.click("activation-ReLU")
    added(page, "relu_2")
    act.click("palette-MaxPool2d")
    act.click("palette-Flatten")
    act.click("palette-Linear")  # Dense, 128 units by default
    added(page, "linear_1")
    act.click("activation-ReLU")
    act.click("palette-Linear")
    added(page, "linear_2")
    act.type_value("param-out_features", "10")
    act.drop_on_edge("Dropout", "relu_3", "linear_2")
    added(page, "dropout_1")

    assert act.count <= 15, f"{act.count} actions"
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_test_id("total-params")).to_have_text("225,034")
    state = canvas_state(page)
    assert state["nodes"][:1] == ["input_1"] and sorted(state["nodes"]) == sorted(MNIST_CNN)
    assert sorted(state["edges"]) == sorted([s, t] for s, t in zip(MNIST_CNN, MNIST_CNN[1:]))
    # Each layer was placed below the one before it.
    heights = page.evaluate("ids => ids.map(id => window.netbuilder.cy.getElementById(id).position('y'))", MNIST_CNN)
    assert heights == sorted(heights) and len(set(heights)) == len(heights)
    doc = page.evaluate("window.netbuilder.documentOf()")
    analysis = analyze(doc, Limits())
    assert analysis.valid and analysis.summary()["total_params"] == 225_034

    # The activation was one undo step; choosing none takes it out again and reconnects the layers.
    select(page, "conv2d_2")
    expect(page.get_by_test_id("activation-ReLU")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("activation-GELU").click()
    added(page, "gelu_1")
    assert ["conv2d_2", "gelu_1"] in canvas_state(page)["edges"] and "relu_2" not in canvas_state(page)["nodes"]
    page.keyboard.press("Control+z")
    page.wait_for_function("() => window.netbuilder.cy.getElementById('relu_2').nonempty()")
    select(page, "conv2d_2")
    page.get_by_test_id("activation-none").click()
    expect(page.get_by_test_id("activation-none")).to_have_attribute("aria-pressed", "true")
    assert ["conv2d_2", "maxpool2d_2"] in canvas_state(page)["edges"] and "relu_2" not in canvas_state(page)["nodes"]


def test_the_palette_and_the_inspector_work_from_the_keyboard_alone(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    select(page, "out")

    # Search, then Enter adds the first match below the selected layer, fed by it.
    page.get_by_test_id("palette-search").focus()
    page.keyboard.type("softmax")
    page.keyboard.press("Enter")
    added(page, "softmax_1")
    assert ["out", "softmax_1"] in canvas_state(page)["edges"]

    # The arrow keys move through the items, Enter adds the focused one.
    page.get_by_test_id("palette-search").fill("")
    page.get_by_test_id("palette-search").focus()
    page.keyboard.press("ArrowDown")
    focused = "() => document.activeElement.dataset.testid"
    assert page.evaluate(focused) == "palette-Input"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == "palette-Identity"
    page.keyboard.press("Enter")
    added(page, "identity_1")
    assert ["softmax_1", "identity_1"] in canvas_state(page)["edges"]

    # Tab leaves the palette (one stop) and reaches the inspector's fields.
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "node-id":
            break
    assert page.evaluate(focused) == "node-id"
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "node-label"
    page.keyboard.type("head")
    page.wait_for_function("() => window.netbuilder.cy.getElementById('identity_1').data('shown').startsWith('head ·')")

    # On a Dense: Tab reaches its Trainable switch, its activation choice and its parameters, and typing edits them.
    select(page, "fc1")
    page.get_by_test_id("node-label").focus()
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "node-trainable"
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "activation-none"
    for _ in range(len(["none", "ReLU", "LeakyReLU", "GELU", "SiLU", "Tanh", "Sigmoid"])):
        page.keyboard.press("Tab")
    assert page.evaluate(focused) == "param-out_features"
    page.keyboard.press("Control+a")
    page.keyboard.type("64")
    expect(page.get_by_test_id("fact-params")).to_have_text("346,176")


def test_an_edit_put_back_by_hand_or_a_moved_view_is_not_an_unsaved_change(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    status = page.get_by_test_id("save-status")
    select(page, "conv1")
    page.get_by_test_id("param-stride").fill("1")  # the default, written out
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(status).to_have_text("Saved · version 1")
    page.get_by_test_id("param-kernel_size").fill("5")
    expect(status).to_have_text("Unsaved changes")
    page.get_by_test_id("param-kernel_size").fill("3")
    expect(status).to_have_text("Saved · version 1")
    page.get_by_test_id("zoom-in").click()
    expect(status).to_have_text("Saved · version 1")


def test_a_connection_refused_for_a_cycle_says_so(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    before = canvas_state(page)["edges"]
    drag_wire(page, "act2", "conv1")
    expect(page.get_by_test_id("notice")).to_contain_text("act2 → conv1 would make a cycle")
    assert canvas_state(page)["edges"] == before


def test_the_view_is_saved_with_the_graph_and_restored_on_open(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    page.get_by_test_id("zoom-out").click()
    page.get_by_test_id("zoom-out").click()
    canvas = page.get_by_test_id("canvas").bounding_box()
    page.mouse.move(canvas["x"] + 30, canvas["y"] + 30)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 130, canvas["y"] + 90, steps=4)
    page.mouse.up()
    shown = page.evaluate("window.netbuilder.canvas.viewport()")
    select(page, "fc1")
    page.get_by_test_id("node-label").fill("hidden layer")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 2")
    network.refresh_from_db()
    assert network.graph["meta"]["viewport"] == shown
    assert next(n for n in network.graph["nodes"] if n["id"] == "fc1")["label"] == "hidden layer"

    page.reload()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    assert page.evaluate("window.netbuilder.canvas.viewport()") == shown
    assert page.evaluate("window.netbuilder.cy.getElementById('fc1').data('shown')").startswith("hidden layer · Dense")
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 2")


def test_a_layer_dropped_on_a_connection_goes_into_it_and_the_input_port_stays_below(page, user):
    doc = {"format": "netgraph", "version": 1, "name": "Two branches", "nodes": [
        {"id": "in", "type": "Input", "params": {"shape": [8]}, "position": {"x": 0, "y": 0}},
        {"id": "a", "type": "ReLU", "position": {"x": -220, "y": 110}},
        {"id": "cat", "type": "Concat", "position": {"x": 0, "y": 220}}],
        "edges": [{"source": "in", "target": "a"}, {"source": "a", "target": "cat", "port": 0},
                  {"source": "in", "target": "cat", "port": 1}]}
    network = Network.create(user, "Two branches", doc)
    log_in(page, user)
    open_editor(page, network, "0")
    Actions(page).drop_on_edge("Tanh", "in", "cat")
    added(page, "tanh_1")
    edges = page.evaluate("window.netbuilder.documentOf().edges")
    assert edges == [{"source": "in", "target": "a"}, {"source": "a", "target": "cat", "port": 0},
                     {"source": "in", "target": "tanh_1"}, {"source": "tanh_1", "target": "cat", "port": 1}]
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    # One undo takes it out again.
    page.keyboard.press("Control+z")
    page.wait_for_function("() => window.netbuilder.cy.getElementById('tanh_1').empty()")
    assert page.evaluate("window.netbuilder.documentOf().edges") == doc["edges"]
