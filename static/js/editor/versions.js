// The version history: every saved version of the network, newest first, with its time and message. Any
// version opens read-only on the canvas, and any two are compared: the server computes the architecture diff
// (GET /api/networks/{id}/diff), the canvas paints it, and this panel lists it, changed parameters included.

import { api } from "../common/api.js";
import { byTestId, h, showError } from "../common/dom.js";
import { when } from "../common/format.js";
import { diffLines, fetchDiff } from "../common/graph-diff.js";

export class VersionsPanel {
  // onOpen({number, graph}): show that version. onCompare({a, b, diff, before, after}): show the diff.
  constructor(root, { networkId, onOpen, onCompare }) {
    this.root = root;
    this.networkId = networkId;
    this.list = byTestId(root, "version-list");
    this.from = byTestId(root, "diff-from");
    this.to = byTestId(root, "diff-to");
    this.diffList = byTestId(root, "diff-list");
    this.error = byTestId(root, "versions-error");
    this.onOpen = onOpen;
    this.onCompare = onCompare;
    byTestId(root, "show-diff").addEventListener("click", () => this.compare(Number(this.from.value), Number(this.to.value)));
  }

  get open() {
    return !this.root.hidden;
  }

  async toggle() {
    this.root.hidden = !this.root.hidden;
    if (this.open) await this.refresh();
  }

  async refresh() {
    await this.attempt(async () => {
      const versions = (await api.get(`/networks/${this.networkId}/versions`)).reverse();
      this.list.replaceChildren(...versions.map((version) => h("li", { class: "version", "data-testid": `version-${version.number}` },
        h("div", { class: "version-head" }, h("strong", {}, `Version ${version.number}`),
          h("time", { datetime: version.created }, when(version.created))),
        h("p", { class: version.message ? "version-message" : "version-message muted" }, version.message || "No message"),
        h("button", { type: "button", class: "button", "data-testid": `open-version-${version.number}`,
          onclick: () => this.openVersion(version.number) }, "Open"))));
      // By default, the newest version against the one before it.
      for (const [select, index] of [[this.from, 1], [this.to, 0]]) {
        const kept = select.value;
        select.replaceChildren(...versions.map((version) => new Option(`Version ${version.number}`, version.number)));
        select.value = kept && versions.some((version) => String(version.number) === kept)
          ? kept : String(versions[Math.min(index, versions.length - 1)].number);
      }
    });
  }

  openVersion(number) {
    return this.attempt(async () => {
      const version = await api.get(`/networks/${this.networkId}/versions/${number}`);
      this.onOpen(version);
    });
  }

  compare(a, b) {
    return this.attempt(async () => {
      const [diff, before, after] = await Promise.all([fetchDiff(this.networkId, a, b),
        api.get(`/networks/${this.networkId}/versions/${a}`), api.get(`/networks/${this.networkId}/versions/${b}`)]);
      const lines = diffLines(diff);
      this.diffList.replaceChildren(...(lines.length ? lines.map(([kind, text]) => h("li", { class: `diff-${kind}` }, text))
        : [h("li", { class: "muted" }, "The same architecture (positions and labels aside).")]));
      this.diffList.hidden = false;
      this.onCompare({ a, b, diff, before: before.graph, after: after.graph });
    });
  }

  clearDiff() {
    this.diffList.hidden = true;
  }

  async attempt(task) {
    try {
      await task();
      showError(this.error, null);
    } catch (error) {
      showError(this.error, error);
    }
  }
}
