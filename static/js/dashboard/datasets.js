// Step 1, the dataset: a picker of the built-in sets and the user's uploads, a preview of the chosen one
// (pictures, a table or a scatter, and its class counts), an upload form and deleting an upload.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { number, size } from "../common/format.js";
import { renderColumns } from "./bars.js";
import { LiveChart, COLORS } from "./charts.js";
import { renderSamples } from "./samples.js";

const GROUPS = { image: "Images", tabular: "Tables", points: "Points in the plane", sequence: "Sequences",
  tokens: "Text" };
// A point cloud needs a few hundred points to show its shape; other kinds a few examples.
const PREVIEW_SAMPLES = { points: 300, tabular: 8, tokens: 8, default: 12 };
const PREVIEW_COLUMNS = 4; // of a table, in the narrow column

/** `onSelect(detail)` is called with GET /api/datasets/{key} each time the choice changes. */
export function createDatasetPanel(root, { onSelect }) {
  const select = byTestId(root, "dataset-select");
  const info = byTestId(root, "dataset-info");
  const preview = byTestId(root, "dataset-preview");
  const counts = byTestId(root, "class-counts");
  const remove = byTestId(root, "dataset-delete");
  const form = byTestId(root, "upload-form");
  const uploadError = byTestId(root, "upload-error");
  let listing = [];

  function fillSelect(chosen) {
    const uploads = listing.filter((d) => !d.builtin);
    const groups = Object.entries(GROUPS).map(([kind, title]) => [title, listing.filter((d) => d.builtin && d.kind === kind)]);
    if (uploads.length) groups.push(["Your uploads", uploads]);
    select.replaceChildren(...groups.filter(([, items]) => items.length).map(([title, items]) =>
      h("optgroup", { label: title }, ...items.map((d) => h("option", { value: d.key, title: d.description }, d.title)))));
    select.value = chosen;
  }

  function showPreview(detail) {
    const { info: data, preview: sample } = detail;
    const task = data.task === "classification" ? `${data.num_classes} classes` : `regression to ${size(data.output_shape)}`;
    info.textContent = `${number(data.samples)} samples · ${data.kind} ${size(data.input_shape)}`
      + `${data.input_dtype === "int64" ? " token ids" : ""} · ${task}`;
    info.title = detail.description || "";
    if (data.kind === "points") {
      // Not laid out as tiles (digits leave that class): in a flex row the empty chart had no width, so Plotly
      // never drew it and the preview stayed blank.
      preview.classList.remove("tiles");
      preview.replaceChildren(h("div", { class: "chart scatter" }));
      const scatter = new LiveChart(preview.firstChild, { title: "", xTitle: "x₀", yTitle: "x₁",
        layout: { margin: { l: 30, r: 8, t: 8, b: 28 }, hovermode: "closest", showlegend: false } });
      const byClass = Object.keys(sample.class_counts);
      scatter.setTraces(byClass.map((name, i) => {
        const points = sample.samples.filter((s) => s.label === name);
        return { name, mode: "markers", marker: { size: 5, color: COLORS[i % COLORS.length], opacity: 0.8 },
          x: points.map((s) => s.x[0]), y: points.map((s) => s.x[1]) };
      }));
    } else {
      renderSamples(preview, sample.samples, data.kind, { columns: PREVIEW_COLUMNS });
    }
    const entries = Object.entries(sample.class_counts);
    renderColumns(counts, entries.map(([name, n]) => ({ label: name, value: n })));
    counts.hidden = !entries.length;
    remove.hidden = detail.builtin;
  }

  async function choose(key) {
    const kind = listing.find((d) => d.key === key)?.kind;
    info.textContent = "Loading…";
    preview.replaceChildren();
    counts.hidden = true;
    try {
      const detail = await api.get(`/datasets/${encodeURIComponent(key)}?n=${PREVIEW_SAMPLES[kind] || PREVIEW_SAMPLES.default}`);
      if (select.value !== key) return; // another choice was made while this one loaded
      showPreview(detail);
      onSelect(detail);
    } catch (error) {
      showError(info, error);
      onSelect(null);
    }
  }

  select.addEventListener("change", () => choose(select.value));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(uploadError, null);
    const submit = byTestId(form, "upload-submit");
    submit.disabled = true;
    submit.textContent = "Uploading…";
    try {
      const detail = await api.post("/datasets", new FormData(form));
      listing.push(detail);
      fillSelect(detail.key);
      form.reset();
      showPreview(detail);
      onSelect(detail);
    } catch (error) {
      showError(uploadError, error);
    } finally {
      submit.disabled = false;
      submit.textContent = "Upload";
    }
  });

  remove.addEventListener("click", async () => {
    const key = select.value;
    if (!confirm("Delete this upload? Runs that used it can no longer be resumed.")) return;
    try {
      await api.delete(`/datasets/${encodeURIComponent(key)}`);
      listing = listing.filter((d) => d.key !== key);
      fillSelect(listing[0].key);
      choose(select.value);
    } catch (error) {
      showError(info, error);
    }
  });

  return {
    /** Load the list and select `pick` (a key, or a function choosing one from the list), or the first dataset
     * listed when that is not offered. */
    async load(pick) {
      listing = await api.get("/datasets");
      const key = typeof pick === "function" ? pick(listing) : pick;
      fillSelect(listing.some((d) => d.key === key) ? key : listing[0].key);
      await choose(select.value);
    },
    get key() {
      return select.value;
    },
  };
}
