// Wiring with the mouse. Edgehandles 4 draws the connection but brings no handle of its own, so this adds
// one: hovering a node shows a dot on its bottom edge (graphs flow top to bottom), and dragging the dot onto
// another node connects the two. The dot lives inside Cytoscape's container, so Cytoscape keeps reporting
// the mouse (and edgehandles keeps drawing the line) while the button is held down on it.

const HIDE_DELAY_MS = 300; // time to move the mouse from a node onto its handle

// onRefused(source, target): the line was let go on a layer that canConnect refused.
const HANDLE_CLEARANCE = 12; // px from a layer's middle to the handle's, at least (the handle is 18 px wide)

export function attachEdgeHandles(cy, { canConnect, onConnect, onRefused }) {
  const eh = cy.edgehandles({
    canConnect,
    hoverDelay: 0,
    // Connect only to the node the mouse is on: snapping reaches for any node near the mouse, and so
    // connects to the neighbour of a node that refused the connection.
    snap: false,
    noEdgeEventsInDraw: true,
    disableBrowserGestures: true,
  });

  const handle = document.createElement("div");
  handle.className = "edge-handle";
  handle.dataset.testid = "edge-handle";
  handle.title = "Drag onto another layer to connect";
  handle.hidden = true;
  cy.container().append(handle);

  let owner = null; // the node whose handle is shown
  let hovered = null; // the node under the mouse
  let overHandle = false;
  let hideTimer = null;
  let connected = false; // whether the gesture under way made a connection

  const hide = () => {
    clearTimeout(hideTimer);
    owner = null;
    handle.hidden = true;
  };
  const place = () => {
    if (!owner) return;
    if (owner.removed()) {
      hide();
      return;
    }
    const { x, y } = owner.renderedPosition();
    handle.style.left = `${x}px`;
    // On the bottom edge; on a layer drawn small (zoomed out), below it, so that it never covers the layer's
    // middle, where a click selects the layer.
    handle.style.top = `${y + Math.max(owner.renderedOuterHeight() / 2, HANDLE_CLEARANCE)}px`;
  };
  const show = (node) => {
    clearTimeout(hideTimer);
    owner = node;
    handle.hidden = false;
    place();
  };
  // Leaving the node for its handle (which sticks out below it) must not hide the handle.
  const hideSoon = () => {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => overHandle || hide(), HIDE_DELAY_MS);
  };

  // Layers only: not the boxes and cards of groups (edgehandles' ghost node takes no events).
  cy.on("mouseover", "node[type]", (event) => {
    hovered = event.target;
    if (!eh.active) show(hovered);
  });
  cy.on("mouseout", "node[type]", () => {
    hovered = null;
    hideSoon();
  });
  // A connection just made ends on a node: offer its handle at once, to carry on wiring from there.
  cy.on("ehstop", (event, source) => {
    // Let go on a layer without connecting to it: the connection was refused, and the user is told why.
    if (!connected && hovered && !hovered.removed() && !hovered.same(source)) onRefused(source, hovered);
    if (hovered && !hovered.removed()) show(hovered);
  });
  cy.on("viewport", place);
  cy.on("position", "node", place);
  cy.on("grab remove", "node", hide);

  handle.addEventListener("mouseenter", () => {
    overHandle = true;
  });
  handle.addEventListener("mouseleave", () => {
    overHandle = false;
    hideSoon();
  });
  handle.addEventListener("mousedown", (event) => {
    if (event.button !== 0 || !owner) return;
    // Cytoscape must not see this press: it would start panning or a box selection under the handle.
    event.preventDefault();
    event.stopPropagation();
    const source = owner;
    hide();
    eh.start(source);
    // The press was not Cytoscape's, so neither is the release: end the gesture here.
    window.addEventListener("mouseup", () => eh.stop(), { once: true });
  });

  cy.on("ehstart", () => {
    connected = false;
  });
  cy.on("ehcomplete", (event, source, target, edge) => {
    connected = true;
    onConnect(edge);
  });
  return eh;
}
