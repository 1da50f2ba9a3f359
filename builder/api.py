"""The JSON API under /api/: thin views over the graph core, every object scoped to its owner.

Graph documents are read with the core's strict JSON parser (no NaN or Infinity) and answered with errors
that name the node, never a traceback. The OpenAPI document at /api/openapi.json is generated from these
signatures, with the netgraph JSON Schema from the registry added as the `NetGraph` component.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.security import django_auth
from pydantic import Field

from accounts.api import TokenAuth

from .graph import analyze, generate_source, parse_json, published_schema, registry_document
from .graph.codegen import class_name
from .graph.examples import EXAMPLES
from .graph.schema import check_structure
from .limits import graph_limits
from .models import Network


class BodyError(ValueError):
    pass


class StrictParser(Parser):
    """JSON bodies as the graph core reads them: NaN and Infinity are refused, deep nesting too."""

    def parse_body(self, request: HttpRequest) -> Any:
        data, errors = parse_json(request.body)
        if errors:
            raise BodyError(errors[0].message)
        return data


class GraphAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["components"]["schemas"].update(graph_components())
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("$ref") == GRAPH_REF:
                body["schema"] = {"$ref": GRAPH_REF}  # drop what ninja merged in from the `dict` parameter
        return schema


GRAPH_REF = "#/components/schemas/NetGraph"


def graph_components() -> dict:
    """The netgraph JSON Schema as OpenAPI components: its $defs become components of their own."""
    graph = published_schema()
    defs = graph.pop("$defs")
    params = defs.pop("params")
    names = {f"#/$defs/{key}": f"NetGraph{key.capitalize()}" for key in defs}
    names.update({f"#/$defs/params/{key}": f"NetGraphParams{key}" for key in params})

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/{names[v]}" if k == "$ref" else rebase(v))
                    for k, v in node.items() if k != "$schema"}
        if isinstance(node, list):
            return [rebase(v) for v in node]
        return node

    components = {"NetGraph": rebase(graph)}
    components.update({names[f"#/$defs/{k}"]: rebase(v) for k, v in defs.items()})
    components.update({names[f"#/$defs/params/{k}"]: rebase(v) for k, v in params.items()})
    return components


api = GraphAPI(title="Netbuilder API", version="1", auth=[TokenAuth(), django_auth], parser=StrictParser(),
               description="Build, check, train and export neural networks. Authenticate with the session "
                           "cookie (and the CSRF token on writes) or an API token: `Authorization: Bearer nb_...`.")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # Ninja wraps body parse failures in a bare "Cannot parse request body"; say what was wrong.
    cause = exc.__cause__
    message = str(cause) if isinstance(cause, BodyError) else exc.message
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig):
    return api.create_response(request, {"detail": f"the request body is larger than "
                                                   f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes"}, status=413)


GRAPH_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": GRAPH_REF}}}}}


# --- schemas ------------------------------------------------------------------------------------------

class ErrorOut(Schema):
    message: str
    node: str | None = None
    edge: int | None = None
    param: str | None = None
    code: str


class NodeOut(Schema):
    type: str
    output_shape: list[int] | None
    dtype: str | None
    params: int | None


class MemoryOut(Schema):
    batch_size: int
    parameters: int
    gradients: int
    optimizer: int
    activations: int
    total: int


class AnalysisOut(Schema):
    valid: bool
    errors: list[ErrorOut]
    nodes: dict[str, NodeOut]
    total_params: int
    input_shape: list[int] | None
    output_shape: list[int] | None
    memory: MemoryOut


class Problem(Schema):
    detail: str
    errors: list[ErrorOut] = []


class ExportOut(Schema):
    filename: str
    class_name: str
    source: str


class ExampleOut(Schema):
    slug: str
    name: str
    description: str
    graph: dict[str, Any]


class NetworkIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    graph: dict[str, Any]


class NetworkPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    graph: dict[str, Any] | None = None
    base_version: int | None = Field(None, description="The version this edit started from; a save over a "
                                                        "newer version is refused with 409.")


class NetworkSummary(Schema):
    id: int
    name: str
    version: int
    created: datetime
    updated: datetime


class NetworkOut(NetworkSummary):
    graph: dict[str, Any]
    analysis: AnalysisOut


class VersionOut(Schema):
    number: int
    created: datetime


class VersionDetail(VersionOut):
    graph: dict[str, Any]


# --- helpers ------------------------------------------------------------------------------------------

def _analysis(graph: Any, batch_size: int = 32) -> dict:
    return analyze(graph, graph_limits()).summary(batch_size)


def _storable(graph: dict) -> dict:
    """A graph may be saved with errors in progress, but it must be a netgraph document."""
    _, errors = check_structure(graph)
    if errors:
        raise GraphRejected("the graph is not a valid netgraph document", errors)
    if len(json.dumps(graph)) > settings.GRAPH_MAX_BYTES:
        raise HttpError(413, f"the graph is larger than {settings.GRAPH_MAX_BYTES:,} bytes")
    return graph


class GraphRejected(Exception):
    def __init__(self, detail: str, errors: list):
        super().__init__(detail)
        self.detail, self.errors = detail, errors


@api.exception_handler(GraphRejected)
def graph_rejected(request: HttpRequest, exc: GraphRejected):
    return api.create_response(request, {"detail": exc.detail, "errors": [e.as_dict() for e in exc.errors]},
                               status=400)


def _network_out(network: Network) -> dict:
    return {"id": network.id, "name": network.name, "version": network.version, "created": network.created,
            "updated": network.updated, "graph": network.graph, "analysis": _analysis(network.graph)}


def _own(request: HttpRequest, network_id: int) -> Network:
    return get_object_or_404(Network, id=network_id, owner=request.user)


def _export(graph: dict) -> dict:
    analysis = analyze(graph, graph_limits())
    if not analysis.valid:
        raise GraphRejected("the graph has errors; fix them to export code", analysis.errors)
    name = analysis.graph.name or "model"
    filename = (re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower() or "model") + ".py"
    return {"filename": filename, "class_name": class_name(analysis.graph.name),
            "source": generate_source(analysis)}


# --- layers, schema, examples, stateless graph operations ---------------------------------------------

@api.get("/layers", tags=["graphs"], summary="The layer registry: every layer's parameters, ranges and help")
def layers(request: HttpRequest) -> dict:
    return registry_document()


@api.get("/graphs/schema", tags=["graphs"], summary="The JSON Schema of a netgraph document")
def graph_schema(request: HttpRequest) -> dict:
    return published_schema()


@api.get("/examples", response=list[ExampleOut], tags=["graphs"], summary="Example graphs to start from")
def examples(request: HttpRequest):
    return list(EXAMPLES.values())


@api.post("/graphs/validate", response=AnalysisOut, tags=["graphs"], openapi_extra=GRAPH_BODY,
          summary="Check a graph: per-node output shape, parameters and errors")
def validate_graph(request: HttpRequest, graph: dict[str, Any] = Body(...), batch_size: int = 32):
    if not 1 <= batch_size <= 65536:
        raise HttpError(400, "batch_size must be between 1 and 65536")
    return _analysis(graph, batch_size)


@api.post("/graphs/export", response={200: ExportOut, 400: Problem}, tags=["graphs"],
          openapi_extra=GRAPH_BODY, summary="PyTorch source code for a valid graph")
def export_graph(request: HttpRequest, graph: dict[str, Any] = Body(...)):
    return _export(graph)


# --- networks -----------------------------------------------------------------------------------------

@api.get("/networks", response=list[NetworkSummary], tags=["networks"], summary="Your networks")
def list_networks(request: HttpRequest):
    return Network.objects.filter(owner=request.user)


@api.post("/networks", response={201: NetworkOut, 400: Problem}, tags=["networks"], summary="Save a new network")
def create_network(request: HttpRequest, payload: NetworkIn):
    network = Network.create(request.user, payload.name, _storable(payload.graph))
    return Status(201, _network_out(network))


@api.get("/networks/{network_id}", response=NetworkOut, tags=["networks"], summary="One of your networks")
def get_network(request: HttpRequest, network_id: int):
    return _network_out(_own(request, network_id))


@api.patch("/networks/{network_id}", response={200: NetworkOut, 400: Problem, 409: Problem},
           tags=["networks"], summary="Rename a network, or save its graph as a new version")
def update_network(request: HttpRequest, network_id: int, payload: NetworkPatch):
    with transaction.atomic():
        network = get_object_or_404(Network.objects.select_for_update(), id=network_id, owner=request.user)
        if payload.base_version is not None and payload.base_version != network.version:
            return Status(409, {"detail": f"the network was saved as version {network.version} since version "
                                   f"{payload.base_version}; reload it before saving"})
        if payload.name is not None:
            network.name = payload.name
            network.save(update_fields=["name", "updated"])
        if payload.graph is not None and payload.graph != network.graph:
            network.save_graph(_storable(payload.graph))
    return _network_out(network)


@api.delete("/networks/{network_id}", response={204: None}, tags=["networks"], summary="Delete a network")
def delete_network(request: HttpRequest, network_id: int):
    _own(request, network_id).delete()
    return Status(204, None)


@api.get("/networks/{network_id}/versions", response=list[VersionOut], tags=["networks"],
         summary="The saved versions of a network")
def list_versions(request: HttpRequest, network_id: int):
    return _own(request, network_id).versions.all()


@api.get("/networks/{network_id}/versions/{number}", response=VersionDetail, tags=["networks"],
         summary="One saved version of a network")
def get_version(request: HttpRequest, network_id: int, number: int):
    return get_object_or_404(_own(request, network_id).versions, number=number)


@api.get("/networks/{network_id}/export", response={200: ExportOut, 400: Problem}, tags=["networks"],
         summary="PyTorch source code for a network's current graph")
def export_network(request: HttpRequest, network_id: int):
    return _export(_own(request, network_id).graph)
