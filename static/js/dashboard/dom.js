// Small DOM helpers shared by the dashboard's modules.

/** An element with attributes (`on*` functions become listeners) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** Show an error's message in `element`, or hide it when there is none. */
export function showError(element, error) {
  element.textContent = error ? error.message || String(error) : "";
  element.hidden = !error;
}

/** Horizontal bars, one per entry ({label, value, text, strong}), scaled to the largest value or `max`. */
export function renderBars(container, entries, max = Math.max(...entries.map((e) => e.value), 1e-12)) {
  container.replaceChildren(...entries.map((entry) => h("div", { class: entry.strong ? "bar strong" : "bar" },
    h("span", { class: "bar-label", title: entry.label }, entry.label),
    h("span", { class: "bar-track" }, h("span", { class: "bar-fill", style: `width: ${(100 * entry.value) / max}%` })),
    h("span", { class: "bar-value" }, entry.text))));
}

/** A column chart of counts ({label, value}): compact enough for a sidebar, readable up to a few dozen. */
export function renderColumns(container, entries) {
  const max = Math.max(...entries.map((e) => e.value), 1);
  container.replaceChildren(...entries.map((entry) => h("div", { class: "column", title: `${entry.label}: ${entry.value.toLocaleString("en")}` },
    h("span", { class: "column-track" }, h("span", { class: "column-fill", style: `height: ${(100 * entry.value) / max}%` })),
    h("span", { class: "column-label" }, entry.label))));
}
