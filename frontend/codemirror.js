// The JSON editor's share of CodeMirror 6, bundled by esbuild at `make setup` into
// var/build/vendor/codemirror/codemirror.js (served as static "vendor/codemirror/codemirror.js").
// One bundle keeps a single copy of @codemirror/state (two copies break the editor) and needs no
// import map, so the Content-Security-Policy stays script-src 'self' without a nonce.
export {basicSetup, EditorView} from "codemirror";
export {json, jsonParseLinter} from "@codemirror/lang-json";
export {forceLinting, linter, lintGutter} from "@codemirror/lint";
