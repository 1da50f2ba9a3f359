// Saving. The graph goes to PATCH /api/networks/{id} with the version it was opened at, so saving over a
// version saved elsewhere since (another tab, another device) is refused with 409 instead of silently
// overwriting it. Then the conflict dialog explains, and the user's graph stays in the editor untouched.

import { api } from "../common/api.js";
import { downloadGraph } from "./download.js";

export class Saver {
  constructor({ networkId, version, status, dialog, documentOf }) {
    this.networkId = networkId;
    this.version = version;
    this.status = status;
    this.dialog = dialog;
    this.documentOf = documentOf;
    this.savedJson = JSON.stringify(documentOf());
    this.dirty = false;
    this.saving = false;
    dialog.querySelector("[data-conflict-download]").addEventListener("click", () => downloadGraph(this.documentOf()));
    dialog.querySelector("[data-conflict-overwrite]").addEventListener("click", () => this.overwrite());
    this.showState();
  }

  // Called after every change: compare with what was last saved.
  check() {
    this.dirty = JSON.stringify(this.documentOf()) !== this.savedJson;
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

  async save(baseVersion = this.version) {
    if (this.saving) return;
    const doc = this.documentOf();
    if (!doc.name) {
      this.fail("Give the network a name to save it");
      return;
    }
    this.saving = true;
    this.showState("Saving…");
    try {
      const network = await api.patch(`/networks/${this.networkId}`, { name: doc.name, graph: doc, base_version: baseVersion });
      this.version = network.version;
      this.savedJson = JSON.stringify(doc);
      this.check();
    } catch (error) {
      if (error.status === 409) await this.conflict();
      else this.fail(`Not saved: ${error.message}`);
    } finally {
      this.saving = false;
    }
  }

  async conflict() {
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
    this.save(this.latestVersion);
  }
}
