// The selected run, live: status, progress, throughput, time left, device and queue position; Stop and
// Resume; charts of the step losses, the epoch losses and the accuracy (or MAE); the downloads once it has
// succeeded. Everything comes from the run's event stream, which starts from seq 0, so a page opened or
// reloaded mid-run draws the whole curve before the live part.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { duration, headline, number } from "../common/format.js";
import { createRunCharts } from "./run-charts.js";
import { openRunStream } from "./socket.js";

/** `protocol`: GET /api/protocol. `onChange(run)` is called when the run's record changes (its status, or
 * Resume); `onProgress(id, fields)` with what each status or epoch event changes of the run's record
 * ({status} or {epochs_done}); `onCopySettings(config)`; `onEvent(event)`: every event of the stream, after the
 * run view's own. */
export function createRunView(root, protocol, { onChange, onProgress, onCopySettings, onEvent = () => {} }) {
  const active = (status) => protocol.active.includes(status);
  const resumable = (status) => protocol.resumable.includes(status);
  const labels = new Map(protocol.downloads.map((file) => [file.name, file.label]));
  const $ = (id) => byTestId(root, id);
  $("run-best").title = `The best epoch by ${protocol.best_metric}`;
  const status = $("run-status");
  const progress = $("run-progress");
  const bar = $("run-progress-bar");
  const stop = $("stop-button");
  const resume = $("resume-button");
  const errorLine = $("run-error");
  const downloads = $("downloads");
  const charts = createRunCharts({ steps: $("chart-step-loss"), loss: $("chart-epoch-loss"),
    accuracy: $("chart-accuracy") });
  let run = null;
  let stream = null;
  let live = null; // what the events have said so far about the selected run

  function showRecord() {
    root.dataset.runId = run.id;
    $("run-title").textContent = `Run #${run.id}`;
    $("run-dataset").textContent = `${run.dataset_info.title || run.dataset} · network v${run.network_version}`
      + (run.parent_id ? ` · forked from #${run.parent_id} at epoch ${run.parent_epoch}` : "");
    showStatus(run.status, run.queue_position);
    $("run-device").textContent = run.device || "—";
    $("run-device").title = run.worker ? `worker ${run.worker}` : "";
    showError(errorLine, run.error ? new Error(run.error) : null);
    if (run.best_metrics) $("run-best").textContent = headline(run.best_metrics);
    showTime();
    downloads.hidden = !run.downloads.length;
    downloads.replaceChildren(h("span", { class: "hint" }, "Download"), ...run.downloads.map((name) => h("a", {
      class: "button secondary", href: `/api/runs/${run.id}/files/${name}`, download: "",
      "data-testid": `download-${name}` }, labels.get(name) ?? name)));
  }

  function showStatus(value, position) {
    status.textContent = value;
    status.dataset.status = value;
    root.dataset.status = value;
    stop.hidden = !active(value);
    if (stop.hidden) stopReady();
    resume.hidden = !resumable(value);
    $("share-run").hidden = !protocol.finished.includes(value);
    $("run-queue").textContent = value === "queued" && position ? `#${position} in ${run.queue}` : run.queue;
    if (value === "succeeded") bar.value = 1;
  }

  function showSpeed(samplesPerSecond) {
    $("run-speed").textContent = `${number(Math.round(samplesPerSecond))} samples/s`;
  }

  function stopReady() {
    stop.disabled = false;
    stop.textContent = "Stop";
  }

  function showTime() {
    const time = $("run-eta");
    if (active(run.status)) time.textContent = live.eta === null ? "—" : `${duration(live.eta)} left`;
    else time.textContent = run.duration_s === null ? "—" : `took ${duration(run.duration_s)}`;
  }

  function showProgress(epoch, step, steps) {
    const epochs = run.config.epochs;
    progress.textContent = `Epoch ${epoch} / ${epochs}` + (steps ? ` · step ${step} / ${steps}` : "");
    bar.value = Math.min(1, (epoch - 1 + (steps ? step / steps : 1)) / epochs);
  }

  async function refresh() {
    const id = run.id;
    const fresh = await api.get(`/runs/${id}`).catch((error) => showError(errorLine, error));
    if (!fresh || run?.id !== id) return;
    // The badge follows the stream, which is in order; the record may already be ahead of the events shown.
    run = { ...fresh, status: run.status };
    showRecord();
    onChange(fresh);
  }

  const handlers = {
    status(event) {
      run.status = event.status;
      showStatus(event.status, event.queue_position);
      onProgress(run.id, { status: event.status });
      if (event.device) $("run-device").textContent = event.device;
      if (!active(event.status)) refresh();
      showTime();
    },
    step(event) {
      charts.step(event);
      showProgress(event.epoch, event.step, event.steps_per_epoch);
      showSpeed(event.samples_per_s);
    },
    epoch(event) {
      charts.epoch(event);
      onProgress(run.id, { epochs_done: event.epoch });
      if (event.best) $("run-best").textContent = headline(event); // the best so far, by the server's rule
      live.eta = event.eta_s;
      showProgress(event.epoch, 0, 0);
      showSpeed(event.samples_per_s);
      showTime();
    },
    error(event) {
      showError(errorLine, new Error(event.message));
    },
    log(event) {
      $("run-log").textContent = event.message;
    },
    done() {}, // its final status came just before it, with everything the page shows
  };

  stop.addEventListener("click", async () => {
    stop.disabled = true;
    stop.textContent = "Stopping…"; // until the worker has saved a checkpoint and the status says cancelled
    try {
      await api.post(`/runs/${run.id}/cancel`);
    } catch (error) {
      showError(errorLine, error);
      stopReady();
    }
  });

  resume.addEventListener("click", async () => {
    try {
      run = await api.post(`/runs/${run.id}/resume`);
      showRecord();
      onChange(run);
    } catch (error) {
      showError(errorLine, error);
    }
  });

  $("copy-settings").addEventListener("click", () => onCopySettings(run.config));

  return {
    get run() {
      return run;
    },
    /** Watch another run (a RunOut record), from its first event. */
    select(record) {
      stream?.close();
      run = record;
      live = { eta: null };
      root.hidden = false;
      progress.textContent = "Epoch 0 / " + run.config.epochs;
      bar.value = 0;
      $("run-speed").textContent = "—";
      $("run-best").textContent = "—";
      $("run-log").textContent = "";
      charts.reset(run.dataset_info.task);
      showRecord();
      stream = openRunStream(run.id, {
        onEvent: (event) => {
          handlers[event.type]?.(event);
          onEvent(event);
        },
        onConnection: (state) => { $("run-connection").hidden = state === "open"; },
      });
    },
  };
}
