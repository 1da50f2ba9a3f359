// One accent colour per registry category, shared by the palette's markers and the canvas's nodes. A
// category the registry adds later gets the neutral colour until it is given one here.

const CATEGORY_COLORS = {
  Input: "#0f766e",
  Core: "#2f6fde",
  Convolution: "#7c3aed",
  Pooling: "#9333ea",
  Reshape: "#64748b",
  Regularization: "#ca8a04",
  Normalization: "#0891b2",
  Activation: "#ea580c",
  Text: "#be185d",
  Recurrent: "#16a34a",
  Attention: "#db2777",
  Merge: "#475569",
};

export function categoryColor(category) {
  return CATEGORY_COLORS[category] ?? "#6b7280";
}
