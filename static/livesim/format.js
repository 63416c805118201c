// How the pages show numbers and times: one definition, used by every page module. Its Python twin is
// pages/templatetags/trader.py (the server's first view); tests/pages/test_formatting.py runs both on the
// same cases, worked out by hand.
//
// Money and prices arrive from the API and the stream as decimal strings ("-1234.5", "1.07164") in the
// currency of the session's instrument, with its places (its `price_decimals`); they are formatted from
// the string, never through a float, so the last digit shown is the one sent. What the figures are in
// is a market: {currency, price_decimals, time_zone}, as the session API gives them (NSE below for a
// session or figure that does not say).
//   money(value, market): an amount (P&L, charges, drawdown, capital) in the currency's minor units,
//     rounded half away from zero: "₹1,23,456.50" (Indian grouping), "$1,234.56", "−CHF 12.30".
//   price(value, market): a price (LTP, entry, exit) at the instrument's places: "₹181.60", "$1.07164".
//   exchangeTime(value, market): the instant on the market's clock with its zone's abbreviation:
//     "14:05:09 IST", "09:00:00 EDT"; whatever offset the ISO string carries, and the browser's zone.

export const NSE = Object.freeze({currency: "INR", price_decimals: 2, time_zone: "Asia/Kolkata"});

/** Currencies written with a sign; any other is written with its ISO code and a space ("CHF 12.30"). */
export const CURRENCY_SIGNS = Object.freeze({INR: "₹", USD: "$", EUR: "€", GBP: "£", JPY: "¥"});
/** ISO 4217 minor units of the currencies that do not have two (money is shown with these places). */
export const MINOR_UNITS = Object.freeze({JPY: 0, KRW: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3});

/** A market from anything that carries one (a session card, a session row, a report chart's data), the
 *  NSE's fields where it says nothing. A currency of "" is a sum across currencies: no sign, 2 places. */
export function marketOf(source) {
  const s = source || {};
  return {
    currency: s.currency ?? NSE.currency,
    price_decimals: Number.isInteger(s.price_decimals) ? s.price_decimals : NSE.price_decimals,
    time_zone: s.time_zone || NSE.time_zone,
  };
}

/** Places money of ``currency`` is shown with (ISO 4217 minor units; 2 when not listed). */
export function moneyPlaces(currency) {
  return Object.hasOwn(MINOR_UNITS, currency) ? MINOR_UNITS[currency] : 2;
}

/** Group an unsigned integer string the Indian way: 12,34,56,789. */
export function indianGroup(digits) {
  if (digits.length <= 3) return digits;
  const last3 = digits.slice(-3);
  let head = digits.slice(0, -3);
  const parts = [];
  while (head.length > 2) {
    parts.unshift(head.slice(-2));
    head = head.slice(0, -2);
  }
  if (head) parts.unshift(head);
  return `${parts.join(",")},${last3}`;
}

/** Group an unsigned integer string in threes: 1,234,567. */
export function westernGroup(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const groupFor = (currency) => (currency === "INR" ? indianGroup : westernGroup);

/** ``text`` (a plain decimal) rounded half away from zero to ``places``: {negative, whole, fraction, nonZero}. */
function rounded(text, places) {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return null;
  const digits = `${m[2] || "0"}${((m[3] || "") + "0".repeat(places + 1)).slice(0, places + 1)}`;
  let units = BigInt(digits.slice(0, -1));
  if (digits.slice(-1) >= "5") units += 1n;
  const padded = units.toString().padStart(places + 1, "0");
  const whole = places ? padded.slice(0, -places) : padded;
  return {negative: m[1] === "-" && units > 0n, whole, fraction: places ? padded.slice(-places) : "", nonZero: units > 0n};
}

/** An amount of ``currency`` with ``places`` places: its sign or code, the currency's grouping, a real minus
 *  (U+2212), "+" before a gain with ``sign``; "—" for null/undefined/"". The core of money and price. */
export function amount(value, {currency = NSE.currency, places = 2, sign = false} = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const text = typeof value === "number" ? value.toFixed(Math.max(places, 0) + 1) : String(value).trim();
  const r = rounded(text, places);
  if (!r) return text;
  const mark = Object.hasOwn(CURRENCY_SIGNS, currency) ? CURRENCY_SIGNS[currency] : currency ? `${currency} ` : "";
  const prefix = r.negative ? "−" : sign && r.nonZero ? "+" : "";
  return `${prefix}${mark}${groupFor(currency)(r.whole)}${places ? `.${r.fraction}` : ""}`;
}

/** Money (P&L, charges, drawdown, capital) of ``market`` at its currency's minor units. */
export function money(value, market = NSE, {sign = false} = {}) {
  const {currency} = marketOf(market);
  return amount(value, {currency, places: moneyPlaces(currency), sign});
}

/** A price (LTP, entry, exit, stop) of ``market``'s instrument at its places. */
export function price(value, market = NSE) {
  const {currency, price_decimals: places} = marketOf(market);
  return amount(value, {currency, places});
}

/** "profit", "loss" or "" for a decimal string or number: the class that colours a P&L figure. */
export function pnlClass(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "";
  return n > 0 ? "profit" : "loss";
}

/** An integer grouped as ``market``'s money is ("1,50,000" on the NSE, "150,000" elsewhere); quantities and counts. */
export function count(value, market = NSE) {
  if (value === null || value === undefined || value === "") return "—";
  const text = String(value);
  const negative = text.startsWith("-");
  const digits = text.replace(/^[+-]/, "");
  return /^\d+$/.test(digits) ? `${negative ? "−" : ""}${groupFor(marketOf(market).currency)(digits)}` : text;
}

// ---------------------------------------------------------------------------------------------- time

const zones = new Map();  // IANA name -> its formatters, made once
function formatsOf(zone) {
  if (!zones.has(zone)) {
    zones.set(zone, {
      time: new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
        hourCycle: "h23"}),
      // Assembled from parts as "29 Oct 2024": en-US's months are Python's %b ("Sep"; en-IN writes "Sept").
      date: new Intl.DateTimeFormat("en-US", {timeZone: zone, day: "2-digit", month: "short", year: "numeric"}),
      name: new Intl.DateTimeFormat("en-US", {timeZone: zone, timeZoneName: "short"}),
      parts: new Intl.DateTimeFormat("en-US", {timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric",
        day: "numeric", hour: "numeric", minute: "numeric", second: "numeric"}),
      offsets: new Map(),
    });
  }
  return zones.get(zone);
}

/** "29 Oct 2024": Date ``d`` on ``zone``'s calendar. */
function dayOf(d, zone) {
  const p = Object.fromEntries(formatsOf(zone).date.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.day} ${p.month} ${p.year}`;
}

function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The abbreviation of ``zone`` at Date ``d``: "IST" for India, else the short name a US reader knows
 *  ("EST", "EDT", "UTC"), as Python's tzdata gives them. */
export function zoneName(d, zone) {
  if (zone === "Asia/Kolkata") return "IST";
  const part = formatsOf(zone).name.formatToParts(d).find((p) => p.type === "timeZoneName");
  return part ? part.value : zone;
}

/** Seconds ``zone``'s clock is ahead of UTC at epoch second ``t`` (19800 for IST, -14400 for EDT). Offsets
 *  change at most at a quarter of an hour, so each quarter is worked out once. */
export function zoneOffset(t, zone = NSE.time_zone) {
  if (zone === "Asia/Kolkata") return 19800;
  if (zone === "UTC" || zone === "Etc/UTC") return 0;
  const formats = formatsOf(zone);
  const key = Math.floor(t / 900);
  if (!formats.offsets.has(key)) {
    const at = key * 900;
    const p = Object.fromEntries(formats.parts.formatToParts(new Date(at * 1000)).map((x) => [x.type, Number(x.value)]));
    formats.offsets.set(key, Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000 - at);
  }
  return formats.offsets.get(key);
}

/** Epoch second ``t`` as a chart time: the market's wall clock read as UTC (lightweight-charts shows its
 *  times as UTC), so the axis reads exchange time. */
export function chartTime(t, zone = NSE.time_zone) {
  return t + zoneOffset(t, zone);
}

/** The epoch second whose chart time is ``c`` (the inverse of chartTime, away from a clock change). */
export function fromChartTime(c, zone = NSE.time_zone) {
  return c - zoneOffset(c - zoneOffset(c, zone), zone);
}

/** "14:05:09 IST", "09:00:00 EDT" from epoch seconds or an ISO string: the market's clock whatever the
 *  browser's zone and whatever offset the string carries. */
export function exchangeTime(value, market = NSE) {
  const d = toDate(value);
  if (!d) return "—";
  const zone = marketOf(market).time_zone;
  return `${formatsOf(zone).time.format(d)} ${zoneName(d, zone)}`;
}

/** "30 Oct 2024 14:05:09 IST": exchangeTime with its day on the market's clock, for what spans days. */
export function exchangeDateTime(value, market = NSE) {
  const d = toDate(value);
  if (!d) return "—";
  return `${dayOf(d, marketOf(market).time_zone)} ${exchangeTime(d.getTime() / 1000, market)}`;
}

/** "29 Oct 2024" from epoch seconds or an ISO date-time (its day on the market's clock), or a plain
 *  "YYYY-MM-DD" (a trading day, as it is). */
export function exchangeDate(value, market = NSE) {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return dayOf(new Date(`${value}T12:00:00Z`), "UTC");
  }
  const d = toDate(value);
  return d ? dayOf(d, marketOf(market).time_zone) : "—";
}
