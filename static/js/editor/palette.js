// The layer palette, made from the registry: one group per category, a search box, and items that are
// dragged onto the canvas (HTML5 drag and drop) or double-clicked to add at the canvas's centre.

import { categoryColor } from "./colors.js";

const LAYER_TYPE = "application/x-netbuilder-layer";

function item(layer, onAdd) {
  const element = document.createElement("li");
  element.className = "palette-item";
  element.draggable = true;
  element.dataset.testid = `palette-${layer.type}`;
  element.dataset.search = [layer.type, layer.label, layer.category, layer.description].join(" ").toLowerCase();
  element.title = `${layer.description}\nInput: ${layer.input_shape}. Drag onto the canvas, or double-click.`;
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
  element.addEventListener("dblclick", () => onAdd(layer.type));
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
    const items = document.createElement("ul");
    for (const layer of registry.layers.values()) {
      if (layer.category === category) items.append(item(layer, onAdd));
    }
    group.append(heading, items);
    return group;
  });
  list.replaceChildren(...groups);

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
