// The netgraph document and the canvas's elements, each made from the other. While editing, the canvas
// holds the graph; a document is made from it to validate, save, snapshot for undo and export, and a loaded,
// imported or restored document becomes elements again. Edge order survives both ways, because a
// multi-input node (Add, Concat) takes its inputs in edge order.

export const FORMAT = "netgraph";
export const FORMAT_VERSION = 1;

// Edgehandles' temporary elements (the line that follows the mouse, the preview edge) are not the graph.
// (Edgehandles also marks the previewed target node eh-preview; that node is real.)
export const TEMPORARY = ".eh-ghost, edge.eh-preview";

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
    elements.push({ group: "nodes", data, position: node.position ? { ...node.position } : undefined });
  }
  for (const edge of doc.edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target)) {
      dropped.push(`the edge ${edge.source} → ${edge.target}`);
      continue;
    }
    const data = { source: edge.source, target: edge.target };
    if (edge.port !== undefined) data.port = edge.port;
    elements.push({ group: "edges", data });
  }
  return { elements, dropped };
}

function nodeJson(node) {
  const json = { id: node.id(), type: node.data("type") };
  if (Object.keys(node.data("params")).length) json.params = structuredClone(node.data("params"));
  if (node.data("label") !== undefined) json.label = node.data("label");
  const { x, y } = node.position();
  json.position = { x: Math.round(x), y: Math.round(y) };
  return json;
}

function edgeJson(edge) {
  const json = { source: edge.source().id(), target: edge.target().id() };
  if (edge.data("port") !== undefined) json.port = edge.data("port");
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
