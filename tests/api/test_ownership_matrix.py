"""Every URL, generated from the URL configuration: another user learns nothing, an anonymous one must log in.

A route added without a case here fails `test_every_route_is_covered`, so no endpoint escapes the matrix.
"""

import json

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.models import ApiToken
from builder.models import Network
from training.models import Run, ShareLink, UploadedDataset
from training.routing import websocket_urlpatterns

from tests.graphs import example

pytestmark = pytest.mark.django_db

# Open to anyone: logging in, signing up, resetting a password, and the API's own description.
PUBLIC = {"login", "logout", "signup", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete", "openapi-json", "openapi-view", "api-root",
          "shared"}  # a share link's page, for anyone with its token: tests/api/test_share_links.py
# Django's own pages for a logged-in user about themselves (no object of anyone else's in the URL).
SELF = {"password_change", "password_change_done"}

# name: (method, URL template, body). {network}, {run}, {dataset}, {token}, {version}, {share} are Ada's objects.
CASES = {
    "home": ("GET", "/", None),
    "editor": ("GET", "/networks/{network}/", None),
    "dashboard": ("GET", "/networks/{network}/train/", None),
    "layers": ("GET", "/api/layers", None),
    "graph_schema": ("GET", "/api/graphs/schema", None),
    "examples": ("GET", "/api/examples", None),
    "validate_graph": ("POST", "/api/graphs/validate", example("seed_cnn")),
    "export_graph": ("POST", "/api/graphs/export", example("seed_cnn")),
    "list_networks": ("GET", "/api/networks", None),
    "create_network": ("POST", "/api/networks", {"name": "n", "graph": example("seed_cnn")}),
    "get_network": ("GET", "/api/networks/{network}", None),
    "update_network": ("PATCH", "/api/networks/{network}", {"name": "stolen"}),
    "delete_network": ("DELETE", "/api/networks/{network}", None),
    "list_versions": ("GET", "/api/networks/{network}/versions", None),
    "get_version": ("GET", "/api/networks/{network}/versions/{version}", None),
    "diff_versions": ("GET", "/api/networks/{network}/diff?a={version}&b={version}", None),
    "export_network": ("GET", "/api/networks/{network}/export", None),
    "list_datasets": ("GET", "/api/datasets", None),
    "upload_dataset": ("POST", "/api/datasets", None),
    "import_network": ("POST", "/api/networks/import", None),
    "get_dataset": ("GET", "/api/datasets/{dataset}", None),
    "delete_dataset": ("DELETE", "/api/datasets/{dataset}", None),
    "fit": ("POST", "/api/datasets/{dataset}/fit", example("seed_cnn")),
    "training_config": ("GET", "/api/training/config", None),
    "run_protocol": ("GET", "/api/protocol", None),
    "create_run": ("POST", "/api/runs", {"network_id": "{network}", "dataset": "digits"}),
    "list_runs": ("GET", "/api/runs", None),
    "get_run": ("GET", "/api/runs/{run}", None),
    "run_events": ("GET", "/api/runs/{run}/events", None),
    "cancel_run": ("POST", "/api/runs/{run}/cancel", None),
    "resume_run": ("POST", "/api/runs/{run}/resume", None),
    "checkpoints": ("GET", "/api/runs/{run}/checkpoints", None),
    "fork_run": ("POST", "/api/runs/{run}/fork", {}),
    "download": ("GET", "/api/runs/{run}/files/model.py", None),
    "samples": ("GET", "/api/runs/{run}/samples", None),
    "predict": ("POST", "/api/runs/{run}/predict", {"x": [[[0.0] * 8] * 8]}),
    "inspect": ("POST", "/api/runs/{run}/inspect", {"sample": 0}),
    "misclassified": ("GET", "/api/runs/{run}/misclassified", None),
    "predictions": ("GET", "/api/runs/{run}/predictions", None),
    "units": ("GET", "/api/runs/{run}/units", None),
    "list_tokens": ("GET", "/api/tokens", None),
    "create_token": ("POST", "/api/tokens", {"name": "t"}),
    "revoke_token": ("DELETE", "/api/tokens/{token}", None),
    "workers": ("GET", "/api/workers", None),
    "create_share": ("POST", "/api/shares", {"network_id": "{network}"}),
    "list_shares": ("GET", "/api/shares", None),
    "revoke_share": ("DELETE", "/api/shares/{share}", None),
}
WEBSOCKETS = {"ws/runs/<int:run_id>/": "tests/test_runs.py::test_only_the_owner_can_open_a_runs_websocket"}
MISSING = {"network": 999999, "run": 999999, "dataset": "upload-999999", "token": 999999, "version": 1,
           "share": 999999}


def route_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) != "admin/":  # Django's admin checks staff status itself
                yield from route_names(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield pattern.name


def test_every_route_is_covered():
    names = set(route_names(get_resolver().url_patterns))
    assert names - PUBLIC - SELF - set(CASES) == set(), "routes without an ownership case"
    assert set(CASES) <= names, "cases for routes that no longer exist"
    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WEBSOCKETS)


@pytest.fixture
def owned(user):
    """Ada's objects, one of each kind."""
    ada = user
    network = Network.create(ada, "mine", example("digits_cnn"))
    run = Run.objects.create(owner=ada, network=network, version=network.current_version(), dataset="digits",
                             config={}, status="succeeded", artifacts={"files": {"model.py": 1}})
    upload = UploadedDataset.objects.create(owner=ada, name="mine", kind="csv", info={},
                                            file=ContentFile(b"a,b\n1,2\n", name="mine.csv"))
    token, _ = ApiToken.issue(ada, "mine")
    share, _ = ShareLink.issue(ada, version=network.current_version())
    return {"network": network.pk, "run": run.pk, "dataset": upload.key, "token": token.pk, "version": 1,
            "share": share.pk}


def request(client, name, objects):
    method, template, body = CASES[name]
    url = template.format(**objects)
    if body is None:
        return client.generic(method, url)
    text = json.dumps(body).replace('"{network}"', str(objects["network"]))
    return client.generic(method, url, text, content_type="application/json")


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_anonymous_user_is_asked_to_log_in(name, owned):
    response = request(Client(), name, owned)
    if CASES[name][1].startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if "{" in case[1]))
def test_another_user_learns_nothing_about_an_object(name, owned, mallory):
    theirs, missing = request(mallory, name, owned), request(mallory, name, MISSING)
    assert theirs.status_code in (403, 404)
    # The answer may repeat the id that was asked for, and nothing else.
    said = theirs.content.decode()
    for key, value in owned.items():
        said = said.replace(f"'{value}'", f"'{MISSING[key]}'")
    assert (theirs.status_code, said) == (missing.status_code, missing.content.decode())
    assert Network.objects.get(pk=owned["network"]).name == "mine"
    assert UploadedDataset.objects.filter(pk=int(owned["dataset"].split("-")[1])).exists()
    assert not ApiToken.objects.get(pk=owned["token"]).revoked
    assert not ShareLink.objects.get(pk=owned["share"]).revoked
