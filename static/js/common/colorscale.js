// One sequential colour scale (viridis, sampled) for every "how much" colouring: a node's statistic on the
// layer graph, its legend, feature maps and filters drawn on canvases.

const STOPS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129],
  [92, 200, 99], [170, 220, 50], [253, 231, 37]];

/** [r, g, b] of a value in [0, 1] (clamped). */
export function rgbAt(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  return STOPS[i].map((c, k) => Math.round(c + f * (STOPS[i + 1][k] - c)));
}

export function colorAt(t) {
  const [r, g, b] = rgbAt(t);
  return `rgb(${r}, ${g}, ${b})`;
}

/** The CSS gradient of the whole scale, left (0) to right (1), for a legend. Set it through the CSSOM. */
export function gradientCss() {
  return `linear-gradient(to right, ${STOPS.map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`).join(", ")})`;
}

/** Plotly's form of the same scale. */
export const PLOTLY_SCALE = STOPS.map(([r, g, b], i) => [i / (STOPS.length - 1), `rgb(${r}, ${g}, ${b})`]);

/** Draw a 2-D array of numbers (rows of columns; null for missing) on a new canvas, scaled to its own range
 * (or `range` [low, high]), each value `cell` pixels a side. */
export function heatCanvas(values, { cell = 3, range = null, title = "" } = {}) {
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  const flat = values.flat().filter((v) => v !== null);
  const [low, high] = range || [Math.min(...flat), Math.max(...flat)];
  const span = high - low || 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, cols);
  canvas.height = Math.max(1, rows);
  canvas.title = title;
  if (rows && cols) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(cols, rows);
    values.forEach((row, y) => row.forEach((v, x) => {
      const [r, g, b] = v === null ? [255, 255, 255] : rgbAt((v - low) / span);
      image.data.set([r, g, b, 255], 4 * (y * cols + x));
    }));
    context.putImageData(image, 0, 0);
  }
  canvas.style.width = `${cols * cell}px`; // CSSOM, which the Content-Security-Policy allows
  canvas.style.height = `${rows * cell}px`;
  canvas.classList.add("heat");
  return canvas;
}
