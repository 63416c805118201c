// Figures the pages derive from the API's and the stream's money strings: one definition each, exact
// (integer minor units, never a float), used by the dashboard and the session page alike. Amounts carry
// the places of the session's instrument (``price_decimals``: 2 for the rupee's paise, 5 for EURUSD).

/** Integer minor units of a decimal string with ``places`` places ("-27.64" -> -2764; "0.00250", 5 ->
 *  250), exact: no float on the way. */
export function minorUnits(value, places = 2) {
  const m = /^(-?)(\d*)(?:\.(\d*))?/.exec(String(value ?? "0"));
  const n = Number(m[2] || "0") * 10 ** places + Number(((m[3] || "") + "0".repeat(places)).slice(0, places) || "0");
  return m[1] ? -n : n;
}

/** A decimal string with ``places`` places from integer minor units (the inverse of ``minorUnits``). */
export function fromMinorUnits(n, places = 2) {
  const abs = Math.abs(n);
  const scale = 10 ** places;
  const whole = Math.floor(abs / scale);
  return `${n < 0 ? "-" : ""}${whole}${places ? `.${String(abs % scale).padStart(places, "0")}` : ""}`;
}

/** The charges paid so far, as a decimal string with ``places`` places: the closed trades'
 * (``summary.charges``) and the entry charges of the positions still (partly) open (``positions``: the
 * session's positions, any status). The server's first view computes the same
 * (pages/templatetags/trader.py ``charges_paid``). */
export function chargesPaid(summary, positions, places = 2) {
  const open = positions.filter((p) => p.status !== "CLOSED");
  return fromMinorUnits(open.reduce((sum, p) => sum + minorUnits(p.charges, places), minorUnits(summary?.charges, places)),
    places);
}
