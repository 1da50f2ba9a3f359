"""API tokens: issued once, used without a session or CSRF token, scoped to their owner, revocable."""

import json

import pytest
from django.test import Client

from accounts.models import ApiToken

from tests.graphs import mlp

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(user, client_of):
    client = client_of(user, enforce_csrf_checks=True)
    client.get("/accounts/login/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def issue(client, name="laptop"):
    response = client.post("/api/tokens", json.dumps({"name": name}), content_type="application/json")
    assert response.status_code == 201
    return response.json()


def bearer(key):
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_token_works_without_a_session_or_csrf_token(ada):
    token = issue(ada)
    assert token["key"].startswith("nb_") and token["hint"] == token["key"][:10]
    script = bearer(token["key"])
    created = script.post("/api/networks", json.dumps({"name": "from a script", "graph": mlp()}),
                          content_type="application/json")
    assert created.status_code == 201
    assert [n["name"] for n in script.get("/api/networks").json()] == ["from a script"]
    assert ApiToken.objects.get().last_used is not None


def test_the_key_is_shown_once_and_only_its_hash_is_stored(ada):
    token = issue(ada)
    assert "key" not in ada.get("/api/tokens").json()[0]
    assert token["key"] not in str(ApiToken.objects.values_list("digest", "hint").get())


def test_a_revoked_or_unknown_token_is_refused(ada):
    token = issue(ada)
    assert ada.delete(f"/api/tokens/{token['id']}").status_code == 204
    assert bearer(token["key"]).get("/api/networks").status_code == 401
    assert bearer("nb_made-up").get("/api/networks").status_code == 401


def test_it_validates_ownership_of_tokens(ada, mallory):
    token = issue(ada)
    assert mallory.get("/api/tokens").json() == []
    assert mallory.delete(f"/api/tokens/{token['id']}").status_code == 404
    assert bearer(token["key"]).get("/api/tokens").json()[0]["id"] == token["id"]
    ada_network = bearer(token["key"]).post("/api/networks", json.dumps({"name": "n", "graph": mlp()}),
                                            content_type="application/json").json()
    assert mallory.get(f"/api/networks/{ada_network['id']}").status_code == 404
