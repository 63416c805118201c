// The strategy JSON editor (/strategies/new/json, /strategies/<id>/json): CodeMirror 6 in JSON mode.
// As the trader types (debounced by the linter), the text is parsed here and, when it parses, sent to
// POST /api/strategies/validate; the validator's path-named errors become lint diagnostics at their
// path's line and a list under the editor, and the graph is drawn. "Save" (POST /api/strategies/ or
// PUT /api/strategies/{id}/) stays disabled while the graph is invalid. Leaving with unsaved edits asks
// first; "Open in form" carries the text to the form unsaved.
import {basicSetup, EditorView, forceLinting, json, jsonParseLinter, linter, lintGutter}
  from "../vendor/codemirror/codemirror.js";
import {api, ApiError, apiError} from "./fetch.js";
import {drawGraph} from "./graph-drawing.js";
import {jsonPaths, rangeOf, splitError} from "./json-paths.js";

const config = JSON.parse(document.getElementById("editor-config").textContent);
const initialText = JSON.parse(document.getElementById("editor-text").textContent);
const status = document.getElementById("editor-status");
const errorList = document.getElementById("graph-errors");
const saveButton = document.getElementById("save-button");
const drawing = document.getElementById("graph-drawing");
const readOnly = saveButton.dataset.readOnly === "true";

let savedText = initialText;
let valid = false;
let leaving = false;
let drawn = "";

function setStatus(text, kind) {
  status.textContent = text;
  status.className = `builder-status ${kind}`;
}

function showErrors(view, diagnostics) {
  errorList.replaceChildren(...diagnostics.map((d) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const line = view.state.doc.lineAt(d.from).number;
    button.textContent = `Line ${line}: ${d.message}`;
    button.addEventListener("click", () => {
      view.dispatch({selection: {anchor: d.from}, scrollIntoView: true});
      view.focus();
    });
    li.append(button);
    return li;
  }));
}

function draw(graph) {
  if (!graph || typeof graph !== "object" || !Array.isArray(graph.nodes)) return;
  const nodes = graph.nodes.filter((n) => n && typeof n.id === "string")
    .map((n) => ({id: n.id, type: String(n.type ?? "?"), name: typeof n.name === "string" ? n.name : n.id}));
  const edges = (Array.isArray(graph.edges) ? graph.edges : []).filter((e) => e && typeof e.from === "string"
    && typeof e.to === "string");
  const key = JSON.stringify([nodes, edges]);
  if (key === drawn) return;
  drawn = key;
  drawGraph(drawing, {nodes, edges}, {label: `Drawing of ${typeof graph.name === "string" ? graph.name : "the strategy"}`})
    .catch((e) => { drawing.textContent = `The drawing failed: ${e.message}`; });
}

const syntax = jsonParseLinter();
let run = 0;

/** The linter: syntax errors from CodeMirror's JSON parser, then the server's validator. */
async function check(view) {
  const mine = ++run;
  const text = view.state.doc.toString();
  let graph;
  try {
    graph = JSON.parse(text);
  } catch {
    const diagnostics = syntax(view);
    if (mine === run) finish(view, diagnostics, "The text is not valid JSON.");
    return diagnostics;
  }
  draw(graph);
  let messages = [];
  try {
    await api("POST", "/api/strategies/validate", {graph});
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) {
      if (mine === run) setStatus(apiError(error), "invalid");
      return [];
    }
    messages = Object.entries(error.body).flatMap(([field, errs]) => [].concat(errs).map((e) => (
      field === "graph" ? e : `${field}: ${e}`)));
  }
  const paths = jsonPaths(text);
  const diagnostics = messages.map((m) => {
    const {path, message} = splitError(m);
    const range = rangeOf(paths, path);
    return {from: range.from, to: Math.min(range.to, view.state.doc.lineAt(range.from).to), severity: "error",
      message: path ? `${path}: ${message}` : message, source: path};
  });
  if (mine === run) finish(view, diagnostics, null);
  return diagnostics;
}

function finish(view, diagnostics, syntaxMessage) {
  valid = diagnostics.length === 0;
  showErrors(view, diagnostics);
  if (valid) setStatus("Valid: the graph would be accepted.", "valid");
  else setStatus(syntaxMessage || `${diagnostics.length} problem${diagnostics.length === 1 ? "" : "s"}: saving is off until they are fixed.`, "invalid");
  updateSave();
}

function updateSave() {
  saveButton.disabled = readOnly || !valid;
}

const view = new EditorView({
  doc: initialText,
  parent: document.getElementById("json-editor"),
  extensions: [
    basicSetup,
    EditorView.cspNonce.of(config.nonce),
    json(),
    lintGutter(),
    linter(check, {delay: 400}),
    EditorView.contentAttributes.of({"aria-label": "Strategy graph as JSON"}),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) {
        valid = false;
        saveButton.disabled = true;
        setStatus("Checking…", "");
      }
    }),
  ],
});
window.strategyEditor = view; // for the page tests

document.getElementById("validate-button").addEventListener("click", () => forceLinting(view));

saveButton.addEventListener("click", async () => {
  if (!valid || readOnly) return;
  const text = view.state.doc.toString();
  saveButton.disabled = true;
  setStatus("Saving…", "");
  try {
    const graph = JSON.parse(text);
    const saved = config.strategy_id
      ? await api("PUT", `/api/strategies/${config.strategy_id}/`, {graph, base_version: config.base_version})
      : await api("POST", "/api/strategies/", {graph});
    savedText = text;
    leaving = true;
    location.assign(`/strategies/${saved.id}/`);
  } catch (error) {
    let message = `Not saved: ${apiError(error)}`;
    if (error instanceof ApiError && error.status === 409 && config.strategy_id) {
      // Saved elsewhere since this page opened: the next Save replaces that version, knowingly.
      try {
        const current = await api("GET", `/api/strategies/${config.strategy_id}/`);
        config.base_version = current.version;
        message += ` Save again to replace version ${current.version} with this text.`;
      } catch { /* the message above stands */ }
    }
    setStatus(message, "invalid");
    saveButton.disabled = false;
  }
});

document.getElementById("to-form").addEventListener("submit", () => {
  document.getElementById("graph-json").value = view.state.doc.toString();
  leaving = true; // the text goes with the form, unsaved
});

window.addEventListener("beforeunload", (event) => {
  if (!leaving && view.state.doc.toString() !== savedText) event.preventDefault();
});

forceLinting(view);
