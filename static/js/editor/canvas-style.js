// How the graph looks on the canvas: white cards with a stripe in their category's colour, red when the
// last validation found a problem with them, amber when it only warned about them, blue when selected. A
// version diff paints added layers green, changed ones violet and removed ones as grey ghosts. An imported
// layer's group is a dashed box around its layers, or one grey card when collapsed.

import { categoryColor } from "./colors.js";
import { GROUP_PADDING } from "./layout.js";

const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const NODE_FONT = `12px ${FONT_FAMILY}`;
export const NODE_HEIGHT = 48;

const TEXT = "#1d2330";
const ACCENT = "#2f6fde";
const ERROR = "#d92d20";
const ERROR_FILL = "#fef3f2";
const WARNING = "#dc6803";
const WARNING_FILL = "#fffaeb";
const EDGE = "#98a2b3";
// Text smaller than this on screen is not drawn: unreadable anyway, and drawing it is most of the time a large
// graph takes to render when zoomed out.
const MIN_ZOOMED_FONT_SIZE = 5;
export const DIFF_COLORS = { added: "#079455", changed: "#7a5af8", removed: "#98a2b3" };

// A card's stripe: the colour up to 3% of its width, then the fill, with no blend between the two.
function stripe(color, fill) {
  return `${color} ${color} ${fill} ${fill}`;
}

// A layer's caption (its name, output shape and parameters), the same on a layer and on a collapsed group's card.
const CAPTION = { label: "data(shown)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center",
  "font-family": FONT_FAMILY, "font-size": 12, "line-height": 1.5, color: TEXT };

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
        ...CAPTION,
        "min-zoomed-font-size": MIN_ZOOMED_FONT_SIZE,
      },
    },
    {
      selector: "node.unresolved",
      style: { color: "#667085" },
    },
    {
      selector: "node.frozen", // fine-tuning: weights that do not train
      style: { "border-style": "dashed", "border-width": 1.5, "border-color": "#475467" },
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
      selector: "edge.skip", // bent beside the layers it would cross (skip-edges.js), measured from node centres
      style: {
        "curve-style": "segments",
        "segment-distances": "data(bendDistances)",
        "segment-weights": "data(bendWeights)",
        "edge-distances": "node-position",
      },
    },
    {
      selector: "edge[shown]", // the layout it carries, and its input number into a node with several inputs
      style: {
        label: "data(shown)",
        "font-size": 10,
        "min-zoomed-font-size": MIN_ZOOMED_FONT_SIZE,
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
    {
      selector: "node.diff-added",
      style: { "background-gradient-stop-colors": stripe(DIFF_COLORS.added, "#ecfdf3"), "border-color": DIFF_COLORS.added, "border-width": 2 },
    },
    {
      selector: "node.diff-changed",
      style: { "background-gradient-stop-colors": stripe(DIFF_COLORS.changed, "#f4f3ff"), "border-color": DIFF_COLORS.changed, "border-width": 2 },
    },
    {
      selector: "node.diff-removed",
      style: { "background-gradient-stop-colors": stripe(DIFF_COLORS.removed, "#f9fafb"), "border-color": DIFF_COLORS.removed,
        "border-style": "dashed", opacity: 0.55, color: "#667085" },
    },
    {
      selector: "edge.diff-added",
      style: { "line-color": DIFF_COLORS.added, "target-arrow-color": DIFF_COLORS.added, width: 2.5 },
    },
    {
      selector: "edge.diff-removed",
      style: { "line-style": "dashed", opacity: 0.55 },
    },
    // An imported layer's group (its module path): a box around its layers, named above them.
    {
      selector: "node.group",
      style: {
        shape: "round-rectangle",
        "background-color": "#eef1f6",
        "background-opacity": 0.5,
        "border-width": 1,
        "border-style": "dashed",
        "border-color": "#98a2b3",
        padding: GROUP_PADDING,
        label: "data(path)",
        "text-valign": "top",
        "text-halign": "center",
        "text-margin-y": -2,
        "font-family": FONT_FAMILY,
        "font-size": 11,
        color: "#475467",
      },
    },
    // A collapsed group: one card, and the connections crossing its border drawn to it.
    {
      selector: "node.group-card",
      style: {
        shape: "round-rectangle",
        width: "data(width)",
        height: NODE_HEIGHT,
        "background-color": "#eef1f6",
        "border-width": 1.5,
        "border-color": "#667085",
        ...CAPTION,
      },
    },
    {
      selector: "edge.group-edge",
      style: { width: 2 },
    },
    {
      selector: ".in-collapsed-group",
      style: { display: "none" },
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
