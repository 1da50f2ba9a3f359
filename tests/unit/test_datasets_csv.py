"""CSV uploads: standardised numbers, one-hot text, label encoding, task detection, and every refusal."""

import json

import numpy as np
import pytest

from training.datasets import DatasetError, UploadLimits, load_upload

DEFAULTS = UploadLimits()


def load(tmp_path, text, options=None, limits=DEFAULTS, kind="csv", filename="data.csv"):
    path = tmp_path / filename
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return load_upload(path, kind, options or {}, limits, "upload-1", "My table")


def test_numeric_columns_are_standardised(tmp_path):
    dataset = load(tmp_path, "a,b,label\n1,10,x\n2,20,y\n3,30,x\n4,40,y\n")
    assert dataset.X.dtype == np.float32 and dataset.X.shape == (4, 2)
    assert np.allclose(dataset.X.mean(axis=0), 0, atol=1e-6) and np.allclose(dataset.X.std(axis=0), 1)
    assert (dataset.name, dataset.title, dataset.kind) == ("upload-1", "My table", "tabular")


def test_a_constant_column_becomes_zero(tmp_path):
    assert np.array_equal(load(tmp_path, "a,b,label\n5,1,x\n5,2,y\n5,3,x\n").X[:, 0], [0, 0, 0])


def test_text_columns_are_one_hot_encoded_in_sorted_order(tmp_path):
    dataset = load(tmp_path, "colour,size,label\nred,1,a\nblue,2,b\nred,3,a\ngreen,4,b\n")
    # blue, green, red, then the standardised size
    assert dataset.X[:, :3].tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert dataset.X.shape == (4, 4)


def test_missing_numbers_are_filled_with_the_column_mean(tmp_path):
    dataset = load(tmp_path, "a,label\n1,x\n,y\n5,x\nNA,y\n3,x\n")
    raw = np.array([1, 3, 5, 3, 3], dtype=np.float64)  # the two missing values are the mean, 3
    assert np.allclose(dataset.X[:, 0], (raw - raw.mean()) / raw.std())


def test_a_missing_text_value_is_no_category(tmp_path):
    dataset = load(tmp_path, "colour,label\nred,a\n,b\nblue,a\n")
    assert dataset.X.tolist() == [[0, 1], [0, 0], [1, 0]]


def test_text_labels_become_sorted_classes(tmp_path):
    dataset = load(tmp_path, "x,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n")
    assert dataset.task == "classification" and dataset.classes == ["setosa", "versicolor", "virginica"]
    assert dataset.y.dtype == np.int64 and dataset.y.tolist() == [2, 0, 1, 0]
    assert dataset.output_shape == (3,)


def test_few_whole_numbers_make_a_classification_target(tmp_path):
    dataset = load(tmp_path, "x,grade\n1,3\n2,1\n3,3.0\n4,2\n")
    assert dataset.task == "classification" and dataset.classes == ["1", "2", "3"]
    assert dataset.y.tolist() == [2, 0, 2, 1]


def test_fractional_numbers_make_a_regression_target(tmp_path):
    dataset = load(tmp_path, "x,price\n1,3.5\n2,1\n3,2.25\n")
    assert dataset.task == "regression" and dataset.classes == []
    assert dataset.y.dtype == np.float32 and dataset.y[:, 0].tolist() == [3.5, 1, 2.25]
    assert dataset.output_shape == (1,)


def test_more_than_twenty_whole_numbers_make_a_regression_target(tmp_path):
    rows = "".join(f"{i},{i * 7}\n" for i in range(21))
    assert load(tmp_path, "x,count\n" + rows).task == "regression"
    assert load(tmp_path, "x,count\n" + rows[: rows.index("20,")]).task == "classification"


def test_the_task_option_overrides_the_detection(tmp_path):
    text = "x,y\n1,0\n2,1\n3,0\n"
    assert load(tmp_path, text, {"task": "regression"}).task == "regression"
    dataset = load(tmp_path, "x,y\n1,0.5\n2,1.5\n3,0.5\n", {"task": "classification"})
    assert dataset.classes == ["0.5", "1.5"]


def test_the_target_option_picks_any_column(tmp_path):
    dataset = load(tmp_path, "label,a,b\ncat,1,2\ndog,3,4\n", {"target": "label"})
    assert dataset.classes == ["cat", "dog"] and dataset.X.shape == (2, 2)


def test_semicolons_tabs_quotes_bom_and_blank_lines_are_read(tmp_path):
    dataset = load(tmp_path, "\ufeffname;value;label\n\"Smith; John\";1;a\n\nDoe;2;b\n")
    assert dataset.X.tolist() == [[0, 1, -1], [1, 0, 1]]  # Doe, "Smith; John" (kept whole), then the value
    tabs = load(tmp_path, "a\tlabel\n1\tx\n2\ty\n", filename="data.tsv", kind=None)
    assert tabs.X.shape == (2, 1) and tabs.classes == ["x", "y"]


def test_the_description_and_preview_are_json(tmp_path):
    dataset = load(tmp_path, "a,b,label\n1,x,cat\n2,y,dog\n")
    assert dataset.description == "2 rows of data.csv: 3 features from 2 columns, target 'label'"
    preview = dataset.preview()
    assert json.loads(json.dumps(preview)) == preview and preview["class_counts"] == {"cat": 1, "dog": 1}


def test_a_csv_is_detected_without_a_kind(tmp_path):
    assert load(tmp_path, "a,label\n1,x\n2,y\n", kind=None, filename="upload-7").classes == ["x", "y"]


@pytest.mark.parametrize("text, options, message", [
    ("a,b\n1,2\n3,4\n", {"target": "c"}, "there is no column 'c'; the columns are 'a', 'b'"),
    ("", {}, "the CSV file is empty"),
    ("\n \n", {}, "the CSV file is empty"),
    ("a,b\n", {}, "the CSV file has a header but no data rows"),
    ("a,b,label\n1,2,x\n3,4\n", {}, "the row on line 3 has 2 values; the header has 3 columns"),
    ("a,b\n1,x\n2,x\n", {}, r"the target column 'b' has a single class \('x'\); classification needs at least two"),
    ("a,b\n1,x\n2,\n", {}, "the target column 'b' is empty on line 3"),
    ("a,b\n1,0.5\n2,nan\n", {}, "the target column 'b' is empty on line 3"),
    ("a,b\n1,x\n2,y\n", {"task": "regression"}, "the target column 'b' holds text, so it can't be a regression target"),
    ("a,b\n1,x\n2,y\n", {"task": "ranking"}, "option 'task' must be 'classification' or 'regression', got 'ranking'"),
    ("a,b\n1,x\n2,y\n", {"delimiter": ";"}, r"unknown option 'delimiter' for a CSV upload \(it takes target, task\)"),
    ("label\nx\ny\n", {}, "the CSV has no feature columns besides the target 'label'"),
    ("a,a,b\n1,2,x\n3,4,y\n", {}, "the header names column 'a' more than once"),
    pytest.param("a,b\n" + "1" * 200_000 + ",x\n", {}, "the CSV file can't be parsed at line 2: field larger than",
                 id="huge-field"),
])
def test_bad_csv_files_are_refused_with_the_reason(text, options, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        load(tmp_path, text, options)


def test_a_csv_that_is_not_utf8_says_where(tmp_path):
    with pytest.raises(DatasetError, match="not UTF-8 text: byte 0xe9 on line 3 can't be decoded; save the file as "
                                           "UTF-8"):
        load(tmp_path, "name,label\nbob,x\nren\xe9,y\n".encode("latin-1"))


def test_too_many_rows_are_refused_naming_the_limit(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(11))
    with pytest.raises(DatasetError, match=r"more than 10 rows \(max_csv_rows\)"):
        load(tmp_path, "a,label\n" + rows, limits=UploadLimits(max_csv_rows=10))
    assert len(load(tmp_path, "a,label\n" + rows[: rows.index("10,")], limits=UploadLimits(max_csv_rows=10)).X) == 10


def test_too_many_columns_are_refused_naming_the_limit(tmp_path):
    with pytest.raises(DatasetError, match=r"the CSV has 4 columns; the limit is 3 \(max_csv_columns\)"):
        load(tmp_path, "a,b,c,d\n1,2,3,x\n", limits=UploadLimits(max_csv_columns=3))


def test_one_hot_encoding_past_the_column_limit_names_the_widest_column(tmp_path):
    rows = "".join(f"{i},id-{i},{i % 2}\n" for i in range(10))
    with pytest.raises(DatasetError, match=r"gives 11 features, over the limit of 5 columns \(max_csv_columns\); "
                                           r"column 'name' alone has 10 distinct values \(it is text because of "
                                           r"'id-0' on line 2\)"):
        load(tmp_path, "a,name,label\n" + rows, limits=UploadLimits(max_csv_columns=5))


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    with pytest.raises(DatasetError, match=r"the file is 1,001 bytes; the limit is 1,000 bytes \(max_bytes\)"):
        load(tmp_path, "a" * 1001, limits=UploadLimits(max_bytes=1000))


def test_an_unknown_upload_kind_is_named(tmp_path):
    with pytest.raises(DatasetError, match="unknown upload kind 'xlsx'; it is one of csv, npz, zip"):
        load(tmp_path, "a,b\n1,2\n", kind="xlsx")
