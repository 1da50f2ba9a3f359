"""Small builders for graph documents in tests."""

import copy

from builder.graph.examples import EXAMPLES


def node(node_id, layer_type, **params):
    return {"id": node_id, "type": layer_type, "params": params}


def graph(nodes, edges, name="test"):
    return {"format": "netgraph", "version": 1, "name": name, "nodes": list(nodes),
            "edges": [{"source": s, "target": t} for s, t in edges]}


def chain(*nodes, name="test"):
    """A straight line of nodes, each feeding the next."""
    ids = [n["id"] for n in nodes]
    return graph(nodes, zip(ids, ids[1:]), name=name)


def example(slug):
    return copy.deepcopy(EXAMPLES[slug]["graph"])


def mlp(width=16, classes=3):
    return chain(node("in", "Input", shape=[width]), node("fc", "Linear", out_features=32),
                 node("act", "ReLU"), node("out", "Linear", out_features=classes))
