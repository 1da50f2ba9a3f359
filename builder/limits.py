"""The validator's limits from the settings (GRAPH_MAX_NODES, GRAPH_MAX_EDGES, GRAPH_MAX_PARAMS)."""

from django.conf import settings

from .graph import Limits


def graph_limits() -> Limits:
    return Limits(max_nodes=settings.GRAPH_MAX_NODES, max_edges=settings.GRAPH_MAX_EDGES,
                  max_params=settings.GRAPH_MAX_PARAMS)

