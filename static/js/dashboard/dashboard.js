// The training dashboard of one network: wires the panels together. The page reads top to bottom as the
// work goes: choose a dataset, check the fit, set the hyper-parameters and start; then watch the selected
// run, try its model, and pick or compare runs.

import { api } from "../common/api.js";
import { byTestId, showError } from "../common/dom.js";
import { buildConfigForm } from "../common/forms.js";
import { loadProtocol } from "../common/protocol.js";
import { shareButton } from "../common/share.js";
import { createComparison } from "./compare.js";
import { createDatasetPanel } from "./datasets.js";
import { createFitPanel } from "./fit.js";
import { createInsight } from "./insight.js";
import { createRunView } from "./live.js";
import { createRunsList } from "./runs.js";
import { createStartFrom } from "./start-from.js";
import { createTryIt } from "./tryit.js";

const PRIMARY_SETTINGS = ["epochs", "batch_size", "optimizer", "lr"];
const DEFAULT_DATASET = "digits"; // small, built in, trains in seconds: first choice of those that fit

const page = JSON.parse(document.getElementById("dashboard-page").textContent);
// The settings form as it was last left for this network, so a reload keeps what was typed.
const SETTINGS_KEY = `netbuilder:training-settings:network-${page.network_id}`;
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
  insight.setRun(run);
  $("no-runs").hidden = true;
  const url = new URL(location.href);
  url.searchParams.set("run", run.id); // a reload shows the same run
  history.replaceState(null, "", url);
}

const tryit = createTryIt($("tryit"));
const insight = createInsight($("insight"));
const compare = createComparison($("compare-panel"));
const runView = createRunView($("run-view"), protocol, {
  onChange(run) {
    tryit.setRun(run);
    insight.setRun(run);
    runs.refresh().then((list) => startFrom.refresh(list)); // a finished run's weights can start the next
  },
  onProgress: (id, fields) => runs.update(id, fields),
  onEvent: insight.onEvent,
  onCopySettings(config) {
    form.set(config);
    rememberSettings();
  },
});
shareButton($("share-run"), () => ({ run_id: runView.run.id }));
const runs = createRunsList(panel("runs-panel"), protocol, { networkId: page.network_id, onSelect: select,
  onCompare: compare.show });
const fit = createFitPanel(panel("fit-panel"), { networkId: page.network_id, summary: $("network-summary"),
  onChange(value) {
    fits = value;
    updateStart();
  } });
const datasets = createDatasetPanel(panel("dataset-panel"), { onSelect: fit.setDataset });
const startFrom = createStartFrom($("start-from"), { networkId: page.network_id });

start.addEventListener("click", async () => {
  if (!form.check()) return;
  start.disabled = true;
  showError(startError, null);
  try {
    const run = await api.post("/runs", { network_id: page.network_id, dataset: datasets.key, config: form.values(),
      start_from: startFrom.value() });
    await startFrom.refresh(await runs.refresh());
    select(run);
  } catch (error) {
    showError(startError, error);
  } finally {
    updateStart();
  }
});

function rememberSettings() {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(form.values()));
}

function rememberedSettings() {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS_KEY)) ?? {};
  } catch {
    return {}; // written by an older page, or by hand: the defaults then
  }
}

/** With no run to follow: a dataset whose samples the network's Input takes and that opens (MNIST not when
 * downloads are off and its files are not cached), digits first; digits when none does (the fit check then
 * says why and offers the fix). */
function fittingDataset(listing) {
  const wanted = JSON.stringify(fit.inputShape);
  const fitting = listing.filter((d) => d.ready && JSON.stringify(d.info?.input_shape) === wanted);
  return (fitting.find((d) => d.key === DEFAULT_DATASET) ?? fitting[0])?.key ?? DEFAULT_DATASET;
}

async function main() {
  const [descriptors, list] = await Promise.all([api.get("/training/config"), runs.refresh(), fit.loadNetwork()]);
  form = buildConfigForm($("config-form"), descriptors, PRIMARY_SETTINGS);
  form.set(rememberedSettings());
  $("config-form").addEventListener("input", rememberSettings);
  $("config-form").addEventListener("change", rememberSettings);
  await startFrom.refresh(list);
  const chosen = list.find((run) => run.id === page.run_id) || list[0];
  if (chosen) select(chosen);
  else $("no-runs").hidden = false;
  await datasets.load(chosen ? chosen.dataset : fittingDataset);
}

main().catch((error) => showError(startError, error));
