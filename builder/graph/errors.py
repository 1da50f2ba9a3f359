"""The one error type of the graph core: a message that names the problem, keyed by node (or edge)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """What kind of problem a GraphError is; the browser gets this list from /api/protocol."""

    INVALID_JSON = "invalid_json"
    SCHEMA = "schema"
    UNSUPPORTED_VERSION = "unsupported_version"
    DUPLICATE_ID = "duplicate_id"
    TOO_LARGE = "too_large"
    TOO_MANY_PARAMS = "too_many_params"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_PARAM = "unknown_param"
    MISSING_PARAM = "missing_param"
    BAD_PARAM = "bad_param"
    DANGLING_EDGE = "dangling_edge"
    DUPLICATE_PORT = "duplicate_port"
    NO_SUCH_OUTPUT = "no_such_output"  # an edge leaves an output its source does not have
    MISSING_INPUT = "missing_input"
    SURPLUS_INPUT = "surplus_input"
    CYCLE = "cycle"
    NO_INPUT = "no_input"
    MULTIPLE_INPUTS = "multiple_inputs"
    NO_OUTPUT = "no_output"
    MULTIPLE_OUTPUTS = "multiple_outputs"
    SHAPE = "shape"
    LAYOUT = "layout"  # a layer given the wrong axes: a C×L layer fed a T×F sequence
    DENSE_MULTI_AXIS = "dense_multi_axis"  # a warning: a Dense on several axes acts on the last one only


# Codes that are warnings: the graph runs, but likely not as meant.
WARNING_CODES = frozenset({ErrorCode.DENSE_MULTI_AXIS})


# Errors that mean a document is not a graph at all (the editor refuses to open it), rather than a graph
# with mistakes in it.
DOCUMENT_ERRORS = frozenset({ErrorCode.INVALID_JSON, ErrorCode.SCHEMA, ErrorCode.UNSUPPORTED_VERSION,
                             ErrorCode.DUPLICATE_ID, ErrorCode.DANGLING_EDGE})


@dataclass(frozen=True)
class GraphError:
    message: str
    node: str | None = None
    edge: int | None = None
    param: str | None = None
    code: ErrorCode = ErrorCode.SCHEMA

    def as_dict(self) -> dict:
        return {**asdict(self), "code": str(self.code)}

    def __str__(self) -> str:
        return self.message
