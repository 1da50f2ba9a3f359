"""Accounts: signing up, logging in and out, and what a visitor without a session can reach."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.graphs import mlp
from tests.http import post


def test_login_page_renders(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b"Log in" in response.content
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_signup_creates_a_user_and_logs_them_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "password1": "analytical-engine-1843", "password2": "analytical-engine-1843"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(username="ada")
    assert client.session["_auth_user_id"] == str(user.pk)
    page = client.get("/accounts/login/").content.decode()
    assert "ada" in page
    assert 'action="/accounts/logout/"' in page


@pytest.mark.django_db
def test_signup_rejects_mismatched_passwords(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "password1": "analytical-engine-1843", "password2": "something-else-1843"},
    )

    assert response.status_code == 200
    assert not User.objects.filter(username="ada").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_is_a_post_that_ends_the_session(client, user):
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_every_api_route_needs_a_login():
    anonymous = Client()
    for url in ("/api/layers", "/api/examples", "/api/networks", "/api/networks/1", "/api/graphs/schema"):
        assert anonymous.get(url).status_code == 401, url
    assert post(anonymous, "/api/graphs/validate", mlp()).status_code == 401
    assert anonymous.get("/").status_code == 302  # pages send you to log in


def test_session_writes_need_the_csrf_token(user, client_of):
    client = client_of(user, enforce_csrf_checks=True)
    assert post(client, "/api/networks", {"name": "n", "graph": mlp()}).status_code == 403
    client.get("/accounts/login/")  # sets the CSRF cookie, as a page load does
    token = client.cookies["csrftoken"].value
    response = client.post("/api/networks", json.dumps({"name": "n", "graph": mlp()}),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201
