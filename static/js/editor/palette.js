// The layer palette, made from the registry: one group per category, a search box, and items that are
// dragged onto the canvas (HTML5 drag and drop) or clicked to add. It works from the keyboard alone: the
// items are one Tab stop (the arrow keys move between them), Enter or Space adds the focused one, and Enter
// in the search box adds the first match.

import { categoryColor } from "./colors.js";

const LAYER_TYPE = "application/x-netbuilder-layer";

function item(layer, onAdd) {
  const element = document.createElement("div");
  element.className = "palette-item";
  element.draggable = true;
  element.tabIndex = -1;
  element.setAttribute("role", "button");
  element.dataset.testid = `palette-${layer.type}`;
  element.dataset.type = layer.type;
  element.dataset.search = [layer.type, layer.label, layer.category, layer.description].join(" ").toLowerCase();
  element.title = `${layer.description}\nInput: ${layer.input_shape}. Drag onto the canvas, or click.`;
  element.style.setProperty("--category", categoryColor(layer.category));
  const name = document.createElement("span");
  name.className = "palette-name";
  name.textContent = layer.label;
  element.append(name);
  if (layer.label !== layer.type) {
    const type = document.createElement("span");
    type.className = "palette-type";
    type.textContent = layer.type;
    element.append(type);
  }
  element.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(LAYER_TYPE, layer.type);
    event.dataTransfer.effectAllowed = "copy";
  });
  element.addEventListener("click", () => onAdd(layer.type));
  element.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    onAdd(layer.type);
  });
  return element;
}

export function renderPalette(root, registry, onAdd) {
  const search = root.querySelector("[data-palette-search]");
  const list = root.querySelector("[data-palette-groups]");
  const empty = root.querySelector("[data-palette-empty]");
  const groups = registry.categories.map((category) => {
    const group = document.createElement("section");
    group.className = "palette-group";
    const heading = document.createElement("h3");
    heading.textContent = category;
    // A group of buttons (a list whose items are buttons is no list to a screen reader).
    const items = document.createElement("div");
    items.className = "palette-items";
    items.setAttribute("role", "group");
    items.setAttribute("aria-label", category);
    for (const layer of registry.layers.values()) {
      if (layer.category === category) items.append(item(layer, onAdd));
    }
    group.append(heading, items);
    return group;
  });
  list.replaceChildren(...groups);
  const visible = () => [...list.querySelectorAll(".palette-item")].filter((element) => !element.closest("[hidden]"));
  // One item at a time takes the Tab stop: the last one focused, or the first shown.
  const setTabStop = (element) => {
    for (const other of list.querySelectorAll(".palette-item")) other.tabIndex = -1;
    if (element) element.tabIndex = 0;
  };
  const focusItem = (element) => {
    setTabStop(element);
    element.focus();
  };
  setTabStop(visible()[0]);
  list.addEventListener("keydown", (event) => {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const items = visible();
    const next = items[items.indexOf(event.target) + step];
    if (next) focusItem(next);
    else if (step < 0) search.focus();
  });
  search.addEventListener("keydown", (event) => {
    const [first] = visible();
    if (!first) return;
    if (event.key === "Enter") {
      event.preventDefault();
      onAdd(first.dataset.type);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      focusItem(first);
    }
  });

  search.addEventListener("input", () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const group of groups) {
      let groupShown = 0;
      for (const element of group.querySelectorAll(".palette-item")) {
        const match = words.every((word) => element.dataset.search.includes(word));
        element.hidden = !match;
        groupShown += match;
      }
      group.hidden = groupShown === 0;
      shown += groupShown;
    }
    empty.hidden = shown > 0;
    if (!visible().some((element) => element.tabIndex === 0)) setTabStop(visible()[0]);
  });
}

// The canvas side of the drag: a dropped palette item becomes a node where it was let go.
export function acceptLayerDrops(element, onDrop) {
  element.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes(LAYER_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  element.addEventListener("drop", (event) => {
    const type = event.dataTransfer.getData(LAYER_TYPE);
    if (!type) return;
    event.preventDefault();
    onDrop(type, event.clientX, event.clientY);
  });
}
