"""The datasets API: built-ins with previews, uploads with limits and clear errors, fit checks, ownership."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.graphs import chain, example, node

pytestmark = pytest.mark.django_db

CSV = "sepal,petal,colour,species\n" + "".join(
    f"{1 + i % 5},{2 + i % 3},{'red' if i % 2 else 'blue'},{'a' if i % 3 else 'b'}\n" for i in range(30))


def upload(client, filename, content, **fields):
    return client.post("/api/datasets", {"file": SimpleUploadedFile(filename, content), **fields})


def test_the_builtin_datasets_are_listed_with_a_preview(ada):
    keys = [d["key"] for d in ada.get("/api/datasets").json()]
    assert {"digits", "iris", "spirals", "moons", "circles", "xor", "sine", "sequences", "mnist",
            "fashion_mnist"} <= set(keys)
    digits = ada.get("/api/datasets/digits").json()
    assert digits["info"]["input_shape"] == [1, 8, 8] and digits["info"]["num_classes"] == 10
    assert len(digits["preview"]["samples"]) == 8 and sum(digits["preview"]["class_counts"].values()) == 1797
    assert ada.get("/api/datasets/nope").status_code == 404


def test_a_csv_upload_is_parsed_previewed_and_owned(ada, mallory):
    response = upload(ada, "flowers.csv", CSV.encode(), target="species", name="Flowers")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Flowers" and body["info"]["classes"] == ["a", "b"]
    assert body["info"]["input_shape"] == [4]  # two numeric columns, one text column one-hot encoded
    assert body["preview"]["class_counts"] == {"a": 20, "b": 10}
    key = body["key"]
    assert key in [d["key"] for d in ada.get("/api/datasets").json()]
    assert mallory.get(f"/api/datasets/{key}").status_code == 404
    assert mallory.delete(f"/api/datasets/{key}").status_code == 404
    assert key not in [d["key"] for d in mallory.get("/api/datasets").json()]
    assert ada.delete(f"/api/datasets/{key}").status_code == 204
    assert ada.get(f"/api/datasets/{key}").status_code == 404


@pytest.mark.parametrize("name, content, fields, words", [
    ("flowers.csv", CSV.encode(), {"target": "colour_of_sky"}, "colour_of_sky"),
    ("empty.csv", b"", {}, "empty"),
    ("data.npz", b"not a zip", {}, ""),
])
def test_a_bad_upload_gets_a_400_that_names_the_problem(ada, name, content, fields, words):
    response = upload(ada, name, content, **fields)
    assert response.status_code == 400
    assert words in response.json()["detail"] and "Traceback" not in response.json()["detail"]


def test_an_upload_over_the_size_limit_is_refused(ada, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = upload(ada, "flowers.csv", CSV.encode())
    assert response.status_code == 413 and "limited to 100 bytes" in response.json()["detail"]


def test_the_fit_check_suggests_the_fixes(ada):
    doc = chain(node("in", "Input", shape=[1, 28, 28]), node("flat", "Flatten"), node("out", "Linear", out_features=3))
    verdict = ada.post("/api/datasets/digits/fit", json.dumps(doc), content_type="application/json").json()
    assert not verdict["fits"]
    fixes = {(f["node"], f["param"]): f["value"] for f in verdict["fixes"]}
    assert fixes == {("in", "shape"): [1, 8, 8], ("out", "out_features"): 10}
    good = ada.post("/api/datasets/digits/fit", json.dumps(example("digits_cnn")), content_type="application/json")
    assert good.json() == {"fits": True, "problems": [], "fixes": []}


def test_upload_limits_come_from_the_settings(ada, settings):
    settings.UPLOAD_MAX_CSV_ROWS = 10
    response = upload(ada, "flowers.csv", CSV.encode(), target="species")
    assert response.status_code == 400 and "10" in response.json()["detail"]


def test_datasets_say_how_their_samples_look_and_previews_can_be_larger(ada):
    kinds = {d["key"]: d["kind"] for d in ada.get("/api/datasets").json()}
    assert (kinds["digits"], kinds["iris"], kinds["spirals"], kinds["sine"], kinds["mnist"]) == \
        ("image", "tabular", "points", "sequence", "image")
    spirals = ada.get("/api/datasets/spirals?n=300").json()
    assert spirals["kind"] == "points" and len(spirals["preview"]["samples"]) == 300
    assert len(ada.get("/api/datasets/spirals?n=100000").json()["preview"]["samples"]) == 500
    assert len(ada.get("/api/datasets/iris?n=0").json()["preview"]["samples"]) == 1
