// The right-hand panel: the selected layer's form, or the selected connection, or several selected
// layers, or, with nothing selected, a summary of the whole graph. A view is built when the selection
// changes and only refilled when a new analysis arrives, so a field being typed into keeps its focus.

import { h } from "../common/dom.js";
import { bytes, number, plural, shape } from "../common/format.js";
import { showLayout } from "./canvas.js";
import { paramField, showFieldErrors } from "../common/forms.js";
import { categoryColor } from "./colors.js";

const button = (label, testid, onClick) => h("button", { type: "button", class: "button", "data-testid": testid,
  onclick: onClick }, label);

// A list of facts whose values are filled in later: facts.set("params", "320").
function facts(rows) {
  const slots = new Map(rows.map(([key]) => [key, h("dd", { "data-testid": `fact-${key}` }, "…")]));
  const list = h("dl", { class: "facts" }, rows.flatMap(([key, label]) => [h("dt", {}, label), slots.get(key)]));
  return { list, set: (key, text) => { slots.get(key).textContent = text; } };
}

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
    const counts = h("p", { "data-testid": "graph-counts" });
    const shapes = facts([["input", "Input"], ["output", "Output"], ["params", "Parameters"]]);
    const batchInput = h("input", { type: "number", min: 1, max: MAX_BATCH_SIZE, step: 1,
      "data-testid": "batch-size" });
    batchInput.value = this.actions.batchSize();
    batchInput.addEventListener("input", () => {
      const size = Number(batchInput.value);
      if (Number.isInteger(size) && size >= 1 && size <= MAX_BATCH_SIZE) this.actions.setBatchSize(size);
    });
    const memory = facts(MEMORY_ROWS);
    const root = h("div", { class: "inspector-view" },
      h("h2", {}, "Network"),
      h("p", { class: "muted" }, "Select a layer to see its output and edit its parameters."),
      counts, shapes.list,
      h("h3", {}, "Training memory"),
      h("label", { class: "inline-field" }, "Batch size ", batchInput),
      memory.list,
      h("p", { class: "muted small" },
        "float32 weights, their gradients, Adam's two moments, and each layer's output kept for the backward pass."));
    return {
      element: root,
      update: (analysis) => {
        counts.textContent = `${plural(canvas.nodes().length, "layer")}, ${plural(canvas.edges().length, "connection")}`;
        shapes.set("input", shape(analysis.input_shape));
        shapes.set("output", shape(analysis.output_shape));
        shapes.set("params", number(analysis.total_params));
        for (const [key] of MEMORY_ROWS) memory.set(key, bytes(analysis.memory[key]));
      },
    };
  }

  nodeView(node) {
    const id = node.id();
    const layer = this.registry.layer(node.data("type"));
    const title = h("div", { class: "layer-title" },
      h("h2", {}, layer ? layer.label : node.data("type")),
      h("span", { class: "chip" }, layer ? `${layer.category}${layer.label !== layer.type ? ` · ${layer.type}` : ""}` : "unknown type"));
    title.style.setProperty("--category", categoryColor(this.registry.category(node.data("type"))));

    const idInput = h("input", { type: "text", id: "node-id", autocomplete: "off", spellcheck: "false",
      "data-testid": "node-id" });
    idInput.value = id;
    const idError = h("p", { class: "field-error", hidden: true });
    idInput.addEventListener("change", () => {
      const problem = this.actions.rename(id, idInput.value.trim());
      idError.textContent = problem ?? "";
      idError.hidden = !problem;
    });

    const problems = h("ul", { class: "node-problems" });
    const result = facts([["shape", "Output shape"], ["layout", "Layout"], ["params", "Parameters"]]);
    const fieldNames = new Set(layer?.params.map((param) => param.name));
    const form = h("div", { class: "param-form" }, (layer?.params ?? []).map((param) => paramField(param,
      node.data("params")[param.name], { testid: `param-${param.name}`,
        onChange: (value) => this.actions.setParam(id, param.name, value) })));
    const root = h("div", { class: "inspector-view" },
      title,
      layer && h("p", { class: "muted" }, layer.description),
      problems, result.list,
      h("div", { class: "field" }, h("label", { for: "node-id" }, "id"), idInput, idError),
      layer?.params.length ? h("h3", {}, "Parameters") : null,
      form,
      h("div", { class: "button-row" }, button("Duplicate", "duplicate", this.actions.duplicate),
        button("Delete", "delete", this.actions.remove)));
    return {
      element: root,
      update: (analysis) => {
        const info = analysis.nodes[id];
        result.set("shape", shape(info?.output_shape));
        result.set("layout", showLayout(info?.layout) || "—");
        result.set("params", number(info?.params));
        const errors = analysis.errors.filter((error) => error.node === id);
        showFieldErrors(form, errors);
        // Problems with a parameter show under its field; the rest, here.
        const warnings = (analysis.warnings ?? []).filter((warning) => warning.node === id);
        problems.replaceChildren(...errors.filter((error) => !fieldNames.has(error.param))
          .map((error) => h("li", {}, error.message)),
        ...warnings.map((warning) => h("li", { class: "node-warning" }, warning.message)));
      },
    };
  }

  edgeView(edge) {
    const root = h("div", { class: "inspector-view" },
      h("h2", {}, "Connection"),
      h("p", {}, `${edge.source().id()} → ${edge.target().id()}`),
      h("div", { class: "button-row" }, button("Delete", "delete", this.actions.remove)));
    return { element: root, update: () => {} };
  }

  manyView(selection) {
    const nodes = selection.nodes().length;
    const edges = selection.edges().length;
    const root = h("div", { class: "inspector-view" },
      h("h2", {}, "Selection"),
      h("p", {}, [nodes && plural(nodes, "layer"), edges && plural(edges, "connection")].filter(Boolean).join(", ")),
      h("div", { class: "button-row" }, nodes ? button("Duplicate", "duplicate", this.actions.duplicate) : null,
        button("Delete", "delete", this.actions.remove)));
    return { element: root, update: () => {} };
  }
}
