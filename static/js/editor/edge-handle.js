// Wiring with the mouse. Edgehandles 4 draws the connection but brings no handle of its own, so this adds
// one: hovering a node shows a dot on its bottom edge (graphs flow top to bottom), and dragging the dot onto
// another node connects the two. The dot lives inside Cytoscape's container, so Cytoscape keeps reporting
// the mouse (and edgehandles keeps drawing the line) while the button is held down on it.

const HIDE_DELAY_MS = 300; // time to move the mouse from a node onto its handle

export function attachEdgeHandles(cy, { canConnect, onConnect }) {
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
    handle.style.top = `${y + owner.renderedOuterHeight() / 2}px`;
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

  // (Edgehandles' ghost node takes no events, so every node seen here is a layer.)
  cy.on("mouseover", "node", (event) => {
    hovered = event.target;
    if (!eh.active) show(hovered);
  });
  cy.on("mouseout", "node", () => {
    hovered = null;
    hideSoon();
  });
  // A connection just made ends on a node: offer its handle at once, to carry on wiring from there.
  cy.on("ehstop", () => hovered && !hovered.removed() && show(hovered));
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

  cy.on("ehcomplete", (event, source, target, edge) => onConnect(edge));
  return eh;
}
