"""The root of the JSON API under /api/: authentication, the strict body parser, one error format, and the
routers of the apps. The OpenAPI document at /api/openapi.json is generated from the routers' signatures,
with the netgraph JSON Schema from the layer registry added as the `NetGraph` component.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.parser import Parser

from accounts.api import CsrfSessionAuth, TokenAuth
from accounts.api import router as accounts_router
from builder.api import GraphRejected
from builder.api import router as builder_router
from builder.graph import parse_json
from builder.models import InUse, TooManyVersions
from builder.openapi import GRAPH_REF, graph_components
from training.api import router as training_router
from training.data import DatasetError, NoSuchDataset
from training.datasets.download import DownloadFailed
from training.lifecycle import Refused


class BodyError(ValueError):
    pass


class StrictParser(Parser):
    """JSON bodies as the graph core reads them: NaN and Infinity are refused, deep nesting too."""

    def parse_body(self, request: HttpRequest) -> Any:
        data, errors = parse_json(request.body)
        if errors:
            raise BodyError(errors[0].message)
        if b"\\u0000" in request.body and _has_nul(data):  # the walk only when the text may hold one
            raise BodyError(NUL_REFUSED)
        return data

    def parse_querydict(self, data, list_fields: list[str], request: HttpRequest) -> dict:
        """Query parameters and form fields."""
        if any("\0" in value for values in data.lists() for value in values[1] if isinstance(value, str)):
            raise HttpError(400, NUL_REFUSED)
        return super().parse_querydict(data, list_fields, request)


NUL_REFUSED = "a text in the request contains the NUL character (\\u0000), which cannot be stored"


def _has_nul(value: Any) -> bool:
    stack = [value]  # not recursive: the parser allows nesting deeper than this stack has room for
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\0" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class GraphAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["components"]["schemas"].update(graph_components())
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("$ref") == GRAPH_REF:
                body["schema"] = {"$ref": GRAPH_REF}  # drop what ninja merged in from the `dict` parameter
        return schema


api = GraphAPI(title="Netbuilder API", version="1", auth=[TokenAuth(), CsrfSessionAuth()], parser=StrictParser(),
               description="Build, check, train and export neural networks. Authenticate with the session "
                           "cookie (and the CSRF token on writes) or an API token: `Authorization: Bearer nb_...`.")
api.add_router("", builder_router)
api.add_router("", training_router)
api.add_router("", accounts_router)


def _detail(request: HttpRequest, message: str, status: int, **extra):
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # Ninja wraps body parse failures in a bare "Cannot parse request body"; say what was wrong.
    cause = exc.__cause__
    return _detail(request, str(cause) if isinstance(cause, BodyError) else exc.message, exc.status_code)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig):
    return _detail(request, f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes", 413)


@api.exception_handler(MultiPartParserError)
def bad_multipart(request: HttpRequest, exc: MultiPartParserError):
    return _detail(request, f"the request body is not a valid multipart form: {exc}", 400)


@api.exception_handler(GraphRejected)
def graph_rejected(request: HttpRequest, exc: GraphRejected):
    return _detail(request, exc.detail, exc.status, errors=[e.as_dict() for e in exc.errors])


@api.exception_handler(Refused)
def refused(request: HttpRequest, exc: Refused):
    return _detail(request, exc.message, exc.status)


# Refusals whose message says it all: each answered with its status and {"detail": message}.
# A download the server could not make is its own trouble, not the request's: 503.
for refusal, status in ((NoSuchDataset, 404), (DatasetError, 400), (DownloadFailed, 503), (TooManyVersions, 400),
                        (InUse, 409)):
    api.add_exception_handler(refusal, lambda request, exc, status=status: _detail(request, str(exc), status))
