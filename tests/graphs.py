"""Small builders for graph documents in tests."""

import copy

from builder.graph.examples import EXAMPLES


def node(node_id, layer_type, **params):
    return {"id": node_id, "type": layer_type, "params": params}


def graph(nodes, edges, name="test"):
    """A document of the current format; an edge is (source, target) or (source, target, output)."""
    return {"format": "netgraph", "version": 2, "name": name, "nodes": list(nodes),
            "edges": [edge_of(*e) for e in edges]}


def edge_of(source, target, output=0):
    return {"source": source, "target": target, **({"output": output} if output else {})}


def chain(*nodes, name="test"):
    """A straight line of nodes, each feeding the next."""
    ids = [n["id"] for n in nodes]
    return graph(nodes, zip(ids, ids[1:]), name=name)


def example(slug):
    return copy.deepcopy(EXAMPLES[slug]["graph"])


def mlp(width=16, classes=3):
    return chain(node("in", "Input", shape=[width]), node("fc", "Linear", out_features=32),
                 node("act", "ReLU"), node("out", "Linear", out_features=classes))


def residual_graph(size: int, grouped: bool = False) -> dict:
    """Blocks of conv → batch norm → ReLU → Add(skip), then global pooling and a classifier: `size` nodes, with
    no positions, as an import makes them. `grouped`: each block's nodes carry the module path an import would
    give them, ten blocks to a stage (`stage0.block3`)."""
    nodes = [{"id": "in", "type": "Input", "params": {"shape": [16, 16, 16]}}]
    edges = []
    last = "in"
    for b in range((size - 3) // 4):
        ids = [f"conv{b}", f"bn{b}", f"act{b}", f"add{b}"]
        block = [{"id": ids[0], "type": "Conv2d", "params": {"out_channels": 16, "padding": 1}},
                 {"id": ids[1], "type": "BatchNorm2d", "params": {"eps": 1e-5}},
                 {"id": ids[2], "type": "ReLU"}, {"id": ids[3], "type": "Add"}]
        if grouped:
            for n in block:
                n["group"] = f"stage{b // 10}.block{b}"
        nodes += block
        edges += [{"source": last, "target": ids[0]}, {"source": ids[0], "target": ids[1]},
                  {"source": ids[1], "target": ids[2]}, {"source": ids[2], "target": ids[3]},
                  {"source": last, "target": ids[3]}]
        last = ids[3]
    for extra in range(size - 3 - len(nodes) + 1):  # top up to exactly `size` nodes
        nodes.append({"id": f"relu{extra}", "type": "ReLU"})
        edges.append({"source": last, "target": f"relu{extra}"})
        last = f"relu{extra}"
    nodes += [{"id": "gap", "type": "GlobalAvgPool"}, {"id": "out", "type": "Linear", "params": {"out_features": 10}}]
    edges += [{"source": last, "target": "gap"}, {"source": "gap", "target": "out"}]
    return {"format": "netgraph", "version": 2, "name": f"bench {size}", "nodes": nodes, "edges": edges}
