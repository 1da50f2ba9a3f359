"""The pages through Django's client: only a network's owner sees its dashboard, which sets the CSRF cookie."""

import pytest
from django.test import Client

from builder.models import Network

from tests.graphs import example

pytestmark = pytest.mark.django_db


def test_only_the_owner_sees_a_networks_dashboard(user, other_user, client_of):
    graph = example("digits_cnn")
    net = Network.create(user, graph["name"], graph)
    url = f"/networks/{net.pk}/train/"
    assert client_of(user).get(url).status_code == 200
    assert client_of(other_user).get(url).status_code == 404
    assert client_of(user).get(f"/networks/{net.pk + 1}/train/").status_code == 404
    assert Client().get(url)["Location"].startswith("/accounts/login/")
    assert "csrftoken" in client_of(user).get(url).cookies


def test_no_page_shows_its_template_comments(ada, user):
    from training.models import ShareLink

    net = Network.create(user, "n", example("digits_cnn"))
    _, token = ShareLink.issue(user, version=net.current_version())
    for url in ("/", f"/networks/{net.pk}/", f"/networks/{net.pk}/train/", f"/s/{token}/", "/accounts/login/"):
        page = (Client() if url.startswith(("/s/", "/accounts/")) else ada).get(url).content.decode()
        assert "{#" not in page and "#}" not in page, url
