// A run's three charts (step losses with their smoothed trend, loss per epoch, accuracy or MAE per epoch),
// fed its step and epoch events. The dashboard feeds them live; a shared run's page feeds them its stored events.

import { LiveChart, COLORS } from "./charts.js";

const SMOOTHING = 0.9; // of the step-loss trend line: an exponential moving average, debiased at the start
const MAX_STEP_POINTS = 20_000; // the latest ones; an epoch chart keeps every epoch (a run has at most 1000)
const [TRAIN, VAL] = COLORS;

/** `elements`: {steps, loss, accuracy}, the charts' divs. */
export function createRunCharts(elements) {
  const charts = {
    steps: new LiveChart(elements.steps, { title: "Training loss per step", xTitle: "step", yTitle: "loss",
      maxPoints: MAX_STEP_POINTS }),
    loss: new LiveChart(elements.loss, { title: "Loss per epoch", xTitle: "epoch", yTitle: "loss" }),
    accuracy: new LiveChart(elements.accuracy, { title: "Accuracy", xTitle: "epoch", yTitle: "accuracy" }),
  };
  let regression = false;
  let ema = 0;
  let emaWeight = 0;

  return {
    /** Empty every chart, for a run of this task ("classification" or "regression"). */
    reset(task) {
      regression = task === "regression";
      ema = 0;
      emaWeight = 0;
      const line = (name, color, extra = {}) => ({ name, line: { color, width: 2 }, ...extra });
      charts.steps.setTraces([
        line("loss", TRAIN, { line: { color: TRAIN, width: 1 }, opacity: 0.3, showlegend: false, hoverinfo: "skip" }),
        line("smoothed", TRAIN)]);
      const markers = { mode: "lines+markers", marker: { size: 4 } };
      charts.loss.setTraces([line("train", TRAIN, markers), line("validation", VAL, markers)]);
      if (regression) {
        charts.accuracy.setTraces([line("validation", VAL, markers)],
          { title: "Validation mean absolute error", yTitle: "MAE", yFormat: "", yRange: null });
      } else {
        // Always 0 to 100%: autoscaled around one point, the axis ran from -100% to 400%.
        charts.accuracy.setTraces([line("train", TRAIN, markers), line("validation", VAL, markers)],
          { title: "Accuracy", yTitle: "accuracy", yFormat: ".0%", yRange: [0, 1] });
      }
    },
    step(event) {
      const xs = event.losses.map(([x]) => x);
      const ys = event.losses.map(([, y]) => y);
      const smooth = ys.map((y) => {
        ema = SMOOTHING * ema + (1 - SMOOTHING) * y;
        emaWeight = SMOOTHING * emaWeight + (1 - SMOOTHING);
        return ema / emaWeight;
      });
      charts.steps.extend(0, xs, ys);
      charts.steps.extend(1, xs, smooth);
    },
    epoch(event) {
      charts.loss.extend(0, [event.epoch], [event.train_loss]);
      if (event.val_loss !== undefined) charts.loss.extend(1, [event.epoch], [event.val_loss]);
      if (regression) {
        if (event.val_mae !== undefined) charts.accuracy.extend(0, [event.epoch], [event.val_mae]);
      } else {
        charts.accuracy.extend(0, [event.epoch], [event.train_accuracy]);
        if (event.val_accuracy !== undefined) charts.accuracy.extend(1, [event.epoch], [event.val_accuracy]);
      }
    },
  };
}
