// A graph file chosen by the user (on the home page or in the editor). It must be JSON, and a netgraph
// document the editor can draw: the server says which problems rule that out. The rest (a missing input,
// a shape error) are ordinary problems to fix in the editor.

import { api } from "../common/api.js";
import { loadProtocol } from "../common/protocol.js";

const SHOWN = 3;

export async function readGraphFile(file) {
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch (error) {
    throw new Error(`${file.name} is not valid JSON: ${error.message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new Error(`${file.name} is not a graph: expected a JSON object with format, version, nodes and edges.`);
  }
  const [analysis, protocol] = await Promise.all([api.post("/graphs/validate", doc), loadProtocol()]);
  const fatal = analysis.errors.filter((error) => protocol.document_errors.includes(error.code));
  if (fatal.length) {
    const more = fatal.length > SHOWN ? ` (and ${fatal.length - SHOWN} more)` : "";
    throw new Error(`${file.name} is not a graph the editor can open: `
      + `${fatal.slice(0, SHOWN).map((error) => error.message).join("; ")}${more}`);
  }
  return analysis.upgraded ?? doc; // a file of an older format version opens upgraded
}
