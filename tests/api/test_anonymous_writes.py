"""An API write without a login gets 401 with a JSON detail, not a CSRF 403; a logged-in session's write
without the CSRF token still gets 403."""

import json

import pytest
from django.test import Client

from tests.graphs import mlp

pytestmark = pytest.mark.django_db

WRITES = [("post", "/api/networks", {"name": "n", "graph": mlp()}), ("post", "/api/graphs/validate", mlp()),
          ("post", "/api/tokens", {"name": "t"}), ("delete", "/api/networks/1", None),
          ("patch", "/api/networks/1", {"name": "m"}), ("post", "/api/runs", {})]


def send(client, method, url, body, **extra):
    return getattr(client, method)(url, json.dumps(body) if body is not None else "",
                                   content_type="application/json", **extra)


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_an_anonymous_write_gets_401_with_a_detail(method, url, body):
    anonymous = Client(enforce_csrf_checks=True)  # as a browser's request is checked
    response = send(anonymous, method, url, body)
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Unauthorized"}


def test_an_anonymous_write_with_a_stale_session_cookie_gets_401():
    anonymous = Client(enforce_csrf_checks=True)
    anonymous.cookies["sessionid"] = "no-such-session"
    assert send(anonymous, "post", "/api/networks", {"name": "n", "graph": mlp()}).status_code == 401


def test_a_logged_in_write_without_the_csrf_token_still_gets_403(user, client_of):
    client = client_of(user, enforce_csrf_checks=True)
    response = send(client, "post", "/api/networks", {"name": "n", "graph": mlp()})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}
    client.get("/accounts/login/")  # the page sets the CSRF cookie
    response = send(client, "post", "/api/networks", {"name": "n", "graph": mlp()},
                    headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert response.status_code == 201


def test_a_token_write_needs_no_csrf_token(user):
    from accounts.models import ApiToken

    _, key = ApiToken.issue(user, "script")
    client = Client(enforce_csrf_checks=True)
    response = send(client, "post", "/api/networks", {"name": "n", "graph": mlp()},
                    headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201
