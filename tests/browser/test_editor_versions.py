"""The version history in the editor, in a real browser: every saved version listed with its time and message,
any one opened read-only and restored as a new version, and the architecture diff of two painted on the
canvas with the changed parameters listed."""

import json

import pytest
from playwright.sync_api import expect

from builder.models import Network

from tests.graphs import example

from .test_editor_page import canvas_state, log_in, open_editor, point, select

pytestmark = pytest.mark.django_db(transaction=True)


def history_of_three(user):
    """Version 1: the seed CNN; 2: fc1 narrower; 3: act2 swapped for a Dropout."""
    network = Network.create(user, "Seed CNN", example("seed_cnn"), "first")
    narrower = example("seed_cnn")
    next(n for n in narrower["nodes"] if n["id"] == "fc1")["params"]["out_features"] = 64
    network.save_graph(narrower, "narrower")
    dropout = json.loads(json.dumps(narrower))
    next(n for n in dropout["nodes"] if n["id"] == "act2").update(id="drop", type="Dropout")
    for edge in dropout["edges"]:
        edge.update({key: "drop" for key in ("source", "target") if edge[key] == "act2"})
    network.save_graph(dropout, "")
    return network


def unplaced(graph):
    return [{key: value for key, value in node.items() if key != "position"} for node in graph["nodes"]]


def test_every_version_is_listed_and_one_opens_read_only(page, user):
    network = history_of_three(user)
    log_in(page, user)
    open_editor(page, network, "347,146")
    select(page, "fc1")
    page.get_by_test_id("node-label").fill("hidden")  # an edit not saved yet: viewing must not lose it
    page.get_by_test_id("history").click()
    rows = page.get_by_test_id("version-list").locator("li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Version 3")
    expect(rows.nth(0)).to_contain_text("No message")
    expect(page.get_by_test_id("version-2")).to_contain_text("narrower")
    expect(page.get_by_test_id("version-1")).to_contain_text("first")
    expect(page.get_by_test_id("version-1").locator("time")).not_to_be_empty()

    page.get_by_test_id("open-version-1").click()
    expect(page.get_by_test_id("view-banner-text")).to_have_text("Viewing version 1 (read-only)")
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    # Nothing edits: not the keyboard, the inspector, the palette, wiring or dragging.
    select(page, "fc1")
    expect(page.get_by_test_id("param-out_features")).to_be_disabled()
    expect(page.get_by_test_id("delete")).to_be_disabled()
    page.keyboard.press("Delete")
    page.keyboard.press("Control+z")
    page.get_by_test_id("palette-ReLU").click(force=True)
    start = point(page, "fc1")
    page.mouse.move(start["x"], start["y"])
    expect(page.get_by_test_id("edge-handle")).to_be_hidden()  # no wiring
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(start["x"] + 120, start["y"] + 40, steps=4)
    page.mouse.up()
    assert page.evaluate("window.netbuilder.cy.getElementById('fc1').position()") == \
        next(n for n in example("seed_cnn")["nodes"] if n["id"] == "fc1")["position"]
    assert len(canvas_state(page)["nodes"]) == 8 and len(canvas_state(page)["edges"]) == 7
    assert "act2" in canvas_state(page)["nodes"]

    # Back to the graph being edited, as it was, its unsaved edit included (the undo pressed meanwhile did nothing).
    page.get_by_test_id("back-to-latest").click()
    expect(page.get_by_test_id("view-banner")).to_be_hidden()
    expect(page.get_by_test_id("total-params")).to_have_text("347,146")
    assert "drop" in canvas_state(page)["nodes"]
    assert page.evaluate("window.netbuilder.cy.getElementById('fc1').data('label')") == "hidden"
    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")
    assert page.evaluate("window.netbuilder.history.index") == 1
    network.refresh_from_db()
    assert network.version == 3


def test_a_version_is_restored_as_a_new_version_and_nothing_is_lost(page, user):
    network = history_of_three(user)
    log_in(page, user)
    open_editor(page, network, "347,146")
    page.get_by_test_id("history").click()
    page.get_by_test_id("open-version-1").click()
    expect(page.get_by_test_id("view-banner-text")).to_have_text("Viewing version 1 (read-only)")
    page.get_by_test_id("restore-version").click()
    expect(page.get_by_test_id("save-status")).to_have_text("Saved · version 4")
    expect(page.get_by_test_id("view-banner")).to_be_hidden()
    expect(page.get_by_test_id("total-params")).to_have_text("693,962")
    expect(page.get_by_test_id("version-4")).to_contain_text("Restored version 1")
    network.refresh_from_db()
    restored = network.versions.get(number=4)
    assert restored.message == "Restored version 1"
    assert unplaced(restored.graph) == unplaced(example("seed_cnn"))
    assert restored.graph["edges"] == example("seed_cnn")["edges"]
    assert network.versions.count() == 4  # versions 1 to 3 are still there
    # The restore is one undo step: the graph from before it comes back (unsaved).
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("total-params")).to_have_text("347,146")
    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")


def test_the_diff_of_two_versions_is_painted_on_the_canvas_and_listed(page, user):
    network = history_of_three(user)
    log_in(page, user)
    open_editor(page, network, "347,146")
    page.get_by_test_id("history").click()
    expect(page.get_by_test_id("version-1")).to_be_visible()
    page.get_by_test_id("diff-from").select_option("1")
    page.get_by_test_id("diff-to").select_option("3")
    page.get_by_test_id("show-diff").click()
    expect(page.get_by_test_id("view-banner-text")).to_have_text("Comparing version 1 with version 3 (read-only)")
    expect(page.get_by_test_id("restore-version")).to_be_hidden()
    listed = page.get_by_test_id("diff-list")
    expect(listed).to_contain_text("drop (Dropout) added")
    expect(listed).to_contain_text("act2 (ReLU) removed")
    expect(listed).to_contain_text("fc1 · out_features 128 → 64")
    expect(listed).to_contain_text("connection fc1 → drop added")
    classes = page.evaluate("""() => Object.fromEntries(['drop', 'act2', 'fc1', 'conv1'].map(id => {
        const node = window.netbuilder.cy.getElementById(id);
        return [id, ['diff-added', 'diff-removed', 'diff-changed'].filter(c => node.hasClass(c))];
    }))""")
    assert classes == {"drop": ["diff-added"], "act2": ["diff-removed"], "fc1": ["diff-changed"], "conv1": []}
    added_edges = page.evaluate("window.netbuilder.cy.edges('.diff-added')"
                                ".map(e => [e.source().id(), e.target().id()])")
    assert sorted(added_edges) == [["drop", "out"], ["fc1", "drop"]]
    # The ghost of the removed layer is drawn, but is not part of the graph.
    assert "act2" not in [n["id"] for n in page.evaluate("window.netbuilder.documentOf()")["nodes"]]
    expect(page.get_by_test_id("total-params")).to_have_text("347,146")

    page.get_by_test_id("back-to-latest").click()
    expect(page.get_by_test_id("diff-list")).to_be_hidden()
    assert page.evaluate("window.netbuilder.cy.$('.diff-added, .diff-removed, .diff-changed').length") == 0
