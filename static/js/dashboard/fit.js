// Step 2, the fit: does the network's Input take the dataset's samples, and does its output give one score
// per class (or the target's shape)? When not, "Fix" applies the server's suggested parameter changes to the
// network, saves them as a new version (refused if someone saved since) and checks again.

import { api } from "../common/api.js";
import { byTestId, h } from "../common/dom.js";
import { number, size } from "../common/format.js";

/** `onChange(fits)` is called after every check. */
export function createFitPanel(root, { networkId, summary, onChange }) {
  const status = byTestId(root, "fit-status");
  const fix = byTestId(root, "fix-button");
  let network = null;
  let dataset = null;
  let fixes = [];

  function showNetwork() {
    const a = network.analysis;
    summary.textContent = `Version ${network.version} · ${number(a.total_params)} parameters · `
      + `${size(a.input_shape)} → ${size(a.output_shape)}`;
  }

  function show(fits, lines, title) {
    status.dataset.fits = fits === null ? "unknown" : String(fits);
    status.replaceChildren(h("strong", {}, title), ...lines.length ? [h("ul", {}, ...lines.map((line) => h("li", {}, line)))] : []);
    onChange(fits === true);
  }

  async function check() {
    fix.hidden = true;
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
        fix.textContent = fixes.length === 1 ? `Fix: ${fixes[0].description}` : `Fix the network (${fixes.length} changes)`;
      }
    } catch (error) {
      show(false, [error.message], "The fit could not be checked");
    }
  }

  async function loadNetwork() {
    network = await api.get(`/networks/${networkId}`);
    showNetwork();
  }

  fix.addEventListener("click", async () => {
    // The server chose each change; here they are only written into a copy of the graph and saved.
    const graph = structuredClone(network.graph);
    const nodes = new Map(graph.nodes.map((node) => [node.id, node]));
    for (const { node, param, value } of fixes) {
      const target = nodes.get(node);
      target.params = { ...target.params, [param]: value };
    }
    fix.disabled = true;
    try {
      network = await api.patch(`/networks/${networkId}`, { graph, base_version: network.version });
      showNetwork();
      await check();
    } catch (error) {
      // Most likely a 409: the network was saved elsewhere since it was loaded. Check the newest version.
      await loadNetwork();
      await check();
      status.append(h("p", { class: "error" }, error.message));
    } finally {
      fix.disabled = false;
    }
  });

  return {
    loadNetwork,
    /** Check the network against a dataset (GET /api/datasets/{key}), or none. */
    async setDataset(detail) {
      dataset = detail;
      await check();
    },
  };
}
