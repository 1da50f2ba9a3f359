"""Share links in a real browser: made from the dashboard, opened logged out, revoked."""

import pytest
from playwright.sync_api import expect

from builder.models import Network
from training.config import check_config
from training.datasets import load_dataset
from training.models import Run

from tests.browser.test_dashboard_page import log_in
from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)


def finished_run(user, net, epochs=3):
    """A succeeded run with the events a worker would have stored (no worker needed)."""
    run = Run.objects.create(owner=user, network=net, version=net.current_version(), dataset="digits",
                             dataset_info=load_dataset("digits").info(), config=check_config({"epochs": epochs}),
                             status="succeeded", epochs_done=epochs, best_metrics={"val_accuracy": 0.9})
    for epoch in range(1, epochs + 1):
        run.add_event("step", {"epoch": epoch, "step": 1, "steps_per_epoch": 1, "samples_per_s": 9e3,
                               "losses": [[epoch, 2 / epoch]]})
        run.add_event("epoch", {"epoch": epoch, "train_loss": 1 / epoch, "train_accuracy": 0.5 + epoch / 10,
                                "val_loss": 1.1 / epoch, "val_accuracy": 0.45 + epoch / 10})
    return run


def test_a_shared_run_opens_read_only_without_an_account_until_revoked(page, browser, server, make_user):
    user = make_user("owner_grace", email="grace@example.org")
    graph = example("digits_cnn")
    net = Network.create(user, "Ada's digits", graph)
    run = finished_run(user, net)
    log_in(page, user)
    page.goto(f"/networks/{net.pk}/train/?run={run.pk}")
    page.get_by_test_id("share-run").click()
    page.get_by_test_id("share-create").click()
    url = page.get_by_test_id("share-url").input_value()
    assert url.startswith(server.url + "/s/")
    expect(page.get_by_test_id("share-list").locator("li")).to_have_count(1)

    stranger = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    errors = []
    visit = stranger.new_page()
    visit.on("console", lambda message: message.type == "error" and errors.append(message.text))
    visit.on("pageerror", lambda error: errors.append(str(error)))
    asked = []
    visit.on("request", lambda request: asked.append(request.url))
    visit.goto(url)
    expect(visit.get_by_test_id("shared-title")).to_contain_text("Ada's digits")
    visit.wait_for_function("() => window.netbuilder?.cy.nodes().length > 0")
    assert visit.evaluate("window.netbuilder.cy.nodes().length") == len(graph["nodes"])
    assert visit.evaluate("window.netbuilder.cy.autoungrabify() && window.netbuilder.cy.autounselectify()")
    visit.wait_for_function("() => document.querySelector('[data-testid=chart-accuracy]')?.data?.[1]?.x.length === 3")
    assert visit.evaluate("document.querySelector('[data-testid=chart-accuracy]').layout.yaxis.range") == [0, 1]
    expect(visit.get_by_test_id("setting-epochs")).to_contain_text("3")
    expect(visit.get_by_test_id("shared-code")).to_contain_text("import torch")
    expect(visit.get_by_test_id("run-best")).to_contain_text("90.0%")
    for secret in (user.username, user.email):
        expect(visit.locator("body")).not_to_contain_text(secret)
    assert not any("/api/" in address or "/ws/" in address for address in asked), asked
    assert errors == []

    link_id = Run.objects.get(pk=run.pk).share_links.get().pk
    page.get_by_test_id(f"share-revoke-{link_id}").click()
    expect(page.get_by_test_id("share-list")).to_contain_text("No link works now")
    assert visit.request.get(url).status == 404
    stranger.close()


def test_the_editor_shares_the_saved_version(page, browser, server, user):
    net = Network.create(user, "Ada's digits", example("digits_cnn"))
    net.save_graph(example("digits_cnn"), "second")
    log_in(page, user)
    page.goto(f"/networks/{net.pk}/")
    page.get_by_test_id("share").click()
    page.get_by_test_id("share-create").click()
    url = page.get_by_test_id("share-url").input_value()
    expect(page.get_by_test_id("share-list")).to_contain_text("Version 2")
    visit = browser.new_context(base_url=server.url).new_page()
    visit.goto(url)
    expect(visit.get_by_test_id("shared-title")).to_contain_text("v2")
    expect(visit.get_by_test_id("shared-run")).to_have_count(0)
    visit.context.close()
