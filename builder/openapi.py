"""The netgraph JSON Schema in the OpenAPI document: as components, and as the body of graph endpoints."""

from __future__ import annotations

from typing import Any

from .graph import published_schema

GRAPH_REF = "#/components/schemas/NetGraph"
GRAPH_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": GRAPH_REF}}}}}


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
