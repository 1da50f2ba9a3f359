// Step 3, the hyper-parameter form, generated from the descriptors of GET /api/training/config (name, kind,
// default, help, range, choices): the server declares each setting once and the page never repeats it. The
// settings in `primary` come first; the rest fold away under "More settings".

import { h } from "./dom.js";

function input(param) {
  const attrs = { name: param.name, id: `config-${param.name}`, "data-testid": `config-${param.name}` };
  if (param.kind === "choice") {
    return h("select", attrs, ...param.choices.map((choice) => h("option", { value: choice }, choice)));
  }
  if (param.kind === "bool") return h("input", { ...attrs, type: "checkbox" });
  return h("input", { ...attrs, type: "number", required: true, min: param.minimum, max: param.maximum,
    step: param.kind === "int" ? 1 : "any" });
}

function field(param) {
  const control = input(param);
  const title = h("label", { for: control.id }, h("code", {}, param.name));
  const help = h("small", { class: "help" }, param.help);
  return param.kind === "bool"
    ? h("div", { class: "field check" }, control, title, help)
    : h("div", { class: "field" }, title, control, help);
}

/** Fill `form` with one field per descriptor; returns {values(), set(config), check()}. */
export function buildConfigForm(form, descriptors, primary) {
  const params = new Map(descriptors.map((param) => [param.name, param]));
  const fields = (wanted) => descriptors.filter((p) => primary.includes(p.name) === wanted).map(field);
  form.replaceChildren(h("div", { class: "fields" }, ...fields(true)),
    h("details", { class: "more" }, h("summary", {}, "More settings"), h("div", { class: "fields" }, ...fields(false))));

  function set(config) {
    for (const [name, value] of Object.entries(config)) {
      const control = form.elements[name];
      if (!control || !params.has(name)) continue;
      if (params.get(name).kind === "bool") control.checked = Boolean(value);
      else control.value = value;
    }
  }
  set(Object.fromEntries(descriptors.map((p) => [p.name, p.default])));

  return {
    set,
    values() {
      return Object.fromEntries(descriptors.map(({ name, kind }) => {
        const control = form.elements[name];
        if (kind === "bool") return [name, control.checked];
        return [name, kind === "choice" ? control.value : Number(control.value)];
      }));
    },
    /** True when every field is within its range; otherwise the browser points at the first bad one. */
    check() {
      const bad = [...form.elements].find((control) => !control.checkValidity());
      if (bad) bad.closest("details")?.setAttribute("open", "");
      return form.reportValidity();
    },
  };
}
