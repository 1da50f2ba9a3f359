// Groups: an imported layer keeps the module path it came from (`group`, e.g. "layer1.0"), and the canvas
// draws each path as a box around its layers (a Cytoscape compound node), nested by path prefix ("layer1"
// holds "layer1.0"). The boxes are drawing only: never in the document, never validated, never selected. A
// group can be collapsed to one card showing its name and size: its layers are hidden (still in the graph,
// where they are) and the connections crossing its border are drawn to the card. Collapsing is view state.

import { plural } from "../common/format.js";

export const GROUP_ELEMENTS = ".group, .group-card, .group-edge";
const HIDDEN = "in-collapsed-group";

// The compound nodes of these node elements' groups, parents before children, and each node element put in
// its own group (data.parent). Their ids are kept clear of the layers' ids, which may be anything.
export function groupElements(nodeElements) {
  const taken = new Set(nodeElements.map((element) => element.data.id));
  const idOf = new Map();
  const groups = [];
  const add = (path) => {
    if (idOf.has(path)) return idOf.get(path);
    const dot = path.lastIndexOf(".");
    const parent = dot > 0 ? add(path.slice(0, dot)) : undefined;
    let id = `group:${path}`;
    while (taken.has(id)) id = `_${id}`;
    taken.add(id);
    idOf.set(path, id);
    groups.push({ group: "nodes", classes: "group", selectable: false, data: { id, path, parent } });
    return id;
  };
  for (const element of nodeElements) {
    if (element.data.group) element.data.parent = add(element.data.group);
  }
  return groups;
}

export class Groups {
  // widthOf(text): how wide a card must be for its text; onDrawn(): called when what is shown has changed.
  constructor(cy, { widthOf, onDrawn }) {
    this.cy = cy;
    this.widthOf = widthOf;
    this.onDrawn = onDrawn;
    this.collapsed = new Set(); // paths drawn collapsed; kept across reloads (undo, inserts) and absent paths
  }

  // The collapsed paths that are groups of the graph drawn (the document keeps them in meta.collapsed).
  collapsedPaths() {
    return this.cy.nodes(".group").map((group) => group.data("path")).filter((path) => this.collapsed.has(path));
  }

  setCollapsed(paths) {
    this.collapsed = new Set(Array.isArray(paths) ? paths.filter((path) => typeof path === "string") : []);
  }

  toggle(path) {
    if (this.collapsed.has(path)) this.collapsed.delete(path);
    else this.collapsed.add(path);
    this.draw();
  }

  // Everything drawn expanded again (before a layout, which needs every layer's size).
  clear() {
    this.cy.batch(() => {
      this.cy.remove(".group-card, .group-edge");
      this.cy.elements(`.${HIDDEN}`).removeClass(HIDDEN);
    });
  }

  // Draw each outermost collapsed group as a card where its layers are, with one connection for each pair of
  // ends that the connections crossing its border join.
  draw() {
    this.drawCards();
    this.onDrawn();
  }

  drawCards() {
    this.clear();
    const cy = this.cy;
    const shownAs = new Map(); // a hidden layer's id -> its card
    cy.batch(() => {
      for (const group of cy.nodes(".group")) {
        if (!this.collapsed.has(group.data("path"))) continue;
        if (group.ancestors().some((outer) => this.collapsed.has(outer.data("path")))) continue;
        const layers = group.descendants().not(".group");
        const xs = layers.map((node) => node.position("x"));
        const ys = layers.map((node) => node.position("y"));
        const shown = `${group.data("path")}\n${plural(layers.length, "layer")} · double-click to expand`;
        const card = cy.add({
          group: "nodes", classes: "group-card", selectable: false, grabbable: false,
          data: { path: group.data("path"), parent: group.data("parent"), shown, width: this.widthOf(shown) },
          position: { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 },
        });
        layers.unselect();
        group.union(group.descendants()).addClass(HIDDEN);
        for (const node of layers) shownAs.set(node.id(), card);
      }
      if (!shownAs.size) return;
      const drawn = new Set();
      for (const edge of cy.edges().not(GROUP_ELEMENTS)) {
        const ends = [edge.source(), edge.target()];
        if (!ends.some((end) => shownAs.has(end.id()))) continue;
        const [source, target] = ends.map((end) => shownAs.get(end.id()) ?? end);
        const key = `${source.id()}\n${target.id()}`;
        if (source.same(target) || drawn.has(key)) continue;
        drawn.add(key);
        cy.add({ group: "edges", classes: "group-edge", selectable: false, data: { source: source.id(), target: target.id() } });
      }
    });
  }
}
