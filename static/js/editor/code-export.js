// The "Export PyTorch" dialog: the source the server generates for the graph, to copy or download. An
// invalid graph has no code; the dialog lists its problems instead. The graph is checked first so that
// the export endpoint is only asked for code it can write.

import { api } from "../common/api.js";
import { download } from "./download.js";

export class CodeExport {
  constructor(dialog, { documentOf, analysisNow }) {
    this.dialog = dialog;
    this.documentOf = documentOf;
    this.analysisNow = analysisNow;
    this.result = null;
    this.title = dialog.querySelector("[data-code-title]");
    this.source = dialog.querySelector("[data-code-source]");
    this.errors = dialog.querySelector("[data-code-errors]");
    this.note = dialog.querySelector("[data-code-note]");
    this.copyButton = dialog.querySelector("[data-code-copy]");
    this.downloadButton = dialog.querySelector("[data-code-download]");
    this.copyButton.addEventListener("click", () => this.copy());
    this.downloadButton.addEventListener("click", () =>
      download(this.result.filename, this.result.source, "text/x-python"));
  }

  async open() {
    this.result = null;
    this.show({ title: "PyTorch code", note: "Generating…" });
    this.dialog.showModal();
    try {
      const analysis = await this.analysisNow();
      if (!analysis) {
        this.show({ title: "No code", note: "The graph could not be checked. Try again in a moment." });
        return;
      }
      if (!analysis.valid) {
        this.show({ title: "The graph has problems", note: "Fix these to export code:", errors: analysis.errors });
        return;
      }
      this.result = await api.post("/graphs/export", this.documentOf());
      this.show({ title: this.result.filename, source: this.result.source });
    } catch (error) {
      this.show({ title: "No code", note: error.message, errors: error.body?.errors ?? [] });
    }
  }

  show({ title, note = "", source = null, errors = [] }) {
    this.title.textContent = title;
    this.note.textContent = note;
    this.note.hidden = !note;
    this.source.textContent = source ?? "";
    this.source.parentElement.hidden = source === null;
    this.errors.replaceChildren(...errors.map((error) => {
      const item = document.createElement("li");
      item.textContent = error.message;
      return item;
    }));
    this.errors.hidden = errors.length === 0;
    this.copyButton.disabled = source === null;
    this.downloadButton.disabled = source === null;
    this.copyButton.textContent = "Copy";
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.result.source);
      this.copyButton.textContent = "Copied";
    } catch {
      // No clipboard access (permissions, an insecure origin): select the code for Ctrl+C instead.
      getSelection().selectAllChildren(this.source);
      this.copyButton.textContent = "Selected: press Ctrl+C";
    }
  }
}
