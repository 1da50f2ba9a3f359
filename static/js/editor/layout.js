// Auto-layout: layers top to bottom with dagre (the global `dagre` of static/vendor/dagre-0.8.5). A graph with
// groups is laid out one group at a time, innermost first: a group's layers and sub-groups (each a box of its
// laid-out size) are a small dagre graph of their own, and the group then takes its place in its parent's as one
// box. Small runs keep every group's layers together, inside its box, and take a fraction of the time of dagre's
// compound mode (seconds at 450 layers).

const NODE_SEP = 40;
const RANK_SEP = 36;
export const GROUP_PADDING = 12; // around a group's layers, inside its box
const GROUP_LABEL = 18; // the group's name, above its box
const ROOT = "";

// Place `layers` (Cytoscape nodes, some inside the compound nodes `groups`), wired by `edges`; sizeOf(layer) is
// its {width, height}.
export function layOut(layers, groups, edges, sizeOf) {
  const containerOf = (element) => (element.isChild() ? element.parent().id() : ROOT);
  const members = new Map([[ROOT, []], ...groups.map((group) => [group.id(), []])]);
  for (const element of groups.union(layers)) members.get(containerOf(element)).push(element);

  // Each connection joins two items of the innermost container that holds both of its ends.
  const links = new Map();
  const lineage = (node) => [...node.ancestors().map((group) => group.id()).reverse(), node.id()];
  for (const edge of edges) {
    const [from, to] = [lineage(edge.source()), lineage(edge.target())];
    let depth = 0;
    while (from[depth] === to[depth]) depth += 1;
    const container = depth ? from[depth - 1] : ROOT;
    if (!links.has(container)) links.set(container, []);
    links.get(container).push([from[depth], to[depth]]);
  }

  const size = new Map(); // a group's box with its name above, once laid out
  const offset = new Map(); // an item's centre from its container's centre
  const innermostFirst = groups.sort((a, b) => b.ancestors().length - a.ancestors().length).map((group) => group.id());
  for (const container of [...innermostFirst, ROOT]) {
    const boxes = new Map(members.get(container).map((item) =>
      [item.id(), size.get(item.id()) ?? sizeOf(item)]));
    const { width, height } = placeChains(boxes, links.get(container) ?? [], offset);
    size.set(container, { width: width + 2 * GROUP_PADDING, height: height + 2 * GROUP_PADDING + GROUP_LABEL });
  }

  // A layer's place: its offsets added up from the outermost group in, each group's layers below its name.
  const place = (node) => {
    const at = { ...offset.get(node.id()) };
    for (const group of node.ancestors()) {
      const { x, y } = offset.get(group.id());
      at.x += x;
      at.y += y + GROUP_LABEL / 2;
    }
    return at;
  };
  layers.positions(place);
}

// Lay out items of these sizes (id -> {width, height}) joined by `links` ([source, target] ids), setting each
// one's centre from the middle of the whole in `offset`; returns the size of the whole. A chain of items (each
// the only successor of the one before, which is its only predecessor) goes to dagre as one tall item, since it
// is one column in any case: an imported network is mostly chains, and dagre's time grows fast with its nodes.
// A container that is one chain needs no dagre at all.
function placeChains(boxes, links, offset) {
  if (!boxes.size) return { width: 0, height: 0 };
  const outs = new Map([...boxes.keys()].map((id) => [id, new Set()]));
  const ins = new Map([...boxes.keys()].map((id) => [id, new Set()]));
  for (const [source, target] of links) {
    if (source === target) continue;
    outs.get(source).add(target);
    ins.get(target).add(source);
  }
  const only = (set) => (set.size === 1 ? set.values().next().value : null);
  const follows = (id) => {
    const next = only(outs.get(id));
    return next !== null && only(ins.get(next)) === id ? next : null;
  };
  const chains = new Map(); // the chain's first item -> its items in order
  const chainOf = new Map();
  const starts = [...boxes.keys()].filter((id) => {
    const before = only(ins.get(id));
    return before === null || follows(before) !== id;
  });
  for (const first of [...starts, ...boxes.keys()]) { // then what a cycle left unvisited, one item a chain
    if (chainOf.has(first)) continue;
    const chain = [first];
    chainOf.set(first, first);
    for (let next = follows(first); next !== null && !chainOf.has(next); next = follows(next)) {
      chain.push(next);
      chainOf.set(next, first);
    }
    chains.set(first, chain);
  }
  const column = (chain) => ({
    width: Math.max(...chain.map((id) => boxes.get(id).width)),
    height: chain.reduce((sum, id) => sum + boxes.get(id).height, 0) + (chain.length - 1) * RANK_SEP,
  });

  const centres = new Map();
  let whole;
  if (chains.size === 1) {
    whole = column(chains.values().next().value);
    centres.set(chains.keys().next().value, { x: 0, y: 0 });
  } else {
    const graph = new dagre.graphlib.Graph();
    graph.setGraph({ rankdir: "TB", nodesep: NODE_SEP, ranksep: RANK_SEP });
    graph.setDefaultEdgeLabel(() => ({}));
    for (const [first, chain] of chains) graph.setNode(first, column(chain));
    for (const [source, target] of links) {
      if (chainOf.get(source) !== chainOf.get(target)) graph.setEdge(chainOf.get(source), chainOf.get(target));
    }
    dagre.layout(graph);
    whole = graph.graph();
    for (const first of chains.keys()) {
      const { x, y } = graph.node(first);
      centres.set(first, { x: x - whole.width / 2, y: y - whole.height / 2 });
    }
  }
  for (const [first, chain] of chains) {
    const { x, y } = centres.get(first);
    let top = y - column(chain).height / 2;
    for (const id of chain) {
      const { height } = boxes.get(id);
      offset.set(id, { x, y: top + height / 2 });
      top += height + RANK_SEP;
    }
  }
  return { width: whole.width, height: whole.height };
}
