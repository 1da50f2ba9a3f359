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
from ninja import Body, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field
from safetensors.torch import save as save_weights

from .graph import Analysis, GraphError, analyze, generate_source, published_schema, registry_document, upgrade
from .graph.codegen import class_name
from .graph.diff import diff_graphs
from .graph.examples import EXAMPLES
from .graph.import_onnx import import_onnx
from .graph.import_torch import ImportRefused
from .graph.schema import clip
from .models import Network, NetworkVersion
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


class OutputOut(Schema):
    name: str
    shape: list[int]
    dtype: str
    layout: str | None = None


class NodeOut(Schema):
    type: str
    output_shape: list[int] | None
    dtype: str | None
    params: int | None
    layout: str | None = None  # the names of the axes, one letter each: "CHW", "CL", "TF", "F", "T", "C"
    outputs: list[OutputOut] | None = Field(None, description="A multi-output node's outputs (LSTM: sequence "
                                                                 "and state), in the order edges number them.")


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
    trainable_params: int = 0
    frozen_params: int = Field(0, description="Parameters of the nodes marked \"trainable\": false.")
    input_shape: list[int] | None
    output_shape: list[int] | None
    memory: MemoryOut
    upgraded: dict[str, Any] | None = Field(None, description="The document brought up to the current format "
                                                                 "version, where it was given in an older one.")


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
    has_weights: bool = Field(False, description="It carries imported weights a run can start from.")

    @staticmethod
    def resolve_has_weights(obj: NetworkVersion) -> bool:
        return bool(obj.weights)


class VersionDetail(VersionOut):
    graph: dict[str, Any] = Field(description="As saved, brought up to the current format version.")

    @staticmethod
    def resolve_graph(obj: NetworkVersion) -> Any:
        return upgrade(obj.graph)


class ParamChange(Schema):
    name: str
    before: Any = None
    after: Any = None


class NodeRef(Schema):
    id: str
    type: Any = None


class NodeChange(Schema):
    id: str
    type: list[Any] | None = Field(description="[before, after] when the type changed, else null")
    params: list[ParamChange]


class DiffOut(Schema):
    """From version `a` to version `b`: nodes matched by id; parameters compared with defaults filled in."""

    a: int
    b: int
    added: list[NodeRef]
    removed: list[NodeRef]
    changed: list[NodeChange]
    edges_added: list[dict[str, Any]]
    edges_removed: list[dict[str, Any]]


# A version number in a query: within what the database stores (a larger one is refused, not a 500).
VERSION_NUMBER = Query(..., ge=1, le=2**31 - 1, description="A version number of the network")


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
            "updated": network.updated, "graph": upgrade(network.graph),
            "analysis": (analysis or analysed(network.graph)).summary()}


def _own(request: HttpRequest, network_id: int, *, locked: bool = False) -> Network:
    """One of the user's networks; `locked`, inside a transaction: its row is locked until that ends."""
    found = Network.objects.select_for_update() if locked else Network.objects
    return get_object_or_404(found, id=network_id, owner=request.user)


def _export(graph: dict) -> dict:
    analysis = analysed(graph)
    if not analysis.valid:
        raise GraphRejected("the graph has errors; fix them to export code", analysis.errors)
    return code_export(analysis)


def code_export(analysis: Analysis) -> dict:
    """A valid graph's PyTorch source, with the file and class names it goes by (the editor, shared pages)."""
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
    analysis = analysed(graph)
    summary = analysis.summary(batch_size)
    if analysis.doc is not graph:  # an older format version: the editor opens the upgraded document
        summary["upgraded"] = analysis.doc
    return summary


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


@router.post("/networks/import", response={201: NetworkOut, 400: Problem, 413: Problem}, tags=["networks"],
             summary="Import an ONNX model as a new network whose first version carries its weights")
def import_network(request: HttpRequest, file: File[UploadedFile], name: Form[str] = ""):
    # Only ONNX: it is parsed as data. A Python file is never accepted, since the server would have to run it
    # (import PyTorch modules on your own machine: python -m builder.graph import-torch).
    if not (file.name or "").lower().endswith(".onnx"):
        raise HttpError(400, f"'{clip(file.name or 'the file')}' is not an .onnx file; the server imports ONNX "
                             "models only (for a PyTorch module, run python -m builder.graph import-torch on your "
                             "machine and import the JSON)")
    if file.size > settings.IMPORT_MAX_BYTES:
        raise HttpError(413, f"the file is {file.size:,} bytes; imported models are limited to "
                             f"{settings.IMPORT_MAX_BYTES:,} bytes (IMPORT_MAX_BYTES)")
    title = name or (file.name or "imported").rsplit(".", 1)[0]
    try:
        imported = import_onnx(file.read(), name=title[:200])
    except ImportRefused as exc:
        raise HttpError(400, str(exc)) from None
    analysis = storable(imported.doc)
    if not analysis.valid:
        raise GraphRejected("the imported graph has errors", analysis.errors)
    network = Network.create_imported(request.user, title[:200], imported.doc, save_weights(imported.weights),
                                      f"Imported from {clip(file.name or 'an ONNX file', 200)}")
    return Status(201, _network_out(network, analysis))


@router.get("/networks/{network_id}", response=NetworkOut, tags=["networks"], summary="One of your networks")
def get_network(request: HttpRequest, network_id: int):
    return _network_out(_own(request, network_id))


@router.patch("/networks/{network_id}", response={200: NetworkOut, 400: Problem, 409: Problem, 413: Problem},
              tags=["networks"], summary="Rename a network, or save its graph as a new version")
def update_network(request: HttpRequest, network_id: int, payload: NetworkPatch):
    analysis = storable(payload.graph) if payload.graph is not None else None
    with transaction.atomic():
        network = _own(request, network_id, locked=True)
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
        # Locked before its runs are looked at, as a run being created locks it: a run is either seen here (and
        # refuses the deletion while in progress) or refused for want of its network.
        _own(request, network_id, locked=True).delete()
    return Status(204, None)


@router.get("/networks/{network_id}/versions", response=list[VersionOut], tags=["networks"],
            summary="The saved versions of a network, each with its time and message")
def list_versions(request: HttpRequest, network_id: int):
    return _own(request, network_id).versions.all()


@router.get("/networks/{network_id}/versions/{number}", response=VersionDetail, tags=["networks"],
            summary="One saved version of a network")
def get_version(request: HttpRequest, network_id: int, number: int):
    return get_object_or_404(_own(request, network_id).versions, number=number)


@router.get("/networks/{network_id}/diff", response={200: DiffOut, 404: Problem}, tags=["networks"],
            summary="The architecture diff between two saved versions: nodes added, removed and changed, edges")
def diff_versions(request: HttpRequest, network_id: int, a: int = VERSION_NUMBER, b: int = VERSION_NUMBER):
    network = _own(request, network_id)
    graphs = dict(network.versions.filter(number__in=[a, b]).values_list("number", "graph"))
    missing = [number for number in (a, b) if number not in graphs]
    if missing:
        raise HttpError(404, f"network {network_id} has no version {missing[0]}; its newest is "
                             f"version {network.version}")
    return {"a": a, "b": b, **diff_graphs(graphs[a], graphs[b])}


@router.get("/networks/{network_id}/export", response={200: ExportOut, 400: Problem}, tags=["networks"],
            summary="PyTorch source code for a network's current graph")
def export_network(request: HttpRequest, network_id: int):
    return _export(_own(request, network_id).graph)
