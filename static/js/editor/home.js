// The home page: start a network (empty, from an example, or from a JSON file), and rename or delete one.
// Everything goes through the JSON API; a new network opens in the editor straight away.

import { api } from "../common/api.js";
import { byTestId } from "../common/dom.js";
import { emptyDocument, freshId } from "./graph-doc.js";
import { readGraphFile } from "./import-file.js";
import { Registry } from "./registry.js";

const $ = (id) => byTestId(document, id);
const message = $("home-message");

function tell(text) {
  message.textContent = text;
  message.hidden = !text;
}

async function create(name, graph) {
  try {
    const network = await api.post("/networks", { name, graph });
    window.location.assign(`/networks/${network.id}/`);
  } catch (error) {
    tell(`The network could not be created: ${error.message}`);
  }
}

// A new network holds one Input node, with the registry's defaults.
$("new-network").addEventListener("click", async () => {
  let registry;
  try {
    registry = new Registry(await api.get("/layers"));
  } catch (error) {
    tell(`The network could not be created: ${error.message}`);
    return;
  }
  const graph = emptyDocument("Untitled network");
  graph.nodes.push({
    id: freshId("Input", new Set()), type: "Input", params: registry.initialParams("Input"), position: { x: 0, y: 0 },
  });
  create(graph.name, graph);
});

const importFile = $("import-file");
$("import-network").addEventListener("click", () => importFile.click());
importFile.addEventListener("change", async () => {
  const [file] = importFile.files;
  importFile.value = "";
  if (!file) return;
  tell("");
  try {
    if (/\.onnx$/i.test(file.name)) {
      // A model from another framework: the server parses it (never runs it) and keeps its weights.
      tell(`Importing ${file.name}…`);
      const form = new FormData();
      form.append("file", file);
      const network = await api.post("/networks/import", form);
      window.location.assign(`/networks/${network.id}/`);
      return;
    }
    const graph = await readGraphFile(file);
    create(graph.name || file.name.replace(/\.json$/i, ""), graph);
  } catch (error) {
    tell(error.message);
  }
});

function exampleCard(example) {
  const card = document.createElement("button");
  card.type = "button";
  card.className = "example";
  card.dataset.testid = `example-${example.slug}`;
  const title = document.createElement("strong");
  title.textContent = example.name;
  const text = document.createElement("span");
  text.textContent = example.description;
  const size = document.createElement("span");
  size.className = "muted";
  size.textContent = `${example.graph.nodes.length} layers`;
  card.append(title, text, size);
  card.addEventListener("click", () => create(example.name, example.graph));
  return card;
}

api.get("/examples").then(
  (examples) => $("examples").replaceChildren(...examples.map(exampleCard)),
  (error) => tell(`The examples could not be loaded: ${error.message}`),
);

// Rename and delete: each asks in a dialog, whose form's submit button sets its return value.
function ask(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

const renameDialog = $("rename-dialog");
const deleteDialog = $("delete-dialog");

for (const row of document.querySelectorAll('[data-testid="network-row"]')) {
  const id = Number(row.dataset.networkId);
  const link = byTestId(row, "network-link");

  byTestId(row, "rename").addEventListener("click", async () => {
    const input = byTestId(renameDialog, "rename-input");
    input.value = link.textContent;
    if (!(await ask(renameDialog)) || !input.value.trim()) return;
    try {
      const network = await api.patch(`/networks/${id}`, { name: input.value.trim() });
      link.textContent = network.name;
      tell("");
    } catch (error) {
      tell(`Not renamed: ${error.message}`);
    }
  });

  byTestId(row, "delete").addEventListener("click", async () => {
    deleteDialog.querySelector("[data-delete-text]").textContent =
      `“${link.textContent}” and all its saved versions will be deleted. This cannot be undone.`;
    if (!(await ask(deleteDialog))) return;
    try {
      await api.delete(`/networks/${id}`);
      row.remove();
      const empty = !document.querySelector('[data-testid="network-row"]');
      $("networks").hidden = empty;
      $("no-networks").hidden = !empty;
      tell("");
    } catch (error) {
      tell(`Not deleted: ${error.message}`);
    }
  });
}
