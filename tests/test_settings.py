import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update({"DEBUG": "false", **extra})
    return env


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = manage("check", env=production_env())

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_starts_with_debug_off_when_secret_key_is_given():
    result = manage("check", env=production_env(SECRET_KEY="x" * 60))

    assert result.returncode == 0, result.stderr


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
    user = get_user_model().objects.get(username="ada")
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
    assert not get_user_model().objects.filter(username="ada").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_is_a_post_that_ends_the_session(client, django_user_model):
    user = django_user_model.objects.create_user("ada", password="analytical-engine-1843")
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session
