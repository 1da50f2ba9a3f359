// Fine-tuning: which weights a new run starts from. A fresh initialisation; the imported weights of a version
// of this network (an ONNX import carries them); or the weights an earlier finished run trained. The server
// copies in every tensor whose name and shape match, so a changed head starts fresh.

import { api } from "../common/api.js";

export function createStartFrom(select, { networkId }) {
  let chosen = null; // what the user picked, kept across refreshes
  select.addEventListener("change", () => { chosen = select.value; });

  async function refresh(runs) {
    const versions = await api.get(`/networks/${networkId}/versions`);
    const options = [new Option("Fresh weights (random initialisation)", "")];
    for (const version of versions.filter((v) => v.has_weights)) {
      options.push(new Option(`Imported weights of version ${version.number}`, `version:${version.number}`));
    }
    for (const run of runs.filter((r) => r.downloads.includes("state_dict.pt"))) {
      options.push(new Option(`Weights trained by run #${run.id} (version ${run.network_version})`, `run:${run.id}`));
    }
    select.replaceChildren(...options);
    if (chosen !== null && options.some((option) => option.value === chosen)) select.value = chosen;
    else if (options.length > 1 && options[1].value.startsWith("version:") && !runs.length) {
      select.value = options[1].value; // an imported network's first run fine-tunes what it imported
    }
  }

  // The `start_from` of POST /api/runs, or undefined for fresh weights.
  function value() {
    const [kind, id] = select.value.split(":");
    return kind ? { [kind]: Number(id) } : undefined;
  }

  return { refresh, value };
}
