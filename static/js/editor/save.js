// Saving. The graph goes to PATCH /api/networks/{id} with the version it was opened at, so saving over a
// version saved elsewhere since (another tab, another device) is refused with 409 instead of silently
// overwriting it. Then the conflict dialog explains, and the user's graph stays in the editor untouched.
// "Unsaved changes" compares what the documents mean, not their text: a parameter typed back to its default
// or a panned view or a collapsed group is no change.

import { api } from "../common/api.js";
import { downloadGraph } from "./download.js";

// Keys in order at every level, so two documents that mean the same are the same text.
function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// A document as it means: every parameter with its registry default filled in, the view (viewport, collapsed
// groups) left out.
export function meaningOf(doc, registry) {
  const { meta, ...rest } = doc;
  const { viewport, collapsed, ...kept } = meta ?? {};
  const defaults = (type) => Object.fromEntries((registry.layer(type)?.params ?? []).map((p) => [p.name, p.default]));
  const nodes = rest.nodes.map((node) => ({ ...node, params: { ...defaults(node.type), ...node.params } }));
  return sortedJson({ ...rest, nodes, ...(Object.keys(kept).length ? { meta: kept } : {}) });
}

export class Saver {
  // onSaved(version): a new version was saved.
  constructor({ networkId, version, status, dialog, documentOf, registry, onSaved }) {
    this.networkId = networkId;
    this.version = version;
    this.status = status;
    this.dialog = dialog;
    this.documentOf = documentOf;
    this.meaning = (doc) => meaningOf(doc, registry);
    this.onSaved = onSaved;
    this.savedJson = this.meaning(documentOf());
    this.dirty = false;
    this.saving = false;
    dialog.querySelector("[data-conflict-download]").addEventListener("click", () => downloadGraph(this.documentOf()));
    dialog.querySelector("[data-conflict-overwrite]").addEventListener("click", () => this.overwrite());
    this.showState();
  }

  // Called after every change: compare with what was last saved.
  check() {
    this.dirty = this.meaning(this.documentOf()) !== this.savedJson;
    this.showState();
  }

  showState(message) {
    this.status.classList.toggle("dirty", this.dirty);
    this.status.classList.remove("failed");
    this.status.textContent = message ?? (this.dirty ? "Unsaved changes" : `Saved · version ${this.version}`);
  }

  fail(message) {
    this.status.textContent = message;
    this.status.classList.add("failed");
  }

  // `message` is kept with the new version ("Restored version 3").
  async save(baseVersion = this.version, message = "") {
    if (this.saving) return;
    // Nothing new to keep (a moved view alone is not worth a version): saving again makes none.
    if (!this.dirty && baseVersion === this.version && !message) return;
    const doc = this.documentOf();
    if (!doc.name) {
      this.fail("Give the network a name to save it");
      return;
    }
    this.saving = true;
    this.showState("Saving…");
    try {
      const network = await api.patch(`/networks/${this.networkId}`,
        { name: doc.name, graph: doc, message, base_version: baseVersion });
      const saved = network.version !== this.version;
      this.version = network.version;
      this.savedJson = this.meaning(doc);
      this.check();
      if (saved) this.onSaved(network.version);
    } catch (error) {
      if (error.status === 409) await this.conflict(message);
      else this.fail(`Not saved: ${error.message}`);
    } finally {
      this.saving = false;
    }
  }

  async conflict(message) {
    this.conflictMessage = message;
    this.fail("Not saved: a newer version exists");
    let latest;
    try {
      latest = await api.get(`/networks/${this.networkId}`);
    } catch (error) {
      this.fail(`Not saved: a newer version exists, and it could not be read (${error.message})`);
      return;
    }
    this.latestVersion = latest.version;
    this.dialog.querySelector("[data-conflict-text]").textContent =
      `“${latest.name}” was saved as version ${latest.version} from somewhere else (another tab or device) `
      + `after you opened version ${this.version}. Your changes were not saved, and they are still here.`;
    this.dialog.showModal();
  }

  // The user has seen the other version and wants theirs on top of it: it becomes a new version, and the
  // other stays in the network's history.
  overwrite() {
    this.dialog.close();
    this.save(this.latestVersion, this.conflictMessage);
  }
}
