// What is always in view: the total parameter count, the training memory estimate and the list of
// problems from the last validation: errors, then warnings (the graph runs, but likely not as meant), each
// told apart by its colour. Clicking one selects the layer or connection it is about; one the server knows
// a fix for (insert a Flatten or a Permute) has a Fix button beside it.

import { bytes, number, plural } from "../common/format.js";

export class ProblemsPanel {
  constructor({ totalParams, memory, list, count }, onPick, onFix) {
    this.totalParams = totalParams;
    this.memory = memory;
    this.list = list;
    this.count = count;
    this.onPick = onPick;
    this.onFix = onFix;
  }

  show(analysis) {
    // An invalid graph's totals leave out what could not be inferred: show none rather than a part.
    this.totalParams.textContent = analysis.valid ? number(analysis.total_params) : "—";
    this.memory.textContent = analysis.valid ? bytes(analysis.memory.total) : "—";
    this.memory.title = `Estimated training memory at batch size ${analysis.memory.batch_size}`;
    const errors = analysis.errors;
    const warnings = analysis.warnings ?? [];
    const fixes = analysis.fixes ?? [];
    this.count.textContent = [errors.length && plural(errors.length, "problem"),
      warnings.length && plural(warnings.length, "warning")].filter(Boolean).join(", ") || "No problems";
    this.count.classList.toggle("bad", errors.length > 0);
    this.count.classList.toggle("warned", !errors.length && warnings.length > 0);
    if (!errors.length && !warnings.length) {
      const ok = document.createElement("li");
      ok.className = "problem-none";
      ok.textContent = "The graph is valid: it can be trained and exported.";
      this.list.replaceChildren(ok);
      return;
    }
    const item = (problem, kind) => {
      const entry = document.createElement("li");
      entry.className = `problem-item ${kind}`;
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = `problem ${kind}`;
      pick.textContent = problem.message;
      pick.dataset.code = problem.code;
      pick.dataset.kind = kind;
      pick.disabled = problem.node === null && problem.edge === null;
      pick.addEventListener("click", () => this.onPick(problem));
      entry.append(pick);
      const fix = fixes.find((candidate) => candidate.code === problem.code && candidate.node === problem.node);
      if (fix) {
        const apply = document.createElement("button");
        apply.type = "button";
        apply.className = "problem-fix";
        apply.dataset.testid = "fix";
        apply.textContent = "Fix";
        apply.title = `Insert a ${fix.type} before ${fix.before}`;
        apply.addEventListener("click", () => this.onFix(fix));
        entry.append(apply);
      }
      return entry;
    };
    this.list.replaceChildren(...errors.map((error) => item(error, "error")),
      ...warnings.map((warning) => item(warning, "warning")));
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
