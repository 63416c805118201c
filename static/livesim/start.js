// The start form (/sessions/new): POST /api/v2/live/start with the session cookie and CSRF token, the
// API's field errors next to their fields, and on success the session's page.
//
// The form says, as the trader picks a day, whether it is a trading day of the strategy's market and
// whether the server has its market data (the calendars of the data file and GET /api/market-days/,
// embedded by the view); the API stays the judge: whatever it refuses is shown next to the field it names.
import {api, apiError, ApiError} from "./fetch.js";
import {exchangeDate, marketOf, money} from "./format.js";

const form = document.getElementById("start-form");
const calendar = JSON.parse(document.getElementById("trading-calendar").textContent);
// Each calendar: its weekdays (0 = Monday), weekday holidays, special sessions ("YYYY-MM-DD" -> hours).
const calendars = Object.fromEntries(Object.entries(calendar.calendars).map(([name, c]) => [name,
  {...c, weekdays: new Set(c.weekdays), holidays: new Set(c.holidays)}]));
const NSE_INFO = {calendar: "NSE", synthetic: true};

/** What the form knows of the selected strategy's underlying: its calendar, whether its days are
 *  generated, its currency (an underlying the data file no longer has: the NSE's). */
function info() {
  return calendar.underlyings[underlying()] || NSE_INFO;
}

/** Whether "YYYY-MM-DD" is a trading day of ``cal``: one of its weekdays that is not a holiday, or a
 * special session (some are on a Saturday or Sunday). */
function isTradingDay(value, cal) {
  const weekday = (new Date(`${value}T00:00:00Z`).getUTCDay() + 6) % 7;  // 0 = Monday
  return Object.hasOwn(cal.special, value) || (cal.weekdays.has(weekday) && !cal.holidays.has(value));
}
const formError = document.getElementById("form-error");
const status = document.getElementById("start-status");
const submit = document.getElementById("start-button");
const FIELDS = ["strategy_id", "broker_connection_id", "date", "to", "speed_multiplier", "mode", "fills_at"];

function underlying() {
  const option = form.strategy_id.selectedOptions[0];
  return option ? option.dataset.underlying : "";
}

/** What the form knows of a day: a trading day of the strategy's market? data stored for its underlying? */
function describeDay(value) {
  if (!value) return {text: "", bad: false};
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return {text: "Use a date (YYYY-MM-DD).", bad: true};
  const name = exchangeDate(value);
  const {calendar: calName, synthetic} = info();
  const cal = calendars[calName] || calendars.NSE;
  if (value > calendar.last) return {text: `${name} has not ended yet: choose a past trading day.`, bad: true};
  if (calName === "NSE" && value < calendar.first) return {text: `${name}: the server checks days this far back.`, bad: false};
  if (!isTradingDay(value, cal)) {
    return {text: `${name} is not a trading day (a weekend or ${calName === "NSE" ? "exchange" : "market"} holiday).`, bad: true};
  }
  const stored = calendar.stored[value] || [];
  const u = underlying();
  const day = Object.hasOwn(cal.special, value) ? `trading day (a special session, ${cal.special[value]} IST)`
    : cal.hours ? `trading day (${cal.hours})` : "trading day";
  if (u ? stored.includes(u) : stored.length) return {text: `${name}: ${day}, market data stored.`, bad: false};
  if (!synthetic) return {text: `${name}: ${day}, but no ${u} data is stored: import it first (manage.py import_market_data).`, bad: true};
  return {text: `${name}: ${day}, no data stored yet; it will be generated (synthetic).`, bad: false};
}

function showDay(input) {
  const out = document.getElementById(`${input.id}-status`);
  const {text, bad} = describeDay(input.value);
  out.textContent = text;
  out.classList.toggle("bad", bad);
}

/** The connection's starting capital, in the currency of the strategy's underlying (the paper account's
 *  capital is taken in it), with its fee model and slippage. */
function showCapital() {
  const option = form.broker_connection_id.selectedOptions[0];
  document.getElementById("capital-help").textContent = option
    ? `Starting capital ${money(option.dataset.capital, marketOf(info()))}; ${option.dataset.costs}` : "";
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
  data.fills_at = form.fills_at.value;
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
form.strategy_id.addEventListener("change", () => { showDay(form.date); showDay(form.to); showCapital(); });
form.broker_connection_id.addEventListener("change", showCapital);
for (const radio of form.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", syncMode);
/** "YYYY-MM-DD" ``days`` calendar days after ``value``. */
function addDays(value, days) {
  const d = new Date(`${value}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// A stored run of days: its first day, and its last (at most the days a session may span) as the last day;
// a strategy on its underlying, if the one chosen is not.
for (const button of document.querySelectorAll("[data-day]")) {
  button.addEventListener("click", () => {
    const wantedUnderlying = button.dataset.underlying;
    if (wantedUnderlying && underlying() !== wantedUnderlying) {
      const option = [...form.strategy_id.options].find((o) => o.dataset.underlying === wantedUnderlying);
      if (option) form.strategy_id.value = option.value;
    }
    form.date.value = button.dataset.day;
    const last = button.dataset.to;
    form.to.value = last ? [last, addDays(button.dataset.day, calendar.max_days - 1)].sort()[0] : "";
    showDay(form.date);
    showDay(form.to);
    showCapital();
    form.date.focus();
  });
}
// /sessions/new?strategy=<id> (the strategy pages' "Run"): that strategy, when it is one of the trader's.
const wanted = new URLSearchParams(window.location.search).get("strategy");
if (wanted && [...form.strategy_id.options].some((o) => o.value === wanted)) form.strategy_id.value = wanted;
showDay(form.date);
showCapital();
syncMode();
