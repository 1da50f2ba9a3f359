// The run protocol as the server defines it (GET /api/protocol): run statuses (all, active, finished),
// event kinds, the download files and their labels, the best-epoch rule and the graph error codes. The
// page keeps no copy of its own; it is asked for once, and every caller shares the answer.

import { api } from "./api.js";

let protocol = null;

export function loadProtocol() {
  protocol ??= api.get("/protocol");
  return protocol;
}
