// Trying a succeeded run's model: draw an image (white on black, then cropped, centred and averaged down to
// the network's C×H×W input, values 0..1, as the digit datasets were made), type one value per feature, or
// pick one of the validation samples. POST /api/runs/{id}/predict answers with the output and, for a
// classifier, the class probabilities, shown as bars.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { number, percent } from "../common/format.js";
import { renderBars } from "./bars.js";
import { imageCanvas, label, renderSamples } from "./samples.js";

const SAMPLES = 12;
const SHOWN_CLASSES = 10; // the most probable ones

/** Pixels of the drawing (white on black) as a C×H×W array in 0..1; null for an empty canvas. */
export function drawingToInput(canvas, [channels, height, width]) {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const ink = (x, y) => data[4 * (y * canvas.width + x)] / 255;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      if (ink(x, y) > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  if (x1 < 0) return null;
  // MNIST-like sets centre a 20-pixel box in 28; scikit-learn's 8×8 digits fill the whole height.
  const side = Math.min(height, width);
  const box = side - 2 * (side >= 16 ? Math.round((side * 4) / 28) : 0);
  const scale = box / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const [left, top] = [(width - (x1 - x0 + 1) * scale) / 2, (height - (y1 - y0 + 1) * scale) / 2];
  const sums = Array.from({ length: height }, () => new Array(width).fill(0));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const row = Math.floor(top + (y - y0 + 0.5) * scale);
      const col = Math.floor(left + (x - x0 + 0.5) * scale);
      sums[row][col] += ink(x, y);
    }
  }
  // Each target pixel averages the canvas pixels that land in it (1 / scale² of them).
  const plane = sums.map((row) => row.map((sum) => Math.min(1, sum * scale * scale)));
  return Array.from({ length: channels }, () => plane.map((row) => [...row]));
}

function drawingPad(canvas) {
  const context = canvas.getContext("2d");
  const clear = () => {
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
  };
  let drawing = false;
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    Object.assign(context, { strokeStyle: "#fff", lineWidth: canvas.width / 10, lineCap: "round", lineJoin: "round" });
    context.beginPath();
    context.moveTo(...at(event));
    context.lineTo(...at(event)); // a click alone leaves a dot
    context.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    context.lineTo(...at(event));
    context.stroke();
  });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  clear();
  return { clear };
}

export function createTryIt(root) {
  const $ = (id) => byTestId(root, id);
  const canvas = $("tryit-canvas");
  const features = $("tryit-features");
  const predictButton = $("predict-button");
  const clearButton = $("tryit-clear");
  const result = $("prediction");
  const bars = $("prediction-bars");
  const errorLine = $("tryit-error");
  const pad = drawingPad(canvas);
  let run = null;

  function showResult(answer, input, truth) {
    result.replaceChildren();
    const info = run.dataset_info;
    if (info.kind === "image") result.append(h("figure", { class: "seen" }, imageCanvas(input), h("figcaption", {}, "model input")));
    if (answer.probabilities) {
      result.dataset.predicted = answer.predicted;
      const right = truth === answer.predicted;
      const verdict = truth === undefined ? null : h("span", { class: right ? "right" : "wrong" },
        `${right ? "✓" : "✗"} label ${truth}`);
      result.append(h("div", {}, h("span", { class: "hint" }, "Predicted"), h("div", { class: "predicted" }, answer.predicted), verdict));
      const ranked = answer.classes.map((name, i) => ({ label: name, value: answer.probabilities[i] }))
        .sort((a, b) => b.value - a.value).slice(0, SHOWN_CLASSES);
      renderBars(bars, ranked.map((entry) => ({ ...entry, text: percent(entry.value), strong: entry.label === answer.predicted })), 1);
    } else {
      result.dataset.predicted = answer.output.map(number).join(", ");
      result.append(h("div", {}, h("span", { class: "hint" }, "Output"), h("div", { class: "predicted" }, result.dataset.predicted),
        truth === undefined ? null : h("span", { class: "hint" }, `target ${label(truth)}`)));
      bars.replaceChildren();
    }
  }

  async function predict(input, truth) {
    predictButton.disabled = true;
    try {
      showResult(await api.post(`/runs/${run.id}/predict`, { x: input }), input, truth);
      showError(errorLine, null);
    } catch (error) {
      showError(errorLine, error);
    } finally {
      predictButton.disabled = false;
    }
  }

  function fillFeatures(x) {
    x.forEach((value, i) => { $(`tryit-feature-${i}`).value = value; });
  }

  function inputNow() {
    if (run.dataset_info.kind === "image") return drawingToInput(canvas, run.dataset_info.input_shape);
    return [...features.querySelectorAll("input")].map((field) => Number(field.value));
  }

  predictButton.addEventListener("click", () => {
    const input = inputNow();
    if (input) predict(input);
    else showError(errorLine, new Error("Draw something first."));
  });

  function clear() {
    pad.clear();
    result.replaceChildren();
    delete result.dataset.predicted;
    bars.replaceChildren();
    showError(errorLine, null);
  }

  clearButton.addEventListener("click", clear);

  return {
    /** Offer the model of a succeeded run; hide for any other. */
    async setRun(record) {
      const usable = record?.status === "succeeded" && record.downloads.includes("state_dict.pt");
      root.hidden = !usable;
      if (!usable) {
        run = null;
        return;
      }
      if (run?.id === record.id) return; // already offered
      run = record;
      const { kind, input_shape: inputShape } = run.dataset_info;
      const typed = kind === "tabular" || kind === "points";
      root.querySelector('[data-role="draw"]').hidden = kind !== "image";
      features.hidden = !typed;
      predictButton.hidden = clearButton.hidden = !(typed || kind === "image");
      // Sequences and token ids have no pad or fields to fill in: their samples are the way to try them.
      result.dataset.placeholder = kind === "image" ? "Draw an input or pick a validation sample to see what the model predicts."
        : typed ? "Type the features or pick a validation sample to see what the model predicts."
          : "Pick a validation sample below to see what the model predicts.";
      features.replaceChildren(...(typed ? inputShape : []).flatMap((count) => Array.from({ length: count }, (_, i) =>
        h("label", {}, h("code", {}, `x${i}`), h("input", { type: "number", step: "any", "data-testid": `tryit-feature-${i}` })))));
      clear();
      try {
        const picked = await api.get(`/runs/${run.id}/samples?n=${SAMPLES}`);
        renderSamples($("tryit-samples"), picked, kind, { testid: "tryit-sample", onPick: (sample) => {
          if (typed) fillFeatures(sample.x);
          else pad.clear(); // the sample is what is predicted: an old drawing beside it would mislead
          predict(sample.x, sample.label);
        } });
        if (typed) fillFeatures(picked[0].x);
      } catch (error) {
        showError(errorLine, error);
      }
    },
  };
}
