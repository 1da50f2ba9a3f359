// The right-hand panel: the selected layer's form, or the selected connection, or several selected
// layers, or, with nothing selected, a summary of the whole graph. A view is built when the selection
// changes and only refilled when a new analysis arrives, so a field being typed into keeps its focus.

import { categoryColor } from "./colors.js";
import { formatBytes, formatCount, formatShape, plural } from "./format.js";
import { paramField, showFieldErrors } from "./forms.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, testid, onClick) {
  const node = element("button", "button", label);
  node.type = "button";
  node.dataset.testid = testid;
  node.addEventListener("click", onClick);
  return node;
}

// A list of facts whose values are filled in later: facts.set("params", "320").
function facts(rows) {
  const list = element("dl", "facts");
  const slots = new Map();
  for (const [key, label] of rows) {
    const value = element("dd", "", "…");
    value.dataset.testid = `fact-${key}`;
    list.append(element("dt", "", label), value);
    slots.set(key, value);
  }
  return { list, set: (key, text) => { slots.get(key).textContent = text; } };
}

const shapeText = (shape) => (shape ? formatShape(shape) : "—");
const MEMORY_ROWS = [["parameters", "Weights"], ["gradients", "Gradients"], ["optimizer", "Adam state"],
  ["activations", "Activations"], ["total", "Total"]];
const MAX_BATCH_SIZE = 65536; // the validation endpoint's limit

export class Inspector {
  constructor(root, registry, actions) {
    this.root = root;
    this.registry = registry;
    this.actions = actions; // {setParam, rename, remove, duplicate, setBatchSize, batchSize}
    this.view = null;
  }

  show(selection, canvas, analysis) {
    const nodes = selection.nodes();
    if (selection.length === 1 && nodes.length === 1) this.view = this.nodeView(nodes[0]);
    else if (selection.length === 1) this.view = this.edgeView(selection[0]);
    else if (selection.length > 1) this.view = this.manyView(selection);
    else this.view = this.summaryView(canvas);
    this.root.replaceChildren(this.view.element);
    if (analysis) this.view.update(analysis);
  }

  update(analysis) {
    this.view?.update(analysis);
  }

  summaryView(canvas) {
    const root = element("div", "inspector-view");
    root.append(element("h2", "", "Network"));
    root.append(element("p", "muted", "Select a layer to see its output and edit its parameters."));
    const counts = element("p");
    counts.dataset.testid = "graph-counts";
    const shapes = facts([["input", "Input"], ["output", "Output"], ["params", "Parameters"]]);
    root.append(counts, shapes.list);

    root.append(element("h3", "", "Training memory"));
    const batch = element("label", "inline-field", "Batch size ");
    const batchInput = element("input");
    Object.assign(batchInput, { type: "number", min: 1, max: MAX_BATCH_SIZE, step: 1, value: this.actions.batchSize() });
    batchInput.dataset.testid = "batch-size";
    batchInput.addEventListener("input", () => {
      const size = Number(batchInput.value);
      if (Number.isInteger(size) && size >= 1 && size <= MAX_BATCH_SIZE) this.actions.setBatchSize(size);
    });
    batch.append(batchInput);
    const memory = facts(MEMORY_ROWS);
    root.append(batch, memory.list, element("p", "muted small",
      "float32 weights, their gradients, Adam's two moments, and each layer's output kept for the backward pass."));
    return {
      element: root,
      update: (analysis) => {
        counts.textContent = `${plural(canvas.nodes().length, "layer")}, ${plural(canvas.edges().length, "connection")}`;
        shapes.set("input", shapeText(analysis.input_shape));
        shapes.set("output", shapeText(analysis.output_shape));
        shapes.set("params", formatCount(analysis.total_params));
        for (const [key] of MEMORY_ROWS) memory.set(key, formatBytes(analysis.memory[key]));
      },
    };
  }

  nodeView(node) {
    const id = node.id();
    const layer = this.registry.layer(node.data("type"));
    const root = element("div", "inspector-view");
    const title = element("div", "layer-title");
    title.style.setProperty("--category", categoryColor(this.registry.category(node.data("type"))));
    title.append(element("h2", "", layer ? layer.label : node.data("type")),
      element("span", "chip", layer ? `${layer.category}${layer.label !== layer.type ? ` · ${layer.type}` : ""}` : "unknown type"));
    root.append(title);
    if (layer) root.append(element("p", "muted", layer.description));

    const idField = element("div", "field");
    const idLabel = element("label", "", "id");
    const idInput = element("input");
    Object.assign(idInput, { type: "text", value: id, id: "node-id", autocomplete: "off", spellcheck: false });
    idInput.dataset.testid = "node-id";
    idLabel.htmlFor = "node-id";
    const idError = element("p", "field-error");
    idError.hidden = true;
    idInput.addEventListener("change", () => {
      const problem = this.actions.rename(id, idInput.value.trim());
      idError.textContent = problem ?? "";
      idError.hidden = !problem;
    });
    idField.append(idLabel, idInput, idError);

    const problems = element("ul", "node-problems");
    const result = facts([["shape", "Output shape"], ["params", "Parameters"]]);
    root.append(problems, result.list, idField);
    const fieldNames = new Set(layer?.params.map((param) => param.name));
    const form = element("div", "param-form");
    for (const param of layer?.params ?? []) {
      form.append(paramField(param, node.data("params")[param.name],
        (value) => this.actions.setParam(id, param.name, value)));
    }
    if (layer?.params.length) root.append(element("h3", "", "Parameters"));
    root.append(form);
    const buttons = element("div", "button-row");
    buttons.append(button("Duplicate", "duplicate", this.actions.duplicate),
      button("Delete", "delete", this.actions.remove));
    root.append(buttons);
    return {
      element: root,
      update: (analysis) => {
        const info = analysis.nodes[id];
        result.set("shape", shapeText(info?.output_shape));
        result.set("params", info?.params == null ? "—" : formatCount(info.params));
        const errors = analysis.errors.filter((error) => error.node === id);
        showFieldErrors(form, errors);
        // Problems with a parameter show under its field; the rest, here.
        problems.replaceChildren(...errors.filter((error) => !fieldNames.has(error.param))
          .map((error) => element("li", "", error.message)));
      },
    };
  }

  edgeView(edge) {
    const root = element("div", "inspector-view");
    root.append(element("h2", "", "Connection"),
      element("p", "", `${edge.source().id()} → ${edge.target().id()}`));
    const buttons = element("div", "button-row");
    buttons.append(button("Delete", "delete", this.actions.remove));
    root.append(buttons);
    return { element: root, update: () => {} };
  }

  manyView(selection) {
    const root = element("div", "inspector-view");
    const nodes = selection.nodes().length;
    const edges = selection.edges().length;
    root.append(element("h2", "", "Selection"),
      element("p", "", [nodes && plural(nodes, "layer"), edges && plural(edges, "connection")].filter(Boolean).join(", ")));
    const buttons = element("div", "button-row");
    if (nodes) buttons.append(button("Duplicate", "duplicate", this.actions.duplicate));
    buttons.append(button("Delete", "delete", this.actions.remove));
    root.append(buttons);
    return { element: root, update: () => {} };
  }
}
