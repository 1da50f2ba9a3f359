// The JSON API under /api/, the only way these pages read or change data. One place adds the CSRF header
// Django wants on writes and turns an error body ({detail, errors}) into an exception with that detail.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api${path}`, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  layers: () => request("GET", "/layers"),
  examples: () => request("GET", "/examples"),
  validate: (graph, batchSize = 32) => request("POST", `/graphs/validate?batch_size=${batchSize}`, graph),
  exportCode: (graph) => request("POST", "/graphs/export", graph),
  network: (id) => request("GET", `/networks/${id}`),
  createNetwork: (name, graph) => request("POST", "/networks", { name, graph }),
  updateNetwork: (id, changes) => request("PATCH", `/networks/${id}`, changes),
  deleteNetwork: (id) => request("DELETE", `/networks/${id}`),
};
