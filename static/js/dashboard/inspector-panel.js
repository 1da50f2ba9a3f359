// The sample inspector: pick a validation sample (or take the "Try the model" input: the drawing, or the typed
// features) and see what every node of the run's model outputs for it
// (POST /api/runs/<id>/inspect): feature maps as small heat maps (a few channels of each C×H×W output),
// sequences (T×F) as a Plotly heat map, vectors as bars, the predicted probabilities, and the filters the
// first convolution learned. A finished run answers with its trained weights, a running one with its latest
// checkpoint.

import { api } from "../common/api.js";
import { h, showError } from "../common/dom.js";
import { heatCanvas, PLOTLY_SCALE } from "../common/colorscale.js";
import { shape } from "../common/format.js";
import { drawingToInput } from "./tryit.js";

const LAYOUT = { margin: { l: 36, r: 8, t: 8, b: 24 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  font: { size: 10, color: "#5b6475" }, showlegend: false };
const CONFIG = { displaylogo: false, displayModeBar: false, staticPlot: false };

function chart(testid, traces, layout = {}) {
  const element = h("div", { class: "chart small", "data-testid": testid });
  // Drawn once attached, at the element's size.
  requestAnimationFrame(() => Plotly.newPlot(element, traces, { ...LAYOUT, ...layout }, CONFIG));
  return element;
}

function drawing(id, out) {
  if (out.kind === "maps") {
    const flat = out.values.flat(2).filter((v) => v !== null);
    const range = [Math.min(...flat), Math.max(...flat)];
    const cell = Math.max(1, Math.floor(56 / Math.max(out.values[0].length, out.values[0][0].length)));
    return h("div", { class: "maps", "data-testid": `inspect-maps-${id}` }, out.values.map((map, c) =>
      heatCanvas(map, { cell, range, title: `channel ${c}` })),
    out.channels > out.values.length ? h("span", { class: "hint" }, `first ${out.values.length} of ${out.channels}`) : null);
  }
  if (out.kind === "sequence") {
    // A hair of gap between the cells: without any Plotly draws the map as a pixelated <image> with a style
    // attribute, which the Content-Security-Policy refuses.
    return chart(`inspect-sequence-${id}`, [{ type: "heatmap", z: out.values, colorscale: PLOTLY_SCALE, showscale: false,
      xgap: 0.2, ygap: 0.2, hovertemplate: "step %{y}, feature %{x}: %{z}<extra></extra>" }],
    { yaxis: { autorange: "reversed" } });
  }
  const size = out.shape.reduce((n, d) => n * d, 1);
  return h("div", {}, chart(`inspect-vector-${id}`, [{ type: "bar", y: out.values, marker: { color: "#2f6fde" },
    hovertemplate: "%{x}: %{y}<extra></extra>" }]),
  size > out.values.length ? h("span", { class: "hint" }, `first ${out.values.length} of ${size}`) : null);
}

export function createInspector(root) {
  const sample = h("input", { type: "number", min: 0, value: 0, step: 1, "data-testid": "inspect-sample",
    "aria-label": "Validation sample" });
  const button = h("button", { type: "button", "data-testid": "inspect-button" }, "Inspect");
  const tryitButton = h("button", { type: "button", class: "secondary", "data-testid": "inspect-tryit", hidden: true },
    "Inspect the try-it input");
  const summary = h("p", { class: "hint", "data-testid": "inspect-summary" });
  const error = h("p", { class: "error", "data-testid": "inspect-error", hidden: true });
  const nodes = h("div", { class: "inspect-nodes", "data-testid": "inspect-nodes" });
  const filters = h("div", { class: "inspect-filters", "data-testid": "inspect-filters" });
  root.append(h("div", { class: "inspect-controls" }, h("label", {}, "Validation sample ", sample), button, tryitButton,
    h("span", { class: "hint" }, "see what every layer outputs for it")), summary, error, nodes, filters);
  let run = null;

  /** The input of the "Try the model" panel: its drawing for an image model, else its feature fields. */
  function tryitInput() {
    if (run.dataset_info.kind === "image") {
      const canvas = document.querySelector("[data-testid=tryit-canvas]");
      return canvas ? drawingToInput(canvas, run.dataset_info.input_shape) : null;
    }
    const fields = [...document.querySelectorAll("[data-testid=tryit-features] input")];
    return fields.length ? fields.map((field) => Number(field.value)) : null;
  }

  async function inspect(body) {
    const id = run.id;
    button.disabled = true;
    showError(error, null);
    try {
      const answer = await api.post(`/runs/${id}/inspect`, body);
      if (run?.id !== id) return;
      show(answer);
    } catch (failure) {
      showError(error, failure);
    } finally {
      button.disabled = false;
    }
  }

  function show(answer) {
    const best = answer.probabilities
      ? answer.probabilities.indexOf(Math.max(...answer.probabilities.filter((p) => p !== null))) : -1;
    summary.textContent = (answer.label !== undefined ? `label ${answer.label} · ` : "")
      + (best >= 0 ? `predicted ${answer.classes[best]} (${(100 * answer.probabilities[best]).toFixed(1)}%) · ` : "")
      + (answer.model === "final" ? "trained model" : `model of ${answer.model.replace("-", " ")}`);
    root.dataset.predicted = best >= 0 ? answer.classes[best] : "";
    const cards = Object.entries(answer.nodes).map(([id, out]) => h("figure", { class: `node-output ${out.kind}`,
      "data-testid": `inspect-node-${id}`, "data-kind": out.kind },
    h("figcaption", {}, h("strong", {}, id), ` ${out.type} ${shape(out.shape)}`), drawing(id, out)));
    if (answer.probabilities) {
      cards.push(h("figure", { class: "node-output vector", "data-testid": "inspect-probabilities" },
        h("figcaption", {}, h("strong", {}, "probabilities")),
        chart("inspect-probabilities-chart", [{ type: "bar", x: answer.classes, y: answer.probabilities,
          marker: { color: "#12a150" } }], { xaxis: { type: "category" }, yaxis: { range: [0, 1] } })));
    }
    nodes.replaceChildren(...cards);
    const f = answer.filters;
    filters.replaceChildren(...(f ? [h("h3", {}, `Filters of ${f.node}`, h("span", { class: "hint" },
      ` (${f.values.length} of ${f.count}` + (f.in_channels > 1 ? `, averaged over ${f.in_channels} input channels)` : ")"))),
    h("div", { class: "maps" }, f.values.map((kernel, i) => heatCanvas(kernel, { cell: 10, title: `filter ${i}` })))] : []));
  }

  const inspectSample = () => inspect({ sample: Number(sample.value) });
  button.addEventListener("click", inspectSample);
  sample.addEventListener("keydown", (event) => { if (event.key === "Enter") inspectSample(); });
  tryitButton.addEventListener("click", () => {
    const x = tryitInput();
    if (x) inspect({ x });
    else showError(error, new Error("Draw something in “Try the model” first."));
  });

  return {
    setRun(record) {
      if (run?.id !== record.id) {
        nodes.replaceChildren();
        filters.replaceChildren();
        summary.textContent = "";
        showError(error, null);
      }
      run = record;
      tryitButton.hidden = record.status !== "succeeded"; // the panel "Try the model" is there then
    },
  };
}
