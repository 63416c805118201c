// What every page does to talk to the REST API and to say whether it is connected: one definition.
//
// The pages call the same REST API as external frontends, with the session cookie; Django's CSRF check
// (DRF's SessionAuthentication enforces it) wants the csrftoken cookie's value in X-CSRFToken on every
// unsafe method.

/** The csrftoken cookie's value ("" if there is none). */
export function csrfToken() {
  const match = document.cookie.split(";").map((c) => c.trim()).find((c) => c.startsWith("csrftoken="));
  return match ? decodeURIComponent(match.slice("csrftoken=".length)) : "";
}

/** An API answer that is not 2xx: ``status`` and the parsed JSON ``body`` ({field: [messages]} or {detail}). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `the server answered ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** Call the API: ``api("POST", "/api/v2/live/pause/sim-…", {})`` -> the parsed JSON answer, or ApiError. */
export async function api(method, path, body = undefined) {
  const headers = {Accept: "application/json"};
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, {method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = {detail: text.slice(0, 200)};
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** Whether a failed call says the login has ended (expired, or logged out in another tab). */
export function loggedOut(error) {
  return error instanceof ApiError && error.status === 401;
}

/** One line for a failed call: the API's detail, or its field errors joined, or why the network failed. */
export function apiError(error) {
  if (!(error instanceof ApiError)) return navigator.onLine ? `Could not reach the server (${error.message}).` : "You are offline.";
  if (loggedOut(error)) return "You are logged out: log in again to control your sessions.";
  if (error.body.detail) return error.body.detail;
  return Object.entries(error.body).map(([field, errors]) => `${field}: ${[].concat(errors).join(" ")}`).join("; ");
}

/**
 * The page's "reconnecting / offline" banner (#connection-banner in base.html).
 * connected(): hide it; reconnecting(): "Reconnecting…" (the stream dropped, the browser retries);
 * loggedOut(): "You are logged out" with a link to log in again and come back here, for good (the
 * stream cannot come back without a login);
 * the browser's offline/online events show "Offline" and call onOnline's callbacks when it is back.
 */
export function connectionBanner(element = document.getElementById("connection-banner")) {
  const callbacks = [];
  let streamDown = false;
  let signedOut = false;
  function show() {
    if (signedOut) {
      const back = `${location.pathname}${location.search}`;
      const link = Object.assign(document.createElement("a"), {textContent: "Log in again",
        href: `/login/?next=${encodeURIComponent(back).replaceAll("%2F", "/")}`});
      element.replaceChildren("You are logged out: these figures have stopped. ", link);
      element.classList.add("offline");
      element.hidden = false;
    } else if (!navigator.onLine) {
      element.textContent = "Offline: figures are paused at what you see. They catch up when the connection is back.";
      element.classList.add("offline");
      element.hidden = false;
    } else if (streamDown) {
      element.textContent = "Reconnecting to the live stream…";
      element.classList.remove("offline");
      element.hidden = false;
    } else {
      element.hidden = true;
      element.classList.remove("offline");
    }
  }
  window.addEventListener("offline", show);
  window.addEventListener("online", () => {
    show();
    for (const callback of callbacks) callback();
  });
  show();
  return {
    connected() { streamDown = false; show(); },
    reconnecting() { streamDown = true; show(); },
    loggedOut() { signedOut = true; show(); },
    onOnline(callback) { callbacks.push(callback); },
    get visible() { return !element.hidden; },
  };
}
