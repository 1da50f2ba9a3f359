"""The netgraph document: its JSON Schema, parsing, migration of older versions, and structural checks.

The structural schema below is what documents are validated against; `published_schema()` adds each layer
type's parameter schema from the registry, so the published contract and the checks cannot drift apart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jsonschema
import jsonschema_rs

from .errors import ErrorCode, GraphError
from .layers import LAYERS

FORMAT = "netgraph"
CURRENT_VERSION = 2

RECURRENT = ("LSTM", "GRU", "RNN")
STATE_OUTPUT = 1  # a recurrent node's outputs in version 2: 0 every step's output, 1 the final state


def _v1_to_v2(doc: dict) -> dict:
    """Version 2 gives a node several outputs, and an edge says which it leaves from (`output`).

    In version 1 a recurrent layer passed on one thing, chosen by its `output` parameter: "last" (the
    default: the final state) or "sequence". Here that choice moves onto its edges. A recurrent layer that
    ended the graph with its state gets an Identity after it on that output, since a graph's result is its
    last node's first output. The document may still be malformed (the schema is checked after this), so
    whatever is not a well-formed recurrent node or edge is left as it is, for the checks to report.
    """
    nodes, edges = doc.get("nodes"), doc.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return {**doc, "version": 2}
    stateful: set[str] = set()  # recurrent nodes that passed on their final state
    upgraded = []
    for node in nodes:
        params = node.get("params", {}) if isinstance(node, dict) else None
        if isinstance(params, dict) and node.get("type") in RECURRENT and isinstance(node.get("id"), str) \
                and params.get("output", "last") in ("last", "sequence"):
            if params.get("output", "last") == "last":
                stateful.add(node["id"])
            node = {**node, "params": {k: v for k, v in params.items() if k != "output"}}
        upgraded.append(node)
    moved = [{**edge, "output": STATE_OUTPUT} if isinstance(edge, dict) and isinstance(edge.get("source"), str)
             and edge["source"] in stateful and "output" not in edge else edge for edge in edges]
    ids = {n.get("id") for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}
    feeding = {e.get("source") for e in edges if isinstance(e, dict) and isinstance(e.get("source"), str)}
    for node in [n for n in upgraded if isinstance(n, dict) and isinstance(n.get("id"), str)
                 and n["id"] in stateful - feeding]:
        base = node["id"][:ID_MAX_LENGTH - 10]
        state, n = f"{base}_state", 2
        while state in ids:
            state, n = f"{base}_state{n}", n + 1
        ids.add(state)
        identity = {"id": state, "type": "Identity"}
        position = node.get("position")
        if isinstance(position, dict) and all(type(position.get(a)) in (int, float) for a in "xy"):
            identity["position"] = {"x": position["x"], "y": position["y"] + 100}
        upgraded.append(identity)
        moved.append({"source": node["id"], "target": state, "output": STATE_OUTPUT})
    return {**doc, "version": 2, "nodes": upgraded, "edges": moved}


# Upgrades from version N to N + 1, applied in turn on load, so a graph saved before the format grew still
# opens, validates and trains unchanged.
MIGRATIONS: dict[int, Any] = {1: _v1_to_v2}

ID_MAX_LENGTH = 64  # characters in a node id
# What an error repeats of the document is bounded, so a huge id or value is not echoed back several times:
ECHO_LENGTH = 40  # an id or a value quoted in a message is cut to this many characters, with an ellipsis
FIELD_MAX_LENGTH = 200  # an error's `node` or `param` names its id up to this long (the editor finds it by that)
MESSAGE_MAX_LENGTH = 500  # no error message is longer
MAX_SCHEMA_ERRORS = 100  # past this many, a document is reported as not a graph without listing the rest

_ID = {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH}

STRUCTURE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "netgraph",
    "description": "A neural network as a directed acyclic graph of PyTorch layers.",
    "type": "object",
    "required": ["format", "version", "nodes", "edges"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "maxLength": 5000},
        "meta": {"type": "object", "description": "Free-form editor state (viewport and the like)."},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
    },
    "$defs": {
        "node": {
            "type": "object",
            "required": ["id", "type"],
            "additionalProperties": False,
            "properties": {
                "id": _ID,
                "type": {"type": "string", "minLength": 1, "maxLength": 64},
                "label": {"type": "string", "maxLength": 200},
                "trainable": {"type": "boolean", "description": "false freezes the node's weights while the rest "
                                                                "trains (fine-tuning); true when left out."},
                "group": {"type": "string", "maxLength": 200,
                          "description": "The module path this node came from when imported (layer1.0): the "
                                         "editor draws a group's nodes together."},
                "params": {"type": "object"},
                "position": {
                    "type": "object",
                    "required": ["x", "y"],
                    "additionalProperties": False,
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                },
            },
        },
        "edge": {
            "type": "object",
            "required": ["source", "target"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "maxLength": 200},
                "source": _ID,
                "target": _ID,
                "port": {"type": "integer", "minimum": 0, "maximum": 1000,
                         "description": "Which input of a multi-input node this edge feeds; "
                                        "without it, inputs are taken in edge order."},
                "output": {"type": "integer", "minimum": 0, "maximum": 1000,
                           "description": "Which output of a multi-output node (LSTM, Split, ...) this edge "
                                          "leaves from; without it, the first (0)."},
            },
        },
    },
}


def clip(text: str, limit: int = ECHO_LENGTH) -> str:
    """`text`, cut to `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(name: str) -> str:
    """An id (or a parameter name) as a message quotes it: 'conv_1', or 'a very lo…' when it is long."""
    return f"'{clip(name)}'"


def field_id(name: str | None) -> str | None:
    """An id as an error's `node` or `param` field carries it: in full (the editor looks it up by that), or
    None when it is too long to be any node's id anyone typed."""
    return name if name is None or len(name) <= FIELD_MAX_LENGTH else None


def _schema_message(err: jsonschema.ValidationError) -> str:
    """jsonschema's message for `err`, with the offending value shortened (its messages quote it whole)."""
    instance = err.instance
    if err.validator == "maxLength" and isinstance(instance, str):
        return f"{quote(instance)} is {len(instance):,} characters long; at most {err.validator_value} are allowed"
    message, shown = err.message, repr(instance)
    if len(shown) > ECHO_LENGTH:
        message = message.replace(shown, clip(shown))
    return clip(message, MESSAGE_MAX_LENGTH)


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    params: dict = field(default_factory=dict)
    trainable: bool = True  # false: its weights stay as they are while the rest trains (fine-tuning)


@dataclass(frozen=True)
class Edge:
    index: int
    source: str
    target: str
    port: int | None = None
    output: int = 0


@dataclass
class Graph:
    name: str = ""
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def published_schema() -> dict:
    """The JSON Schema of a graph document, with every layer type's parameters spelled out."""
    schema = json.loads(json.dumps(STRUCTURE))
    schema["$defs"]["params"] = {
        spec.type: {
            "type": "object",
            "description": spec.description,
            "additionalProperties": False,
            "properties": {p.name: p.json_schema() for p in spec.params},
            "required": [p.name for p in spec.params if p.required],
        }
        for spec in LAYERS.values()
    }
    # One alternative per layer type (a plain oneOf on the `type` constant, which OpenAPI tools read).
    node = schema["$defs"].pop("node")
    schema["$defs"]["node"] = {"oneOf": [
        {**node, "properties": {**node["properties"], "type": {"const": t},
                                "params": {"$ref": f"#/$defs/params/{t}"}}}
        for t in LAYERS
    ]}
    return schema


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999 parses to inf, which no database stores in JSON
        raise ValueError(f"the number {literal[:40]} is too large")
    return value


def parse_json(text: str | bytes) -> tuple[Any, list[GraphError]]:
    """Parse JSON text strictly (no NaN or Infinity), turning every failure into an error."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float), []
    except RecursionError:
        return None, [GraphError("the document is nested too deeply", code=ErrorCode.INVALID_JSON)]
    except (ValueError, UnicodeDecodeError) as exc:
        return None, [GraphError(f"the document is not valid JSON: {exc}", code=ErrorCode.INVALID_JSON)]


def migrate(doc: dict) -> tuple[dict, list[GraphError]]:
    """Bring a document of an older format version up to the current one."""
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        if version > CURRENT_VERSION:
            return doc, [GraphError(f"graph format version {version} is newer than this app reads "
                                    f"(up to {CURRENT_VERSION})", code=ErrorCode.UNSUPPORTED_VERSION)]
        if version < min(MIGRATIONS):
            return doc, [GraphError(f"graph format version {version} does not exist: versions start at "
                                    f"{min(MIGRATIONS)}", code=ErrorCode.UNSUPPORTED_VERSION)]
        while version < CURRENT_VERSION:
            doc = MIGRATIONS[version](doc)
            version += 1
    return doc, []


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(STRUCTURE)


@lru_cache(maxsize=1)
def _fast_validator() -> jsonschema_rs.Draft202012Validator:
    # The same schema, checked in Rust: about 0.3 ms for a 450-node document where jsonschema takes 100 ms.
    # Only a document it refuses is checked again by jsonschema, whose errors name the place and the problem.
    return jsonschema_rs.Draft202012Validator(STRUCTURE)


def _locate(doc: dict, path: list) -> tuple[str | None, int | None, str]:
    """Name the node or edge an error path points into, and the field inside it."""
    if len(path) >= 2 and path[0] in ("nodes", "edges") and isinstance(path[1], int):
        item = doc[path[0]][path[1]]
        inner = ".".join(str(p) for p in path[2:])
        if path[0] == "nodes":
            node_id = item.get("id") if isinstance(item, dict) else None
            return (node_id if isinstance(node_id, str) else None), None, inner
        return None, path[1], inner
    return None, None, ".".join(str(p) for p in path)


def upgrade(doc: Any) -> Any:
    """A document brought up to the current format version, as far as it can be (else as it is)."""
    return migrate(doc)[0] if isinstance(doc, dict) else doc


def check_structure(doc: Any) -> tuple[Graph | None, list[GraphError]]:
    """Check a parsed document (upgraded to the current version) against the schema and build the Graph of
    its well-formed parts.

    A malformed node or edge is reported and left out, so the rest of the graph is still checked.
    """
    if not isinstance(doc, dict):
        return None, [GraphError("the graph must be a JSON object", code=ErrorCode.SCHEMA)]
    doc, errors = migrate(doc)
    if errors:
        return None, errors
    bad_items: set[tuple[str, int]] = set()
    found = () if _fast_validator().is_valid(doc) else _validator().iter_errors(doc)
    for count, err in enumerate(found):
        if count == MAX_SCHEMA_ERRORS:
            errors.append(GraphError(f"… and more: the document breaks the graph schema in more than "
                                     f"{MAX_SCHEMA_ERRORS} places", code=ErrorCode.SCHEMA))
            return None, errors
        path = list(err.absolute_path)
        node, edge, where = _locate(doc, path)
        if len(path) >= 2 and path[0] in ("nodes", "edges"):
            bad_items.add((path[0], path[1]))
        where, message = clip(where, ECHO_LENGTH), _schema_message(err)
        if node is not None:
            text = f"node {quote(node)}: {where + ': ' if where else ''}{message}"
        elif edge is not None:
            text = f"edge {edge}: {where + ': ' if where else ''}{message}"
        else:
            text = f"{where + ': ' if where else ''}{message}"
        errors.append(GraphError(text, node=field_id(node), edge=edge, code=ErrorCode.SCHEMA))
    if not isinstance(doc.get("nodes"), list) or not isinstance(doc.get("edges"), list):
        return None, errors

    graph = Graph(name=doc.get("name") if isinstance(doc.get("name"), str) else "")
    for i, raw in enumerate(doc["nodes"]):
        if ("nodes", i) in bad_items:
            continue
        if raw["id"] in graph.nodes:
            errors.append(GraphError(f"node {quote(raw['id'])}: the id is used by more than one node",
                                     node=raw["id"], code=ErrorCode.DUPLICATE_ID))
            continue
        graph.nodes[raw["id"]] = Node(raw["id"], raw["type"], raw.get("params", {}), raw.get("trainable", True))
    for i, raw in enumerate(doc["edges"]):
        if ("edges", i) not in bad_items:
            graph.edges.append(Edge(i, raw["source"], raw["target"], raw.get("port"), raw.get("output", 0)))
    return graph, errors
