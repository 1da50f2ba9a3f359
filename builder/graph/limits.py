"""The bounds that keep one graph from taking the server down: their names, defaults, and one error format.

This is the only place the environment variables and the defaults are named: Django's settings, the CLI and
the tests all build a Limits from here, and every limit error says which variable raises it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import ErrorCode, GraphError

LIMIT_CODES = frozenset({ErrorCode.TOO_LARGE, ErrorCode.TOO_MANY_PARAMS})


def _limit(default: int, env: str):
    return field(default=default, metadata={"env": env})


@dataclass(frozen=True)
class Limits:
    """Bounds on one graph; each field's metadata names the environment variable that sets it."""

    max_nodes: int = _limit(500, "GRAPH_MAX_NODES")
    max_edges: int = _limit(2000, "GRAPH_MAX_EDGES")
    max_params: int = _limit(200_000_000, "GRAPH_MAX_PARAMS")
    max_bytes: int = _limit(1_000_000, "GRAPH_MAX_BYTES")  # one graph document, as JSON

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """The defaults, overridden by each GRAPH_MAX_* variable that is set; ValueError names a bad one."""
        return cls(**{f.name: _positive_int(f.metadata["env"], environ[f.metadata["env"]])
                      for f in fields(cls) if f.metadata["env"] in environ})

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable that sets the limit `name` (max_params: GRAPH_MAX_PARAMS)."""
        return next(f.metadata["env"] for f in fields(cls) if f.name == name)


def _positive_int(env: str, raw: str) -> int:
    try:
        value: int | None = int(raw)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise ValueError(f"{env} must be a positive integer, got {raw!r}")
    return value


def over_limit(limits: Limits, name: str, count: int, what: str, unit: str, code: ErrorCode = ErrorCode.TOO_LARGE,
               node: str | None = None, detail: str = "") -> GraphError | None:
    """The error for a count above the limit `name`, or None. Every limit error is worded by this function:
    "{what} {count} {unit}; the limit is {limit} {unit} (ENV_VAR){detail}"."""
    limit = getattr(limits, name)
    if count <= limit:
        return None
    return GraphError(f"{what} {count:,} {unit}; the limit is {limit:,} {unit} ({Limits.env_name(name)}){detail}",
                      node=node, code=code)


def document_size(doc_or_text: Any) -> int:
    """Bytes of a graph document as JSON: the text as sent, or a parsed document as it is stored."""
    if isinstance(doc_or_text, bytes):
        return len(doc_or_text)
    if isinstance(doc_or_text, str):
        return len(doc_or_text.encode())
    return len(json.dumps(doc_or_text))  # ASCII (ensure_ascii), as the database stores it: one byte a char


def check_size(doc_or_text: Any, limits: Limits) -> GraphError | None:
    """The error for a graph document larger than GRAPH_MAX_BYTES, or None."""
    return over_limit(limits, "max_bytes", document_size(doc_or_text), "the graph document is", "bytes")
