// Parameter fields, made from the registry's description of each parameter (kind, default, range, help).
// A field hands back what the user wrote as a JSON value and leaves judging it to the server, whose
// complaints about a parameter are shown under its field.

let fieldCount = 0;

// "3", "3, 5", "3x5", "[1, 28, 28]": the numbers in a size or shape, or null when it is not a list.
function parseNumbers(text) {
  const inner = text.trim().replace(/^\[(.*)\]$/s, "$1").trim();
  if (!inner) return [];
  const numbers = inner.split(/\s*[,x×]\s*|\s+/).map((part) => (part === "" ? NaN : Number(part)));
  return numbers.every(Number.isFinite) ? numbers : null;
}

// How each kind is edited: the control, how a value is shown in it, and how its contents are read back.
// Text that is not a number list is passed on as it is, so the server names the problem.
const KINDS = {
  int: { control: "number", step: "1", show: (v) => v ?? "", read: (input) => (input.value === "" ? null : Number(input.value)) },
  float: { control: "number", step: "any", show: (v) => v ?? "", read: (input) => (input.value === "" ? null : Number(input.value)) },
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
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = Boolean(value);
    input.addEventListener("change", () => onChange(input.checked));
    return input;
  }
  if (kind.control === "select") {
    const select = document.createElement("select");
    param.choices.forEach((choice, i) => select.add(new Option(String(choice), String(i), false, choice === value)));
    select.addEventListener("change", () => onChange(param.choices[Number(select.value)]));
    return select;
  }
  const input = document.createElement("input");
  input.type = kind.control;
  input.autocomplete = "off";
  input.spellcheck = false;
  input.value = kind.show(value);
  if (kind.control === "number") {
    input.step = kind.step;
    if (param.minimum !== undefined) input.min = param.minimum;
    if (param.maximum !== undefined) input.max = param.maximum;
  }
  if (param.nullable) input.placeholder = "none";
  else if (kind.placeholder) input.placeholder = kind.placeholder(param);
  input.addEventListener("input", () => onChange(kind.read(input)));
  return input;
}

// One labelled field. `value` is the node's own value, or undefined when the default applies.
export function paramField(param, value, onChange) {
  const field = document.createElement("div");
  field.className = `field field-${param.kind}`;
  field.dataset.param = param.name;
  const input = control(param, value === undefined ? param.default : value, onChange);
  input.id = `field-${++fieldCount}`;
  input.dataset.testid = `param-${param.name}`;
  const label = document.createElement("label");
  label.htmlFor = input.id;
  label.textContent = param.name;
  const range = rangeText(param);
  if (range && param.kind !== "bool" && param.kind !== "choice") {
    const hint = document.createElement("span");
    hint.className = "field-range";
    hint.textContent = range;
    label.append(hint);
  }
  const help = document.createElement("p");
  help.className = "field-help";
  help.textContent = param.help + (param.nullable ? " May be left empty." : "");
  const error = document.createElement("p");
  error.className = "field-error";
  error.hidden = true;
  if (param.kind === "bool") {
    label.prepend(input);
    field.append(label, help, error);
  } else {
    field.append(label, input, help, error);
  }
  return field;
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
