// The netgraph document and the canvas's elements, each made from the other. While editing, the canvas
// holds the graph; a document is made from it to validate, save, snapshot for undo and export, and a loaded,
// imported or restored document becomes elements again. Edge order survives both ways, because a
// multi-input node (Add, Concat) takes its inputs in edge order.

import { GROUP_ELEMENTS, groupElements } from "./groups.js";

export const FORMAT = "netgraph";
export const FORMAT_VERSION = 2;

// Edgehandles' temporary elements (the line that follows the mouse, the preview edge) are not the graph.
// (Edgehandles also marks the previewed target node eh-preview; that node is real.) Nor are the ghosts of
// removed layers and connections that a version diff draws, nor the boxes drawn for imported layers' groups.
export const TEMPORARY = `.eh-ghost, edge.eh-preview, .diff-removed, ${GROUP_ELEMENTS}`;

// Top-level fields the editor keeps as they came without editing them.
const UNEDITED_FIELDS = ["description", "meta"];

export function uneditedFields(doc) {
  return Object.fromEntries(UNEDITED_FIELDS.filter((key) => key in doc).map((key) => [key, doc[key]]));
}

export function emptyDocument(name) {
  return { format: FORMAT, version: FORMAT_VERSION, name, nodes: [], edges: [] };
}

// The elements of a document's nodes and edges, and what could not be drawn: a second node with an id
// already used, or an edge to a node that does not exist (the API stores such graphs; the canvas cannot).
// The boxes of the nodes' groups come first, as a node's box must exist when the node is added.
export function toElements(doc) {
  const elements = [];
  const dropped = [];
  const ids = new Set();
  for (const node of doc.nodes) {
    if (ids.has(node.id)) {
      dropped.push(`a second node '${node.id}'`);
      continue;
    }
    ids.add(node.id);
    const data = { id: node.id, type: node.type, params: structuredClone(node.params ?? {}) };
    if (node.label !== undefined) data.label = node.label;
    if (node.group !== undefined) data.group = node.group; // an imported node's module path (layer1.0)
    if (node.trainable === false) data.trainable = false; // frozen while the rest trains (fine-tuning)
    elements.push({ group: "nodes", data, position: node.position ? { ...node.position } : undefined });
  }
  for (const edge of doc.edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target)) {
      dropped.push(`the edge ${edge.source} → ${edge.target}`);
      continue;
    }
    const data = { source: edge.source, target: edge.target };
    if (edge.port !== undefined) data.port = edge.port;
    if (edge.output) data.output = edge.output; // which output of a multi-output source (LSTM: 1 is its state)
    elements.push({ group: "edges", data });
  }
  return { elements: [...groupElements(elements.filter((element) => element.group === "nodes")), ...elements], dropped };
}

function nodeJson(node) {
  const json = { id: node.id(), type: node.data("type") };
  if (Object.keys(node.data("params")).length) json.params = structuredClone(node.data("params"));
  if (node.data("label") !== undefined) json.label = node.data("label");
  if (node.data("group") !== undefined) json.group = node.data("group");
  if (node.data("trainable") === false) json.trainable = false;
  const { x, y } = node.position();
  json.position = { x: Math.round(x), y: Math.round(y) };
  return json;
}

function edgeJson(edge) {
  const json = { source: edge.source().id(), target: edge.target().id() };
  if (edge.data("port") !== undefined) json.port = edge.data("port");
  if (edge.data("output")) json.output = edge.data("output");
  return json;
}

// The graph on the canvas, without the document's other fields (name, description, meta).
export function graphOf(cy) {
  return {
    nodes: cy.nodes().not(TEMPORARY).map(nodeJson),
    edges: cy.edges().not(TEMPORARY).map(edgeJson),
  };
}

// A fresh id for a node of this type: the type in lower case and the first free number (conv2d_1).
export function freshId(type, taken) {
  const stem = type.toLowerCase();
  let n = 1;
  while (taken.has(`${stem}_${n}`)) n += 1;
  return `${stem}_${n}`;
}
