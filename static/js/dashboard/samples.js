// Pictures of samples, by dataset kind: images drawn on canvases from their pixel arrays, sequences as
// sparklines, tabular rows and token ids as table rows. Used by the dataset preview and by "try the model".

import { h } from "../common/dom.js";
import { number } from "../common/format.js";


export function label(value) {
  return Array.isArray(value) ? value.map(number).join(", ") : String(value);
}

/** A C×H×W array as a canvas of H×W pixels (CSS scales it up, pixelated). Grey for one channel, RGB for
 * three. Values are 0..1; an upload with larger ones is scaled by its maximum so it still shows. */
export function imageCanvas(x) {
  const [channels, height, width] = [x.length, x[0].length, x[0][0].length];
  const canvas = h("canvas", { width, height, class: "pixels" });
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const peak = x.flat(2).reduce((a, b) => Math.max(a, b), 1);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const at = 4 * (row * width + col);
      for (let c = 0; c < 3; c++) {
        const value = x[channels >= 3 ? c : 0][row][col] / peak;
        image.data[at + c] = Math.round(255 * Math.min(1, Math.max(0, value)));
      }
      image.data[at + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

/** A T×F sequence (or T values) as an SVG sparkline, one line per feature. */
export function sparkline(x, width = 132, height = 40) {
  const rows = x.map((step) => (Array.isArray(step) ? step : [step]));
  const values = rows.flat();
  const [low, high] = [Math.min(...values), Math.max(...values)];
  const span = high - low || 1;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "sparkline");
  rows[0].forEach((_, feature) => {
    const points = rows.map((row, t) => `${((t / Math.max(1, rows.length - 1)) * width).toFixed(1)},`
      + `${(height - 2 - ((row[feature] - low) / span) * (height - 4)).toFixed(1)}`);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("class", `feature-${feature % 4}`);
    svg.append(line);
  });
  return svg;
}

/** A tile per sample (image or sparkline, and its label); `onPick(sample, i)` makes them buttons. */
export function sampleTiles(samples, kind, { onPick, testid } = {}) {
  return samples.map((sample, i) => {
    const picture = kind === "image" ? imageCanvas(sample.x) : sparkline(sample.x);
    const caption = h("span", { class: "tile-label" }, label(sample.label));
    if (!onPick) return h("figure", { class: "tile" }, picture, caption);
    return h("button", { type: "button", class: "tile", "data-testid": testid && `${testid}-${i}`,
      title: `Predict this sample (${label(sample.label)})`, onclick: () => onPick(sample, i) }, picture, caption);
  });
}

/** Tabular samples (or token ids) as a table: the first `columns` features and the label (a wide table of
 * 30 features stays readable); `onPick` makes rows clickable. */
export function sampleTable(samples, kind, { onPick, testid, columns = 8 } = {}) {
  const width = kind === "tokens" ? 1 : samples[0].x.length;
  const shown = Math.min(width, columns);
  const head = kind === "tokens" ? ["token ids"] : Array.from({ length: shown }, (_, i) => `x${i}`);
  const cells = (x) => (kind === "tokens" ? [x.slice(0, 16).join(" ") + (x.length > 16 ? " …" : "")]
    : x.slice(0, shown).map((value) => number(value, 3)));
  return h("div", { class: "table-scroll" }, h("table", { class: "samples-table" },
    width > shown && h("caption", {}, `the first ${shown} of ${width} features`),
    h("thead", {}, h("tr", {}, ...head.map((name) => h("th", {}, name)), h("th", {}, "label"))),
    h("tbody", {}, ...samples.map((sample, i) => h("tr", {
      class: onPick ? "pickable" : undefined, "data-testid": testid && `${testid}-${i}`,
      onclick: onPick && (() => onPick(sample, i)),
    }, ...cells(sample.x).map((text) => h("td", {}, text)), h("td", { class: "label" }, label(sample.label)))))));
}

/** The samples of a kind shown the way that reads best: tiles for pictures, a table for rows. */
export function renderSamples(container, samples, kind, options) {
  const tiled = kind === "image" || kind === "sequence";
  container.replaceChildren(...(tiled ? sampleTiles(samples, kind, options) : [sampleTable(samples, kind, options)]));
  container.classList.toggle("tiles", tiled);
}
