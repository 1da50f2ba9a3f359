"""Uploads are parsed once, into arrays in storage: a GET, a fit check and a run map those arrays and never read
the uploaded file again; an upload stored before there were arrays is parsed once, on its first use."""

import json

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from training.data import load_run_dataset
from training.datasets import UploadLimits, load_upload
from training.models import UploadedDataset

from tests.graphs import chain, node

pytestmark = pytest.mark.django_db

CSV = "width,height,kind\n" + "".join(f"{i % 7},{i % 5},{'ab'[i % 2]}\n" for i in range(40))


def spoil(upload: UploadedDataset) -> None:
    """Overwrite the uploaded file with something no parser accepts."""
    with default_storage.open(upload.file.name, "wb") as file:
        file.write(b"\0not a table any more")


def test_an_upload_is_read_from_its_stored_arrays_not_from_the_uploaded_file(ada, user):
    created = ada.post("/api/datasets", {"file": SimpleUploadedFile("shapes.csv", CSV.encode())}).json()
    upload = UploadedDataset.objects.get(pk=int(created["key"].removeprefix("upload-")))
    assert all(default_storage.exists(name) for name in upload.array_names())
    spoil(upload)
    again = ada.get(f"/api/datasets/{created['key']}").json()
    assert again["preview"] == created["preview"] and again["info"] == created["info"]
    graph = chain(node("in", "Input", shape=[2]), node("out", "Linear", out_features=2))
    fit = ada.post(f"/api/datasets/{created['key']}/fit", json.dumps(graph), content_type="application/json")
    assert fit.json()["fits"] is True
    data = load_run_dataset(created["key"], user.pk, seed=0)
    assert isinstance(data.X, np.memmap) and data.X.shape == (40, 2) and data.y.tolist()[:4] == [0, 1, 0, 1]


def test_an_upload_stored_before_there_were_arrays_is_parsed_once_on_first_use(ada, user, tmp_path):
    source = tmp_path / "shapes.csv"
    source.write_text(CSV)
    info = load_upload(source, None, {}, UploadLimits(), "upload", "Shapes").info()
    upload = UploadedDataset.objects.create(owner=user, name="Shapes", kind="", info=info,
                                            file=ContentFile(CSV.encode(), name="shapes.csv"))
    upload.info = {**info, "name": upload.key}
    upload.save(update_fields=["info"])
    assert upload.arrays == ""
    first = ada.get(f"/api/datasets/{upload.key}")
    assert first.status_code == 200 and first.json()["info"]["samples"] == 40
    upload.refresh_from_db()
    assert upload.arrays and all(default_storage.exists(name) for name in upload.array_names())
    spoil(upload)
    assert ada.get(f"/api/datasets/{upload.key}").json() == first.json()


def test_an_uploads_files_and_arrays_are_deleted_together(ada):
    created = ada.post("/api/datasets", {"file": SimpleUploadedFile("shapes.csv", CSV.encode())}).json()
    upload = UploadedDataset.objects.get(pk=int(created["key"].removeprefix("upload-")))
    names = [upload.file.name, *upload.array_names()]
    assert len(names) == 3 and all(default_storage.exists(name) for name in names)
    upload.delete_files()
    assert not any(default_storage.exists(name) for name in names)
