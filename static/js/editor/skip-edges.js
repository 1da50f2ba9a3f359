// Connections drawn around the layers in their way. A skip connection (a residual's shortcut, a dense block's
// concatenation) joins two layers of one column: drawn straight, it would run through the layers it skips and
// read as part of the chain. Such a connection gets two bends (Cytoscape's "segments" edges) that take it beside
// the layers it passes, as far out as the widest of them needs; every other connection stays a plain curve.

const CLEARANCE = 18; // between a bent connection and the layers it passes
const SKIP = "skip";

// In the layers' model coordinates: `layers` and `edges` are Cytoscape collections of what is drawn;
// sizeOf(layer) is its {width, height}.
export function bendAroundLayers(layers, edges, sizeOf) {
  const boxes = layers.map((layer) => {
    const { x, y } = layer.position();
    const { width, height } = sizeOf(layer);
    return { id: layer.id(), x1: x - width / 2, x2: x + width / 2, y1: y - height / 2, y2: y + height / 2 };
  });
  edges.forEach((edge) => {
    const bend = bendFor(edge.source().position(), edge.target().position(), edge.source().id(),
                         edge.target().id(), boxes);
    if (bend) {
      edge.data({ bendDistances: [bend.distance, bend.distance], bendWeights: [bend.from, bend.to] });
      edge.addClass(SKIP);
    } else if (edge.hasClass(SKIP)) {
      edge.removeClass(SKIP);
    }
  });
}

// How to bend a connection from `a` to `b` so that it passes beside every box it would cross, on the side
// that is nearer: its distance from the straight line (positive to the side Cytoscape bends a positive segment
// distance to) and where along the line the bends sit (0 at a, 1 at b); null if it crosses none.
export function bendFor(a, b, sourceId, targetId, boxes) {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const length = Math.hypot(dx, dy);
  if (length < 1) return null;
  const [ux, uy] = [dx / length, dy / length];
  const [nx, ny] = [-uy, ux]; // the side a positive segment distance bends to (measured in Chromium)
  let [positive, negative] = [0, 0]; // how far out each side must go
  let [from, to] = [1, 0];
  for (const box of boxes) {
    if (box.id === sourceId || box.id === targetId || !crosses(a, b, box)) continue;
    const corners = [[box.x1, box.y1], [box.x2, box.y1], [box.x1, box.y2], [box.x2, box.y2]]
      .map(([x, y]) => [(x - a.x) * ux + (y - a.y) * uy, (x - a.x) * nx + (y - a.y) * ny]);
    positive = Math.max(positive, ...corners.map(([, across]) => across));
    negative = Math.max(negative, ...corners.map(([, across]) => -across));
    from = Math.min(from, ...corners.map(([along]) => along / length));
    to = Math.max(to, ...corners.map(([along]) => along / length));
  }
  if (from > to) return null;
  const distance = positive <= negative ? positive + CLEARANCE : -(negative + CLEARANCE);
  return { distance, from: Math.max(from, 0.02), to: Math.min(to, 0.98) };
}

// Whether the segment a-b passes through the box (Liang–Barsky clipping).
function crosses(a, b, box) {
  let [t0, t1] = [0, 1];
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  for (const [p, q] of [[-dx, a.x - box.x1], [dx, box.x2 - a.x], [-dy, a.y - box.y1], [dy, box.y2 - a.y]]) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}
