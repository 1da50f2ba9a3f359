"""The training dashboard in a real browser, against a real Daphne, Redis and Celery worker."""

import json
import re
import time
import zipfile

import pytest
from playwright.sync_api import expect

from builder.models import Network
from training.events import publish
from training.models import Run

from tests.browser.feed import fed_run, flood, in_thread
from tests.graphs import chain, example, mlp, node
from tests.services import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"
FLOWERS_CSV = "sepal,petal,colour,species\n" + "".join(
    f"{1 + i % 5},{2 + i % 3},{'red' if i % 2 else 'blue'},{'a' if i % 3 else 'b'}\n" for i in range(30))
RUN_TIMEOUT = 120_000  # ms: a few digits epochs, on two cores shared with the browser and the server
COUNT_REDRAWS = """
// Plotly assigns window.Plotly once loaded: wrap its drawing calls then, recording when each one happens.
window.__redraws = [];
let plotly;
Object.defineProperty(window, "Plotly", { configurable: true, get: () => plotly, set(value) {
  for (const name of ["newPlot", "react", "extendTraces", "prependTraces", "restyle", "relayout", "update", "redraw"]) {
    const original = value[name];
    value[name] = function (element, ...rest) {
      window.__redraws.push({ at: performance.now(), chart: element.dataset.testid });
      return original.call(this, element, ...rest);
    };
  }
  plotly = value;
} });
"""


def plotted(page, testid, trace=0):
    return page.evaluate(f"document.querySelector('[data-testid={testid}]').data?.[{trace}]?.x.length ?? 0")


def wait_plotted(page, testid, minimum, trace=0, timeout=RUN_TIMEOUT):
    page.wait_for_function(f"() => (document.querySelector('[data-testid={testid}]')?.data?.[{trace}]?.x.length ?? 0)"
                           f" >= {minimum}", timeout=timeout)
    return plotted(page, testid, trace)


@pytest.fixture
def ada(user, worker):
    """Ada herself (not a client), with a worker to run what she starts (tests/conftest.py stops what is left)."""
    return user


def network(user, slug="digits_cnn"):
    graph = mlp(width=4, classes=3) if slug == "iris_mlp" else example(slug)
    return Network.create(user, graph["name"], graph)


def log_in(page, user):
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def start_run(page, net, dataset="digits", **config):
    """A run started through the API with the page's session, as if from another tab."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post("/api/runs", headers={"X-CSRFToken": token}, data={
        "network_id": net.pk, "dataset": dataset, "config": {"epochs": 3, "lr": 3e-3, **config}})
    assert response.status == 201, response.text()
    return response.json()["id"]


def finished_run(page, net, dataset="digits", **config):
    run_id = start_run(page, net, dataset, **config)
    run = wait_until(lambda: (r := Run.objects.get(pk=run_id)).status in Run.FINISHED and r, RUN_TIMEOUT / 1000,
                     f"run {run_id} to finish")
    assert run.status == "succeeded", run.error
    return run_id


def open_dashboard(page, net, run_id=None):
    page.goto(f"/networks/{net.pk}/train/" + (f"?run={run_id}" if run_id else ""))
    expect(page.get_by_test_id("fit-status")).not_to_have_attribute("data-fits", "unknown")


def test_a_fix_is_shown_as_a_diff_saved_as_a_new_version_and_undone_as_another(page, ada):
    graph = example("seed_cnn")
    graph["nodes"][0]["params"]["shape"] = [1, 16, 16]  # no dataset fits: the page falls back to the digits
    net = Network.create(ada, graph["name"], graph)
    log_in(page, ada)
    open_dashboard(page, net)
    expect(page.get_by_test_id("dataset-select")).to_have_value("digits")
    expect(page.get_by_test_id("dataset-preview").locator("canvas")).to_have_count(12)
    expect(page.get_by_test_id("class-counts").locator(".column")).to_have_count(10)
    status = page.get_by_test_id("fit-status")
    expect(status).to_have_attribute("data-fits", "false")
    expect(status).to_contain_text("[1, 16, 16]")
    expect(page.get_by_test_id("start-button")).to_be_disabled()
    page.get_by_test_id("fix-button").click()
    # Nothing is saved until the diff is accepted.
    expect(page.get_by_test_id("fix-diff-in-shape")).to_contain_text("[1,16,16] → [1,8,8]")
    net.refresh_from_db()
    assert net.version == 1
    page.get_by_test_id("fix-apply").click()
    expect(status).to_have_attribute("data-fits", "true")
    expect(page.get_by_test_id("fix-button")).to_be_hidden()
    expect(page.get_by_test_id("start-button")).to_be_enabled()
    expect(page.get_by_test_id("network-summary")).to_contain_text("Version 2")
    expect(page.get_by_test_id("fix-saved")).to_contain_text("Saved as version 2")
    net.refresh_from_db()
    assert net.version == 2 and net.graph["nodes"][0]["params"]["shape"] == [1, 8, 8]
    assert net.current_version().message == "Fit to Digits (8×8): in.shape [1,16,16] → [1,8,8]"
    page.get_by_test_id("fix-undo").click()
    expect(page.get_by_test_id("network-summary")).to_contain_text("Version 3")
    expect(status).to_have_attribute("data-fits", "false")
    net.refresh_from_db()
    assert [v.graph["nodes"][0]["params"]["shape"] for v in net.versions.all()] == [[1, 16, 16], [1, 8, 8],
                                                                                  [1, 16, 16]]
    expect(page.get_by_test_id("editor-link")).to_have_attribute("href", f"/networks/{net.pk}/")


def test_the_first_dataset_offered_is_one_the_network_fits_and_the_settings_survive_a_reload(page, user):
    net = network(user, "iris_mlp")  # Input [4]
    log_in(page, user)
    open_dashboard(page, net)
    expect(page.get_by_test_id("dataset-select")).to_have_value("iris")
    expect(page.get_by_test_id("fit-status")).to_have_attribute("data-fits", "true")
    page.get_by_test_id("config-epochs").fill("7")
    page.get_by_test_id("config-lr").fill("0.05")
    page.reload()
    expect(page.get_by_test_id("config-epochs")).to_have_value("7")
    expect(page.get_by_test_id("config-lr")).to_have_value("0.05")
    other = network(user, "iris_mlp")  # another network keeps its own
    open_dashboard(page, other)
    expect(page.get_by_test_id("config-epochs")).not_to_have_value("7")


def test_every_kind_of_dataset_is_previewed_and_an_upload_is_added_to_the_choices(page, user):
    net = network(user)
    log_in(page, user)
    open_dashboard(page, net)
    choose = page.get_by_test_id("dataset-select").select_option
    preview = page.get_by_test_id("dataset-preview")
    expect(preview.locator("canvas")).to_have_count(12)
    choose("moons")  # straight from the digits' tiles, a point cloud is drawn too
    page.wait_for_function("() => document.querySelector('[data-testid=dataset-preview] .chart')?.data?.length === 2")
    expect(preview.locator(".scatterlayer .point")).to_have_count(300)
    choose("iris")
    expect(preview.locator("tbody tr")).to_have_count(8)
    expect(page.get_by_test_id("dataset-info")).to_have_text("150 samples · tabular 4 · 3 classes")
    expect(page.get_by_test_id("class-counts").locator(".column")).to_have_count(3)
    choose("spirals")
    page.wait_for_function("() => document.querySelector('[data-testid=dataset-preview] .chart')?.data?.length === 2")
    assert page.evaluate("document.querySelector('[data-testid=dataset-preview] .chart').data"
                         ".reduce((n, trace) => n + trace.x.length, 0)") == 300
    choose("sequences")
    expect(preview.locator("svg.sparkline")).to_have_count(12)
    expect(page.get_by_test_id("fit-status")).to_have_attribute("data-fits", "false")

    page.get_by_text("Upload your own data").click()
    page.get_by_test_id("upload-file").set_input_files(files=[{"name": "flowers.csv", "mimeType": "text/csv",
                                                               "buffer": FLOWERS_CSV.encode()}])
    page.get_by_test_id("upload-name").fill("Flowers")
    page.get_by_test_id("upload-target").fill("species")
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("dataset-select").locator("option:checked")).to_have_text("Flowers")
    expect(page.get_by_test_id("dataset-info")).to_contain_text("30 samples · tabular 4 · 2 classes")
    expect(page.get_by_test_id("upload-error")).to_be_hidden()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("dataset-delete").click()
    expect(page.get_by_test_id("dataset-select").locator("option", has_text="Flowers")).to_have_count(0)
    expect(page.get_by_test_id("dataset-select")).to_have_value("digits")


def test_an_upload_that_cannot_be_read_says_why(browser, server, user):
    # Not the `page` fixture: the browser logs the refused upload's 400 as a console error, the one expected here.
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, user)
    open_dashboard(page, network(user))
    page.get_by_text("Upload your own data").click()
    page.get_by_test_id("upload-file").set_input_files(files=[{"name": "one.csv", "mimeType": "text/csv",
                                                               "buffer": b"a,b\n1,2\n3,2\n"}])
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-error")).to_contain_text("the target column 'b' has a single class")
    expect(page.get_by_test_id("upload-submit")).to_be_enabled()
    context.close()
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]


def start_in_page(page, **config):
    for name, value in config.items():
        page.get_by_test_id(f"config-{name}").fill(str(value))
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT)
    return Run.objects.latest("created")


def epochs_plotted(page, testid="chart-epoch-loss"):
    return page.evaluate(f"document.querySelector('[data-testid={testid}]').data[0].x")


def test_a_run_streams_live_and_a_reload_mid_run_shows_the_whole_curve(page, ada):
    net = network(ada)
    log_in(page, ada)
    open_dashboard(page, net)
    expect(page.get_by_test_id("no-runs")).to_be_visible()
    run = start_in_page(page, epochs=200)
    expect(page).to_have_url(f"/networks/{net.pk}/train/?run={run.pk}")
    expect(page.get_by_test_id(f"run-row-{run.pk}")).to_be_visible()

    first = wait_plotted(page, "chart-step-loss", 1)
    wait_plotted(page, "chart-step-loss", first + 100)  # the step losses keep coming
    expect(page.get_by_test_id("run-progress")).to_contain_text(" / 200")
    expect(page.get_by_test_id("run-speed")).to_contain_text("samples/s")
    expect(page.get_by_test_id("run-device")).to_have_text("cpu")
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    seen = wait_plotted(page, "chart-epoch-loss", 5)
    expect(page.get_by_test_id("run-best")).to_contain_text("val acc")  # from the epoch the server marked best

    page.reload()
    wait_plotted(page, "chart-epoch-loss", seen + 1)
    assert epochs_plotted(page)[:seen + 1] == list(range(1, seen + 2))  # from epoch 1, none missing or doubled
    assert plotted(page, "chart-epoch-loss", trace=1) >= seen  # validation loss too
    assert plotted(page, "chart-accuracy", trace=1) >= seen
    assert epochs_plotted(page, "chart-step-loss")[0] == 1
    expect(page.get_by_test_id("run-view")).to_have_attribute("data-run-id", str(run.pk))
    expect(page.get_by_test_id("run-status")).to_have_text("running")


def test_a_running_run_is_stopped_from_the_page(page, ada):
    net = network(ada)
    log_in(page, ada)
    open_dashboard(page, net)
    run = start_in_page(page, epochs=500)
    wait_plotted(page, "chart-epoch-loss", 1)
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled", timeout=15_000)
    expect(page.get_by_test_id("stop-button")).to_be_hidden()
    expect(page.get_by_test_id(f"run-row-{run.pk}")).to_contain_text("cancelled")
    assert Run.objects.get(pk=run.pk).status == "cancelled"

    page.get_by_test_id("resume-button").click()  # from its last checkpoint, on the same charts
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", re.compile("^(queued|running)$"))
    expect(page.get_by_test_id("resume-button")).to_be_hidden()
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled", timeout=15_000)
    epochs = epochs_plotted(page)
    assert epochs == list(range(1, len(epochs) + 1))


def test_two_runs_are_compared_by_their_curves_and_the_settings_that_differ(page, ada):
    net = network(ada)
    log_in(page, ada)
    slow, fast = finished_run(page, net, epochs=2, lr=3e-3), finished_run(page, net, epochs=2, lr=0.01)
    open_dashboard(page, net)
    expect(page.get_by_test_id("compare-panel")).to_be_hidden()
    page.get_by_test_id(f"compare-{slow}").check()
    page.get_by_test_id(f"compare-{fast}").check()
    table = page.get_by_test_id("compare-table")
    expect(table.get_by_test_id("compare-row-lr").locator("td")).to_have_text(["0.01", "0.003"])  # newest first
    # The same in both, so not a difference: the dataset, the epochs, the network version.
    for same in ("dataset", "epochs", "version", "architecture"):
        expect(table.get_by_test_id(f"compare-row-{same}")).to_have_count(0)
    for chart in ("chart-compare-loss", "chart-compare-accuracy"):
        page.wait_for_function(f"() => (el => el.data?.length === 2 && el.data.every(t => t.x.length === 2))"
                               f"(document.querySelector('[data-testid={chart}]'))")
    page.get_by_test_id(f"compare-{fast}").uncheck()
    expect(page.get_by_test_id("compare-panel")).to_be_hidden()

    expect(page.get_by_test_id("run-view")).to_have_attribute("data-run-id", str(fast))  # the newest
    page.get_by_test_id(f"run-row-{slow}").click()
    expect(page.get_by_test_id("run-view")).to_have_attribute("data-run-id", str(slow))
    expect(page).to_have_url(f"/networks/{net.pk}/train/?run={slow}")
    page.get_by_test_id("copy-settings").click()
    expect(page.get_by_test_id("config-lr")).to_have_value("0.003")
    expect(page.get_by_test_id("config-epochs")).to_have_value("2")


def test_a_finished_run_offers_its_downloads(page, ada, tmp_path):
    net = network(ada)
    log_in(page, ada)
    run_id = finished_run(page, net)
    open_dashboard(page, net, run_id)
    for name in ("bundle.zip", "weights.safetensors", "state_dict.pt", "model.onnx", "model.py"):
        expect(page.get_by_test_id(f"download-{name}")).to_be_visible()
    expect(page.get_by_test_id("download-bundle.zip")).to_have_text("Bundle (ZIP)")  # the label /api/protocol gives
    expect(page.get_by_test_id("resume-button")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id("download-bundle.zip").click()
    assert download.value.suggested_filename == f"run{run_id}-bundle.zip"
    download.value.save_as(tmp_path / "bundle.zip")
    names = zipfile.ZipFile(tmp_path / "bundle.zip").namelist()
    assert any(name.endswith("model.py") for name in names) and any(name.endswith(".safetensors") for name in names)


def test_a_drawn_digit_is_predicted_with_class_probabilities(page, ada):
    net = network(ada)
    log_in(page, ada)
    run_id = finished_run(page, net, epochs=6)
    open_dashboard(page, net, run_id)
    canvas = page.get_by_test_id("tryit-canvas")
    canvas.scroll_into_view_if_needed()  # the mouse works in the viewport
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] / 2, box["y"] + 0.15 * box["height"], box["y"] + 0.85 * box["height"]
    page.mouse.move(x - 20, top + 20)  # a "1": a short upstroke, then straight down
    page.mouse.down()
    page.mouse.move(x, top, steps=5)
    page.mouse.move(x, bottom, steps=20)
    page.mouse.up()

    with page.expect_request(f"**/api/runs/{run_id}/predict") as sent:
        page.get_by_test_id("predict-button").click()
    image = json.loads(sent.value.post_data)["x"]
    assert [len(image), len(image[0]), len(image[0][0])] == [1, 8, 8]
    assert 0.9 <= max(max(row) for row in image[0]) <= 1 and min(min(row) for row in image[0]) == 0
    result = page.get_by_test_id("prediction")
    expect(result).to_have_attribute("data-predicted", "1")
    bars = page.get_by_test_id("prediction-bars").locator(".bar-value")
    expect(bars).to_have_count(10)
    assert abs(sum(float(text.rstrip("%")) for text in bars.all_inner_texts()) - 100) < 1

    page.get_by_test_id("tryit-clear").click()
    expect(result).not_to_have_attribute("data-predicted", "1")
    page.mouse.move(x, top)  # another drawing, then a sample: the sample replaces the drawing on the pad
    page.mouse.down()
    page.mouse.move(x, bottom, steps=5)
    page.mouse.up()
    page.get_by_test_id("tryit-sample-0").click()
    expect(result).to_contain_text("label")
    assert page.evaluate("""() => { const c = document.querySelector('[data-testid=tryit-canvas]');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every((v, i) => i % 4 === 3 || v === 0);
    }""")


def test_a_tabular_model_is_tried_with_typed_features(page, ada):
    net = network(ada, "iris_mlp")
    log_in(page, ada)
    run_id = finished_run(page, net, "iris", epochs=30, lr=0.01)
    open_dashboard(page, net, run_id)
    expect(page.get_by_test_id("chart-accuracy")).to_be_visible()
    expect(page.get_by_test_id("tryit-canvas")).to_be_hidden()
    features = page.get_by_test_id("tryit-features").locator("input")
    expect(features).to_have_count(4)
    expect(page.get_by_test_id("tryit-feature-0")).not_to_have_value("")
    for i, value in enumerate([-1.0, 1.0, -1.3, -1.3]):  # standardised measurements of a small flower
        page.get_by_test_id(f"tryit-feature-{i}").fill(str(value))
    page.get_by_test_id("predict-button").click()
    expect(page.get_by_test_id("prediction")).to_have_attribute("data-predicted", "setosa")
    expect(page.get_by_test_id("prediction-bars").locator(".bar")).to_have_count(3)
    page.get_by_test_id("tryit-sample-1").click()
    expect(page.get_by_test_id("prediction")).to_contain_text("label")


def test_a_sequence_model_is_tried_on_its_samples_with_no_pad_promised(page, ada):
    graph = chain(node("in", "Input", shape=[32, 1]), node("flat", "Flatten"), node("out", "Linear", out_features=3))
    net = Network.create(ada, "waves", graph)
    log_in(page, ada)
    run_id = finished_run(page, net, "sequences", epochs=1)
    open_dashboard(page, net, run_id)
    result = page.get_by_test_id("prediction")
    expect(result).to_have_attribute("data-placeholder", re.compile(r"^Pick a validation sample"))
    for hidden in ("tryit-canvas", "predict-button", "tryit-clear"):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    page.get_by_test_id("tryit-sample-0").click()
    expect(result).to_contain_text("label")


def redraw_rate(page, since):
    """Plotly redraws per second of wall time since `since` (performance.now() in the page), and their count."""
    calls, now = page.evaluate(f"[window.__redraws.filter(c => c.at > {since}).length, performance.now()]")
    return calls / ((now - since) / 1000), calls


def test_a_dropped_connection_resumes_after_the_last_event_and_repeats_are_dropped(page, user):
    net = network(user)
    run = fed_run(user, net, epochs=6)
    in_thread(flood, run, 6, 3).join()  # 24 events, stored before the page opens
    urls = []

    def connection(socket):
        urls.append(socket.url)
        server = socket.connect_to_server()
        if len(urls) > 1:
            return  # later connections pass everything through
        forwarded = []

        def forward(message):
            if len(forwarded) == 10:
                return
            forwarded.append(message)
            socket.send(message)
            if len(forwarded) == 5:
                socket.send(forwarded[1])  # an event already delivered, again
            if len(forwarded) == 10:
                socket.close()  # a dropped connection
                server.close()

        server.on_message(forward)

    page.route_web_socket(re.compile(r"/ws/runs/"), connection)
    log_in(page, user)
    open_dashboard(page, net, run.pk)
    wait_plotted(page, "chart-epoch-loss", 6)
    wait_plotted(page, "chart-step-loss", 6 * 3 * 5)
    assert [url.split("?")[1] for url in urls] == ["after=0", "after=10"]
    assert epochs_plotted(page) == [1, 2, 3, 4, 5, 6]
    assert epochs_plotted(page, "chart-step-loss") == list(range(1, 6 * 3 * 5 + 1))


def test_charts_redraw_at_most_ten_times_a_second_however_fast_events_come(page, user):
    epochs, steps = 40, 10
    net = network(user)
    run = fed_run(user, net, epochs)
    page.add_init_script(COUNT_REDRAWS)
    log_in(page, user)
    open_dashboard(page, net, run.pk)
    expect(page.get_by_test_id("run-status")).to_have_text("running")

    since = page.evaluate("performance.now()")
    started = time.monotonic()
    feeder = in_thread(flood, run, epochs, steps)
    wait_plotted(page, "chart-epoch-loss", epochs, timeout=60_000)
    wait_plotted(page, "chart-step-loss", epochs * steps * 5, timeout=10_000)  # every point, none lost
    feeder.join()
    live, calls = redraw_rate(page, since)
    sent = epochs * (steps + 1)
    print(f"\nlive: {sent} events in {time.monotonic() - started:.1f} s ({epochs * (steps + 2)} chart updates), "
          f"{calls} redraws, {live:.1f} redraws per second")
    assert live <= 10.5 and calls < sent / 5

    page.reload()  # the whole stream again, replayed at once
    since = page.evaluate("performance.now()")
    wait_plotted(page, "chart-epoch-loss", epochs)
    wait_plotted(page, "chart-step-loss", epochs * steps * 5)
    replay, calls = redraw_rate(page, since)
    print(f"replay: {sent} events, {calls} redraws, {replay:.1f} redraws per second")
    assert replay <= 10.5 and calls <= 10


def test_runs_of_two_versions_are_compared_with_the_architecture_diff(page, user):
    net = network(user)  # the digits CNN, whose fc1 has 64 units
    narrower = example("digits_cnn")
    next(n for n in narrower["nodes"] if n["id"] == "fc1")["params"]["out_features"] = 7
    net.save_graph(narrower, "narrower")
    runs = [Run.objects.create(owner=user, network=net, version=net.versions.get(number=number), dataset="digits",
                               config={"epochs": 1, "lr": 0.01}, status="failed") for number in (1, 2)]
    log_in(page, user)
    open_dashboard(page, net)
    for run in runs:
        page.get_by_test_id(f"compare-{run.pk}").check()
    table = page.get_by_test_id("compare-table")
    expect(table.get_by_test_id("compare-row-version").locator("td")).to_have_text(["version 2", "version 1"])
    # Newest first: the older run's version is described against the newer one's.
    expect(table.get_by_test_id("compare-row-architecture").locator("td").nth(1)).to_have_text(
        "fc1 · out_features 7 → 64")
    expect(table.get_by_test_id("compare-row-dataset")).to_have_count(0)  # both on the digits


def test_the_runs_table_and_the_charts_follow_the_live_events(page, user):
    net = network(user)
    old = fed_run(user, net, epochs=3)
    in_thread(flood, old, 3, 1).join()
    Run.objects.filter(pk=old.pk).update(status="succeeded")
    new = fed_run(user, net, epochs=3)
    # Queued, and marked handed to Celery so that no worker left by another test takes it.
    Run.objects.filter(pk=new.pk).update(status="queued", dispatched=True)
    log_in(page, user)
    open_dashboard(page, net, old.pk)
    wait_plotted(page, "chart-epoch-loss", 3)
    old_range = page.evaluate("document.querySelector('[data-testid=chart-epoch-loss]')._fullLayout.xaxis.range")

    page.get_by_test_id(f"run-row-{new.pk}").click()  # queued: empty charts, not the previous run's axes
    page.wait_for_function("() => document.querySelector('[data-testid=chart-epoch-loss]')?.data?.[0]?.x.length === 0")
    assert page.evaluate("document.querySelector('[data-testid=chart-epoch-loss]')._fullLayout.xaxis.range") \
        != old_range

    Run.objects.filter(pk=new.pk).update(status="running")  # as the lifecycle does, before it publishes
    in_thread(publish, new, "status", {"status": "running"}).join()
    row = page.get_by_test_id(f"run-row-{new.pk}")
    expect(row.locator(".badge")).to_have_text("running", timeout=1500)  # not the list's 3 s poll
    in_thread(publish, new, "step", {"epoch": 1, "step": 1, "steps_per_epoch": 2, "samples_per_s": 9e3,
                                     "losses": [[1, 2.0]]}).join()
    in_thread(publish, new, "epoch", {"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.4, "val_loss": 1.1,
                                      "val_accuracy": 0.35, "samples_per_s": 9e3, "eta_s": 2}).join()
    expect(row).to_contain_text("1 / 3", timeout=1500)
    wait_plotted(page, "chart-accuracy", 1)
    # One point: the accuracy axis spans 0-100%, and a lone step loss is drawn as a marker.
    assert page.evaluate("document.querySelector('[data-testid=chart-accuracy]')._fullLayout.yaxis.range") == [0, 1]
    wait_plotted(page, "chart-step-loss", 1, trace=1)
    assert "markers" in page.evaluate("document.querySelector('[data-testid=chart-step-loss]').data[1].mode")
