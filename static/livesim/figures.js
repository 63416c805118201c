// Figures the pages derive from the API's and the stream's money strings: one definition each, exact
// (integer paise, never a float), used by the dashboard and the session page alike.

/** Integer paise of a decimal rupee string ("-27.64" -> -2764), exact: no float on the way. */
export function paise(value) {
  const m = /^(-?)(\d*)(?:\.(\d{0,2}))?/.exec(String(value ?? "0"));
  const n = Number(m[2] || "0") * 100 + Number(((m[3] || "") + "00").slice(0, 2));
  return m[1] ? -n : n;
}

/** A decimal rupee string from integer paise (the inverse of ``paise``). */
export function fromPaise(n) {
  const abs = Math.abs(n);
  return `${n < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** The charges paid so far, as a rupee string: the closed trades' (``summary.charges``) and the entry
 * charges of the positions still (partly) open (``positions``: the session's positions, any status).
 * The server's first view computes the same (pages/templatetags/trader.py ``charges_paid``). */
export function chargesPaid(summary, positions) {
  const open = positions.filter((p) => p.status !== "CLOSED");
  return fromPaise(open.reduce((sum, p) => sum + paise(p.charges), paise(summary?.charges)));
}
