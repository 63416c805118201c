// How the pages show numbers and times: one definition, used by every page module.
// Money arrives from the API and the stream as decimal strings in rupees ("-1234.5", "98765.25");
// it is formatted from the string, never through a float, so the paisa shown is the paisa sent.

const IST = "Asia/Kolkata";

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

/** "₹1,23,456.50" / "−₹1,234.00" from a decimal string or number of rupees; "—" for null/undefined/"". */
export function rupees(value, { sign = false } = {}) {
  if (value === null || value === undefined || value === "") return "—";
  let text = typeof value === "number" ? value.toFixed(2) : String(value).trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return text;
  const negative = match[1] === "-" && /[1-9]/.test(match[2] + (match[3] || ""));
  const whole = indianGroup((match[2] || "0").replace(/^0+(?=\d)/, ""));
  const fraction = ((match[3] || "") + "00").slice(0, 2);
  const prefix = negative ? "−" : sign && /[1-9]/.test(match[2] + (match[3] || "")) ? "+" : "";
  return `${prefix}₹${whole}.${fraction}`;
}

/** "profit", "loss" or "" for a decimal string or number: the class that colours a P&L figure. */
export function pnlClass(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "";
  return n > 0 ? "profit" : "loss";
}

/** An integer with Indian grouping ("1,50,000"); quantities and counts. */
export function count(value) {
  if (value === null || value === undefined || value === "") return "—";
  const text = String(value);
  const negative = text.startsWith("-");
  const digits = text.replace(/^[+-]/, "");
  return /^\d+$/.test(digits) ? `${negative ? "−" : ""}${indianGroup(digits)}` : text;
}

const timeFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: IST, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const dateFormat = new Intl.DateTimeFormat("en-IN", { timeZone: IST, day: "2-digit", month: "short", year: "numeric" });

function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "14:05:09 IST" from epoch seconds or an ISO string; exchange (IST) time whatever the browser's zone. */
export function istTime(value) {
  const d = toDate(value);
  return d ? `${timeFormat.format(d)} IST` : "—";
}

/** "30 Oct 2024 14:05:09 IST": istTime with its IST day, for what spans more than one trading day. */
export function istDateTime(value) {
  const d = toDate(value);
  return d ? `${dateFormat.format(d)} ${istTime(d.getTime() / 1000)}` : "—";
}

/** "29 Oct 2024" from epoch seconds, an ISO date-time or a plain "YYYY-MM-DD" (taken as that IST day). */
export function istDate(value) {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) value = `${value}T12:00:00+05:30`;
  const d = toDate(value);
  return d ? dateFormat.format(d) : "—";
}
