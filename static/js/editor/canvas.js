// The Cytoscape canvas: the graph being edited, drawn, and changed by the user's gestures (wiring, moving,
// selecting) and by the editor's commands. Each node shows what the last validation said about it; nothing
// here computes a shape or a parameter count.

import { plural, shape } from "../common/format.js";
import { NODE_FONT, NODE_HEIGHT, canvasStyle } from "./canvas-style.js";
import { attachEdgeHandles } from "./edge-handle.js";
import { TEMPORARY, freshId, graphOf, toElements } from "./graph-doc.js";

const MAX_FIT_ZOOM = 1.25; // fitting a small graph should not blow it up
const FIT_PADDING = 48;
const DUPLICATE_OFFSET = 40;
const MIN_NODE_WIDTH = 188;
const INSERT_GAP = 24; // below an inserted node, before the layers it pushes down

// A layout as people write it: "CHW" is C×H×W (the server names each axis with one letter).
export function showLayout(layout) {
  return layout ? [...layout].join("×") : "";
}

const measure = document.createElement("canvas").getContext("2d");
measure.font = NODE_FONT;

export class Canvas {
  // onGesture: the user changed the graph on the canvas itself (connected two nodes, moved nodes).
  constructor(container, registry, { onGesture, onSelectionChange }) {
    this.registry = registry;
    this.analysis = null;
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
    });
    this.cy.on("dragfree", "node", onGesture);
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
  // a second edge between the same two nodes, or an edge that closes a cycle.
  canConnect(source, target) {
    return !source.same(target)
      && this.registry.acceptsInputs(target.data("type"))
      && source.edgesTo(target).empty()
      && !target.successors().anySame(source);
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
  // could not be drawn. Nodes saved without a position are laid out.
  load(graph) {
    const { elements, dropped } = toElements(graph);
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(elements);
    });
    this.refresh();
    if (graph.nodes.some((node) => !node.position)) this.layout();
    return dropped;
  }

  addNode(type, position) {
    const id = freshId(type, this.ids());
    const node = this.cy.add({
      group: "nodes", data: { id, type, params: this.registry.initialParams(type) }, position,
    });
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
    const id = freshId(type, this.ids());
    const { x, y } = target.position();
    const shift = NODE_HEIGHT + INSERT_GAP;
    const below = new Set(target.union(target.successors().nodes()).map((node) => node.id()));
    for (const node of graph.nodes) if (below.has(node.id)) node.position = { x: node.position.x, y: node.position.y + shift };
    graph.nodes.push({ id, type, params: { ...this.registry.initialParams(type), ...structuredClone(params) },
      position: { x, y } });
    if (into.length) {
      const [{ edge, index }] = into;
      graph.edges.splice(index, 1, { source: edge.source, target: id }, { ...edge, source: id });
    }
    this.load(graph);
    const node = this.cy.getElementById(id);
    this.select(node);
    return node;
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
        const title = `${node.id()} · ${this.registry.label(node.data("type"))}`;
        const caption = `${title}\n${this.summary(info)}`;
        // Drawn: the caption with the layout next to the output shape ("[32, 13, 13] C×H×W · 320 params").
        const shown = `${title}\n${this.summary(info, true)}`;
        node.data({ caption, shown, layout: info?.layout ?? null, width: this.widthOf(shown) });
        node.toggleClass("error", badNodes.has(node.id()));
        node.toggleClass("warning", !badNodes.has(node.id()) && warnedNodes.has(node.id()));
        node.toggleClass("unresolved", !info?.output_shape);
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
      // Each connection carries its source's output: its layout is written on it, with the input number.
      for (const edge of this.edges()) {
        const layout = showLayout(this.analysis?.nodes[edge.source().id()]?.layout);
        edge.data("shown", [layout, edge.data("order")].filter(Boolean).join(" · "));
      }
    });
  }

  summary(info, withLayout = false) {
    if (!info) return "…"; // not validated yet
    if (!info.output_shape) return "—";
    const layout = withLayout && info.layout ? ` ${showLayout(info.layout)}` : "";
    return shape(info.output_shape) + layout + (info.params ? ` · ${plural(info.params, "param")}` : "");
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
    const spot = this.modelPosition(box.left + box.width / 2, box.top + box.height / 2);
    const near = (node) => Math.abs(node.position("x") - spot.x) < 40 && Math.abs(node.position("y") - spot.y) < 40;
    while (this.nodes().some(near)) spot.y += NODE_HEIGHT + 24;
    return spot;
  }

  // Zoom about the middle of the view.
  zoomBy(factor) {
    const { width, height } = this.cy.container().getBoundingClientRect();
    this.cy.zoom({ level: this.cy.zoom() * factor, renderedPosition: { x: width / 2, y: height / 2 } });
  }

  fit() {
    const nodes = this.nodes();
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

  // Top-to-bottom layers with dagre, then everything in view.
  layout() {
    const options = { name: "dagre", rankDir: "TB", nodeSep: 40, rankSep: 36, animate: false, fit: false };
    this.cy.elements().not(TEMPORARY).layout(options).run();
    this.fit();
  }
}
