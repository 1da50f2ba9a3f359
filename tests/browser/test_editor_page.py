"""The editor and home pages in a real browser: graphs are built with the mouse and keyboard as a person
would (palette drags, wiring by the handle under a node, typing into fields). Tests read
`window.netbuilder` only to learn where nodes are drawn and what the canvas holds, never to change it."""

import json
import re

import pytest
from playwright.sync_api import expect

from builder.models import Network

from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"
EDITOR_URL = re.compile(r"/networks/(\d+)/$")


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The example cards come from the page's script, once its buttons work.
    expect(page.get_by_test_id("example-seed_cnn")).to_be_visible()


def open_editor(page, network, total):
    page.goto(f"/networks/{network.id}/")
    expect(page.get_by_test_id("total-params")).to_have_text(total)


def point(page, node_id):
    """Where a node is drawn, in page coordinates."""
    return page.evaluate("""id => {
        const cy = window.netbuilder.cy, node = cy.getElementById(id);
        const box = cy.container().getBoundingClientRect(), at = node.renderedPosition();
        return {x: box.left + at.x, y: box.top + at.y};
    }""", node_id)


def canvas_state(page):
    return page.evaluate("""() => {
        const cy = window.netbuilder.cy;
        return {nodes: cy.nodes().map(n => n.id()), edges: cy.edges().map(e => [e.source().id(), e.target().id()]),
                selected: cy.$(':selected').map(e => e.id())};
    }""")


def caption(page, node_id):
    return page.evaluate("id => window.netbuilder.cy.getElementById(id).data('caption')", node_id)


def drop(page, layer, x, y):
    """Drag a layer from the palette onto the canvas, to (x, y) in the canvas."""
    page.get_by_test_id(f"palette-{layer}").drag_to(page.get_by_test_id("canvas"), target_position={"x": x, "y": y})


def drag_wire(page, source, target):
    """Hover the source node, press the handle under it, move onto the target and let go."""
    start, end = point(page, source), point(page, target)
    page.mouse.move(start["x"], start["y"])
    handle = page.get_by_test_id("edge-handle")
    expect(handle).to_be_visible()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=6)
    page.mouse.up()


def wire(page, source, target):
    drag_wire(page, source, target)
    page.wait_for_function("([s, t]) => window.netbuilder.cy.getElementById(s).edgesTo(window.netbuilder.cy"
                           ".getElementById(t)).length === 1", arg=[source, target])


def click_node(page, node_id, modifiers=None):
    at = point(page, node_id)
    if modifiers:
        page.keyboard.down(modifiers)
    page.mouse.click(at["x"], at["y"])
    if modifiers:
        page.keyboard.up(modifiers)


def select(page, node_id):
    click_node(page, node_id)
    expect(page.get_by_test_id("node-id")).to_have_value(node_id)


def set_param(page, node_id, name, value):
    select(page, node_id)
    page.get_by_test_id(f"param-{name}").fill(value)


def build_classic_cnn(page):
    """From a new network's lone Input: drop the layers of the classic MNIST CNN, wire them, set them up."""
    # The Input node goes to the top of the canvas (a real drag), the other layers into a column below it.
    canvas = page.get_by_test_id("canvas").bounding_box()
    x = canvas["width"] / 2
    start = point(page, "input_1")
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(canvas["x"] + x, canvas["y"] + 50, steps=5)
    page.mouse.up()
    layers = ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    for i, layer in enumerate(layers, start=1):
        drop(page, layer, x, 50 + 95 * i)
    ids = ["input_1", "conv2d_1", "relu_1", "maxpool2d_1", "flatten_1", "linear_1", "relu_2", "linear_2"]
    page.wait_for_function("n => window.netbuilder.cy.nodes().length === n", arg=len(ids))
    assert canvas_state(page)["nodes"] == ids

    for source, target in zip(ids, ids[1:]):
        wire(page, source, target)

    set_param(page, "input_1", "shape", "[1, 28, 28]")
    set_param(page, "conv2d_1", "out_channels", "32")
    page.get_by_test_id("param-kernel_size").fill("3")
    set_param(page, "maxpool2d_1", "kernel_size", "2")
    set_param(page, "linear_1", "out_features", "128")
    set_param(page, "linear_2", "out_features", "10")


def test_the_classic_cnn_is_built_with_the_mouse_checked_saved_and_exported(page, user):
    log_in(page, user)
    page.get_by_test_id("new-network").click()
    expect(page).to_have_url(EDITOR_URL)
    expect(page.get_by_test_id("total-params")).to_have_text("—")  # a lone Input is not a network yet
    assert canvas_state(page)["nodes"] == ["input_1"]

    build_classic_cnn(page)
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert caption(page, "conv2d_1") == "conv2d_1 · Conv2d\n[32, 26, 26] · 320 params"
    assert caption(page, "maxpool2d_1") == "maxpool2d_1 · MaxPool2d\n[32, 13, 13]"
    assert caption(page, "flatten_1") == "flatten_1 · Flatten\n[5408]"
    assert caption(page, "linear_1") == "linear_1 · Dense\n[128] · 692,352 params"
    assert caption(page, "linear_2") == "linear_2 · Dense\n[10] · 1,290 params"
    expect(page.get_by_test_id("fact-shape")).to_have_text("[10]")

    # A kernel larger than the image: the node turns red and the problem is listed, naming it.
    set_param(page, "conv2d_1", "kernel_size", "40")
    problem = page.get_by_test_id("problems").get_by_role("button")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("conv2d_1")
    expect(problem).to_contain_text("Kernel size can't be greater than actual input size")
    expect(page.get_by_test_id("problem-count")).to_have_text("1 problem")
    assert page.evaluate("window.netbuilder.cy.getElementById('conv2d_1').hasClass('error')")
    select(page, "linear_2")
    problem.click()
    expect(page.get_by_test_id("node-id")).to_have_value("conv2d_1")
    page.get_by_test_id("param-kernel_size").fill("3")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    assert not page.evaluate("window.netbuilder.cy.getElementById('conv2d_1').hasClass('error')")

    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 2")
    saved = page.evaluate("window.netbuilder.documentOf()")
    network = Network.objects.get(owner=user)
    assert network.version == 2 and network.graph == saved
    assert network.graph["nodes"][1] == {"id": "conv2d_1", "type": "Conv2d",
                                         "params": {"out_channels": 32, "kernel_size": 3},
                                         "position": network.graph["nodes"][1]["position"]}

    page.reload()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    assert page.evaluate("window.netbuilder.documentOf()") == saved
    assert caption(page, "conv2d_1") == "conv2d_1 · Conv2d\n[32, 26, 26] · 320 params"
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 2")

    page.get_by_test_id("export-code").click()
    modal = page.get_by_test_id("code-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_test_id("code-source")).to_contain_text("nn.Conv2d(1, 32, kernel_size=3)")
    expect(modal.get_by_test_id("code-source")).to_contain_text("nn.Linear(5408, 128)")
    with page.expect_download() as download:
        modal.get_by_test_id("code-download").click()
    assert download.value.suggested_filename == "untitled_network.py"
    assert "class UntitledNetwork(nn.Module):" in download.value.path().read_text()


def test_delete_undo_redo_duplicate_and_multi_select(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    expect(page.get_by_test_id("undo")).to_be_disabled()
    expect(page.get_by_test_id("memory")).to_have_text("24.0 MiB")  # at batch size 32
    page.get_by_test_id("batch-size").fill("64")
    expect(page.get_by_test_id("memory")).to_have_text("37.5 MiB")

    select(page, "fc1")
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("total-params")).to_have_text("—")  # invalid: no partial total
    assert "fc1" not in canvas_state(page)["nodes"]
    expect(page.get_by_test_id("problem-count")).not_to_have_text("No problems")

    # An invalid graph has no code: the export dialog lists its problems.
    page.get_by_test_id("export-code").click()
    expect(page.get_by_test_id("code-errors")).to_be_visible()
    expect(page.get_by_test_id("code-source")).to_be_hidden()
    page.keyboard.press("Escape")

    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    assert len(canvas_state(page)["nodes"]) == 8
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_test_id("total-params")).to_have_text("—")
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    page.keyboard.press("Control+y")
    expect(page.get_by_test_id("total-params")).to_have_text("—")
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(page.get_by_test_id("redo")).to_be_enabled()

    # Shift-click adds to the selection; Ctrl+D duplicates both layers, with fresh ids.
    click_node(page, "act1")
    click_node(page, "act2", modifiers="Shift")
    expect(page.get_by_test_id("inspector")).to_contain_text("2 layers")
    page.keyboard.press("Control+d")
    page.wait_for_function("() => window.netbuilder.cy.nodes().length === 10")
    assert sorted(canvas_state(page)["selected"]) == ["relu_1", "relu_2"]
    page.keyboard.press("Backspace")
    page.wait_for_function("() => window.netbuilder.cy.nodes().length === 8")

    # Shift-drag over the whole graph selects it all.
    canvas = page.get_by_test_id("canvas").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(canvas["x"] + 5, canvas["y"] + 5)
    page.mouse.down()
    page.mouse.move(canvas["x"] + canvas["width"] - 5, canvas["y"] + canvas["height"] - 5, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(page.get_by_test_id("inspector")).to_contain_text("8 layers, 7 connections")

    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-dialog")).to_be_visible()
    expect(page.get_by_test_id("shortcut-list")).to_contain_text("Duplicate the selection")


def test_wiring_refuses_loops_cycles_and_inputs_into_the_input(page, user):
    network = Network.create(user, "Seed CNN", example("seed_cnn"))
    log_in(page, user)
    open_editor(page, network, "693,962")
    before = canvas_state(page)["edges"]
    for source, target in [("out", "in"), ("act2", "conv1"), ("conv1", "act1"), ("act1", "act1")]:
        drag_wire(page, source, target)
        assert canvas_state(page)["edges"] == before
    # A permitted one: a second input into a single-input layer is drawn, and the server objects to it.
    wire(page, "in", "act1")
    expect(page.get_by_test_id("problems")).to_contain_text("takes 1 input, but has 2")


def test_auto_layout_fit_palette_search_and_click(page, user):
    graph = example("seed_cnn")
    for node in graph["nodes"]:
        node["position"] = {"x": 0, "y": 0}  # all on top of each other
    network = Network.create(user, "Piled up", graph)
    log_in(page, user)
    open_editor(page, network, "693,962")

    page.get_by_test_id("layout").click()
    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")
    positions = page.evaluate("window.netbuilder.cy.nodes().map(n => n.position())")
    assert all(a["y"] < b["y"] for a, b in zip(positions, positions[1:]))  # a chain, top to bottom
    assert len({round(p["x"]) for p in positions}) == 1
    in_view = ("() => { const cy = window.netbuilder.cy, e = cy.extent(), b = cy.nodes().boundingBox();"
               " return b.x1 >= e.x1 && b.x2 <= e.x2 && b.y1 >= e.y1 && b.y2 <= e.y2; }")
    assert page.evaluate(in_view)

    # Panning the graph away, then the Fit button or F brings it back into view.
    canvas = page.get_by_test_id("canvas").bounding_box()
    for fit in (lambda: page.get_by_test_id("fit").click(), lambda: page.keyboard.press("f")):
        page.mouse.move(canvas["x"] + 20, canvas["y"] + 20)
        page.mouse.down()
        page.mouse.move(canvas["x"] + canvas["width"] - 20, canvas["y"] + 20, steps=5)
        page.mouse.up()
        assert not page.evaluate(in_view)
        fit()
        page.wait_for_function(in_view)
    page.keyboard.press("l")
    page.wait_for_function("() => window.netbuilder.history.index === 1")  # the same layout: no new step
    page.keyboard.press("Control+z")  # the layout is undone
    page.wait_for_function("() => window.netbuilder.cy.nodes().every(n => n.position('y') === 0)")

    search = page.get_by_test_id("palette-search")
    search.fill("conv")
    expect(page.get_by_test_id("palette-Conv2d")).to_be_visible()
    expect(page.get_by_test_id("palette-Linear")).to_be_hidden()
    search.fill("dense")
    expect(page.get_by_test_id("palette-Linear")).to_be_visible()
    page.get_by_test_id("palette-Linear").click()
    expect(page.get_by_test_id("node-id")).to_have_value("linear_1")
    assert len(canvas_state(page)["nodes"]) == 9


def test_import_export_json_and_rename_in_the_editor(page, user):
    network = Network.create(user, "Blank", {"format": "netgraph", "version": 1, "nodes": [
        {"id": "input_1", "type": "Input", "params": {"shape": [4]}, "position": {"x": 0, "y": 0}}], "edges": []})
    log_in(page, user)
    open_editor(page, network, "—")
    page.get_by_test_id("import-file").set_input_files(files=[{
        "name": "cnn.json", "mimeType": "application/json", "buffer": json.dumps(example("seed_cnn")).encode()}])
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(page.get_by_test_id("network-name")).to_have_value("Blank")
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("—")
    assert canvas_state(page)["nodes"] == ["input_1"]
    page.get_by_test_id("redo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")

    page.get_by_test_id("import-file").set_input_files(files=[{
        "name": "notes.json", "mimeType": "application/json", "buffer": b'{"nodes": 3}'}])
    expect(page.get_by_test_id("notice")).to_contain_text("notes.json is not a graph the editor can open")
    assert len(canvas_state(page)["nodes"]) == 8

    page.get_by_test_id("network-name").fill("My CNN")
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    assert download.value.suggested_filename == "my_cnn.json"
    exported = json.loads(download.value.path().read_text())
    assert exported["name"] == "My CNN"
    assert [n["id"] for n in exported["nodes"]] == [n["id"] for n in example("seed_cnn")["nodes"]]
    assert exported["edges"] == example("seed_cnn")["edges"]

    # Renaming a layer keeps its connections.
    select(page, "conv1")
    page.get_by_test_id("node-id").fill("features")
    page.get_by_test_id("node-id").press("Enter")
    expect(page.get_by_test_id("node-id")).to_have_value("features")
    assert ["in", "features"] in canvas_state(page)["edges"] and ["features", "act1"] in canvas_state(page)["edges"]
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")

    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 2")
    network.refresh_from_db()
    assert network.name == "My CNN" and network.graph["nodes"][1]["id"] == "features"


def test_another_users_network_is_not_found(page, user, other_user):
    network = Network.create(user, "Private", example("seed_cnn"))
    log_in(page, other_user)
    # Through page.request, with the page's session: the browser would log a 404 page as a console error.
    response = page.request.get(f"/networks/{network.id}/")
    assert response.status == 404


def test_starting_from_an_example_opens_it_in_the_editor(page, user):
    log_in(page, user)
    expect(page.get_by_test_id("no-networks")).to_be_visible()
    page.get_by_test_id("example-seed_cnn").click()
    expect(page).to_have_url(EDITOR_URL)
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(page.get_by_test_id("network-name")).to_have_value("Seed CNN")
    network = Network.objects.get(owner=user)
    assert network.graph == example("seed_cnn") and page.url.endswith(f"/networks/{network.id}/")


def test_the_home_page_lists_renames_deletes_and_imports(page, user):
    kept = Network.create(user, "Kept", example("seed_cnn"))
    doomed = Network.create(user, "Doomed", example("lstm_classifier"))
    log_in(page, user)
    rows = page.get_by_test_id("network-row")
    expect(rows).to_have_count(2)
    kept_row = page.locator(f'[data-network-id="{kept.id}"]')
    expect(kept_row.get_by_test_id("train")).to_have_attribute("href", f"/networks/{kept.id}/train/")

    kept_row.get_by_test_id("rename").click()
    page.get_by_test_id("rename-input").fill("Renamed")
    page.get_by_test_id("rename-confirm").click()
    expect(kept_row.get_by_test_id("network-link")).to_have_text("Renamed")
    kept.refresh_from_db()
    assert kept.name == "Renamed"

    rows.filter(has_text="Doomed").get_by_test_id("delete").click()
    expect(page.get_by_test_id("delete-dialog")).to_contain_text("Doomed")
    page.get_by_test_id("delete-confirm").click()
    expect(rows).to_have_count(1)
    assert not Network.objects.filter(id=doomed.id).exists()

    upload = page.get_by_test_id("import-file")
    upload.set_input_files(files=[{"name": "broken.json", "mimeType": "application/json", "buffer": b"{nope"}])
    expect(page.get_by_test_id("home-message")).to_contain_text("broken.json is not valid JSON")
    upload.set_input_files(files=[{"name": "mine.json", "mimeType": "application/json",
                                   "buffer": json.dumps({**example("residual_cnn"), "name": "Mine"}).encode()}])
    expect(page).to_have_url(EDITOR_URL)
    expect(page.get_by_test_id("network-name")).to_have_value("Mine")
    assert Network.objects.filter(owner=user).count() == 2


def test_a_save_over_a_newer_version_is_explained_and_loses_nothing(browser, server, user):
    # Not the `page` fixture: the refused save is a 409, which the browser logs as a console error.
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    try:
        network = Network.create(user, "Shared", example("seed_cnn"))
        log_in(page, user)
        open_editor(page, network, "693,962")
        other = example("seed_cnn")
        other["nodes"][5]["params"]["out_features"] = 64
        network.save_graph(other)  # saved from somewhere else: version 2

        set_param(page, "fc1", "out_features", "256")
        expect(page.get_by_test_id("total-params")).to_have_text("1,387,594")
        page.get_by_test_id("save").click()
        dialog = page.get_by_test_id("conflict-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("saved as version 2")
        expect(page.get_by_test_id("save-status")).to_contain_text("Not saved")
        dialog.get_by_test_id("conflict-overwrite").click()
        expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 3")
        network.refresh_from_db()
        assert network.graph["nodes"][5]["params"]["out_features"] == 256
        assert [e for e in errors if "409" not in e] == []
    finally:
        context.close()


def test_a_cnn_without_flatten_warns_on_its_dense_and_one_click_inserts_the_flatten(page, user):
    doc = example("seed_cnn")
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "flat"]
    doc["edges"] = [e for e in doc["edges"] if "flat" not in (e["source"], e["target"])]
    doc["edges"].append({"source": "pool1", "target": "fc1"})
    network = Network.create(user, "No Flatten", doc)
    log_in(page, user)
    open_editor(page, network, "3,402")

    # It runs (PyTorch allows a Dense on many axes), so it is a warning in amber, not an error in red.
    expect(page.get_by_test_id("problem-count")).to_have_text("1 warning")
    warning = page.get_by_test_id("problems").locator("button.problem")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("node 'fc1' (Dense) gets [32, 13, 13] (C×H×W)")
    assert page.evaluate("""() => { const fc = window.netbuilder.cy.getElementById('fc1');
        return [fc.hasClass('warning'), fc.hasClass('error')]; }""") == [True, False]
    # Each node shows its layout next to its output shape, and each connection the layout it carries.
    label = "id => window.netbuilder.cy.getElementById(id).data('shown')"
    assert page.evaluate(label, "pool1") == "pool1 · MaxPool2d\n[32, 13, 13] C×H×W"
    assert page.evaluate(label, "fc1") == "fc1 · Dense\n[32, 13, 128] C×H×W · 1,792 params"
    assert page.evaluate("() => window.netbuilder.cy.getElementById('pool1').edgesTo("
                         "window.netbuilder.cy.getElementById('fc1')).data('shown')") == "C×H×W"
    select(page, "fc1")
    expect(page.get_by_test_id("fact-layout")).to_have_text("C×H×W")

    page.get_by_test_id("fix").click()
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    edges = canvas_state(page)["edges"]
    assert ["pool1", "flatten_1"] in edges and ["flatten_1", "fc1"] in edges and ["pool1", "fc1"] not in edges
    assert not page.evaluate("window.netbuilder.cy.getElementById('fc1').hasClass('warning')")
    assert page.evaluate(label, "flatten_1") == "flatten_1 · Flatten\n[5408] F"
    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")

    # One undo takes the whole fix back.
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("problem-count")).to_have_text("1 warning")
    assert ["pool1", "fc1"] in canvas_state(page)["edges"] and "flatten_1" not in canvas_state(page)["nodes"]
