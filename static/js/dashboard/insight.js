// Seeing inside the network while it learns (issue #15): the layer statistics on the graph, how the model
// does per class (or against the truth), and the sample inspector. Fed by the run view's event stream
// (layer_stats and epoch events) and by the run's record as it changes.

import { byTestId } from "../common/dom.js";
import { createEvaluation } from "./evaluation.js";
import { createInspector } from "./inspector-panel.js";
import { createLayerGraph } from "./layer-graph.js";

/** `root` holds three containers: insight-stats, insight-evaluation and insight-inspector. */
export function createInsight(root) {
  const statsPanel = byTestId(root, "insight-stats");
  const layers = createLayerGraph(statsPanel.querySelector(".panel-body"));
  // A small dense network's units are also drawn on its nodes in the graph, as TensorFlow Playground does.
  const evaluation = createEvaluation(byTestId(root, "insight-evaluation"), { onUnits: layers.showUnits });
  const inspectorPanel = byTestId(root, "insight-inspector");
  const inspector = createInspector(inspectorPanel.querySelector(".panel-body"));
  let run = null;
  let records = 0;

  function showPanels() {
    statsPanel.hidden = !records;
    // A model to look into: a finished run's weights or a running one's checkpoint (after its first epoch).
    inspectorPanel.hidden = !run || run.status === "queued" || (run.status !== "succeeded" && !run.epochs_done);
  }

  return {
    setRun(record) {
      if (run?.id !== record.id) {
        records = 0;
        layers.reset();
      }
      run = record;
      root.hidden = false;
      layers.setRun(record);
      evaluation.setRun(record);
      inspector.setRun(record);
      showPanels();
    },
    onEvent(event) {
      if (!run || event.run !== run.id) return;
      if (event.type === "layer_stats") {
        records += 1;
        layers.add(event);
      } else if (event.type === "epoch") {
        evaluation.epoch(event);
        run = { ...run, epochs_done: Math.max(run.epochs_done || 0, event.epoch) };
      }
      showPanels();
    },
  };
}
