// Step 2, the fit: does the network's Input take the dataset's samples, and does its output give one score
// per class (or the target's shape)? When not, "Fix" first shows the server's suggested changes as a diff
// (node, parameter, old → new); only "Save as version N" writes them, as a new version with a message saying
// what changed (refused if someone saved since). "Undo" then saves the version before as a newer one: versions
// are immutable, so nothing is ever overwritten.

import { api } from "../common/api.js";
import { byTestId, h } from "../common/dom.js";
import { number, size } from "../common/format.js";

/** `onChange(fits)` is called after every check. */
export function createFitPanel(root, { networkId, summary, onChange }) {
  const status = byTestId(root, "fit-status");
  const fix = byTestId(root, "fix-button");
  const diff = byTestId(root, "fix-diff");
  const apply = byTestId(root, "fix-apply");
  const undo = byTestId(root, "fix-undo");
  const saved = byTestId(root, "fix-saved");
  let network = null;
  let before = null; // the version a fix was saved over, which Undo brings back
  let dataset = null;
  let fixes = [];

  function showNetwork() {
    const a = network.analysis;
    // Fine-tuning: what trains, and what stays frozen ("trainable": false nodes).
    const params = a.frozen_params
      ? `${number(a.trainable_params)} trainable and ${number(a.frozen_params)} frozen parameters`
      : `${number(a.total_params)} parameters`;
    summary.textContent = `Version ${network.version} · ${params} · ${size(a.input_shape)} → ${size(a.output_shape)}`;
  }

  function show(fits, lines, title) {
    status.dataset.fits = fits === null ? "unknown" : String(fits);
    status.replaceChildren(h("strong", {}, title), ...lines.length ? [h("ul", {}, ...lines.map((line) => h("li", {}, line)))] : []);
    onChange(fits === true);
  }

  async function check() {
    fix.hidden = true;
    hideDiff();
    if (!dataset) {
      show(null, [], "Choose a dataset to check the network against it.");
      return;
    }
    show(null, [], "Checking…");
    const checking = dataset;
    try {
      const verdict = await api.post(`/datasets/${encodeURIComponent(dataset.key)}/fit`, network.graph);
      if (dataset !== checking) return; // another dataset was chosen meanwhile; its own check decides
      fixes = verdict.fixes;
      const info = dataset.info;
      if (verdict.fits) {
        const output = info.task === "classification" ? `${info.num_classes} classes` : `targets ${size(info.output_shape)}`;
        show(true, [`Input ${size(info.input_shape)} and output ${output} match ${dataset.title}.`], "✓ The network fits");
      } else {
        show(false, verdict.problems, `✗ The network does not fit ${dataset.title}`);
        fix.hidden = !fixes.length;
        fix.title = fixes.map((f) => f.description).join("; ");
        fix.textContent = fixes.length === 1 ? `Fix: ${fixes[0].description}…` : `Fix the network (${fixes.length} changes)…`;
      }
    } catch (error) {
      show(false, [error.message], "The fit could not be checked");
    }
  }

  async function loadNetwork() {
    network = await api.get(`/networks/${networkId}`);
    showNetwork();
  }

  // What each fix changes, as the diff shows it and the version's message says it.
  function changes() {
    const nodes = new Map(network.graph.nodes.map((node) => [node.id, node]));
    return fixes.map(({ node, param, value }) => {
      const old = nodes.get(node)?.params?.[param];
      return { node, param, value, old: old === undefined ? "default" : JSON.stringify(old),
        new: JSON.stringify(value) };
    });
  }

  function showDiff() {
    const rows = changes().map((c) => h("tr", { "data-testid": `fix-diff-${c.node}-${c.param}` },
      h("td", {}, h("code", {}, c.node)), h("td", {}, c.param),
      h("td", {}, h("del", {}, c.old), " → ", h("ins", {}, c.new))));
    diff.replaceChildren(h("caption", {}, "Proposed changes"),
      h("thead", {}, h("tr", {}, h("th", {}, "Node"), h("th", {}, "Parameter"), h("th", {}, "Old → new"))),
      h("tbody", {}, ...rows));
    apply.textContent = `Save as version ${network.version + 1}`;
    diff.hidden = apply.hidden = false;
  }

  function hideDiff() {
    diff.hidden = apply.hidden = true;
  }

  async function save(graph, message) {
    try {
      network = await api.patch(`/networks/${networkId}`, { graph, message, base_version: network.version });
      showNetwork();
      return true;
    } catch (error) {
      // Most likely a 409: the network was saved elsewhere since it was loaded. Check the newest version.
      await loadNetwork();
      await check();
      status.append(h("p", { class: "error" }, error.message));
      return false;
    }
  }

  fix.addEventListener("click", showDiff);

  apply.addEventListener("click", async () => {
    // The server chose each change; here they are only written into a copy of the graph and saved.
    const graph = structuredClone(network.graph);
    const nodes = new Map(graph.nodes.map((node) => [node.id, node]));
    for (const { node, param, value } of fixes) {
      const target = nodes.get(node);
      target.params = { ...target.params, [param]: value };
    }
    const message = `Fit to ${dataset.title}: `
      + changes().map((c) => `${c.node}.${c.param} ${c.old} → ${c.new}`).join("; ");
    const from = network.version;
    const previous = network.graph;
    apply.disabled = true;
    if (await save(graph, message.slice(0, 500))) {
      before = { version: from, graph: previous };
      saved.textContent = `Saved as version ${network.version} (${message}).`;
      undo.textContent = `Undo: back to version ${from}`;
      saved.hidden = undo.hidden = false;
      hideDiff();
      await check();
    }
    apply.disabled = false;
  });

  undo.addEventListener("click", async () => {
    undo.disabled = true;
    const fixed = network.version;
    if (await save(before.graph, `Undo the fit fix of version ${fixed}: back to version ${before.version}`)) {
      saved.textContent = `Saved as version ${network.version}: the graph of version ${before.version} again.`;
      undo.hidden = true;
      await check();
    }
    undo.disabled = false;
  });

  return {
    loadNetwork,
    /** The network's Input shape, once loaded. */
    get inputShape() {
      return network?.analysis.input_shape ?? null;
    },
    /** Check the network against a dataset (GET /api/datasets/{key}), or none. */
    async setDataset(detail) {
      dataset = detail;
      await check();
    },
  };
}
