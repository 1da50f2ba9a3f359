"""The architecture diff between two netgraph documents: which nodes and edges one has that the other lacks,
and which nodes changed their type or parameters.

Nodes are matched by id. Parameters are compared with the registry's defaults filled in, so a value written
out at its default is no change. Positions and labels are not architecture and are ignored. The documents are
taken as stored: a malformed node or edge is skipped rather than refused, since a saved graph may be a draft.
"""

from __future__ import annotations

import json
from typing import Any

from .layers import LAYERS
from .schema import migrate


def _full_params(node: dict) -> dict:
    """A node's parameters with the registry defaults of its type filled in (as given for an unknown type)."""
    spec = LAYERS.get(node.get("type"))
    defaults = {param.name: param.default for param in spec.params} if spec else {}
    params = node.get("params")
    return {**defaults, **(params if isinstance(params, dict) else {})}


def _nodes(doc: dict) -> dict[str, dict]:
    nodes: dict[str, dict] = {}
    for node in doc.get("nodes") or []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            nodes.setdefault(node["id"], node)  # a second node with an id is no node of the graph
    return nodes


def _edge_key(edge: dict) -> str:
    # Every field counts (source, target, port and any the format grows), so an edge moved to another input
    # is one removed and one added.
    return json.dumps(edge, sort_keys=True)


def _edges(doc: dict) -> dict[str, dict]:
    edges = [edge for edge in doc.get("edges") or [] if isinstance(edge, dict) and {"source", "target"} <= edge.keys()]
    return {_edge_key(edge): edge for edge in edges}


def diff_graphs(before: Any, after: Any) -> dict:
    """What changed from `before` to `after`.

    Returns {"added": [{"id", "type"}], "removed": [{"id", "type"}], "changed": [{"id", "type": [before, after]
    or None, "params": [{"name", "before", "after"}]}], "edges_added": [edges], "edges_removed": [edges]}, each
    list in the order of the document its items come from.
    """
    a, _ = migrate(before) if isinstance(before, dict) else ({}, [])
    b, _ = migrate(after) if isinstance(after, dict) else ({}, [])
    old, new = _nodes(a), _nodes(b)
    changed = []
    for node_id, node in new.items():
        if node_id not in old:
            continue
        was = old[node_id]
        type_change = [was.get("type"), node.get("type")] if was.get("type") != node.get("type") else None
        then, now = _full_params(was), _full_params(node)
        params = [{"name": name, "before": then.get(name), "after": now.get(name)}
                  for name in [*then, *(name for name in now if name not in then)] if then.get(name) != now.get(name)]
        if type_change or params:
            changed.append({"id": node_id, "type": type_change, "params": params})
    old_edges, new_edges = _edges(a), _edges(b)
    return {
        "added": [{"id": node_id, "type": node.get("type")} for node_id, node in new.items() if node_id not in old],
        "removed": [{"id": node_id, "type": node.get("type")} for node_id, node in old.items() if node_id not in new],
        "changed": changed,
        "edges_added": [edge for key, edge in new_edges.items() if key not in old_edges],
        "edges_removed": [edge for key, edge in old_edges.items() if key not in new_edges],
    }
