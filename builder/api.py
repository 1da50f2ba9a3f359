"""The graph and network endpoints: thin views over the graph core, every network scoped to its owner.

Each request analyses its graph once, against the limits in settings.GRAPH_LIMITS, and answers with errors
that name the node, never a traceback. The root API object and its error handlers live in config/api.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from .graph import Analysis, GraphError, analyze, generate_source, published_schema, registry_document
from .graph.codegen import class_name
from .graph.examples import EXAMPLES
from .models import Network
from .openapi import GRAPH_BODY

router = Router()


class GraphRejected(Exception):
    """A graph the request cannot use; answered with its errors, each naming its node."""

    def __init__(self, detail: str, errors: list[GraphError], status: int = 400):
        super().__init__(detail)
        self.detail, self.errors, self.status = detail, errors, status


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
    layout: str | None = None  # the names of the axes, one letter each: "CHW", "CL", "TF", "F", "T", "C"


class FixOut(Schema):
    """A one-click fix for the error or warning with this code on this node: insert a layer before it."""

    code: str
    node: str
    kind: str  # "insert"
    type: str
    params: dict[str, Any] = {}
    before: str


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
    warnings: list[ErrorOut] = []
    fixes: list[FixOut] = []
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
    message: str = Field("", max_length=500, description="Kept with the first version.")


class NetworkPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    graph: dict[str, Any] | None = None
    message: str = Field("", max_length=500, description="What changed, kept with the new version.")
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
    message: str


class VersionDetail(VersionOut):
    graph: dict[str, Any]


# --- helpers ------------------------------------------------------------------------------------------

def analysed(graph: Any) -> Analysis:
    return analyze(graph, settings.GRAPH_LIMITS)


def storable(graph: Any) -> Analysis:
    """A graph may be saved with errors in progress, but it must be a netgraph document within the limits."""
    analysis = analysed(graph)
    if analysis.limit_errors:
        # A document over GRAPH_MAX_BYTES is not even parsed into a graph: that one is a 413.
        raise GraphRejected(analysis.limit_errors[0].message, analysis.limit_errors,
                            status=413 if analysis.graph is None else 400)
    if analysis.graph is None:
        raise GraphRejected("the graph is not a valid netgraph document", analysis.errors)
    return analysis


def _network_out(network: Network, analysis: Analysis | None = None) -> dict:
    return {"id": network.id, "name": network.name, "version": network.version, "created": network.created,
            "updated": network.updated, "graph": network.graph,
            "analysis": (analysis or analysed(network.graph)).summary()}


def _own(request: HttpRequest, network_id: int) -> Network:
    return get_object_or_404(Network, id=network_id, owner=request.user)


def _export(graph: dict) -> dict:
    analysis = analysed(graph)
    if not analysis.valid:
        raise GraphRejected("the graph has errors; fix them to export code", analysis.errors)
    name = analysis.graph.name or "model"
    filename = (re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower() or "model") + ".py"
    return {"filename": filename, "class_name": class_name(analysis.graph.name),
            "source": generate_source(analysis)}


# --- layers, schema, examples, stateless graph operations ---------------------------------------------

@router.get("/layers", tags=["graphs"], summary="The layer registry: every layer's parameters, ranges and help")
def layers(request: HttpRequest) -> dict:
    return registry_document()


@router.get("/graphs/schema", tags=["graphs"], summary="The JSON Schema of a netgraph document")
def graph_schema(request: HttpRequest) -> dict:
    return published_schema()


@router.get("/examples", response=list[ExampleOut], tags=["graphs"], summary="Example graphs to start from")
def examples(request: HttpRequest):
    return list(EXAMPLES.values())


@router.post("/graphs/validate", response=AnalysisOut, tags=["graphs"], openapi_extra=GRAPH_BODY,
             summary="Check a graph: per-node output shape, parameters and errors")
def validate_graph(request: HttpRequest, graph: dict[str, Any] = Body(...), batch_size: int = 32):
    if not 1 <= batch_size <= 65536:
        raise HttpError(400, "batch_size must be between 1 and 65536")
    return analysed(graph).summary(batch_size)


@router.post("/graphs/export", response={200: ExportOut, 400: Problem}, tags=["graphs"],
             openapi_extra=GRAPH_BODY, summary="PyTorch source code for a valid graph")
def export_graph(request: HttpRequest, graph: dict[str, Any] = Body(...)):
    return _export(graph)


# --- networks -----------------------------------------------------------------------------------------

@router.get("/networks", response=list[NetworkSummary], tags=["networks"], summary="Your networks")
def list_networks(request: HttpRequest):
    return Network.objects.filter(owner=request.user)


@router.post("/networks", response={201: NetworkOut, 400: Problem, 413: Problem}, tags=["networks"],
             summary="Save a new network")
def create_network(request: HttpRequest, payload: NetworkIn):
    analysis = storable(payload.graph)
    network = Network.create(request.user, payload.name, payload.graph, payload.message)
    return Status(201, _network_out(network, analysis))


@router.get("/networks/{network_id}", response=NetworkOut, tags=["networks"], summary="One of your networks")
def get_network(request: HttpRequest, network_id: int):
    return _network_out(_own(request, network_id))


@router.patch("/networks/{network_id}", response={200: NetworkOut, 400: Problem, 409: Problem, 413: Problem},
              tags=["networks"], summary="Rename a network, or save its graph as a new version")
def update_network(request: HttpRequest, network_id: int, payload: NetworkPatch):
    analysis = storable(payload.graph) if payload.graph is not None else None
    with transaction.atomic():
        network = get_object_or_404(Network.objects.select_for_update(), id=network_id, owner=request.user)
        if payload.base_version is not None and payload.base_version != network.version:
            return Status(409, {"detail": f"the network was saved as version {network.version} since version "
                                   f"{payload.base_version}; reload it before saving"})
        if payload.name is not None:
            network.name = payload.name
            network.save(update_fields=["name", "updated"])
        if payload.graph is not None and payload.graph != network.graph:
            network.save_graph(payload.graph, payload.message)
    return _network_out(network, analysis if payload.graph is not None else None)


@router.delete("/networks/{network_id}", response={204: None, 409: Problem}, tags=["networks"],
               summary="Delete a network and its runs (not while one of them is queued or running)")
def delete_network(request: HttpRequest, network_id: int):
    with transaction.atomic():  # a refusal (InUse, from training's pre_delete receiver) undoes only this
        _own(request, network_id).delete()
    return Status(204, None)


@router.get("/networks/{network_id}/versions", response=list[VersionOut], tags=["networks"],
            summary="The saved versions of a network, each with its time and message")
def list_versions(request: HttpRequest, network_id: int):
    return _own(request, network_id).versions.all()


@router.get("/networks/{network_id}/versions/{number}", response=VersionDetail, tags=["networks"],
            summary="One saved version of a network")
def get_version(request: HttpRequest, network_id: int, number: int):
    return get_object_or_404(_own(request, network_id).versions, number=number)


@router.get("/networks/{network_id}/export", response={200: ExportOut, 400: Problem}, tags=["networks"],
            summary="PyTorch source code for a network's current graph")
def export_network(request: HttpRequest, network_id: int):
    return _export(_own(request, network_id).graph)
