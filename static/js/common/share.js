// "Share": a dialog that makes a read-only link to a network version or a finished run, shows it once (only
// its digest is kept on the server), and lists the links that still work, each with Revoke. Buttons in a page's
// markup carrying data-share-network="<id>" get it by themselves; a page whose target changes (the dashboard's
// selected run) calls shareButton with a function that says what to share now.

import { api } from "./api.js";
import { h, showError } from "./dom.js";
import { when } from "./format.js";

/** `target()`: the body of POST /api/shares, {network_id} or {run_id}. */
export function shareButton(button, target) {
  button.addEventListener("click", () => openDialog(target()));
}

function openDialog(target) {
  const query = target.run_id !== undefined ? `run_id=${target.run_id}` : `network_id=${target.network_id}`;
  const list = h("ul", { class: "share-links", "data-testid": "share-list" });
  const error = h("p", { class: "error", "data-testid": "share-error", hidden: true });
  const fresh = h("div", { class: "share-new", hidden: true });
  const create = h("button", { type: "button", class: "primary", "data-testid": "share-create" }, "Create a link");
  const dialog = h("dialog", { class: "modal share-dialog", "data-testid": "share-dialog", "aria-labelledby": "share-title" },
    h("header", {}, h("h2", { id: "share-title" }, target.run_id !== undefined ? "Share this run" : "Share this version"),
      h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => dialog.close() }, "×")),
    h("p", { class: "muted" }, "Anyone with the link sees the graph, the code and, for a run, its curves and "
      + "settings, read-only and without an account; nothing else of yours. Revoke it to close it."),
    fresh, error, list,
    h("footer", {}, h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Close"), create));
  dialog.addEventListener("close", () => dialog.remove());

  async function refresh() {
    try {
      const links = await api.get(`/shares?${query}`);
      list.replaceChildren(...links.map((link) => h("li", { "data-testid": `share-link-${link.id}` },
        h("span", {}, `${link.kind === "run" ? `Run #${link.run_id}` : `Version ${link.version}`} · `
          + `link …/s/${link.hint}… · made ${when(link.created)}`),
        h("button", { type: "button", class: "link danger", "data-testid": `share-revoke-${link.id}`,
          onclick: () => revoke(link.id) }, "Revoke"))));
      if (!links.length) list.replaceChildren(h("li", { class: "muted" }, "No link works now."));
    } catch (problem) {
      showError(error, problem);
    }
  }

  async function revoke(id) {
    try {
      await api.delete(`/shares/${id}`);
      if (fresh.dataset.id === String(id)) fresh.hidden = true;
    } catch (problem) {
      showError(error, problem);
    }
    await refresh();
  }

  create.addEventListener("click", async () => {
    showError(error, null);
    try {
      const link = await api.post("/shares", target);
      const field = h("input", { type: "text", readonly: true, value: link.url, "data-testid": "share-url",
        "aria-label": "Share link", onfocus: (event) => event.target.select() });
      fresh.dataset.id = link.id;
      fresh.replaceChildren(h("label", {}, "The link (shown only now: copy it)", field),
        h("button", { type: "button", class: "secondary", onclick: () => navigator.clipboard?.writeText(link.url) },
          "Copy"));
      fresh.hidden = false;
      field.focus();
    } catch (problem) {
      showError(error, problem);
    }
    await refresh();
  });

  document.body.append(dialog);
  dialog.showModal();
  refresh();
}

for (const button of document.querySelectorAll("[data-share-network]")) {
  shareButton(button, () => ({ network_id: Number(button.dataset.shareNetwork) }));
}
