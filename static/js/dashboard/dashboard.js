// The training dashboard of one network: wires the panels together. The page reads top to bottom as the
// work goes: choose a dataset, check the fit, set the hyper-parameters and start; then watch the selected
// run, try its model, and pick or compare runs.

import { api } from "../common/api.js";
import { byTestId, showError } from "../common/dom.js";
import { buildConfigForm } from "../common/forms.js";
import { loadProtocol } from "../common/protocol.js";
import { createComparison } from "./compare.js";
import { createDatasetPanel } from "./datasets.js";
import { createFitPanel } from "./fit.js";
import { createRunView } from "./live.js";
import { createRunsList } from "./runs.js";
import { createTryIt } from "./tryit.js";

const PRIMARY_SETTINGS = ["epochs", "batch_size", "optimizer", "lr"];
const DEFAULT_DATASET = "digits"; // when the network has no run yet: small, built in, trains in seconds

const page = JSON.parse(document.getElementById("dashboard-page").textContent);
const $ = (id) => byTestId(document, id);
const panel = (id) => document.getElementById(id);
const start = $("start-button");
const startError = $("start-error");
let fits = false;
let form = null;
// Run statuses and download files as the server defines them, for the run view and the list of runs.
const protocol = await loadProtocol().catch((error) => {
  showError(startError, error);
  throw error; // the page cannot show a run without them
});

function updateStart() {
  start.disabled = !fits || !form;
}

function select(run) {
  runView.select(run);
  runs.select(run.id);
  tryit.setRun(run);
  $("no-runs").hidden = true;
  const url = new URL(location.href);
  url.searchParams.set("run", run.id); // a reload shows the same run
  history.replaceState(null, "", url);
}

const tryit = createTryIt($("tryit"));
const compare = createComparison($("compare-panel"));
const runView = createRunView($("run-view"), protocol, {
  onChange(run) {
    tryit.setRun(run);
    runs.refresh();
  },
  onCopySettings: (config) => form.set(config),
});
const runs = createRunsList(panel("runs-panel"), protocol, { networkId: page.network_id, onSelect: select,
  onCompare: compare.show });
const fit = createFitPanel(panel("fit-panel"), { networkId: page.network_id, summary: $("network-summary"),
  onChange(value) {
    fits = value;
    updateStart();
  } });
const datasets = createDatasetPanel(panel("dataset-panel"), { onSelect: fit.setDataset });

start.addEventListener("click", async () => {
  if (!form.check()) return;
  start.disabled = true;
  showError(startError, null);
  try {
    const run = await api.post("/runs", { network_id: page.network_id, dataset: datasets.key, config: form.values() });
    await runs.refresh();
    select(run);
  } catch (error) {
    showError(startError, error);
  } finally {
    updateStart();
  }
});

async function main() {
  const [descriptors, list] = await Promise.all([api.get("/training/config"), runs.refresh(), fit.loadNetwork()]);
  form = buildConfigForm($("config-form"), descriptors, PRIMARY_SETTINGS);
  const chosen = list.find((run) => run.id === page.run_id) || list[0];
  if (chosen) select(chosen);
  else $("no-runs").hidden = false;
  await datasets.load(chosen ? chosen.dataset : DEFAULT_DATASET);
}

main().catch((error) => showError(startError, error));
