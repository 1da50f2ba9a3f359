// How a run's model does on its validation set. A classifier: the confusion matrix of the latest (or a chosen)
// epoch as a heat map, each class's precision and recall, and a gallery of the validation samples it gets
// wrong (GET /api/runs/<id>/misclassified). A regressor: its predictions against the truth (GET predictions).
// A classifier of points in the plane: its decision over the plane, sent with every epoch event, under the
// dataset's points.

import { api } from "../common/api.js";
import { h, showError } from "../common/dom.js";
import { heatCanvas, PLOTLY_SCALE } from "../common/colorscale.js";
import { percent } from "../common/format.js";

const GALLERY = 24;
const POINTS = 500;
const PALETTE = ["#2f6fde", "#e8710a", "#12a150", "#c2185b", "#7b4fd6", "#00897b", "#b58900", "#5b6475"];
const LAYOUT = { margin: { l: 60, r: 10, t: 30, b: 50 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  font: { size: 11, color: "#5b6475" } };
const CONFIG = { displaylogo: false, displayModeBar: false };

const queued = new Map(); // what to draw at the next frame, by element: a replay of many epochs draws once

function later(element, paint) {
  if (!queued.size) {
    requestAnimationFrame(() => {
      const jobs = [...queued.values()];
      queued.clear();
      jobs.forEach((job) => job());
    });
  }
  queued.set(element, paint);
}

function draw(element, traces, layout) {
  Plotly.react(element, traces, { ...LAYOUT, ...layout }, CONFIG);
}

/** Precision and recall of each class from a confusion matrix (rows: true class, columns: predicted). */
export function classMetrics(matrix) {
  return matrix.map((row, i) => {
    const predicted = matrix.reduce((sum, r) => sum + r[i], 0);
    const actual = row.reduce((sum, v) => sum + v, 0);
    return { precision: predicted ? row[i] / predicted : null, recall: actual ? row[i] / actual : null, support: actual };
  });
}

/** A sample's input as something to look at: an image (C×H×W or H×W) on a canvas, else its numbers. */
export function sampleView(x) {
  if (Array.isArray(x[0]) && Array.isArray(x[0][0])) return heatCanvas(x[0], { cell: 4 });
  if (Array.isArray(x[0]) && x.length > 2 && x[0].length > 2) return heatCanvas(x, { cell: 4 });
  const flat = x.flat(2);
  return h("code", {}, flat.slice(0, 6).map((v) => (v === null ? "—" : Number(v).toPrecision(3))).join(", ")
    + (flat.length > 6 ? ", …" : ""));
}

/** `onUnits(nodes)` is told each small layer's unit maps ({node: [grid per unit]}) when they are loaded. */
export function createEvaluation(root, { onUnits = () => {} } = {}) {
  const confusionTitle = h("h3", {}, "Confusion matrix");
  const epochSelect = h("select", { "data-testid": "confusion-epoch", "aria-label": "Epoch" });
  const confusion = h("div", { class: "chart confusion", "data-testid": "chart-confusion" });
  const metricsTable = h("table", { class: "class-metrics", "data-testid": "class-metrics" });
  const classSection = h("div", { class: "evaluation-classes" }, h("div", { class: "confusion-head" }, confusionTitle,
    h("label", {}, "Epoch ", epochSelect)), h("div", { class: "confusion-body" }, confusion, metricsTable));
  const galleryButton = h("button", { type: "button", class: "secondary", "data-testid": "misclassified-load" },
    "Show misclassified samples");
  const galleryHint = h("span", { class: "hint", "data-testid": "misclassified-summary" });
  const gallery = h("div", { class: "gallery", "data-testid": "misclassified" });
  const gallerySection = h("div", {}, h("h3", {}, "Misclassified validation samples"), h("div",
    { class: "gallery-head" }, galleryButton, galleryHint), gallery);
  const regression = h("div", { class: "chart", "data-testid": "chart-regression" });
  const regressionSection = h("div", {}, h("h3", {}, "Predicted against true (validation)"),
    h("button", { type: "button", class: "secondary", "data-testid": "regression-load" }, "Plot the predictions"),
    regression);
  const boundary = h("div", { class: "chart boundary", "data-testid": "chart-boundary" });
  const unitsButton = h("button", { type: "button", class: "secondary", "data-testid": "units-load" },
    "Draw each unit over the plane");
  const units = h("div", { class: "units", "data-testid": "units" });
  const boundarySection = h("div", {}, h("h3", {}, "Decision boundary"), h("p", { class: "hint" },
    "What the model predicts over the input plane, after each epoch, under the dataset's points."), boundary,
  h("div", { class: "gallery-head" }, unitsButton, h("span", { class: "hint" },
    "each unit's output over the same plane, for layers of at most 8 units")), units);
  const error = h("p", { class: "error", "data-testid": "evaluation-error", hidden: true });
  root.append(h("h2", {}, "How the model does"), classSection, gallerySection, regressionSection, boundarySection,
    error);

  let run = null;
  let matrices = new Map(); // epoch -> confusion matrix
  let following = true;
  let points = null; // the dataset's points, for the boundary map
  let lastBoundary = null;

  const classes = () => run.dataset_info.classes?.length ? run.dataset_info.classes
    : (matrices.size ? [...matrices.values()][0].map((_, i) => String(i)) : []);

  function showSections() {
    const task = run?.dataset_info.task;
    classSection.hidden = !matrices.size;
    gallerySection.hidden = task !== "classification";
    regressionSection.hidden = task !== "regression";
    boundarySection.hidden = !lastBoundary;
    root.hidden = classSection.hidden && gallerySection.hidden && regressionSection.hidden && boundarySection.hidden;
  }

  function drawConfusion() {
    const epoch = Number(epochSelect.value);
    const matrix = matrices.get(epoch);
    if (!matrix) return;
    const names = classes();
    confusion.dataset.epoch = epoch;
    // Gaps between the cells: without them Plotly draws the map as a pixelated <image> with a style attribute,
    // which the Content-Security-Policy refuses.
    draw(confusion, [{ type: "heatmap", z: matrix, x: names, y: names, colorscale: PLOTLY_SCALE, xgap: 1, ygap: 1,
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>", showscale: false }],
    { title: { text: `Epoch ${epoch}: rows true, columns predicted`, font: { size: 12 } },
      xaxis: { title: { text: "predicted" }, type: "category" },
      yaxis: { title: { text: "true" }, type: "category", autorange: "reversed" } });
    const metrics = classMetrics(matrix);
    const show = (v) => (v === null ? "—" : percent(v));
    metricsTable.replaceChildren(h("thead", {}, h("tr", {}, h("th", {}, "class"), h("th", {}, "precision"),
      h("th", {}, "recall"), h("th", {}, "samples"))), h("tbody", {}, metrics.map((m, i) => h("tr",
      { "data-testid": `class-metric-${i}` }, h("td", {}, names[i] ?? String(i)), h("td", {}, show(m.precision)),
      h("td", {}, show(m.recall)), h("td", {}, String(m.support))))));
  }

  async function loadGallery() {
    const id = run.id;
    galleryButton.disabled = true;
    showError(error, null);
    try {
      const answer = await api.get(`/runs/${id}/misclassified?limit=${GALLERY}`);
      if (run?.id !== id) return;
      galleryHint.textContent = `${answer.wrong} of ${answer.validation} validation samples are misclassified`
        + (answer.model === "final" ? "" : ` (model of ${answer.model.replace("-", " ")})`);
      gallery.replaceChildren(...answer.samples.map((s, i) => h("figure", { "data-testid": `misclassified-${i}`,
        "data-predicted": s.predicted, "data-true": s.true }, sampleView(s.x),
      h("figcaption", {}, h("strong", {}, s.predicted), ` ${percent(s.confidence, 0)}`, h("br"), `true ${s.true}`))));
    } catch (failure) {
      showError(error, failure);
    } finally {
      galleryButton.disabled = false;
    }
  }

  async function loadRegression() {
    const id = run.id;
    showError(error, null);
    try {
      const answer = await api.get(`/runs/${id}/predictions?limit=${POINTS}`);
      if (run?.id !== id) return;
      const values = answer.true.concat(answer.predicted).filter((v) => v !== null);
      const [lo, hi] = [Math.min(...values), Math.max(...values)];
      draw(regression, [
        { type: "scatter", mode: "markers", x: answer.true, y: answer.predicted, marker: { size: 4, color: PALETTE[0] },
          name: "samples" },
        { type: "scatter", mode: "lines", x: [lo, hi], y: [lo, hi], line: { color: "#98a2b3", dash: "dot" }, name: "exact" }],
      { xaxis: { title: { text: "true" } }, yaxis: { title: { text: "predicted" } }, showlegend: false });
    } catch (failure) {
      showError(error, failure);
    }
  }

  async function loadPoints() {
    const id = run.id;
    const dataset = await api.get(`/datasets/${encodeURIComponent(run.dataset)}?n=${POINTS}`).catch(() => null);
    if (run?.id !== id || !dataset) return;
    points = dataset.preview.samples;
    drawBoundary();
  }

  function drawBoundary() {
    if (!lastBoundary) return;
    const names = run.dataset_info.classes || [];
    const n = Math.max(2, names.length);
    // One colour per class, paler where the model is less sure: z = class + confidence in [class, class + 1).
    const z = lastBoundary.predicted.map((row, r) => row.map((c, k) => c + Math.min(0.999, lastBoundary.confidence[r][k])));
    const scale = [];
    for (let c = 0; c < n; c += 1) {
      scale.push([c / n, "#ffffff"], [(c + 1) / n - 1e-6, PALETTE[c % PALETTE.length]]);
    }
    // zsmooth: a heat map on linear axes drawn unsmoothed is a pixelated <image> with a style attribute,
    // which the Content-Security-Policy refuses; smoothed, it is not (and a boundary reads well smoothed).
    const traces = [{ type: "heatmap", x: lastBoundary.x, y: lastBoundary.y, z, zmin: 0, zmax: n, colorscale: scale,
      zsmooth: "best", showscale: false, opacity: 0.55, hoverinfo: "skip" }];
    if (points) {
      names.forEach((name, c) => {
        const mine = points.filter((p) => p.label === name);
        traces.push({ type: "scatter", mode: "markers", name, x: mine.map((p) => p.x[0]), y: mine.map((p) => p.x[1]),
          marker: { size: 4, color: PALETTE[c % PALETTE.length], line: { width: 0.5, color: "#ffffff" } } });
      });
    }
    boundary.dataset.epoch = lastBoundary.epoch;
    draw(boundary, traces, { title: { text: `Epoch ${lastBoundary.epoch}`, font: { size: 12 } },
      xaxis: { range: [lastBoundary.x[0], lastBoundary.x.at(-1)] },
      yaxis: { range: [lastBoundary.y[0], lastBoundary.y.at(-1)], scaleanchor: "x" }, showlegend: true });
  }

  async function loadUnits() {
    const id = run.id;
    unitsButton.disabled = true;
    showError(error, null);
    try {
      const answer = await api.get(`/runs/${id}/units`);
      if (run?.id !== id) return;
      // Canvas rows go down; the plane's y goes up.
      units.replaceChildren(...Object.entries(answer.nodes).map(([node, grids]) => h("div",
        { class: "unit-row", "data-testid": `units-${node}` }, h("strong", {}, node),
        grids.map((grid, i) => heatCanvas([...grid].reverse(), { cell: 3, title: `${node} unit ${i}` })))));
      onUnits(answer.nodes);
    } catch (failure) {
      showError(error, failure);
    } finally {
      unitsButton.disabled = false;
    }
  }

  unitsButton.addEventListener("click", loadUnits);
  epochSelect.addEventListener("change", () => {
    following = epochSelect.selectedIndex === 0;
    drawConfusion();
  });
  galleryButton.addEventListener("click", loadGallery);
  regressionSection.querySelector("button").addEventListener("click", loadRegression);

  return {
    setRun(record) {
      const fresh = run?.id !== record.id;
      const finished = record.status === "succeeded" && run?.status !== "succeeded";
      run = record;
      if (fresh) {
        matrices = new Map();
        following = true;
        points = null;
        lastBoundary = null;
        units.replaceChildren();
        epochSelect.replaceChildren();
        gallery.replaceChildren();
        galleryHint.textContent = "";
        Plotly.purge(regression);
        Plotly.purge(boundary);
      }
      showSections();
      // A finished run with its trained weights (a run fed by hand, or one whose files were deleted, has none).
      if ((fresh || finished) && record.status === "succeeded" && record.downloads?.includes("state_dict.pt")) {
        if (record.dataset_info.task === "classification") loadGallery();
        else loadRegression();
      }
    },
    /** An epoch event: its confusion matrix and decision boundary, when it has them. */
    epoch(event) {
      if (event.confusion) {
        for (const epoch of [...matrices.keys()]) if (epoch >= event.epoch) matrices.delete(epoch); // a resume
        matrices.set(event.epoch, event.confusion);
        const options = [...matrices.keys()].sort((a, b) => b - a);
        const chosen = following ? options[0] : Number(epochSelect.value);
        epochSelect.replaceChildren(...options.map((e, i) => h("option", { value: e },
          i === 0 ? `${e} (latest)` : String(e))));
        epochSelect.value = String(chosen);
        later(confusion, drawConfusion);
      }
      if (event.boundary) {
        if (!lastBoundary && run.status === "succeeded" && run.downloads?.includes("state_dict.pt")) {
          loadUnits(); // a finished run: its final units
        }
        lastBoundary = { ...event.boundary, epoch: event.epoch };
        if (points === null) {
          points = [];
          loadPoints();
        }
        later(boundary, drawBoundary);
      }
      showSections();
    },
  };
}
