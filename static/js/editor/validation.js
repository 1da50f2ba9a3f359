// Every edit is checked by the server (POST /api/graphs/validate), which owns shape inference and
// parameter counts. Edits are debounced, so typing "128" sends one request rather than three, and a reply
// that arrives after a newer one has been shown is dropped, so the screen never goes back in time.

import { api } from "../common/api.js";

const DELAY_MS = 250;

export class Validator {
  constructor({ documentOf, onResult, onFailure }) {
    this.documentOf = documentOf;
    this.onResult = onResult;
    this.onFailure = onFailure;
    this.batchSize = 32;
    this.timer = null;
    this.sent = 0; // number of the last request sent
    this.shown = 0; // number of the request whose reply is on screen
    this.latest = null; // that reply
    this.inFlight = Promise.resolve();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), DELAY_MS);
  }

  run() {
    clearTimeout(this.timer);
    this.timer = null;
    const number = ++this.sent;
    this.inFlight = api.post(`/graphs/validate?batch_size=${this.batchSize}`, this.documentOf()).then(
      (analysis) => {
        if (number <= this.shown) return;
        this.shown = number;
        this.latest = analysis;
        this.onResult(analysis);
      },
      (error) => {
        if (number === this.sent) this.onFailure(error);
      },
    );
    return this.inFlight;
  }

  // The analysis of the graph as it is now: a waiting edit is sent at once rather than after the delay.
  async current() {
    if (this.timer !== null) this.run();
    await this.inFlight;
    return this.latest;
  }
}
