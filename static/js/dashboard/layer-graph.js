// Layer statistics: the run's network drawn read-only with Cytoscape, each node coloured by a chosen statistic
// of one recorded layer_stats event; a slider scrubs through the records (live ones are appended, and the
// slider follows them while it is at the end); a node with a warning is outlined red and listed; clicking a
// node shows the histogram of its output in that record.

import { api } from "../common/api.js";
import { h } from "../common/dom.js";
import { colorAt, gradientCss, heatCanvas } from "../common/colorscale.js";
import { number } from "../common/format.js";

export const STATS = [
  { key: "std", label: "Output std" },
  { key: "mean", label: "Output mean" },
  { key: "dead", label: "Dead fraction (ReLU)", fixed: [0, 1] },
  { key: "grad_norm", label: "Gradient norm", log: true },
  { key: "update_ratio", label: "Update ratio", log: true },
];
const NO_VALUE = "#e4e7ec";
const WARNED = "#d92d20";
const HISTOGRAM_LAYOUT = {
  margin: { l: 40, r: 10, t: 30, b: 30 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  font: { size: 11, color: "#5b6475" }, bargap: 0.05, showlegend: false,
};

const STYLE = [
  { selector: "node", style: {
    shape: "round-rectangle", width: 120, height: 34, label: "data(label)", "text-wrap": "wrap",
    "text-valign": "center", "font-size": 10, "background-color": "data(color)", "border-width": 1,
    "border-color": "#98a2b3", color: "data(text)" } },
  { selector: "node.warned", style: { "border-width": 3, "border-color": WARNED } },
  { selector: "node[thumb]", style: { // each unit's output over the input plane, under the node's name
    height: 64, "text-valign": "top", "text-margin-y": 14, "background-image": "data(thumb)",
    "background-fit": "contain", "background-height": "50%", "background-position-y": "85%",
    "background-clip": "none" } },
  { selector: "node:selected", style: { "border-width": 3, "border-color": "#2f6fde" } },
  { selector: "edge", style: { width: 1.5, "line-color": "#98a2b3", "target-arrow-color": "#98a2b3",
    "target-arrow-shape": "triangle", "curve-style": "bezier" } },
];

/** The panel inside `root`. Returns {setRun(run), add(event), reset()}. */
export function createLayerGraph(root) {
  const select = h("select", { "data-testid": "stat-select", "aria-label": "Statistic" },
    STATS.map((s) => h("option", { value: s.key }, s.label)));
  const slider = h("input", { type: "range", min: 0, max: 0, value: 0, step: 1, "data-testid": "stats-slider",
    "aria-label": "Recorded step", disabled: true });
  const where = h("span", { class: "hint", "data-testid": "stats-record" }, "no statistics recorded yet");
  const low = h("span", { "data-testid": "stats-legend-low" }, "");
  const high = h("span", { "data-testid": "stats-legend-high" }, "");
  const ramp = h("span", { class: "ramp" });
  ramp.style.backgroundImage = gradientCss();
  const legend = h("div", { class: "legend", "data-testid": "stats-legend" }, low, ramp, high);
  const container = h("div", { class: "layer-graph", "data-testid": "layer-graph" });
  const warningsList = h("ul", { class: "warnings", "data-testid": "stats-warnings" });
  const histogram = h("div", { class: "chart histogram", "data-testid": "chart-histogram" });
  const histogramHint = h("p", { class: "hint" }, "Click a layer to see the histogram of its output.");
  root.append(h("div", { class: "stats-controls" }, h("label", {}, "Colour by ", select), slider, where),
    legend, h("div", { class: "stats-body" }, container, h("div", { class: "stats-side" }, warningsList,
      histogramHint, histogram)));

  const cy = cytoscape({ container, style: STYLE, autoungrabify: true, boxSelectionEnabled: false,
    selectionType: "single", minZoom: 0.2, maxZoom: 2 });
  container.cy = cy; // for the tests: the node colours and values
  new ResizeObserver(() => {  // drawn while hidden, or resized: fit the graph to its new box
    cy.resize();
    cy.fit(undefined, 12);
  }).observe(container);
  let records = [];
  let run = null;
  let graphKey = null;
  let chosen = null; // the node whose histogram is shown
  let following = true; // the slider is at the latest record

  cy.on("tap", "node", (event) => {
    chosen = event.target.id();
    drawHistogram();
  });
  cy.on("mouseover", "node", (event) => {
    const node = event.target;
    container.title = `${node.id()} (${node.data("type")})` + (node.data("warning") ? `: ${node.data("warning")}` : "")
      + (node.data("value") !== null && node.data("value") !== undefined ? `\n${select.selectedOptions[0].text}: `
        + number(node.data("value")) : "");
  });
  cy.on("mouseout", "node", () => { container.title = ""; });
  let painting = false;
  // Records arrive by the hundred when a finished run is replayed: paint once per frame at most.
  function schedule() {
    if (painting) return;
    painting = true;
    requestAnimationFrame(() => {
      painting = false;
      paint();
    });
  }
  select.addEventListener("change", paint);
  slider.addEventListener("input", () => {
    following = Number(slider.value) === records.length - 1;
    paint();
  });

  async function loadGraph() {
    const key = `${run.network_id}/${run.network_version}`;
    if (key === graphKey) return;
    graphKey = key;
    const version = await api.get(`/networks/${run.network_id}/versions/${run.network_version}`);
    if (graphKey !== key) return;
    const { nodes, edges } = version.graph;
    cy.elements().remove();
    cy.add(nodes.map((node) => ({ group: "nodes", data: { id: node.id, type: node.type, label: `${node.id}\n${node.type}`,
      color: NO_VALUE, text: "#1d2330", value: null } })));
    cy.add(edges.map((edge, i) => ({ group: "edges", data: { id: `e${i}`, source: edge.source, target: edge.target } })));
    cy.layout({ name: "dagre", rankDir: "TB", nodeSep: 20, rankSep: 18, animate: false }).run();
    cy.fit(undefined, 12);
    paint();
  }

  function current() {
    return records[Number(slider.value)] || null;
  }

  function paint() {
    const record = current();
    const stat = STATS.find((s) => s.key === select.value);
    const value = (id) => {
      const v = record?.nodes[id]?.[stat.key];
      return v === null || v === undefined ? null : v;
    };
    const scaled = (v) => (stat.log ? Math.log10(Math.max(v, 1e-12)) : v);
    const values = cy.nodes().map((node) => value(node.id())).filter((v) => v !== null).map(scaled);
    const [lo, hi] = stat.fixed ? stat.fixed : [Math.min(...values), Math.max(...values)];
    cy.batch(() => cy.nodes().forEach((node) => {
      const v = value(node.id());
      const t = v === null ? null : (scaled(v) - lo) / (hi - lo || 1);
      const warning = record?.warnings?.[node.id()] || "";
      node.data({ value: v, color: t === null ? NO_VALUE : colorAt(t), text: t !== null && t < 0.55 ? "#ffffff" : "#1d2330",
        warning });
      node.toggleClass("warned", Boolean(warning));
    }));
    const show = (x) => (stat.log ? number(10 ** x, 2) : number(x, 3));
    low.textContent = values.length ? show(lo) : "";
    high.textContent = values.length ? show(hi) : "";
    where.textContent = record ? `epoch ${record.epoch}, step ${record.step} (record ${Number(slider.value) + 1} of ${records.length})`
      : "no statistics recorded yet";
    warningsList.replaceChildren(...Object.entries(record?.warnings || {}).map(([id, message]) => h("li",
      { "data-node": id, "data-testid": `stats-warning-${id}`, onclick: () => { chosen = id; cy.$id(id).select(); drawHistogram(); } },
      h("strong", {}, id), `: ${message}`)));
    drawHistogram();
  }

  function drawHistogram() {
    const stats = chosen && current()?.nodes[chosen];
    histogram.hidden = !stats;
    histogramHint.hidden = Boolean(stats);
    histogram.dataset.node = chosen || "";
    if (!stats) return;
    const bins = stats.histogram.length;
    const width = ((stats.max ?? 0) - (stats.min ?? 0)) / bins;
    const x = stats.histogram.map((_, i) => (stats.min ?? 0) + (i + 0.5) * width);
    Plotly.react(histogram, [{ type: "bar", x, y: stats.histogram, marker: { color: "#2f6fde" },
      hovertemplate: "%{x:.3g}: %{y} values<extra></extra>" }],
    { ...HISTOGRAM_LAYOUT, title: { text: `${chosen}: output values (a sample of the batch)`, font: { size: 12 } },
      xaxis: { title: { text: "value" } }, yaxis: { title: { text: "count" } } },
    { displaylogo: false, displayModeBar: false });
  }

  // One picture per node: its units' maps side by side (the plane's y goes up, canvas rows go down).
  function unitStrip(grids) {
    const maps = grids.map((grid) => heatCanvas([...grid].reverse(), { cell: 1 }));
    const gap = 2;
    const strip = document.createElement("canvas");
    strip.width = maps.reduce((sum, map) => sum + map.width + gap, -gap);
    strip.height = Math.max(...maps.map((map) => map.height));
    const context = strip.getContext("2d");
    let x = 0;
    for (const map of maps) {
      context.drawImage(map, x, 0);
      x += map.width + gap;
    }
    return strip.toDataURL("image/png");
  }

  return {
    /** Each small layer's unit maps ({node: [grid per unit]}), drawn on its node. */
    showUnits(nodes) {
      cy.batch(() => Object.entries(nodes).forEach(([id, grids]) => cy.$id(id).data("thumb", unitStrip(grids))));
    },
    setRun(record) {
      run = record;
      loadGraph().catch((error) => { where.textContent = error.message; });
    },
    reset() {
      records = [];
      chosen = null;
      following = true;
      slider.max = 0;
      slider.value = 0;
      slider.disabled = true;
      paint();
    },
    /** One layer_stats event. A resumed run sends its steps again from its checkpoint: later ones replace them. */
    add(event) {
      const cut = records.findIndex((r) => r.step >= event.step);
      if (cut >= 0) records = records.slice(0, cut);
      records.push(event);
      slider.max = records.length - 1;
      slider.disabled = records.length < 2;
      if (following) slider.value = records.length - 1;
      root.dataset.records = records.length;
      schedule();
    },
  };
}
