// Bar and column charts drawn with plain elements: small enough that Plotly would be out of proportion.

import { h } from "../common/dom.js";

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
