// The runs of this network, newest first: status, dataset, epochs, best metric, duration. A click on a row
// selects the run; the checkboxes choose the runs to compare. The selected run's row follows its live stream
// (`update`), at once; while any run is queued or running the list also polls, for the runs without a stream.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { duration, headline, when } from "../common/format.js";

const POLL_MS = 3000;

/** `protocol`: GET /api/protocol. `onSelect(run)` on a click; `onCompare(runs)` with the ticked runs whenever
 * they or their records change. */
export function createRunsList(root, protocol, { networkId, onSelect, onCompare }) {
  const body = byTestId(root, "runs-table").querySelector("tbody");
  const error = byTestId(root, "runs-error");
  const ticked = new Set();
  let runs = [];
  let selected = null;
  let poll = null;

  function row(run) {
    const checkbox = h("input", { type: "checkbox", "data-testid": `compare-${run.id}`, checked: ticked.has(run.id),
      "aria-label": `Compare run ${run.id}`, onclick: (event) => event.stopPropagation(),
      onchange: () => {
        if (checkbox.checked) ticked.add(run.id);
        else ticked.delete(run.id);
        onCompare(runs.filter((r) => ticked.has(r.id)));
      } });
    return h("tr", { "data-testid": `run-row-${run.id}`, class: run.id === selected ? "selected" : undefined,
      onclick: () => onSelect(run) },
    h("td", {}, checkbox),
    h("td", {}, `#${run.id}`),
    h("td", {}, h("span", { class: "badge", "data-status": run.status }, run.status)),
    h("td", {}, run.dataset_info.title || run.dataset),
    h("td", { class: "num" }, `${run.epochs_done} / ${run.config.epochs}`),
    h("td", {}, headline(run.best_metrics)),
    h("td", { class: "num" }, duration(run.duration_s)),
    h("td", {}, when(run.started || run.created)));
  }

  function render() {
    body.replaceChildren(...runs.map(row));
  }

  async function refresh() {
    clearTimeout(poll);
    try {
      runs = await api.get(`/runs?network_id=${networkId}`);
      showError(error, null);
      render();
      onCompare(runs.filter((r) => ticked.has(r.id)));
    } catch (problem) {
      showError(error, problem);
    } finally {
      if (runs.some((run) => protocol.active.includes(run.status))) poll = setTimeout(refresh, POLL_MS);
    }
    return runs;
  }

  return {
    refresh,
    /** Fields of one run as its live events tell them (status, epochs done), shown at once. */
    update(id, fields) {
      const at = runs.findIndex((run) => run.id === id);
      if (at < 0) return;
      runs[at] = { ...runs[at], ...fields };
      body.rows[at]?.replaceWith(row(runs[at]));
    },
    /** Highlight the selected run's row. */
    select(id) {
      selected = id;
      for (const tr of body.rows) tr.classList.toggle("selected", tr.dataset.testid === `run-row-${id}`);
    },
  };
}
