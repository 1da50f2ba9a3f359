// The right-hand panel: the selected layer's form, or the selected connection, or several selected
// layers, or, with nothing selected, a summary of the whole graph. A view is built when the selection
// changes and only refilled when a new analysis arrives, so a field being typed into keeps its focus.

import { h } from "../common/dom.js";
import { bytes, number, plural, shape } from "../common/format.js";
import { outputOf, showLayout } from "./canvas.js";
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
// The layers almost always followed by an activation, which their form offers to add in one click.
const ACTIVATED = new Set(["Conv1d", "Conv2d", "Linear"]);
const ACTIVATIONS = ["ReLU", "LeakyReLU", "GELU", "SiLU", "Tanh", "Sigmoid"];

export class Inspector {
  constructor(root, registry, actions) {
    this.root = root;
    this.registry = registry;
    // {setParam, setEdgeOutput, setTrainable, rename, setLabel, setActivation, collapseGroup, remove, duplicate,
    // setBatchSize, batchSize}
    this.actions = actions;
    this.view = null;
    this.readOnly = false; // a saved version on view: everything shown, nothing editable
  }

  show(selection, canvas, analysis) {
    const nodes = selection.nodes();
    if (selection.length === 1 && nodes.length === 1) this.view = this.nodeView(nodes[0], canvas);
    else if (selection.length === 1) this.view = this.edgeView(selection[0]);
    else if (selection.length > 1) this.view = this.manyView(selection);
    else this.view = this.summaryView(canvas);
    this.root.replaceChildren(this.readOnly
      ? h("fieldset", { class: "read-only", disabled: true }, this.view.element) : this.view.element);
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
        // An invalid graph's counts leave out what could not be inferred: no partial figures.
        const frozen = analysis.frozen_params ? ` (${number(analysis.frozen_params)} frozen)` : "";
        shapes.set("params", analysis.valid ? number(analysis.total_params) + frozen : "—");
        for (const [key] of MEMORY_ROWS) memory.set(key, analysis.valid ? bytes(analysis.memory[key]) : "—");
      },
    };
  }

  nodeView(node, canvas) {
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

    const labelInput = h("input", { type: "text", id: "node-label", autocomplete: "off", maxlength: 200,
      placeholder: "shown instead of the id", "data-testid": "node-label" });
    labelInput.value = node.data("label") ?? "";
    labelInput.addEventListener("input", () => this.actions.setLabel(id, labelInput.value.trim()));

    // Fine-tuning: a frozen node's weights stay as they are while the rest trains.
    const trainable = h("input", { type: "checkbox", id: "node-trainable", "data-testid": "node-trainable" });
    trainable.checked = node.data("trainable") !== false;
    trainable.addEventListener("change", () => this.actions.setTrainable(id, trainable.checked));
    const trainableField = h("div", { class: "field inline-field", hidden: true },
      h("label", { for: "node-trainable" }, trainable, " Trainable (unchecked: its weights are frozen)"));

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
      h("div", { class: "field" }, h("label", { for: "node-label" }, "label"), labelInput),
      node.data("group") ? this.groupField(node.data("group")) : null,
      trainableField,
      ACTIVATED.has(node.data("type")) ? this.activationChoice(id, canvas.activationAfter(id)?.data("type")) : null,
      layer?.params.length ? h("h3", {}, "Parameters") : null,
      form,
      h("div", { class: "button-row" }, button("Duplicate", "duplicate", this.actions.duplicate),
        button("Delete", "delete", this.actions.remove)));
    return {
      element: root,
      update: (analysis) => {
        const info = analysis.nodes[id];
        trainableField.hidden = !info?.params;
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

  // An imported layer's group (its module path), which collapses to one card on the canvas.
  groupField(path) {
    return h("div", { class: "field group-field" }, h("span", { class: "field-label" }, "Group"),
      h("code", { "data-testid": "node-group" }, path),
      button("Collapse", "collapse-group", () => this.actions.collapseGroup(path)));
  }

  // The activation after a layer, chosen with one click: a button per common activation, and none.
  activationChoice(id, current) {
    const choice = (type, text) => h("button", { type: "button", class: "chip-button", "data-testid": `activation-${type ?? "none"}`,
      "aria-pressed": String((current ?? null) === type), onclick: () => this.actions.setActivation(id, type) }, text);
    return h("div", { class: "field activation-choice", role: "group", "aria-labelledby": "activation-title" },
      h("span", { class: "field-label", id: "activation-title" }, "Activation after it"),
      h("div", { class: "chip-row" }, choice(null, "none"), ...ACTIVATIONS.map((type) => choice(type, type))));
  }

  // A connection: its ends, and, where its source has several outputs (LSTM, Split), which one it carries.
  edgeView(edge) {
    const choice = h("select", { id: "edge-output", "data-testid": "edge-output" });
    choice.addEventListener("change", () => this.actions.setEdgeOutput(edge, Number(choice.value)));
    const field = h("div", { class: "field", hidden: true }, h("label", { for: "edge-output" }, "From output"), choice);
    const carried = facts([["shape", "Shape"], ["layout", "Layout"]]);
    const root = h("div", { class: "inspector-view" },
      h("h2", {}, "Connection"),
      h("p", {}, `${edge.source().id()} → ${edge.target().id()}`),
      field, carried.list,
      h("div", { class: "button-row" }, button("Delete", "delete", this.actions.remove)));
    return {
      element: root,
      update: (analysis) => {
        const info = analysis.nodes[edge.source().id()];
        const index = edge.data("output") ?? 0;
        field.hidden = !info?.outputs;
        if (info?.outputs && document.activeElement !== choice) {
          choice.replaceChildren(...info.outputs.map((out, i) => h("option", { value: String(i) },
            `${i} ${out.name} ${shape(out.shape)}`)));
          choice.value = String(index);
        }
        const output = outputOf(info, index);
        carried.set("shape", shape(output.shape));
        carried.set("layout", showLayout(output.layout) || "—");
      },
    };
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
