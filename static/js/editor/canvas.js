// The Cytoscape canvas: the graph being edited, drawn, and changed by the user's gestures (wiring, moving,
// selecting) and by the editor's commands. Each node shows what the last validation said about it; nothing
// here computes a shape or a parameter count.

import { plural, shape } from "../common/format.js";
import { NODE_FONT, NODE_HEIGHT, canvasStyle } from "./canvas-style.js";
import { attachEdgeHandles } from "./edge-handle.js";
import { TEMPORARY, freshId, graphOf, toElements } from "./graph-doc.js";
import { Groups } from "./groups.js";
import { layOut } from "./layout.js";
import { bendAroundLayers } from "./skip-edges.js";

const MAX_FIT_ZOOM = 1.25; // fitting a small graph should not blow it up
const FIT_PADDING = 48;
const DUPLICATE_OFFSET = 40;
const MIN_NODE_WIDTH = 188;
const INSERT_GAP = 24; // below an inserted node, before the layers it pushes down
const EDGE_DROP_DISTANCE = 14; // screen pixels from a connection within which a dropped layer goes into it

// A layout as people write it: "CHW" is C×H×W (the server names each axis with one letter).
export function showLayout(layout) {
  return layout ? [...layout].join("×") : "";
}

// Output `index` of a node as the server describes it: {name, shape, layout}; a one-output node's has no name.
export function outputOf(info, index) {
  if (info?.outputs) return info.outputs[index] ?? { name: `output ${index}?`, layout: null };
  return { name: index ? `output ${index}?` : "", shape: info?.output_shape, layout: info?.layout };
}

const measure = document.createElement("canvas").getContext("2d");
measure.font = NODE_FONT;

export class Canvas {
  // onGesture: the user changed the graph on the canvas itself (connected two nodes, moved nodes).
  // onRefuse(message): a connection the user drew was refused, and why.
  constructor(container, registry, { onGesture, onSelectionChange, onRefuse }) {
    this.registry = registry;
    this.analysis = null;
    this.readOnly = false;
    this.cy = cytoscape({
      container,
      style: canvasStyle(registry),
      minZoom: 0.15,
      maxZoom: 3,
      boxSelectionEnabled: true, // with shift held, since dragging the background pans
      selectionType: "single", // shift-click adds to the selection
    });
    attachEdgeHandles(this.cy, {
      canConnect: (source, target) => this.canConnect(source, target),
      onConnect: () => {
        this.refresh();
        onGesture();
      },
      onRefused: (source, target) => {
        const reason = this.refusal(source, target);
        if (reason && !this.readOnly) onRefuse(reason);
      },
    });
    this.cy.on("dragfree", "node", () => {
      this.bendSkips();
      onGesture();
    });
    this.groups = new Groups(this.cy, { widthOf: (text) => this.widthOf(text), onDrawn: () => this.bendSkips() });
    // A double-click on a group's box collapses it; on a collapsed group's card, expands it.
    this.cy.on("dbltap", "node.group, node.group-card", (event) => this.groups.toggle(event.target.data("path")));
    // Cytoscape caches where its container is; a message bar above it moves and shrinks it.
    new ResizeObserver(() => this.cy.resize()).observe(container);
    // A box selection selects many elements one event at a time: tell the listener once.
    let queued = false;
    this.cy.on("select unselect", () => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        onSelectionChange();
      });
    });
  }

  // A connection is refused when it could never be right: a loop, an edge into a node that takes no input,
  // a second edge between the same two nodes, or an edge that closes a cycle. Nothing connects while a saved
  // version is shown read-only.
  canConnect(source, target) {
    return !this.readOnly && !target.is(TEMPORARY) && this.refusal(source, target) === null;
  }

  // Why source → target cannot be drawn, or null when it can.
  refusal(source, target) {
    const [from, to] = [source.id(), target.id()];
    if (source.same(target)) return `Not connected: ${from} cannot feed itself.`;
    if (!this.registry.acceptsInputs(target.data("type"))) return `Not connected: ${to} takes no input.`;
    if (source.edgesTo(target).nonempty()) return `Not connected: ${from} already feeds ${to}.`;
    if (target.successors().anySame(source)) {
      return `Not connected: ${from} → ${to} would make a cycle, since ${to} already feeds ${from}.`;
    }
    return null;
  }

  // A saved version on view: nothing can be moved, wired or edited (the editor refuses its commands).
  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this.cy.autoungrabify(readOnly);
    this.cy.container().classList.toggle("read-only", readOnly); // which hides the wiring handle
  }

  nodes() {
    return this.cy.nodes().not(TEMPORARY);
  }

  edges() {
    return this.cy.edges().not(TEMPORARY);
  }

  selected() {
    return this.cy.$(":selected").not(TEMPORARY);
  }

  graph() {
    return graphOf(this.cy);
  }

  // Replace the whole graph (opening, importing, undoing); the viewport stays where it is. Returns what
  // could not be drawn. Nodes saved without a position are laid out, unless the caller does it (autoLayout false).
  load(graph, { autoLayout = true } = {}) {
    const { elements, dropped } = toElements(graph);
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(elements);
    });
    this.refresh();
    if (autoLayout && this.unplaced(graph)) this.layout();
    else this.groups.draw();
    return dropped;
  }

  // Whether some node of `graph` has no position (an imported graph): it needs a layout.
  unplaced(graph) {
    return graph.nodes.some((node) => !node.position);
  }

  // A new layer at `position`, fed by `source` when one is given and the layer takes an input.
  addNode(type, position, source = null) {
    const id = freshId(type, this.ids());
    const node = this.cy.add({
      group: "nodes", data: { id, type, params: this.registry.initialParams(type) }, position,
    });
    if (source && this.registry.acceptsInputs(type)) this.cy.add({ group: "edges", data: { source: source.id(), target: id } });
    this.refresh();
    this.select(node);
    return node;
  }

  removeSelected() {
    this.selected().remove();
    this.refresh();
  }

  // Copies of the selected nodes, and of the edges between them, a little below and to the right.
  duplicateSelected() {
    const originals = this.selected().nodes();
    const taken = this.ids();
    const copyOf = new Map();
    const copies = this.cy.collection();
    this.cy.batch(() => {
      for (const node of originals) {
        const id = freshId(node.data("type"), taken);
        taken.add(id);
        copyOf.set(node.id(), id);
        const { x, y } = node.position();
        const data = { id, type: node.data("type"), params: structuredClone(node.data("params")) };
        if (node.data("label") !== undefined) data.label = node.data("label");
        copies.merge(this.cy.add({
          group: "nodes", data, position: { x: x + DUPLICATE_OFFSET, y: y + DUPLICATE_OFFSET },
        }));
      }
      for (const edge of this.edges()) {
        const [source, target] = [copyOf.get(edge.source().id()), copyOf.get(edge.target().id())];
        if (source && target) copies.merge(this.cy.add({ group: "edges", data: { source, target } }));
      }
    });
    this.refresh();
    this.select(copies);
  }

  // Cytoscape ids cannot change, so a renamed node means a redrawn graph. Returns a problem, or null.
  renameNode(oldId, newId) {
    if (newId === oldId) return null;
    if (!newId) return "The id cannot be empty.";
    if (this.cy.getElementById(newId).nonempty()) return `Another layer is already called '${newId}'.`;
    const graph = this.graph();
    const rename = (id) => (id === oldId ? newId : id);
    for (const node of graph.nodes) node.id = rename(node.id);
    for (const edge of graph.edges) Object.assign(edge, { source: rename(edge.source), target: rename(edge.target) });
    this.load(graph);
    this.select(this.cy.getElementById(newId));
    return null;
  }

  // A parameter's new value; undefined leaves it out, so the registry default applies.
  setParam(id, name, value) {
    const node = this.cy.getElementById(id);
    const params = { ...node.data("params") };
    if (value === undefined) delete params[name];
    else params[name] = value;
    node.data("params", params);
  }

  // Which output of its source an edge leaves from (0, the first, is left out of the document).
  setEdgeOutput(edge, index) {
    if (index) edge.data("output", index);
    else edge.removeData("output");
  }

  select(elements) {
    this.cy.$(":selected").unselect();
    elements.select();
  }

  selectIds(ids) {
    this.select(this.cy.collection(ids.map((id) => this.cy.getElementById(id)).filter((e) => e.nonempty())));
  }

  // A fix from the server: a new layer (Flatten, Permute) put on the first input of `before`, which it takes
  // over; `before` and everything below it move down to make room. Returns the new node.
  insertBefore(before, type, params = {}) {
    const target = this.cy.getElementById(before);
    if (target.empty()) return null;
    const graph = this.graph();
    const into = graph.edges.map((edge, index) => ({ edge, index })).filter(({ edge }) => edge.target === before);
    // The first input as the server orders it: by port where given, then in edge order.
    into.sort((a, b) => (a.edge.port === undefined) - (b.edge.port === undefined)
      || (a.edge.port ?? 0) - (b.edge.port ?? 0) || a.index - b.index);
    return this.insertAt(graph, target, into.length ? into[0].index : null, type, params);
  }

  // A layer dropped onto a connection goes into it, where the connection's target was.
  insertIntoEdge(edge, type) {
    const index = this.edges().toArray().findIndex((candidate) => candidate.same(edge));
    return this.insertAt(this.graph(), edge.target(), index, type);
  }

  // A new layer where `target` is, on `graph`'s edge `index` into it (or on none); `target` and everything
  // below it move down to make room. Returns the new node.
  insertAt(graph, target, index, type, params = {}) {
    const id = freshId(type, this.ids());
    const { x, y } = target.position();
    this.shiftRows(graph, target.union(target.successors().nodes()));
    graph.nodes.push({ id, type, params: { ...this.registry.initialParams(type), ...structuredClone(params) },
      position: { x, y } });
    if (index !== null) {
      // Both halves keep the edge's fields: `port` (the input it feeds) stays on the half into the target,
      // `output` (the output it leaves from) on the half out of the source.
      const { port, ...upstream } = graph.edges[index];
      const { output, ...downstream } = graph.edges[index];
      graph.edges.splice(index, 1, { ...upstream, target: id }, { ...downstream, source: id });
    }
    return this.reload(graph, id);
  }

  // A new layer right after node `id`: it takes over every connection out of it, and the layers below move
  // down. Returns the new node.
  insertAfter(id, type) {
    const source = this.cy.getElementById(id);
    const graph = this.graph();
    const newId = freshId(type, this.ids());
    const { x, y } = source.position();
    this.shiftRows(graph, source.successors().nodes());
    graph.nodes.push({ id: newId, type, params: this.registry.initialParams(type),
      position: { x, y: y + NODE_HEIGHT + INSERT_GAP } });
    // The new layer has one output, so the connections it takes over lose the `output` they left `id` from.
    graph.edges = graph.edges.map((edge) => {
      if (edge.source !== id) return edge;
      const { output, ...rest } = edge;
      return { ...rest, source: newId };
    });
    graph.edges.push({ source: id, target: newId });
    return this.reload(graph, newId);
  }

  // Take out a one-input layer, connecting its input to everything it fed; the layers below move up.
  bypass(id) {
    const node = this.cy.getElementById(id);
    const graph = this.graph();
    const input = graph.edges.find((edge) => edge.target === id);
    this.shiftRows(graph, node.successors().nodes(), -1);
    // Each connection out of it now leaves its input's source, from the same output that fed it.
    const from = { source: input.source, ...(input.output === undefined ? {} : { output: input.output }) };
    graph.edges = graph.edges.filter((edge) => edge.target !== id)
      .map((edge) => (edge.source === id ? { ...edge, ...from } : edge));
    graph.nodes = graph.nodes.filter((candidate) => candidate.id !== id);
    this.load(graph);
  }

  // The activation layer right after node `id`: the one layer it feeds, when that is an activation.
  activationAfter(id) {
    const fed = this.cy.getElementById(id).outgoers("node").not(TEMPORARY);
    return fed.length === 1 && this.registry.category(fed.data("type")) === "Activation" ? fed : null;
  }

  // Choose the activation right after node `id` (null: none), replacing the one there. Returns the
  // activation's node, or null.
  setActivation(id, type) {
    const current = this.activationAfter(id);
    if (current && current.data("type") === type) return current;
    if (current) this.bypass(current.id());
    if (type) return this.insertAfter(id, type);
    this.selectIds([id]);
    return null;
  }

  // Move these nodes of `graph` down by a number of rows (up when negative).
  shiftRows(graph, nodes, rows = 1) {
    const moved = new Set(nodes.map((node) => node.id()));
    const shift = rows * (NODE_HEIGHT + INSERT_GAP);
    for (const node of graph.nodes) {
      if (moved.has(node.id) && node.position) node.position = { x: node.position.x, y: node.position.y + shift };
    }
  }

  // Draw `graph` and select its node `id`.
  reload(graph, id) {
    this.load(graph);
    const node = this.cy.getElementById(id);
    this.select(node);
    return node;
  }

  // The name shown on a node instead of its id; an empty one is taken away.
  setTrainable(id, trainable) {
    const node = this.cy.getElementById(id);
    if (trainable) node.removeData("trainable");
    else node.data("trainable", false);
    this.refresh();
  }

  setLabel(id, label) {
    const node = this.cy.getElementById(id);
    if (label) node.data("label", label);
    else node.removeData("label");
    this.refresh();
  }

  // The connection passing within a few screen pixels of a graph position, or null.
  edgeAt(position) {
    let nearest = null;
    let distance = EDGE_DROP_DISTANCE / this.cy.zoom();
    for (const edge of this.edges().filter(":visible")) {
      const d = distanceToSegment(position, edge.sourceEndpoint(), edge.targetEndpoint());
      if (d <= distance) [nearest, distance] = [edge, d];
    }
    return nearest;
  }

  // The viewport as the document keeps it (meta.viewport), rounded so that restoring it reads back the same.
  viewport() {
    const { x, y } = this.cy.pan();
    return { zoom: Math.round(this.cy.zoom() * 1000) / 1000, pan: { x: Math.round(x), y: Math.round(y) } };
  }

  // Show a kept viewport; false when there is none to show.
  setViewport(viewport) {
    const { zoom, pan } = viewport ?? {};
    if (!Number.isFinite(zoom) || !Number.isFinite(pan?.x) || !Number.isFinite(pan?.y)) return false;
    this.cy.viewport({ zoom, pan: { x: pan.x, y: pan.y } });
    return true;
  }

  // Pan to a node that is out of view (a layer added below the bottom of the screen).
  reveal(node) {
    const box = node.boundingBox();
    const view = this.cy.extent();
    if (box.x1 < view.x1 || box.x2 > view.x2 || box.y1 < view.y1 || box.y2 > view.y2) this.cy.center(node);
  }

  // Paint the architecture diff (GET /api/networks/{id}/diff) on the graph drawn, which is its newer side:
  // added and changed layers and added connections in their colours, and what was removed drawn ghosted
  // where `before` (the older document) had it. The ghosts are not part of the graph.
  showDiff(diff, before) {
    const removed = new Set(diff.removed.map((node) => node.id));
    // Edges are told apart by every field they have (as the server compares them), in the document's form.
    const key = (edge) => JSON.stringify(Object.keys(edge).sort().map((field) => [field, edge[field]]));
    const added = new Set(diff.edges_added.map(key));
    const documented = this.graph().edges;
    this.cy.batch(() => {
      for (const { id } of diff.added) this.cy.getElementById(id).addClass("diff-added");
      for (const change of diff.changed) this.cy.getElementById(change.id).addClass("diff-changed");
      this.edges().forEach((edge, i) => edge.toggleClass("diff-added", added.has(key(documented[i]))));
      for (const node of before.nodes.filter((n) => removed.has(n.id))) {
        const shown = `${node.label || node.id} · ${this.registry.label(node.type)}\nremoved`;
        const width = this.widthOf(shown);
        // Where it was, or beside it when a layer of the newer version stands there now.
        const position = { ...(node.position ?? { x: 0, y: 0 }) };
        const covers = (other) => Math.abs(other.position("x") - position.x) < (width + other.width()) / 2
          && Math.abs(other.position("y") - position.y) < NODE_HEIGHT;
        while (this.nodes().some(covers)) position.x += width + INSERT_GAP;
        this.cy.add({ group: "nodes", classes: "diff-removed", selectable: false, position,
          data: { id: node.id, type: node.type, params: node.params ?? {}, shown, caption: shown, width } });
      }
      for (const edge of diff.edges_removed) {
        const ends = [this.cy.getElementById(edge.source), this.cy.getElementById(edge.target)];
        if (ends.every((end) => end.nonempty())) {
          this.cy.add({ group: "edges", classes: "diff-removed", selectable: false, data: { source: edge.source, target: edge.target } });
        }
      }
    });
  }

  // What the server said about the graph: shapes, layouts and parameter counts on the nodes, problems in
  // red, warnings in amber.
  showAnalysis(analysis) {
    this.analysis = analysis;
    this.refresh();
  }

  refresh() {
    const badNodes = new Set();
    const badEdges = new Set();
    for (const error of this.analysis?.errors ?? []) {
      if (error.node !== null) badNodes.add(error.node);
      if (error.edge !== null) badEdges.add(error.edge);
    }
    const warnedNodes = new Set((this.analysis?.warnings ?? []).map((warning) => warning.node).filter(Boolean));
    const incoming = new Map();
    this.cy.batch(() => {
      for (const node of this.nodes()) {
        const info = this.analysis?.nodes[node.id()];
        const title = `${node.data("label") || node.id()} · ${this.registry.label(node.data("type"))}`;
        const caption = `${title}\n${this.summary(info)}`;
        // Drawn: the caption with the layout next to the output shape ("[32, 13, 13] C×H×W · 320 params").
        const shown = `${title}\n${this.summary(info, true)}${node.data("trainable") === false ? " · frozen" : ""}`;
        node.data({ caption, shown, layout: info?.layout ?? null, width: this.widthOf(shown) });
        node.toggleClass("error", badNodes.has(node.id()));
        node.toggleClass("warning", !badNodes.has(node.id()) && warnedNodes.has(node.id()));
        node.toggleClass("unresolved", !info?.output_shape);
        node.toggleClass("frozen", node.data("trainable") === false);
      }
      this.edges().forEach((edge, index) => {
        edge.toggleClass("error", badEdges.has(index));
        const target = edge.target().id();
        incoming.set(target, [...(incoming.get(target) ?? []), edge]);
      });
      // Where a node takes several inputs, their order matters (Concat): number them.
      for (const edges of incoming.values()) {
        edges.forEach((edge, i) => {
          const port = edge.data("port");
          edge.data("order", edges.length < 2 ? "" : port !== undefined ? `port ${port}` : String(i + 1));
        });
      }
      // Each connection carries one output of its source: its layout is written on it, with the input
      // number, and the output's name where the source has several (an LSTM's "state").
      for (const edge of this.edges()) {
        const output = outputOf(this.analysis?.nodes[edge.source().id()], edge.data("output") ?? 0);
        edge.data("shown", [output.name, showLayout(output.layout), edge.data("order")].filter(Boolean).join(" · "));
      }
    });
    this.bendSkips(); // the layers' widths may have changed
  }

  // Skip connections drawn beside the layers they pass, not through them (skip-edges.js).
  bendSkips() {
    const shown = this.nodes().union(this.cy.nodes(".group-card")).filter((node) => node.visible());
    const size = (node) => ({ width: node.data("width"), height: NODE_HEIGHT });
    this.cy.batch(() => bendAroundLayers(shown, this.edges().filter((edge) => edge.visible()), size));
  }

  summary(info, withLayout = false) {
    if (!info) return "…"; // not validated yet
    if (!info.output_shape) return "—";
    const params = info.params ? ` · ${plural(info.params, "param")}` : "";
    if (info.outputs) { // several outputs: each by number and name, as the edges leaving them say
      return info.outputs.map((out, i) => `${i} ${out.name} ${shape(out.shape)}${withLayout && out.layout
        ? ` ${showLayout(out.layout)}` : ""}`).join(" | ") + params;
    }
    const layout = withLayout && info.layout ? ` ${showLayout(info.layout)}` : "";
    return shape(info.output_shape) + layout + params;
  }

  widthOf(caption) {
    const widest = Math.max(...caption.split("\n").map((line) => measure.measureText(line).width));
    return Math.max(MIN_NODE_WIDTH, Math.ceil(widest) + 36);
  }

  ids() {
    return new Set(this.nodes().map((node) => node.id()));
  }

  // The graph position under a point of the window (where a layer was dropped).
  modelPosition(clientX, clientY) {
    const box = this.cy.container().getBoundingClientRect();
    const pan = this.cy.pan();
    const zoom = this.cy.zoom();
    return { x: (clientX - box.left - pan.x) / zoom, y: (clientY - box.top - pan.y) / zoom };
  }

  // The middle of the visible canvas, moved down past any node already there.
  freeSpotInView() {
    const box = this.cy.container().getBoundingClientRect();
    return this.clearSpot(this.modelPosition(box.left + box.width / 2, box.top + box.height / 2));
  }

  // The place one row below a node, moved down past any node already there.
  spotBelow(node) {
    const { x, y } = node.position();
    return this.clearSpot({ x, y: y + NODE_HEIGHT + INSERT_GAP });
  }

  clearSpot(spot) {
    const near = (node) => Math.abs(node.position("x") - spot.x) < 40 && Math.abs(node.position("y") - spot.y) < 40;
    while (this.nodes().some(near)) spot.y += NODE_HEIGHT + INSERT_GAP;
    return spot;
  }

  // Zoom about the middle of the view.
  zoomBy(factor) {
    const { width, height } = this.cy.container().getBoundingClientRect();
    this.cy.zoom({ level: this.cy.zoom() * factor, renderedPosition: { x: width / 2, y: height / 2 } });
  }

  fit() {
    const nodes = this.nodes().union(this.cy.nodes(".group-card"));
    if (nodes.empty()) {
      this.cy.reset();
      return;
    }
    this.cy.fit(nodes, FIT_PADDING);
    if (this.cy.zoom() > MAX_FIT_ZOOM) {
      this.cy.zoom(MAX_FIT_ZOOM);
      this.cy.center(nodes);
    }
  }

  // Top-to-bottom layers with dagre, each group's layers together in its box, then everything in view.
  // Collapsed groups are laid out expanded, as their layers keep their places.
  layout({ fit = true } = {}) {
    this.groups.clear();
    // Sizes from the data, not the style: the editor lays a graph out before its first render (see editor.js).
    const size = (node) => ({ width: node.data("width"), height: NODE_HEIGHT });
    this.cy.batch(() => layOut(this.nodes(), this.cy.nodes(".group"), this.edges(), size));
    this.groups.draw();
    if (fit) this.fit();
  }
}

function distanceToSegment(p, a, b) {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}
