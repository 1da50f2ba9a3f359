"""Importing a model file on the server: ONNX only, size-limited, checked, with a clear refusal otherwise."""

import io

import pytest
from django.test import override_settings
from onnx import TensorProto, helper

pytestmark = pytest.mark.django_db


def upload(client, data, name):
    file = io.BytesIO(data)
    file.name = name
    return client.post("/api/networks/import", {"file": file})


def tiny_onnx(op="Relu"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="act")], "tiny", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_an_onnx_file_becomes_a_network(ada, conforms):
    response = upload(ada, tiny_onnx(), "tiny.onnx")
    assert response.status_code == 201, response.content
    body = conforms(response, "/api/networks/import", "post")
    assert body["name"] == "tiny" and [n["type"] for n in body["graph"]["nodes"]] == ["Input", "ReLU"]


@pytest.mark.parametrize("data, name, words", [
    (b"import os\nos.system('rm -rf /')", "evil.py", "not an .onnx file; the server imports ONNX models only"),
    (b"\x00garbage", "broken.onnx", "the file is not an ONNX model"),
    (tiny_onnx("Sin"), "wave.onnx", "cannot import ONNX node 'act' (Sin): no graph node computes this op"),
])
def test_a_file_that_cannot_be_imported_is_refused_with_a_clear_message(ada, data, name, words):
    response = upload(ada, data, name)
    assert response.status_code == 400 and words in response.json()["detail"]


def test_an_import_over_the_size_limit_is_refused(ada):
    with override_settings(IMPORT_MAX_BYTES=10):
        response = upload(ada, tiny_onnx(), "tiny.onnx")
    assert response.status_code == 413 and "IMPORT_MAX_BYTES" in response.json()["detail"]


def test_an_anonymous_import_is_refused(client):
    assert upload(client, tiny_onnx(), "tiny.onnx").status_code in (401, 403)
