// How the graph looks on the canvas: white cards with a stripe in their category's colour, red when the
// last validation found a problem with them, amber when it only warned about them, blue when selected.

import { categoryColor } from "./colors.js";

export const NODE_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const NODE_HEIGHT = 48;

const TEXT = "#1d2330";
const ACCENT = "#2f6fde";
const ERROR = "#d92d20";
const ERROR_FILL = "#fef3f2";
const WARNING = "#dc6803";
const WARNING_FILL = "#fffaeb";
const EDGE = "#98a2b3";

// A card's stripe: the colour up to 3% of its width, then the fill, with no blend between the two.
function stripe(color, fill) {
  return `${color} ${color} ${fill} ${fill}`;
}

export function canvasStyle(registry) {
  const colorOf = (node) => categoryColor(registry.category(node.data("type")));
  return [
    // Graph nodes only: edgehandles' invisible ghost node (the end of the line being drawn) has no type.
    {
      selector: "node[type]",
      style: {
        shape: "round-rectangle",
        width: "data(width)",
        height: NODE_HEIGHT,
        "background-fill": "linear-gradient",
        "background-gradient-direction": "to-right",
        "background-gradient-stop-positions": "0% 3% 3% 100%",
        "background-gradient-stop-colors": (node) => stripe(colorOf(node), "#ffffff"),
        "border-width": 1,
        "border-color": "#c9d0dc",
        label: "data(shown)",
        "text-wrap": "wrap",
        "text-valign": "center",
        "text-halign": "center",
        "font-family": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        "font-size": 12,
        "line-height": 1.5,
        color: TEXT,
      },
    },
    {
      selector: "node.unresolved",
      style: { color: "#667085" },
    },
    {
      selector: "node.error",
      style: { "background-gradient-stop-colors": stripe(ERROR, ERROR_FILL), "border-color": ERROR, "border-width": 1.5, color: "#912018" },
    },
    {
      selector: "node.warning",
      style: { "background-gradient-stop-colors": stripe(WARNING, WARNING_FILL), "border-color": WARNING, "border-width": 1.5, color: "#93370d" },
    },
    {
      selector: "node:selected",
      style: {
        "border-color": ACCENT, "border-width": 2,
        "underlay-color": ACCENT, "underlay-opacity": 0.14, "underlay-padding": 5, "underlay-shape": "round-rectangle",
      },
    },
    {
      selector: "node.error:selected",
      style: { "border-color": ERROR, "underlay-color": ERROR },
    },
    {
      selector: "node.warning:selected",
      style: { "border-color": WARNING, "underlay-color": WARNING },
    },
    {
      selector: "edge",
      style: {
        width: 1.6,
        "curve-style": "bezier",
        "line-color": EDGE,
        "target-arrow-color": EDGE,
        "target-arrow-shape": "triangle",
        "arrow-scale": 0.9,
      },
    },
    {
      selector: "edge[shown]", // the layout it carries, and its input number into a node with several inputs
      style: {
        label: "data(shown)",
        "font-size": 10,
        color: "#475467",
        "text-background-color": "#ffffff",
        "text-background-opacity": 1,
        "text-background-padding": 2,
        "text-background-shape": "round-rectangle",
      },
    },
    {
      selector: "edge.error",
      style: { "line-color": ERROR, "target-arrow-color": ERROR, width: 2 },
    },
    {
      selector: "edge:selected",
      style: { "line-color": ACCENT, "target-arrow-color": ACCENT, width: 2.5 },
    },
    // Edgehandles while a connection is being drawn.
    {
      selector: ".eh-source, .eh-target",
      style: { "border-color": ACCENT, "border-width": 2 },
    },
    {
      selector: ".eh-preview, .eh-ghost-edge",
      style: { "line-color": ACCENT, "target-arrow-color": ACCENT, "line-style": "dashed", width: 2 },
    },
    {
      selector: ".eh-ghost-edge.eh-preview-active",
      style: { opacity: 0 },
    },
  ];
}
