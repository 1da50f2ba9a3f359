"""The configurable graph limits (settings GRAPH_MAX_NODES, GRAPH_MAX_EDGES, GRAPH_MAX_PARAMS)."""

from django.conf import settings

from .graph import Limits


def graph_limits() -> Limits:
    defaults = Limits()
    return Limits(max_nodes=getattr(settings, "GRAPH_MAX_NODES", defaults.max_nodes),
                  max_edges=getattr(settings, "GRAPH_MAX_EDGES", defaults.max_edges),
                  max_params=getattr(settings, "GRAPH_MAX_PARAMS", defaults.max_params))


GRAPH_MAX_BYTES = getattr(settings, "GRAPH_MAX_BYTES", 1_000_000)  # one saved graph document, as JSON
