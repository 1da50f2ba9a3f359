"""Without internet, MNIST and Fashion-MNIST cannot be downloaded: the answer says so plainly, and how to upload
the same data instead. The download is pointed at a closed local port, so the test never depends on the network."""

import socket

import pytest

from tests.graphs import example
from tests.http import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port():
    """A local port that refuses connections: bound once to find a free one, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def offline(settings, tmp_path, closed_port):
    settings.DATASET_CACHE_DIR = tmp_path
    settings.DATASET_DOWNLOADS = True
    settings.DATASET_MIRRORS = {name: f"http://127.0.0.1:{closed_port}/{name}/" for name in ("mnist", "fashion_mnist")}
    return closed_port


@pytest.mark.parametrize("key, title", [("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")])
def test_it_says_the_server_cannot_reach_the_download_host_and_how_to_upload_instead(ada, offline, key, title,
                                                                                       conforms, tmp_path):
    response = ada.get(f"/api/datasets/{key}")
    assert response.status_code == 503
    detail = conforms(response, "/api/datasets/{key}", "get")["detail"]
    assert detail.startswith(f"The server could not download {title} from 127.0.0.1:{offline} (")
    assert "no internet access" in detail and "Upload your own data" in detail
    assert "a ZIP holding the four IDX files (train-images-idx3-ubyte, " in detail
    assert str(tmp_path) not in detail  # no server path
    assert list(tmp_path.rglob("*.part")) == []  # no half file left


def test_the_fit_check_and_a_new_run_answer_the_same(ada, user, offline):
    from builder.models import Network

    network = Network.create(user, "n", example("seed_cnn"))
    fit = post(ada, "/api/datasets/mnist/fit", example("seed_cnn"))
    run = post(ada, "/api/runs", {"network_id": network.pk, "dataset": "mnist"})
    assert fit.status_code == run.status_code == 503
    assert fit.json()["detail"] == run.json()["detail"]


def test_the_list_says_which_idx_sets_open_without_a_download_that_is_off(ada, settings, tmp_path):
    from tests.unit.test_datasets_idx import write_cache

    settings.DATASET_CACHE_DIR, settings.DATASET_DOWNLOADS = tmp_path, False
    write_cache(tmp_path / "fashion_mnist", gz=True)
    ready = {d["key"]: d["ready"] for d in ada.get("/api/datasets").json()}
    assert (ready["mnist"], ready["fashion_mnist"], ready["digits"]) == (False, True, True)
    settings.DATASET_DOWNLOADS = True
    assert all(d["ready"] for d in ada.get("/api/datasets").json())
