"""Seeing inside the network on the run page: layer statistics on the graph with a slider through the records,
warnings on their nodes and a node's histogram; the confusion matrix with per-class precision and recall; the
decision boundary of a classifier of points; and, for a trained run, its misclassified samples and the
sample inspector."""

import pytest
from playwright.sync_api import expect

from builder.graph import Limits, analyze
from builder.models import Network
from training import storage
from training.config import check_config
from training.datasets import load_dataset
from training.engine import build_model
from training.events import publish
from training.models import Run

from tests.browser.feed import in_thread
from tests.browser.test_dashboard_page import finished_run, log_in, network, open_dashboard
from tests.graphs import chain, example, node

pytestmark = pytest.mark.django_db(transaction=True)

NODES = [n["id"] for n in example("digits_cnn")["nodes"]]
TYPES = {n["id"]: n["type"] for n in example("digits_cnn")["nodes"]}


def stats(node_id, step):
    record = {"mean": 0.1 * step, "std": 0.5 + NODES.index(node_id) + step, "min": -1.0, "max": 1.0,
              "histogram": [float(i) for i in range(16)]}
    if TYPES[node_id] == "ReLU":
        record["dead"] = 0.8 if node_id == "act2" else 0.1
    if TYPES[node_id] in ("Conv2d", "Linear"):
        record |= {"grad_norm": 1e-3 * (1 + NODES.index(node_id)), "update_ratio": 1e-3}
    return record


def feed_insight(run, records, epochs):
    """layer_stats and epoch events (with confusion matrices) as a worker with statistics on sends them."""
    for step in range(1, records + 1):
        dead = {"act2": "80% of its units were zero for the whole batch (dead ReLUs)"}
        warnings = dead if step == records else {}
        publish(run, "layer_stats", {"epoch": 1, "step": step * 10, "nodes": {n: stats(n, step) for n in NODES},
                                     "warnings": warnings})
    for epoch in range(1, epochs + 1):
        confusion = [[(epoch * 5 if i == j else 1) for j in range(10)] for i in range(10)]
        confusion[0][1] = 5  # class 0 often taken for class 1
        publish(run, "epoch", {"epoch": epoch, "train_loss": 1 / epoch, "train_accuracy": 0.5, "val_loss": 1.0,
                               "val_accuracy": 0.5, "lr": 1e-3, "samples_per_s": 9e3, "epoch_time_s": 0.1,
                               "eta_s": 1, "best": True, "confusion": confusion})


def fed_run(user, net, dataset="digits"):
    return Run.objects.create(owner=user, network=net, version=net.current_version(), dataset=dataset,
                              dataset_info=load_dataset(dataset).info(), config=check_config({"epochs": 5}),
                              status="running")


def node_value(page, node_id):
    return page.evaluate(f"document.querySelector('[data-testid=layer-graph]').cy.$id('{node_id}').data()")


def test_layer_statistics_colour_the_graph_and_the_slider_scrubs_through_them(page, user):
    net = network(user)
    run = fed_run(user, net)
    in_thread(feed_insight, run, 4, 3).join()
    log_in(page, user)
    open_dashboard(page, net, run.pk)
    panel = page.get_by_test_id("insight-stats")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("stats-record")).to_contain_text("step 40 (record 4 of 4)")
    graph = "document.querySelector('[data-testid=layer-graph]').cy"
    page.wait_for_function(f"() => {graph}.nodes().length === 8 && {graph}.$id('out').data('value') !== null")
    assert node_value(page, "out")["value"] == 0.5 + 7 + 4  # output std, the latest record
    assert node_value(page, "out")["color"] != node_value(page, "in")["color"]

    # The warning is on its node, and listed.
    assert page.evaluate("document.querySelector('[data-testid=layer-graph]').cy.$id('act2').hasClass('warned')")
    expect(page.get_by_test_id("stats-warning-act2")).to_contain_text("dead ReLUs")

    page.get_by_test_id("stats-slider").fill("0")  # the first record: no warning then
    expect(page.get_by_test_id("stats-record")).to_contain_text("step 10 (record 1 of 4)")
    assert node_value(page, "out")["value"] == 0.5 + 7 + 1
    expect(page.get_by_test_id("stats-warning-act2")).to_have_count(0)

    page.get_by_test_id("stat-select").select_option("dead")
    assert node_value(page, "act2")["value"] == 0.8 and node_value(page, "conv1")["value"] is None
    expect(page.get_by_test_id("stats-legend-high")).to_have_text("1")
    page.get_by_test_id("stat-select").select_option("grad_norm")
    assert node_value(page, "fc1")["value"] == pytest.approx(6e-3)

    page.evaluate("document.querySelector('[data-testid=layer-graph]').cy.$id('fc1').emit('tap')")
    histogram = page.get_by_test_id("chart-histogram")
    expect(histogram).to_have_attribute("data-node", "fc1")
    page.wait_for_function("() => document.querySelector('[data-testid=chart-histogram]')?.data?.[0]?.y.length === 16")

    # A live record is appended, and the slider (moved back) stays where it was.
    in_thread(publish_one_more, run).join()
    expect(page.get_by_test_id("stats-record")).to_contain_text("record 1 of 5")


def publish_one_more(run):
    publish(run, "layer_stats", {"epoch": 2, "step": 50, "nodes": {n: stats(n, 5) for n in NODES}, "warnings": {}})


def test_the_confusion_matrix_shows_per_class_precision_and_recall_of_a_chosen_epoch(page, user):
    net = network(user)
    run = fed_run(user, net)
    in_thread(feed_insight, run, 1, 3).join()
    log_in(page, user)
    open_dashboard(page, net, run.pk)
    chart = page.get_by_test_id("chart-confusion")
    expect(chart).to_have_attribute("data-epoch", "3")
    page.wait_for_function("() => document.querySelector('[data-testid=chart-confusion]')?.data?.[0]?.z[0][0] === 15")
    rows = page.get_by_test_id("class-metrics").locator("tbody tr")
    expect(rows).to_have_count(10)
    # Class 0: 15 right of 15 + 1 + 5 + 7 (row 0); predicted 0: 15 of 15 + 9 from the other rows.
    expect(page.get_by_test_id("class-metric-0").locator("td")).to_have_text(["0", "62.5%", "53.6%", "28"])
    page.get_by_test_id("confusion-epoch").select_option("1")
    expect(chart).to_have_attribute("data-epoch", "1")
    expect(page.get_by_test_id("class-metric-1").locator("td").nth(2)).to_have_text(f"{5 / 14:.1%}")


def feed_boundary(run):
    xs = [-1.5 + 0.1 * i for i in range(40)]
    grid = [[int(x > 0) for x in xs] for _ in xs]
    publish(run, "epoch", {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.8, "val_loss": 0.5,
                           "val_accuracy": 0.8, "lr": 1e-3, "samples_per_s": 9e3, "epoch_time_s": 0.1, "eta_s": 1,
                           "best": True, "confusion": [[40, 10], [5, 45]],
                           "boundary": {"x": xs, "y": xs, "predicted": grid,
                                        "confidence": [[0.9] * 40 for _ in xs]}})


def test_a_classifier_of_points_shows_its_decision_boundary_under_the_points(page, user):
    doc = chain(node("in", "Input", shape=[2]), node("fc", "Linear", out_features=8), node("act", "ReLU"),
                node("out", "Linear", out_features=2), name="moons")
    net = Network.create(user, "moons", doc)
    run = fed_run(user, net, "moons")
    storage.delete_run_files(run)  # the test database gives ids again: not another test's files
    storage.write_state(run.checkpoint_path(1), {"model": build_model(analyze(doc, Limits()), 0).state_dict()})
    in_thread(feed_boundary, run).join()
    log_in(page, user)
    open_dashboard(page, net, run.pk)
    boundary = page.get_by_test_id("chart-boundary")
    expect(boundary).to_have_attribute("data-epoch", "1")
    # The map, then the dataset's points, one trace per class.
    page.wait_for_function("() => document.querySelector('[data-testid=chart-boundary]')?.data?.length === 3")
    assert page.evaluate("document.querySelector('[data-testid=chart-boundary]').data[0].z.length") == 40
    assert page.evaluate("document.querySelector('[data-testid=chart-boundary]').data.slice(1)"
                         ".reduce((n, t) => n + t.x.length, 0)") == 500

    # Each unit over the plane, with the run's latest checkpoint.
    page.get_by_test_id("units-load").click()
    expect(page.get_by_test_id("units-fc").locator("canvas")).to_have_count(8)
    expect(page.get_by_test_id("units-out").locator("canvas")).to_have_count(2)
    # and on the graph's nodes, as Playground draws them.
    thumb = "id => document.querySelector('[data-testid=layer-graph]').cy.getElementById(id).data('thumb')"
    assert page.evaluate(thumb, "fc").startswith("data:image/png;base64,")
    assert page.evaluate(thumb, "out").startswith("data:image/png;base64,")
    assert page.evaluate(thumb, "in") is None  # the Input is the plane itself


@pytest.fixture
def ada(user, worker):
    return user


def test_a_trained_run_shows_its_mistakes_and_what_each_layer_outputs_for_a_sample(page, ada):
    net = network(ada)
    log_in(page, ada)
    run_id = finished_run(page, net, epochs=2, layer_stats=True)
    open_dashboard(page, net, run_id)
    expect(page.get_by_test_id("insight-stats")).to_be_visible()  # recorded while it trained
    gallery = page.get_by_test_id("misclassified").locator("figure")
    expect(gallery.first).to_be_visible(timeout=30_000)
    first = gallery.first
    assert first.get_attribute("data-predicted") != first.get_attribute("data-true")
    expect(page.get_by_test_id("misclassified-summary")).to_contain_text("validation samples are misclassified")
    expect(first.locator("canvas")).to_have_count(1)  # the digit itself

    page.get_by_test_id("inspect-sample").fill("2")
    page.get_by_test_id("inspect-button").click()
    expect(page.get_by_test_id("inspect-summary")).to_contain_text("label")
    expect(page.get_by_test_id("inspect-node-conv1")).to_have_attribute("data-kind", "maps")
    expect(page.get_by_test_id("inspect-maps-conv1").locator("canvas")).to_have_count(8)
    expect(page.get_by_test_id("inspect-node-fc1")).to_have_attribute("data-kind", "vector")
    expect(page.get_by_test_id("inspect-filters").locator("canvas")).to_have_count(16)
    page.wait_for_function("() => document.querySelector('[data-testid=inspect-probabilities-chart]')?.data?.[0]"
                           "?.y.length === 10")

    # The drawing of "Try the model", inspected the same way.
    canvas = page.get_by_test_id("tryit-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=10)
    page.mouse.up()
    with page.expect_request(f"**/api/runs/{run_id}/inspect") as sent:
        page.get_by_test_id("inspect-tryit").click()
    assert "x" in sent.value.post_data_json and "sample" not in sent.value.post_data_json
    expect(page.get_by_test_id("inspect-summary")).not_to_contain_text("label")
    expect(page.get_by_test_id("inspect-summary")).to_contain_text("predicted")


def test_a_trained_regressor_plots_its_predictions_against_the_truth(page, user):
    from tests.api.test_looking_inside_runs import SINE_WINDOW, run_of

    doc = chain(node("in", "Input", shape=SINE_WINDOW), node("flat", "Flatten"), node("fc", "Linear", out_features=1),
                name="forecaster")
    run = run_of(user, doc, "sine")  # its weights written, as a worker leaves them
    log_in(page, user)
    page.goto(f"/networks/{run.network_id}/train/?run={run.pk}")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=chart-regression]')?.data?.[0]?.x.length === 200")
    expect(page.get_by_test_id("chart-confusion")).to_be_hidden()
    expect(page.get_by_test_id("misclassified-load")).to_be_hidden()
