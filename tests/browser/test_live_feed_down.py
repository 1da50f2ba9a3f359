"""While the live feed is down the run view says it is reconnecting, and tries again with a growing delay.

The page's websocket is routed through Playwright: the first connections get what the server answers while
Redis is down (accepted, then closed at once with code 4503: tests/live/test_redis_down.py shows the real
server doing so), and later ones reach the real server.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from builder.models import Network

from tests.browser.feed import fed_run, flood, in_thread
from tests.conftest import PASSWORD
from tests.graphs import example

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = 3  # connections told "unavailable" before the feed comes back


def stored_run(user):
    network = Network.create(user, "digits", example("digits_cnn"))
    run = fed_run(user, network, epochs=2)
    in_thread(flood, run, 2, 1).join()
    return network, run


def test_the_run_view_says_it_is_reconnecting_while_the_feed_is_down(page, user):
    network, run = stored_run(user)
    attempts = []  # when each connection attempt came

    def connection_attempt(socket):
        attempts.append(time.monotonic())
        if len(attempts) <= REFUSED:
            socket.close(code=4503)  # what training/consumers.py answers while Redis is down
        else:
            socket.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/runs/"), connection_attempt)
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/networks/{network.pk}/train/?run={run.pk}")

    notice = page.get_by_test_id("run-connection")
    expect(notice).to_be_visible()
    expect(notice).to_have_text("connection lost, reconnecting…")
    # Back after REFUSED refusals: the notice goes and the stored epochs are plotted.
    page.wait_for_function("() => document.querySelector('[data-testid=chart-epoch-loss]')?.data?.[0]?.x.length === 2",
                           timeout=30_000)
    expect(notice).to_be_hidden()
    assert len(attempts) == REFUSED + 1
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:])]
    assert gaps[-1] > 1.5 * gaps[0], f"no backoff between attempts: {gaps} s"
