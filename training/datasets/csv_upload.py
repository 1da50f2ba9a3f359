"""A CSV upload as a tabular dataset: numeric columns standardised, text columns one-hot encoded.

The file is read twice as text rather than held as millions of Python strings: the first pass checks the
shape and finds which columns are numeric, the second fills arrays of exactly the right size.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, UploadLimits
from .features import encode_labels
from .options import check_keys
from .store import Arrays

MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}
DELIMITERS = ",;\t"
MAX_NUMERIC_CLASSES = 20  # an integer target with more distinct values than this is a quantity, not a class
CELL_BYTES = 8  # a cell as read: a float64, or a reference to a text value
FEATURE_BYTES = 4  # a feature as stored: float32
ROW_BLOCK_BYTES = 4_000_000  # the features are built this many bytes of rows at a time


def load_csv(path: Path, options: dict, limits: UploadLimits, name: str, title: str, *, label: str | None = None,
             out: Arrays | None = None) -> Dataset:
    """`label`: the file's name in messages and the description (`path` may be a temporary file)."""
    check_keys(options, ("target", "task"), "a CSV upload")
    label, out = label or path.name, out or Arrays()
    text = _decode(path.read_bytes())
    header_line = io.StringIO(text).readline()
    delimiter = max(DELIMITERS, key=header_line.count)  # a one-column file has none: any choice reads it
    header, numeric, first_text, count = _scan(text, delimiter, limits)
    # Every cell is read as an 8-byte number or reference before the features are built.
    limits.check_budget(f"{label} has {count:,} rows of {len(header):,} columns", count * len(header) * CELL_BYTES)
    lines, numbers, texts = _fill(text, delimiter, numeric)
    target = options.get("target", header[-1])
    if target not in header:
        raise DatasetError(f"there is no column '{target}'; the columns are {', '.join(map(repr, header))}")
    column = header.index(target)
    y, task, classes = _target(target, numbers.get(column), texts.get(column), lines, options.get("task"))
    features = [i for i in range(len(header)) if i != column]
    if not features:
        raise DatasetError(f"the CSV has no feature columns besides the target '{target}'")
    categories = {i: len(set(texts[i]) - {""}) for i in features if i in texts}
    width = len(features) - len(categories) + sum(categories.values())
    if width > limits.max_csv_columns:
        widest = max(categories, key=categories.get)
        line, value = first_text[widest]
        raise DatasetError(f"one-hot encoding the text columns gives {width:,} features, over the limit of "
                           f"{limits.max_csv_columns:,} columns (max_csv_columns); column '{header[widest]}' alone "
                           f"has {categories[widest]:,} distinct values (it is text because of {value!r} on "
                           f"line {line})")
    limits.check_budget(f"{label} has {count:,} rows of {width:,} features once its text columns are one-hot "
                        "encoded", count * width * FEATURE_BYTES + y.nbytes)
    columns = [_numeric_feature(numbers[i]) if i in numbers else _one_hot(texts[i]) for i in features]
    X = out.rows("X", (count, width), np.float32)
    step = max(1, ROW_BLOCK_BYTES // (width * FEATURE_BYTES))  # built a block of rows at a time, not all at once
    for start in range(0, count, step):
        X.put(np.hstack([column(start, start + step) for column in columns]))
    description = f"{len(y):,} rows of {label}: {width} features from {len(features)} columns, target '{target}'"
    return Dataset(name=name, title=title, description=description, X=X.done(), y=out.whole("y", y), task=task,
                   classes=classes, kind="tabular",
                   scaling="numeric columns standardised over the uploaded file (missing values become the column "
                           "mean, then (value - mean) / standard deviation); text columns one-hot encoded")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(f"the CSV file is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
                           "can't be decoded; save the file as UTF-8") from None


def _rows(text: str, delimiter: str):
    """(line number, stripped cells) of every row that isn't blank, the header first."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if any(cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise DatasetError(f"the CSV file can't be parsed at line {reader.line_num}: {exc}") from None


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _scan(text: str, delimiter: str, limits: UploadLimits):
    """The header, which columns are numeric, and the first text value of each column that isn't."""
    rows = _rows(text, delimiter)
    _, header = next(rows, (0, []))
    if not header:
        raise DatasetError("the CSV file is empty")
    if len(header) > limits.max_csv_columns:
        raise DatasetError(f"the CSV has {len(header):,} columns; the limit is {limits.max_csv_columns:,} "
                           "(max_csv_columns)")
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise DatasetError(f"the header names column '{repeated[0]}' more than once")
    first_text: dict[int, tuple[int, str]] = {}
    count = 0
    for line, cells in rows:
        if len(cells) != len(header):
            raise DatasetError(f"the row on line {line} has {len(cells)} values; the header has {len(header)} "
                               "columns")
        count += 1
        if count > limits.max_csv_rows:
            raise DatasetError(f"the CSV has more than {limits.max_csv_rows:,} rows (max_csv_rows)")
        for i, cell in enumerate(cells):
            if i not in first_text and cell.lower() not in MISSING and _number(cell) is None:
                first_text[i] = (line, cell)
    if count == 0:
        raise DatasetError("the CSV file has a header but no data rows")
    numeric = [i not in first_text for i in range(len(header))]
    return header, numeric, first_text, count


def _fill(text: str, delimiter: str, numeric: list[bool]):
    """Line numbers; numeric columns as float64 arrays (NaN where missing); text columns as arrays of str
    ("" where missing)."""
    rows = _rows(text, delimiter)
    next(rows)  # the header
    lines = []
    # Packed doubles, and one string object per distinct text value: 8 bytes a cell rather than a Python object.
    numbers = {i: array("d") for i, is_number in enumerate(numeric) if is_number}
    texts: dict[int, list[str]] = {i: [] for i, is_number in enumerate(numeric) if not is_number}
    distinct: dict[str, str] = {"": ""}
    for line, cells in rows:
        lines.append(line)
        for i, cell in enumerate(cells):
            missing = cell.lower() in MISSING
            if numeric[i]:
                numbers[i].append(math.nan if missing else float(cell))
            else:
                texts[i].append("" if missing else distinct.setdefault(cell, cell))
    # Object arrays: a fixed-width string array would reserve the longest cell's width for every cell.
    return (lines, {i: np.frombuffer(values, dtype=np.float64) for i, values in numbers.items()},
            {i: np.array(values, dtype=object) for i, values in texts.items()})


def _target(name: str, numbers: np.ndarray | None, texts: np.ndarray | None, lines: list[int],
            task: str | None):
    if task not in (None, "classification", "regression"):
        raise DatasetError(f"option 'task' must be 'classification' or 'regression', got {task!r}")
    values = numbers if numbers is not None else texts
    empty = np.isnan(values) if numbers is not None else values == ""
    if empty.any():
        raise DatasetError(f"the target column '{name}' is empty on line {lines[int(np.argmax(empty))]}")
    if task is None:
        task = "classification" if numbers is None or _few_whole_numbers(numbers) else "regression"
    if task == "regression":
        if numbers is None:
            raise DatasetError(f"the target column '{name}' holds text, so it can't be a regression target")
        return numbers.astype(np.float32)[:, None], task, []
    y, classes = encode_labels(values)
    if len(classes) < 2:
        raise DatasetError(f"the target column '{name}' has a single class ('{classes[0]}'); classification "
                           "needs at least two")
    return y, task, classes


def _few_whole_numbers(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values))) and len(np.unique(values)) <= MAX_NUMERIC_CLASSES


def _numeric_feature(values: np.ndarray) -> Callable[[int, int], np.ndarray]:
    """Rows start:stop of the feature: missing values become the column mean (0 if the column is empty), then the
    column is standardised (zero mean, unit variance; a constant column carries no signal, so it becomes 0)."""
    present = ~np.isnan(values)
    fill = values[present].mean() if present.any() else 0.0
    filled = np.where(present, values, fill)
    mean, std = filled.mean(), filled.std()

    def rows(start: int, stop: int) -> np.ndarray:
        if std == 0:
            return np.zeros((len(filled[start:stop]), 1), np.float32)
        return ((filled[start:stop] - mean) / std).astype(np.float32)[:, None]

    return rows


def _one_hot(cells: np.ndarray) -> Callable[[int, int], np.ndarray]:
    """Rows start:stop of one 0/1 feature per distinct value (a missing value sets none)."""
    codes, categories = encode_labels(cells)
    kept = np.array([i for i, category in enumerate(categories) if category != ""], dtype=np.int64)

    def rows(start: int, stop: int) -> np.ndarray:
        return (codes[start:stop, None] == kept).astype(np.float32)

    return rows
