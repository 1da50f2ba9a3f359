// The architecture diff of two saved versions as GET /api/networks/{id}/diff serves it, in words: one line per
// difference, each marked added, removed or changed. The editor lists it beside the painted canvas, the
// dashboard's run comparison in its table.

import { api } from "./api.js";

const value = (v) => (v === null || v === undefined ? "default" : JSON.stringify(v));
const edgeText = (edge) => `${edge.source} → ${edge.target}${edge.port === undefined ? "" : ` (port ${edge.port})`}`;

export function fetchDiff(networkId, a, b) {
  return api.get(`/networks/${networkId}/diff?a=${a}&b=${b}`);
}

/** [[kind, text], ...] with kind "added", "removed" or "changed". */
export function diffLines(diff) {
  return [
    ...diff.added.map((node) => ["added", `${node.id} (${node.type}) added`]),
    ...diff.removed.map((node) => ["removed", `${node.id} (${node.type}) removed`]),
    ...diff.changed.map((change) => ["changed", [
      change.id,
      ...(change.type ? [`type ${change.type[0]} → ${change.type[1]}`] : []),
      ...change.params.map((param) => `${param.name} ${value(param.before)} → ${value(param.after)}`),
    ].join(" · ")]),
    ...diff.edges_added.map((edge) => ["added", `connection ${edgeText(edge)} added`]),
    ...diff.edges_removed.map((edge) => ["removed", `connection ${edgeText(edge)} removed`]),
  ];
}
