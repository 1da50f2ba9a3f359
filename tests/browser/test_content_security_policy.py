"""Every page is sent with a Content-Security-Policy that forbids inline script, and works under it: the pages
load, draw their canvas and charts, and no CSP violation is reported (the `page` fixture also fails the test on
the console error each violation prints)."""

import pytest
from playwright.sync_api import expect

from builder.models import Network
from training.models import ShareLink

from tests.browser.feed import fed_run, flood, in_thread
from tests.conftest import PASSWORD
from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)

# Recorded from the document's start: the securitypolicyviolation events the page sees.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"no Content-Security-Policy on {response.url}"
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_strict(policy):
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    assert_strict(policy_of(response))
    return response


def no_violations(page):
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []


def a_run_with_a_curve(user, network):
    run = fed_run(user, network, epochs=3)
    in_thread(flood, run, 3, 1).join()
    return run


def test_every_page_sends_a_strict_policy_and_works_under_it(page, user):
    network = Network.create(user, "digits", example("digits_cnn"))
    run = a_run_with_a_curve(user, network)
    page.add_init_script(RECORD_VIOLATIONS)

    visit(page, "/accounts/signup/")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()
    no_violations(page)

    visit(page, "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    visit(page, "/")  # home: its example cards come from its module script
    expect(page.get_by_test_id("example-seed_cnn")).to_be_visible()
    no_violations(page)

    visit(page, f"/networks/{network.pk}/")  # the editor: Cytoscape draws the graph
    expect(page.get_by_test_id("total-params")).not_to_have_text("…")
    assert page.evaluate("window.netbuilder.cy.nodes().length") == len(example("digits_cnn")["nodes"])
    expect(page.get_by_test_id("canvas")).to_be_visible()  # its size comes from the page's stylesheet
    assert page.evaluate("document.querySelector('[data-testid=canvas] canvas').height") > 100
    no_violations(page)

    visit(page, "/api/docs")  # django-ninja's Swagger UI, served locally
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Netbuilder API")
    no_violations(page)

    visit(page, f"/networks/{network.pk}/train/?run={run.pk}")  # the dashboard: Plotly draws the curves
    page.wait_for_function("() => document.querySelector('[data-testid=chart-epoch-loss]')?.data?.[0]?.x.length === 3")
    expect(page.get_by_test_id("chart-epoch-loss").locator(".main-svg").first).to_be_visible()
    # Bars sized by the page's script: their style is set through the CSSOM, which the policy allows.
    expect(page.get_by_test_id("class-counts").locator(".column-fill").first).to_be_attached()
    assert page.evaluate("document.querySelector('[data-testid=class-counts] .column-fill').style.height") != ""
    # Plotly's stylesheet came from the file, not from a <style> it injected: its rules apply.
    assert page.evaluate("getComputedStyle(document.querySelector('.js-plotly-plot .plotly .main-svg')).position") \
        == "absolute"
    no_violations(page)

    _, token = ShareLink.issue(user, run=run)
    visit(page, f"/s/{token}/")  # a shared run: the editor's canvas read-only and the run's charts
    page.wait_for_function("() => document.querySelector('[data-testid=chart-epoch-loss]')?.data?.[0]?.x.length === 3")
    assert page.evaluate("window.netbuilder.cy.nodes().length") == len(example("digits_cnn")["nodes"])
    no_violations(page)


def test_an_inline_script_is_refused(browser, server):
    """The policy is enforced, not just sent: a script slipped into a page does not run. (Its own tab: the
    console error the refusal prints is expected here, where the `page` fixture would fail on it.)"""
    context = browser.new_context(base_url=server.url)
    try:
        tab = context.new_page()
        tab.add_init_script(RECORD_VIOLATIONS)
        visit(tab, "/accounts/login/")
        tab.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.ran = true";
            document.body.append(script);
            document.body.setAttribute("onclick", "window.ran = true");
            document.body.click();
        }""")
        tab.wait_for_function("() => window.__violations.length >= 2")
        assert tab.evaluate("window.ran") is None
        assert all(v.startswith("script-src") for v in tab.evaluate("window.__violations"))
    finally:
        context.close()
