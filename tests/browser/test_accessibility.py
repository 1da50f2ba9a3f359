"""axe-core (vendored, static/vendor/axe-core-4.14.1) finds no serious or critical accessibility violation on
the home page, the editor, the dashboard with a run, and a shared run's page."""

import pytest

from builder.models import Network
from training.models import ShareLink

from tests.browser.feed import fed_run, flood, in_thread
from tests.browser.test_dashboard_page import log_in
from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)

AXE = "/static/vendor/axe-core-4.14.1/axe.min.js"
SEVERE = {"serious", "critical"}


def severe_violations(page) -> list[str]:
    page.wait_for_load_state("networkidle")
    page.add_script_tag(url=AXE)  # from the site itself, as the Content-Security-Policy wants
    found = page.evaluate("axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)")
    return [f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(n["target"][0] for n in v["nodes"][:5])
            for v in found if v["impact"] in SEVERE]


def test_the_pages_have_no_serious_or_critical_accessibility_violations(page, user):
    network = Network.create(user, "digits", example("digits_cnn"))
    run = fed_run(user, network, epochs=2)
    in_thread(flood, run, 2, 1).join()
    log_in(page, user)
    problems = {}
    page.goto("/")
    page.get_by_test_id("example-seed_cnn").wait_for()
    problems["home"] = severe_violations(page)
    page.goto(f"/networks/{network.pk}/")
    page.wait_for_function("() => window.netbuilder?.cy.nodes().length > 0")
    problems["editor"] = severe_violations(page)
    page.goto(f"/networks/{network.pk}/train/?run={run.pk}")
    page.wait_for_function("() => document.querySelector('[data-testid=chart-epoch-loss]')?.data?.[0]?.x.length === 2")
    problems["dashboard"] = severe_violations(page)
    _, token = ShareLink.issue(user, version=network.current_version())
    page.goto(f"/s/{token}/")
    page.wait_for_function("() => window.netbuilder?.cy.nodes().length > 0")
    problems["shared"] = severe_violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
