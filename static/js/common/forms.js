// Parameter fields, made from the server's description of each parameter (name, kind, default, range,
// choices, help): a layer's parameters in the editor and the training settings on the dashboard, which the
// server declares with the same kinds. A field hands back what the user wrote as a JSON value and leaves
// judging it to the server, whose complaints about a parameter are shown under its field.

import { h } from "./dom.js";

let fieldCount = 0;

// "3", "3, 5", "3x5", "[1, 28, 28]": the numbers in a size or shape, or null when it is not a list.
function parseNumbers(text) {
  const inner = text.trim().replace(/^\[(.*)\]$/s, "$1").trim();
  if (!inner) return [];
  const numbers = inner.split(/\s*[,x×]\s*|\s+/).map((part) => (part === "" ? NaN : Number(part)));
  return numbers.every(Number.isFinite) ? numbers : null;
}

const readNumber = (input) => (input.value === "" ? null : Number(input.value));

// How each kind is edited: the control, how a value is shown in it, and how its contents are read back.
// Text that is not a number list is passed on as it is, so the server names the problem.
const KINDS = {
  int: { control: "number", step: "1", show: (v) => v ?? "", read: readNumber },
  float: { control: "number", step: "any", show: (v) => v ?? "", read: readNumber },
  bool: { control: "checkbox" },
  choice: { control: "select" },
  size: {
    control: "text",
    placeholder: (param) => (param.dims > 1 ? `e.g. 3 or ${Array(param.dims).fill(3).join(", ")}` : "e.g. 3"),
    show: (v) => (Array.isArray(v) ? v.join(", ") : v ?? ""),
    read: (input) => {
      if (input.value.trim() === "") return null;
      const numbers = parseNumbers(input.value);
      if (numbers === null || numbers.length === 0) return input.value;
      return numbers.length === 1 ? numbers[0] : numbers;
    },
  },
  shape: {
    control: "text",
    placeholder: () => "e.g. [1, 28, 28]",
    show: (v) => (Array.isArray(v) ? `[${v.join(", ")}]` : v ?? ""),
    read: (input) => {
      if (input.value.trim() === "") return null;
      return parseNumbers(input.value) ?? input.value;
    },
  },
};

function rangeText(param) {
  const low = param.minimum === undefined ? null : `${param.exclusive_minimum ? ">" : "≥"} ${param.minimum}`;
  const high = param.maximum === undefined ? null : `≤ ${param.maximum}`;
  return [low, high].filter(Boolean).join(", ");
}

function control(param, value, onChange) {
  const kind = KINDS[param.kind];
  if (kind.control === "checkbox") {
    const input = h("input", { type: "checkbox" });
    input.checked = Boolean(value);
    input.addEventListener("change", () => onChange(input.checked));
    return input;
  }
  if (kind.control === "select") {
    const select = h("select", {},
      param.choices.map((choice, i) => new Option(String(choice), String(i), false, choice === value)));
    select.addEventListener("change", () => onChange(param.choices[Number(select.value)]));
    return select;
  }
  const input = h("input", { type: kind.control, autocomplete: "off", spellcheck: "false" });
  input.value = kind.show(value);
  if (kind.control === "number") {
    // The browser's own range check, which the dashboard asks for before it starts a run.
    Object.assign(input, { step: kind.step, required: !param.nullable });
    if (param.minimum !== undefined) input.min = param.minimum;
    if (param.maximum !== undefined) input.max = param.maximum;
  }
  if (param.nullable) input.placeholder = "none";
  else if (kind.placeholder) input.placeholder = kind.placeholder(param);
  input.addEventListener("input", () => onChange(kind.read(input)));
  return input;
}

/** One labelled field, its control marked data-testid=`testid`. `value` is the current value, or undefined
 * when the default applies; `onChange(value)` is called with each edit. `compact` leaves out the range shown
 * beside the name, which a narrow grid of fields has no room for (the browser still checks it). */
export function paramField(param, value, { testid, onChange, compact = false }) {
  const input = control(param, value === undefined ? param.default : value, onChange);
  input.id = `field-${++fieldCount}`;
  input.dataset.testid = testid;
  const range = compact ? "" : rangeText(param);
  // Both pages style these fields: editor.css by the field-* classes, dashboard.css by `check` and `help`.
  const label = h("label", { for: input.id }, h("code", {}, param.name),
    range ? h("span", { class: "field-range" }, range) : null);
  const help = h("small", { class: "field-help help" }, param.help + (param.nullable ? " May be left empty." : ""));
  const error = h("p", { class: "field-error", hidden: true });
  const bool = param.kind === "bool";
  if (bool) label.prepend(input);
  return h("div", { class: `field field-${param.kind}${bool ? " check" : ""}`, "data-param": param.name },
    label, bool ? null : input, help, error);
}

// The server's complaints about parameters, each under its field; the others are cleared.
export function showFieldErrors(form, errors) {
  for (const field of form.querySelectorAll(".field")) {
    const messages = errors.filter((error) => error.param === field.dataset.param).map((error) => error.message);
    const slot = field.querySelector(".field-error");
    slot.textContent = messages.join(" ");
    slot.hidden = messages.length === 0;
    field.classList.toggle("invalid", messages.length > 0);
  }
}

/** Fill `form` with one field per setting (config-<name>), those named in `primary` first and the rest
 * folded away under "More settings". Returns {values(), set(config), check()}. */
export function buildConfigForm(form, descriptors, primary) {
  const values = Object.fromEntries(descriptors.map((param) => [param.name, param.default]));
  const shown = h("div", { class: "fields" });
  const more = h("div", { class: "fields" });
  form.replaceChildren(shown, h("details", { class: "more" }, h("summary", {}, "More settings"), more));

  function render() {
    const fields = (wanted) => descriptors.filter((param) => primary.includes(param.name) === wanted)
      .map((param) => paramField(param, values[param.name], { testid: `config-${param.name}`, compact: true,
        onChange: (value) => { values[param.name] = value; } }));
    shown.replaceChildren(...fields(true));
    more.replaceChildren(...fields(false));
  }
  render();

  return {
    values: () => ({ ...values }),
    /** Show these values (those of known settings), as if typed in. */
    set(config) {
      for (const { name } of descriptors) if (name in config) values[name] = config[name];
      render();
    },
    /** True when every field is within its range; otherwise the browser points at the first bad one. */
    check() {
      const bad = [...form.elements].find((element) => !element.checkValidity());
      if (bad) bad.closest("details")?.setAttribute("open", "");
      return form.reportValidity();
    },
  };
}
