// The start form (/sessions/new): POST /api/v2/live/start with the session cookie and CSRF token, the
// API's field errors next to their fields, and on success the session's page.
//
// The form says, as the trader picks a day, whether it is a trading day and whether the server has its
// market data (the exchange calendar and GET /api/market-days/, embedded by the view); the API stays
// the judge: whatever it refuses is shown next to the field it names.
import {api, apiError, ApiError} from "./fetch.js";
import {istDate, rupees} from "./format.js";

const form = document.getElementById("start-form");
const calendar = JSON.parse(document.getElementById("trading-calendar").textContent);
const holidays = new Set(calendar.holidays);  // weekdays the exchange is closed on, from calendar.first
const special = calendar.special;  // "YYYY-MM-DD" -> the hours of a special session ("09:15:00-15:29:59")

/** Whether "YYYY-MM-DD" is a trading day: a weekday that is not an exchange holiday, or a special
 * session (some are on a Saturday or Sunday). */
function isTradingDay(value) {
  const weekday = new Date(`${value}T00:00:00Z`).getUTCDay();
  return Object.hasOwn(special, value) || (weekday !== 0 && weekday !== 6 && !holidays.has(value));
}
const formError = document.getElementById("form-error");
const status = document.getElementById("start-status");
const submit = document.getElementById("start-button");
const FIELDS = ["strategy_id", "broker_connection_id", "date", "to", "speed_multiplier", "mode"];

function underlying() {
  const option = form.strategy_id.selectedOptions[0];
  return option ? option.dataset.underlying : "";
}

/** What the form knows of a day: a trading day? data stored for the strategy's underlying? */
function describeDay(value) {
  if (!value) return {text: "", bad: false};
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return {text: "Use a date (YYYY-MM-DD).", bad: true};
  const name = istDate(value);
  if (value > calendar.last) return {text: `${name} has not ended yet: choose a past trading day.`, bad: true};
  if (value < calendar.first) return {text: `${name}: the server checks days this far back.`, bad: false};
  if (!isTradingDay(value)) return {text: `${name} is not a trading day (a weekend or exchange holiday).`, bad: true};
  const stored = calendar.stored[value] || [];
  const u = underlying();
  const day = Object.hasOwn(special, value) ? `trading day (a special session, ${special[value]} IST)` : "trading day";
  if (u ? stored.includes(u) : stored.length) return {text: `${name}: ${day}, market data stored.`, bad: false};
  return {text: `${name}: ${day}, no data stored yet; it will be generated (synthetic).`, bad: false};
}

function showDay(input) {
  const out = document.getElementById(`${input.id}-status`);
  const {text, bad} = describeDay(input.value);
  out.textContent = text;
  out.classList.toggle("bad", bad);
}

function showCapital() {
  const option = form.broker_connection_id.selectedOptions[0];
  document.getElementById("capital-help").textContent = option
    ? `Starting capital ${rupees(option.dataset.capital)}; ${option.dataset.costs}` : "";
}

function syncMode() {
  const backtest = form.mode.value === "backtest";
  for (const radio of form.querySelectorAll('input[name="speed_multiplier"]')) radio.disabled = backtest;
}

function controlsOf(field) {
  const el = form.elements[field];
  if (!el) return [];
  return el instanceof RadioNodeList ? [...el] : [el];
}

function clearErrors() {
  formError.hidden = true;
  formError.replaceChildren();
  for (const field of FIELDS) {
    const out = document.getElementById(`${field}-error`);
    out.hidden = true;
    out.textContent = "";
    for (const el of controlsOf(field)) el.removeAttribute("aria-invalid");
  }
}

function showErrors(error) {
  const body = error instanceof ApiError ? error.body : {};
  let first = null;
  const general = [];
  for (const [field, messages] of Object.entries(body)) {
    const text = [].concat(messages).join(" ");
    const out = FIELDS.includes(field) ? document.getElementById(`${field}-error`) : null;
    if (!out) {
      general.push(field === "detail" || field === "non_field_errors" ? text : `${field}: ${text}`);
      continue;
    }
    out.textContent = text;
    out.hidden = false;
    for (const el of controlsOf(field)) el.setAttribute("aria-invalid", "true");
    first = first || controlsOf(field).find((el) => !el.disabled);
  }
  if (!(error instanceof ApiError)) general.push(apiError(error));
  if (general.length) {
    formError.replaceChildren(...general.map((text) => Object.assign(document.createElement("p"), {textContent: text})));
    formError.hidden = false;
  }
  (first || (general.length ? formError : null))?.focus?.();
}

function body() {
  // date is never empty here: the submit handler refuses that before calling the API
  const data = {strategy_id: form.strategy_id.value, broker_connection_id: form.broker_connection_id.value,
    mode: form.mode.value, date: form.date.value};
  if (form.to.value) data.to = form.to.value;
  if (data.mode !== "backtest") {
    const speed = form.speed_multiplier.value;
    data.speed_multiplier = speed === "max" ? "max" : Number(speed);
  }
  return data;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  if (!form.date.value) {
    // The API starts a request without a date on its default day; a trader who cleared the field (or
    // typed half a date) did not choose that day.
    showErrors(new ApiError(400, {date: ["Choose a trading day."]}));
    return;
  }
  submit.disabled = true;
  status.textContent = "Starting…";
  try {
    const started = await api("POST", "/api/v2/live/start", body());
    status.textContent = "Started; opening its page…";
    window.location.assign(`/sessions/${encodeURIComponent(started.session_id)}`);
  } catch (error) {
    status.textContent = "";
    showErrors(error);
    submit.disabled = false;
  }
});

formError.tabIndex = -1;
form.date.addEventListener("input", () => showDay(form.date));
form.to.addEventListener("input", () => showDay(form.to));
form.strategy_id.addEventListener("change", () => { showDay(form.date); showDay(form.to); });
form.broker_connection_id.addEventListener("change", showCapital);
for (const radio of form.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", syncMode);
for (const button of document.querySelectorAll("[data-day]")) {
  button.addEventListener("click", () => {
    form.date.value = button.dataset.day;
    showDay(form.date);
    form.date.focus();
  });
}
// /sessions/new?strategy=<id> (the strategy pages' "Run"): that strategy, when it is one of the trader's.
const wanted = new URLSearchParams(window.location.search).get("strategy");
if (wanted && [...form.strategy_id.options].some((o) => o.value === wanted)) form.strategy_id.value = wanted;
showDay(form.date);
showCapital();
syncMode();
