// A share link's page: the editor's canvas made read-only, and for a run its charts, fed the stored events,
// and its settings. Everything comes from the page's own JSON: the page calls no API (a visitor has no
// account) and opens no websocket.

import { byTestId, h } from "../common/dom.js";
import { duration, headline } from "../common/format.js";
import { createRunCharts } from "../dashboard/run-charts.js";
import { Canvas } from "../editor/canvas.js";
import { download } from "../editor/download.js";
import { Registry } from "../editor/registry.js";

const shared = JSON.parse(document.getElementById("shared-page").textContent);
const $ = (id) => byTestId(document, id);

function drawGraph() {
  const canvas = new Canvas($("shared-graph"), new Registry(shared.registry),
    { onGesture() {}, onSelectionChange() {} });
  canvas.canConnect = () => false; // no wiring; its hover dot is hidden by share.css
  canvas.cy.autoungrabify(true); // nothing moves
  canvas.cy.autounselectify(true);
  canvas.load(shared.graph);
  canvas.showAnalysis(shared.analysis);
  canvas.fit();
  window.netbuilder = { cy: canvas.cy };
}

function showRun(run) {
  $("run-best").textContent = headline(run.best_metrics);
  $("run-time").textContent = duration(run.duration_s);
  const charts = createRunCharts({ steps: $("chart-step-loss"), loss: $("chart-epoch-loss"),
    accuracy: $("chart-accuracy") });
  charts.reset(run.dataset_info.task);
  for (const event of run.events) charts[event.type](event);
  $("shared-settings").tBodies[0].replaceChildren(...Object.entries(run.config).map(([name, value]) =>
    h("tr", { "data-testid": `setting-${name}` }, h("th", { scope: "row" }, name), h("td", {}, String(value)))));
}

drawGraph();
if (shared.run) showRun(shared.run);
$("code-download")?.addEventListener("click",
  () => download(shared.code.filename, shared.code.source, "text/x-python"));
