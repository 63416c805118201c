// Where each value of a JSON text sits, by the validator's path syntax (``nodes[2].config.strike.offset``),
// so an error naming a path can be shown at its line. Plain text scanning of a text JSON.parse accepted.

/**
 * Map every path in ``text`` (valid JSON) to ``{from, to}`` character offsets: ``from`` is the start of
 * the value's key ("lots": 0 starts at its quote) or of the value itself in an array, ``to`` its end.
 * The root is the path "".
 */
export function jsonPaths(text) {
  const out = new Map();
  let i = 0;
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i += 1;
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path, keyFrom) => {
    space();
    const from = keyFrom ?? i;
    const c = text[i];
    if (c === "{" || c === "[") {
      const object = c === "{";
      i += 1;
      space();
      let n = 0;
      while (text[i] !== (object ? "}" : "]")) {
        space();
        if (object) {
          const keyStart = i;
          const key = string();
          space();
          i += 1; // the colon
          value(path ? `${path}.${key}` : key, keyStart);
        } else {
          value(`${path}[${n}]`, null);
        }
        n += 1;
        space();
        if (text[i] === ",") i += 1;
        space();
      }
      i += 1;
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !",}] \t\n\r".includes(text[i])) i += 1;
    }
    out.set(path, {from, to: i});
  };
  value("", null);
  return out;
}

/** The range of ``path`` in ``paths`` (from jsonPaths), or of its nearest ancestor that exists. */
export function rangeOf(paths, path) {
  let p = path;
  while (p && !paths.has(p)) {
    const parent = p.replace(/(\.[^.[\]]*|\[\d+\])$/, "");
    p = parent === p ? "" : parent;
  }
  return paths.get(p) || paths.get("");
}

/** Split the API's "path: message" into its parts; a message without a path has path "". */
export function splitError(text) {
  const m = /^([A-Za-z0-9_.[\]-]+): (.*)$/s.exec(text);
  return m ? {path: m[1], message: m[2]} : {path: "", message: text};
}
