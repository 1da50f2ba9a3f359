// The editor page: loads the registry and the network, then connects the canvas, palette, panels, history,
// validation and saving. Every change to the graph goes through `edit`, which keeps an undo snapshot, asks
// the server to check the graph and updates the unsaved-changes indicator. A saved version (or a diff of
// two) can be put on view instead of the graph being edited: then nothing edits, and "Back to latest" puts
// the edited graph back as it was.

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
import { VersionsPanel } from "./versions.js";

const $ = (id) => byTestId(document, id);
const ZOOM_STEP = 1.25;
const FIRST_DRAW_WAIT_MS = 1000; // the longest the opened graph waits for its first analysis before it is drawn
const network = JSON.parse(document.getElementById("editor-data").textContent);
const registry = new Registry(await api.get("/layers"));

const nameInput = $("network-name");
const notice = $("notice");
let extras = {}; // the document's fields that the editor keeps without editing (description, meta)
let viewing = null; // the saved version on view, read-only: {number, graph} or, for a diff, {a, b}
let working = null; // while one is: the graph being edited, its viewport and selection, to go back to

// The document, with the view (viewport, collapsed groups) kept in meta so the network opens as it was left.
function documentOf() {
  const { collapsed, ...meta } = extras.meta ?? {};
  const paths = canvas.groups.collapsedPaths();
  return { ...extras, meta: { ...meta, viewport: canvas.viewport(), ...(paths.length ? { collapsed: paths } : {}) },
    format: FORMAT, version: FORMAT_VERSION, name: nameInput.value.trim(), ...canvas.graph() };
}

// An undo step: the graph and the fields that come with it, not the network's name (which is not undone).
function snapshot() {
  return JSON.stringify({ ...extras, ...canvas.graph() });
}

// Put a document's graph on the canvas (opening, importing, undoing). Returns what could not be drawn.
function loadDocument(doc, options) {
  extras = uneditedFields(doc);
  return canvas.load(doc, options);
}

function tell(message) {
  notice.querySelector("[data-notice-text]").textContent = message;
  notice.hidden = !message;
}

const canvas = new Canvas($("canvas"), registry, {
  onGesture: () => committed(),
  onSelectionChange: () => inspector.show(canvas.selected(), canvas, validator.latest),
  onRefuse: tell,
});

const inspector = new Inspector($("inspector"), registry, {
  setParam: (id, name, value) => edit(() => canvas.setParam(id, name, value), `param:${id}:${name}`),
  setEdgeOutput: (edge, index) => edit(() => canvas.setEdgeOutput(edge, index)),
  setTrainable: (id, trainable) => edit(() => canvas.setTrainable(id, trainable)),
  setLabel: (id, label) => edit(() => canvas.setLabel(id, label), `label:${id}`),
  // One undo step; the activation is selected, so the next layer added goes below it.
  setActivation: (id, type) => edit(() => {
    const node = canvas.setActivation(id, type);
    if (node) canvas.reveal(node);
  }),
  rename: (oldId, newId) => {
    if (viewing) return null;
    const problem = canvas.renameNode(oldId, newId);
    if (!problem) committed();
    return problem;
  },
  collapseGroup: (path) => canvas.groups.toggle(path), // view only: no undo step, no unsaved change
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
    showOpened();
    if (!document.body.dataset.firstRender) markFirstRender();
  },
  onFailure: (error) => {
    problems.showFailure(error.message);
    showOpened();
  },
});

// Opening the network: draw it, in the view it was saved with (or fitted), and take this state as the first
// snapshot and the saved one.
nameInput.value = network.name;
// Nothing is drawn until the first analysis is (or the validation failed, or a moment has passed): a large graph
// is rendered once, with its shapes, rather than twice, which takes seconds at 450 layers.
canvas.cy.startBatch();
canvas.groups.setCollapsed(network.graph.meta?.collapsed);
const dropped = loadDocument(network.graph, { autoLayout: false });
validator.run(); // the server checks the graph while the browser lays it out (an imported one takes a while)
if (canvas.unplaced(network.graph)) canvas.layout({ fit: false });
if (dropped.length) tell(`Left out, as the canvas cannot draw them: ${dropped.join(", ")}. Saving stores the graph without them.`);
let opened = false;
setTimeout(showOpened, FIRST_DRAW_WAIT_MS);

// The graph drawn at last, in the view it was saved with (or fitted).
function showOpened() {
  if (opened) return;
  opened = true;
  canvas.cy.endBatch();
  if (!canvas.setViewport(network.graph.meta?.viewport)) canvas.fit();
}
const history = new History(snapshot());
const saver = new Saver({
  networkId: network.id, version: network.version, documentOf, registry,
  status: $("save-status"), dialog: $("conflict-dialog"),
  onSaved: () => versions.open && versions.refresh(),
});
const versions = new VersionsPanel($("versions-panel"), {
  networkId: network.id,
  onOpen: (version) => view({ number: version.number, graph: version.graph },
    `Viewing version ${version.number} (read-only)`, version.graph),
  onCompare: ({ a, b, diff, before, after }) => {
    view({ a, b }, `Comparing version ${a} with version ${b} (read-only)`, after);
    canvas.showDiff(diff, before);
  },
});
const codeExport = new CodeExport($("code-modal"), { documentOf, analysisNow: () => validator.current() });

// While a saved version is on view, nothing edits.
function edit(change, key = null) {
  if (viewing) return;
  change();
  committed(key);
}

function committed(key = null) {
  if (viewing) return;
  history.commit(snapshot(), key);
  changed();
}

function changed() {
  showEditState();
  validator.schedule();
}

function showEditState() {
  $("canvas-hint").hidden = canvas.nodes().length > 1;
  $("undo").disabled = !history.canUndo;
  $("redo").disabled = !history.canRedo;
  saver.check();
}

function restore(step) {
  if (step === null) return;
  const selected = canvas.selected().map((element) => element.id());
  loadDocument(JSON.parse(step));
  canvas.selectIds(selected);
  inspector.show(canvas.selected(), canvas, validator.latest);
  changed();
}

// Put a saved version (or the newer side of a diff) on the canvas, read-only, keeping the graph being edited.
function view(state, banner, graph) {
  if (!viewing) {
    working = { snapshot: snapshot(), viewport: canvas.viewport(), selected: canvas.selected().map((e) => e.id()) };
  }
  viewing = state;
  setReadOnly(true);
  loadDocument(graph);
  canvas.fit();
  $("view-banner-text").textContent = banner;
  $("restore-version").hidden = state.number === undefined;
  document.querySelector("[data-diff-legend]").hidden = state.number !== undefined;
  if (state.number !== undefined) versions.clearDiff();
  inspector.show(canvas.selected(), canvas, null);
  saver.showState("Read-only");
  validator.run();
}

function backToLatest() {
  viewing = null;
  setReadOnly(false);
  versions.clearDiff();
  loadDocument(JSON.parse(working.snapshot));
  canvas.setViewport(working.viewport);
  canvas.selectIds(working.selected);
  inspector.show(canvas.selected(), canvas, null);
  changed();
  validator.run();
}

// The version on view becomes the newest one, saved with a message that says where it came from; the graph
// being edited before is one undo away.
async function restoreViewed() {
  const { number, graph } = viewing;
  backToLatest();
  edit(() => loadDocument(graph));
  await saver.save(undefined, `Restored version ${number}`);
}

function setReadOnly(readOnly) {
  canvas.setReadOnly(readOnly);
  inspector.readOnly = readOnly;
  $("palette").inert = readOnly;
  $("view-banner").hidden = !readOnly;
  for (const testid of ["save", "layout", "import-json"]) $(testid).disabled = readOnly;
  $("undo").disabled = readOnly || !history.canUndo;
  $("redo").disabled = readOnly || !history.canRedo;
}

const removeSelection = () => edit(() => canvas.removeSelected());
const duplicateSelection = () => edit(() => canvas.duplicateSelected());
// (Not while a version is on view: the history is the edited graph's.)
const undo = () => viewing || restore(history.undo());
const redo = () => viewing || restore(history.redo());

// A layer from the palette (a click or Enter): below the one layer selected and fed by it, else at the centre.
function addLayer(type) {
  edit(() => {
    const selected = canvas.selected();
    const above = selected.length === 1 && selected.nodes().length === 1 ? selected.nodes()[0] : null;
    const node = above ? canvas.addNode(type, canvas.spotBelow(above), above) : canvas.addNode(type, canvas.freeSpotInView());
    canvas.reveal(node);
  });
}

renderPalette($("palette"), registry, addLayer);
// A layer dropped on a connection goes into it; anywhere else, it stays where it was dropped.
acceptLayerDrops($("canvas"), (type, x, y) => edit(() => {
  const position = canvas.modelPosition(x, y);
  const edge = canvas.edgeAt(position);
  if (edge) canvas.insertIntoEdge(edge, type);
  else canvas.addNode(type, position);
}));

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
  save: () => viewing || saver.save(),
  undo,
  redo,
  fit: () => canvas.fit(),
  layout: () => edit(() => canvas.layout()),
  "export-json": () => downloadGraph(documentOf()),
  "import-json": () => viewing || importInput.click(),
  "export-code": () => codeExport.open(),
  shortcuts: () => $("shortcuts-dialog").showModal(),
  "zoom-in": () => canvas.zoomBy(ZOOM_STEP),
  "zoom-out": () => canvas.zoomBy(1 / ZOOM_STEP),
  history: () => versions.toggle(),
  "back-to-latest": backToLatest,
  "restore-version": restoreViewed,
};
for (const [testid, run] of Object.entries(actions)) $(testid).addEventListener("click", run);
for (const close of document.querySelectorAll("[data-close-dialog]")) {
  close.addEventListener("click", () => close.closest("dialog").close());
}
document.querySelector("[data-close-versions]").addEventListener("click", () => versions.toggle());
nameInput.addEventListener("input", () => viewing || saver.check());
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
showEditState(); // (the graph went to validation when it was opened)

// The first complete render: the first analysis drawn on the canvas, in milliseconds since the page was opened
// (bench/editor_render.py waits for it).
function markFirstRender() {
  document.body.dataset.firstRender = "pending";
  canvas.cy.one("render", () => {
    document.body.dataset.firstRender = String(Math.round(performance.now()));
  });
}

// For debugging from the console, and for tests that need to know where things are drawn.
window.netbuilder = { cy: canvas.cy, canvas, registry, history, validator, documentOf, saver };
