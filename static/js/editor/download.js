// Files made in the page (a graph's JSON, generated code) are handed to the browser as downloads.

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started reading the blob by the next task; only then may it go.
  setTimeout(() => URL.revokeObjectURL(url));
}

export function fileStem(name) {
  return name.replace(/[^0-9A-Za-z]+/g, "_").replace(/^_+|_+$/g, "").toLowerCase() || "network";
}

export function downloadGraph(doc) {
  download(`${fileStem(doc.name ?? "")}.json`, `${JSON.stringify(doc, null, 2)}\n`, "application/json");
}
