"""Logins are throttled per account and per client address (django-axes): a burst of wrong passwords is
refused after LOGIN_FAILURE_LIMIT, with a page that says why, and the lock ends by itself.

Each test's attempts live in its own rolled-back transaction, so no test locks another out.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def log_in(client, username, password, address="198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client):
    return "_auth_user_id" in client.session


def test_a_burst_of_wrong_passwords_is_refused_after_the_limit(user):
    client = Client()
    statuses = [log_in(client, "ada", f"wrong-{i}").status_code for i in range(20)]  # the burst

    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    # The form answers "wrong password" below the limit; the attempt that reaches it is refused already.
    assert statuses == [200] * (limit - 1) + [429] * (20 - limit + 1)
    response = log_in(client, "ada", PASSWORD)  # the right password no longer helps while locked
    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert "Too many login attempts" in page
    assert "Try again in 15 minutes" in page
    assert 'data-testid="locked-out"' in page


def test_the_account_is_locked_from_every_address(user):
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), "ada", "wrong", address=f"203.0.113.{i + 1}")  # a different address each time
    elsewhere = Client()
    assert log_in(elsewhere, "ada", PASSWORD, address="192.0.2.200").status_code == 429
    assert not logged_in(elsewhere)


def test_an_address_that_guesses_many_accounts_is_locked_for_all_of_them(user, make_user):
    make_user("grace")
    sprayer = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(sprayer, f"nobody-{i}", "wrong", address="198.51.100.99")  # one wrong guess per username
    assert log_in(sprayer, "grace", PASSWORD, address="198.51.100.99").status_code == 429
    assert not logged_in(sprayer)
    other = Client()  # the accounts themselves were not attacked: from elsewhere they still log in
    assert log_in(other, "grace", PASSWORD, address="192.0.2.1").status_code == 302
    assert logged_in(other)


def test_the_lock_expires_after_the_cool_off_time(user):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ada", "wrong")
    assert log_in(client, "ada", PASSWORD).status_code == 429
    # The cool-off counts from the last failure: move every failure back past it instead of waiting.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    response = log_in(client, "ada", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_clears_the_accounts_failures(user):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "ada", "wrong")
    assert log_in(client, "ada", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):  # counting starts again from zero
        assert log_in(client, "ada", "wrong").status_code == 200
    assert log_in(client, "ada", PASSWORD).status_code == 302


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(user, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def via_proxy(client, username, password, forwarded_for):
        # Every request reaches Django from the proxy's address; the proxy appends the client's.
        return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR=forwarded_for)

    for i in range(settings.AXES_FAILURE_LIMIT):
        via_proxy(Client(), f"nobody-{i}", "wrong", f"1.2.3.{i}, 198.51.100.50")  # a made-up first entry
    assert via_proxy(Client(), "ada", PASSWORD, "198.51.100.50").status_code == 429
    neighbour = Client()  # another client behind the same proxy is not locked out with the attacker
    assert via_proxy(neighbour, "ada", PASSWORD, "192.0.2.9").status_code == 302
    assert logged_in(neighbour)
