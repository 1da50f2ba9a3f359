// Comparing runs: their epoch curves overlaid (validation loss, and accuracy or MAE) and a table of what
// differs between them: the dataset and the network version where they are not the same, the architecture
// diff of each run's version against the first run's, every hyper-parameter whose value is not the same in
// all of them, and their results. Epoch events are fetched from the API once per run and then only what came
// after; a diff, once per pair of versions.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { duration, headline, number } from "../common/format.js";
import { diffLines, fetchDiff } from "../common/graph-diff.js";
import { LiveChart, COLORS } from "./charts.js";

const PAGE = 5000; // the most events GET /api/runs/{id}/events returns at once

export function createComparison(root) {
  const table = byTestId(root, "compare-table");
  const loss = new LiveChart(byTestId(root, "chart-compare-loss"), { title: "Validation loss", xTitle: "epoch",
    yTitle: "loss" });
  const accuracy = new LiveChart(byTestId(root, "chart-compare-accuracy"), { title: "Validation accuracy",
    xTitle: "epoch", yTitle: "accuracy" });
  const error = byTestId(root, "compare-error");
  const fetched = new Map(); // run id -> {seq, epochs}
  const diffs = new Map(); // "network:a:b" -> the diff's promise
  let shown = [];

  function diffOf(networkId, a, b) {
    const key = `${networkId}:${a}:${b}`;
    if (!diffs.has(key)) diffs.set(key, fetchDiff(networkId, a, b));
    return diffs.get(key);
  }

  // Each run's architecture against the first run's: the differences listed, filled in once fetched.
  function architecture(runs) {
    const [first] = runs;
    return runs.map((run, i) => {
      if (i === 0) return h("span", { class: "muted" }, `version ${run.network_version}, compared with`);
      if (run.network_version === first.network_version) return h("span", { class: "muted" }, "the same");
      const cell = h("ul", { class: "diff-list" }, h("li", { class: "muted" }, "…"));
      diffOf(run.network_id, first.network_version, run.network_version).then((diff) => {
        const lines = diffLines(diff);
        cell.replaceChildren(...(lines.length ? lines.map(([kind, text]) => h("li", { class: `diff-${kind}` }, text))
          : [h("li", { class: "muted" }, "the same architecture")]));
      }, (problem) => cell.replaceChildren(h("li", { class: "error" }, problem.message)));
      return cell;
    });
  }

  async function epochsOf(run) {
    const known = fetched.get(run.id) || { seq: 0, epochs: [] };
    while (known.seq < run.last_seq) {
      const events = await api.get(`/runs/${run.id}/events?after=${known.seq}`);
      for (const event of events) {
        // A resumed run repeats the epochs after its checkpoint; the later report of an epoch wins.
        if (event.type === "epoch") known.epochs[event.epoch - 1] = event;
        known.seq = event.seq;
      }
      if (events.length < PAGE) break;
    }
    fetched.set(run.id, known);
    return known.epochs.filter(Boolean);
  }

  function curves(runs, histories, metric) {
    return runs.map((run, i) => {
      const points = histories[i].filter((epoch) => epoch[metric] !== undefined);
      return { name: `#${run.id}`, mode: "lines", line: { color: COLORS[i % COLORS.length], width: 2 },
        x: points.map((epoch) => epoch.epoch), y: points.map((epoch) => epoch[metric]) };
    });
  }

  function differences(runs) {
    const keys = [...new Set(runs.flatMap((run) => Object.keys(run.config)))];
    const differ = keys.filter((key) => new Set(runs.map((run) => JSON.stringify(run.config[key]))).size > 1);
    const varies = (field) => new Set(runs.map((run) => run[field])).size > 1;
    const section = (title) => h("tr", { class: "section" }, h("th", { colspan: runs.length + 1 }, title));
    const line = (key, cells) => h("tr", { "data-testid": `compare-row-${key.replaceAll(" ", "-")}` }, h("th", {}, key),
      ...cells.map((cell) => h("td", {}, cell)));
    table.replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}), ...runs.map((run, i) => h("th", {},
        h("span", { class: "swatch", style: `background: ${COLORS[i % COLORS.length]}` }), `Run #${run.id}`)))),
      h("tbody", {},
        section("Settings that differ"),
        varies("dataset") ? line("dataset", runs.map((run) => run.dataset_info.title || run.dataset)) : null,
        varies("network_version") ? line("version", runs.map((run) => `version ${run.network_version}`)) : null,
        varies("network_version") ? line("architecture", architecture(runs)) : null,
        ...differ.map((key) => line(key, runs.map((run) => String(run.config[key] ?? "—")))),
        section("Results"),
        line("status", runs.map((run) => run.status)),
        line("epochs done", runs.map((run) => `${run.epochs_done} / ${run.config.epochs}`)),
        line("best", runs.map((run) => headline(run.best_metrics))),
        line("final val loss", runs.map((run) => number(run.final_metrics?.val_loss))),
        line("duration", runs.map((run) => duration(run.duration_s)))));
  }

  return {
    /** Compare these runs (RunOut records), or hide the comparison when fewer than two are given. */
    async show(runs) {
      shown = runs;
      root.hidden = runs.length < 2;
      if (root.hidden) return;
      differences(runs);
      try {
        const histories = await Promise.all(runs.map(epochsOf));
        if (shown !== runs) return; // the choice changed while the events loaded
        const regression = runs.every((run) => run.dataset_info.task === "regression");
        loss.setTraces(curves(runs, histories, "val_loss"));
        accuracy.setTraces(curves(runs, histories, regression ? "val_mae" : "val_accuracy"), regression
          ? { title: "Validation mean absolute error", yTitle: "MAE", yFormat: "" }
          : { title: "Validation accuracy", yTitle: "accuracy", yFormat: ".0%" });
        showError(error, null);
      } catch (problem) {
        showError(error, problem);
      }
    },
  };
}
