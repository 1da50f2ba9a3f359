// The editor page: loads the registry and the network, then connects the canvas, palette, panels, history,
// validation and saving. Every change to the graph goes through `edit`, which keeps an undo snapshot, asks
// the server to check the graph and updates the unsaved-changes indicator.

import { api } from "../common/api.js";
import { byTestId } from "../common/dom.js";
import { Canvas } from "./canvas.js";
import { CodeExport } from "./code-export.js";
import { downloadGraph } from "./download.js";
import { FORMAT, FORMAT_VERSION, uneditedFields } from "./graph-doc.js";
import { History } from "./graph-state.js";
import { readGraphFile } from "./import-file.js";
import { Inspector } from "./inspector.js";
import { acceptLayerDrops, renderPalette } from "./palette.js";
import { ProblemsPanel } from "./problems.js";
import { Registry } from "./registry.js";
import { Saver } from "./save.js";
import { bindShortcuts } from "./shortcuts.js";
import { Validator } from "./validation.js";

const $ = (id) => byTestId(document, id);
const ZOOM_STEP = 1.25;
const network = JSON.parse(document.getElementById("editor-data").textContent);
const registry = new Registry(await api.get("/layers"));

const nameInput = $("network-name");
const notice = $("notice");
let extras = {}; // the document's fields that the editor keeps without editing (description, meta)

function documentOf() {
  return { ...extras, format: FORMAT, version: FORMAT_VERSION, name: nameInput.value.trim(), ...canvas.graph() };
}

// An undo step: the graph and the fields that come with it, not the network's name (which is not undone).
function snapshot() {
  return JSON.stringify({ ...extras, ...canvas.graph() });
}

// Put a document's graph on the canvas (opening, importing, undoing). Returns what could not be drawn.
function loadDocument(doc) {
  extras = uneditedFields(doc);
  return canvas.load(doc);
}

function tell(message) {
  notice.querySelector("[data-notice-text]").textContent = message;
  notice.hidden = !message;
}

const canvas = new Canvas($("canvas"), registry, {
  onGesture: () => committed(),
  onSelectionChange: () => inspector.show(canvas.selected(), canvas, validator.latest),
});

const inspector = new Inspector($("inspector"), registry, {
  setParam: (id, name, value) => edit(() => canvas.setParam(id, name, value), `param:${id}:${name}`),
  rename: (oldId, newId) => {
    const problem = canvas.renameNode(oldId, newId);
    if (!problem) committed();
    return problem;
  },
  remove: () => removeSelection(),
  duplicate: () => duplicateSelection(),
  batchSize: () => validator.batchSize,
  setBatchSize: (size) => {
    validator.batchSize = size;
    validator.schedule();
  },
});

const problems = new ProblemsPanel({
  totalParams: $("total-params"), memory: $("memory"),
  list: $("problems"), count: $("problem-count"),
}, (error) => {
  const target = error.node !== null ? canvas.cy.getElementById(error.node) : canvas.edges()[error.edge];
  if (!target || target.empty()) return;
  canvas.select(target);
  canvas.cy.animate({ center: { eles: target } }, { duration: 200 });
}, (fix) => applyFix(fix));

// A one-click fix from the server (insert a Flatten or a Permute before a node): one undo step, checked at once.
function applyFix(fix) {
  if (fix.kind !== "insert") return;
  edit(() => canvas.insertBefore(fix.before, fix.type, fix.params ?? {}));
  validator.run();
}

const validator = new Validator({
  documentOf,
  onResult: (analysis) => {
    canvas.showAnalysis(analysis);
    problems.show(analysis);
    inspector.update(analysis);
  },
  onFailure: (error) => problems.showFailure(error.message),
});

// Opening the network: draw it, fit it, and take this state as the first snapshot and the saved one.
nameInput.value = network.name;
const dropped = loadDocument(network.graph);
if (dropped.length) tell(`Left out, as the canvas cannot draw them: ${dropped.join(", ")}. Saving stores the graph without them.`);
canvas.fit();
const history = new History(snapshot());
const saver = new Saver({
  networkId: network.id, version: network.version, documentOf,
  status: $("save-status"), dialog: $("conflict-dialog"),
});
const codeExport = new CodeExport($("code-modal"), { documentOf, analysisNow: () => validator.current() });

function edit(change, key = null) {
  change();
  committed(key);
}

function committed(key = null) {
  history.commit(snapshot(), key);
  changed();
}

function changed() {
  $("canvas-hint").hidden = canvas.nodes().length > 1;
  $("undo").disabled = !history.canUndo;
  $("redo").disabled = !history.canRedo;
  saver.check();
  validator.schedule();
}

function restore(step) {
  if (step === null) return;
  const selected = canvas.selected().map((element) => element.id());
  loadDocument(JSON.parse(step));
  canvas.selectIds(selected);
  inspector.show(canvas.selected(), canvas, validator.latest);
  changed();
}

const removeSelection = () => edit(() => canvas.removeSelected());
const duplicateSelection = () => edit(() => canvas.duplicateSelected());
const undo = () => restore(history.undo());
const redo = () => restore(history.redo());
const addAtCentre = (type) => edit(() => canvas.addNode(type, canvas.freeSpotInView()));

renderPalette($("palette"), registry, addAtCentre);
acceptLayerDrops($("canvas"), (type, x, y) => edit(() => canvas.addNode(type, canvas.modelPosition(x, y))));

const importInput = $("import-file");
importInput.addEventListener("change", async () => {
  const [file] = importInput.files;
  importInput.value = "";
  if (!file) return;
  try {
    const doc = await readGraphFile(file);
    edit(() => {
      loadDocument(doc);
      canvas.fit();
    });
    tell("");
  } catch (error) {
    tell(error.message);
  }
});

const actions = {
  save: () => saver.save(),
  undo,
  redo,
  fit: () => canvas.fit(),
  layout: () => edit(() => canvas.layout()),
  "export-json": () => downloadGraph(documentOf()),
  "import-json": () => importInput.click(),
  "export-code": () => codeExport.open(),
  shortcuts: () => $("shortcuts-dialog").showModal(),
  "zoom-in": () => canvas.zoomBy(ZOOM_STEP),
  "zoom-out": () => canvas.zoomBy(1 / ZOOM_STEP),
};
for (const [testid, run] of Object.entries(actions)) $(testid).addEventListener("click", run);
for (const close of document.querySelectorAll("[data-close-dialog]")) {
  close.addEventListener("click", () => close.closest("dialog").close());
}
nameInput.addEventListener("input", () => saver.check());
const showZoom = () => {
  $("zoom-level").textContent = `${Math.round(canvas.cy.zoom() * 100)}%`;
};
canvas.cy.on("zoom", showZoom);
showZoom();
notice.querySelector("[data-dismiss-notice]").addEventListener("click", () => tell(""));

bindShortcuts([
  { keys: ["Mod+S"], label: "Save", run: actions.save, inFields: true, inDialogs: true },
  { keys: ["Mod+Z"], label: "Undo", run: undo },
  { keys: ["Mod+Shift+Z", "Mod+Y"], label: "Redo", run: redo },
  { keys: ["Delete", "Backspace"], label: "Delete the selection", run: removeSelection },
  { keys: ["Mod+D"], label: "Duplicate the selection", run: duplicateSelection },
  { keys: ["Mod+A"], label: "Select everything", run: () => canvas.select(canvas.nodes().union(canvas.edges())) },
  { keys: ["F"], label: "Fit the graph in view", run: actions.fit },
  { keys: ["L"], label: "Lay the graph out top to bottom", run: actions.layout },
  { keys: ["?"], label: "Show these shortcuts", run: actions.shortcuts },
], $("shortcut-list"));

// Leaving with unsaved changes asks first.
window.addEventListener("beforeunload", (event) => {
  if (saver.dirty) event.preventDefault();
});

inspector.show(canvas.selected(), canvas, null);
changed();
validator.run();

// For debugging from the console, and for tests that need to know where things are drawn.
window.netbuilder = { cy: canvas.cy, canvas, registry, history, validator, documentOf };
