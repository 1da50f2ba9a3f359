// What is always in view: the total parameter count, the training memory estimate and the list of
// problems from the last validation. Clicking a problem selects the layer or connection it is about.

import { bytes, number, plural } from "../common/format.js";

export class ProblemsPanel {
  constructor({ totalParams, memory, list, count }, onPick) {
    this.totalParams = totalParams;
    this.memory = memory;
    this.list = list;
    this.count = count;
    this.onPick = onPick;
  }

  show(analysis) {
    this.totalParams.textContent = number(analysis.total_params);
    this.memory.textContent = bytes(analysis.memory.total);
    this.memory.title = `Estimated training memory at batch size ${analysis.memory.batch_size}`;
    const errors = analysis.errors;
    this.count.textContent = errors.length ? plural(errors.length, "problem") : "No problems";
    this.count.classList.toggle("bad", errors.length > 0);
    if (!errors.length) {
      const ok = document.createElement("li");
      ok.className = "problem-none";
      ok.textContent = "The graph is valid: it can be trained and exported.";
      this.list.replaceChildren(ok);
      return;
    }
    this.list.replaceChildren(...errors.map((error) => {
      const item = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "problem";
      pick.textContent = error.message;
      pick.dataset.code = error.code;
      pick.disabled = error.node === null && error.edge === null;
      pick.addEventListener("click", () => this.onPick(error));
      item.append(pick);
      return item;
    }));
  }

  // The server could not be asked (offline, or it failed): say so rather than show stale numbers as fresh.
  showFailure(message) {
    this.count.textContent = "Not checked";
    this.count.classList.add("bad");
    const item = document.createElement("li");
    item.className = "problem-failure";
    item.textContent = `The graph could not be checked: ${message}`;
    this.list.replaceChildren(item);
  }
}
