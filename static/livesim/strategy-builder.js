// The strategy form (/strategies/new, /strategies/<id>/edit): add and remove legs (the Django formset's
// rows, renumbered so their names stay legs-0..legs-N-1), and show only the fields that apply: option
// fields for option legs, the parts of a condition its operand type uses, the entry time or condition
// for the chosen way of entering, a positional strategy's square-off. Without this script every field shows and the form still works.
const form = document.getElementById("builder-form");
const legs = document.getElementById("legs");
const template = document.getElementById("leg-template");
const total = form.querySelector("[name=legs-TOTAL_FORMS]");
const maxLegs = Number(form.querySelector("[name=legs-MAX_NUM_FORMS]").value);

const OPERAND_PARTS = {
  value: ["value"],
  indicator: ["indicator", "period", "timeframe"],
  candle: ["timeframe", "field", "at"],
};
const OPTION_FIELDS = ["expiry", "right", "strike_rule", "strike_offset", "strike_premium"];

function show(el, visible) {
  if (el) el.hidden = !visible;
}

/** Rename every legs-<n>- (and the template's __prefix__) to the row's position, and renumber titles. */
function renumber() {
  const rows = [...legs.querySelectorAll("[data-leg]")];
  rows.forEach((row, i) => {
    for (const el of row.querySelectorAll("[name], [id], [for], [aria-describedby]")) {
      for (const attr of ["name", "id", "for", "aria-describedby"]) {
        const v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/legs-(\d+|__prefix__)-/g, `legs-${i}-`));
      }
    }
    for (const n of row.querySelectorAll("[data-leg-number]")) n.textContent = String(i + 1);
    row.querySelector("[data-remove-leg]").hidden = rows.length === 1;
  });
  total.value = String(rows.length);
  document.getElementById("add-leg").disabled = rows.length >= maxLegs;
}

function field(scope, name) {
  return scope.querySelector(`[data-field="${name}"]`);
}

function updateLeg(row) {
  const option = row.querySelector("[name$=-instrument]").value === "option";
  for (const name of OPTION_FIELDS) show(field(row, name), option);
  const rule = row.querySelector("[name$=-strike_rule]").value;
  if (option) {
    show(field(row, "strike_offset"), rule !== "premium");
    show(field(row, "strike_premium"), rule === "premium");
  }
  for (const risk of ["stop", "target", "trail"]) {
    show(field(row, `${risk}_value`), row.querySelector(`[name$=-${risk}_type]`).value !== "");
  }
}

function updateOperand(box) {
  const type = box.querySelector("[name$=_type]").value;
  const prefix = box.dataset.operand;
  const parts = OPERAND_PARTS[type] || [];
  for (const el of box.querySelectorAll("[data-field]")) {
    const part = el.dataset.field.slice(prefix.length + 1);
    show(el, part === "type" || parts.includes(part));
  }
}

/** The value a field holds now: a radio group's checked one, a select's or an input's. */
function valueOf(name) {
  const inputs = [...form.querySelectorAll(`[name=${name}]`)];
  if (inputs[0]?.type === "radio") return inputs.find((i) => i.checked)?.value;
  return inputs[0]?.value;
}

/** Show what applies: `data-show-when="exit_enabled"` while the box is checked, `"holding=positional"`
 *  while the field holds that value. */
function updateSections() {
  for (const el of form.querySelectorAll("[data-show-when]")) {
    const [name, value] = el.dataset.showWhen.split("=");
    show(el, value === undefined ? form.querySelector(`[name=${name}]`).checked : valueOf(name) === value);
  }
  const quantity = form.querySelector("[name=exit_quantity]").value;
  show(field(form, "exit_quantity_value"), quantity !== "all");
}

function updateAll() {
  legs.querySelectorAll("[data-leg]").forEach(updateLeg);
  form.querySelectorAll("[data-operand]").forEach(updateOperand);
  updateSections();
}

document.getElementById("add-leg").addEventListener("click", () => {
  const row = template.content.firstElementChild.cloneNode(true);
  legs.append(row);
  renumber();
  updateLeg(row);
  row.querySelector("select, input").focus();
});

legs.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove-leg]");
  if (!button) return;
  const rows = legs.querySelectorAll("[data-leg]");
  if (rows.length === 1) return;
  const row = button.closest("[data-leg]");
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  renumber();
  next?.querySelector("select, input")?.focus();
});

form.addEventListener("change", (event) => {
  const row = event.target.closest("[data-leg]");
  if (row) updateLeg(row);
  const operand = event.target.closest("[data-operand]");
  if (operand) updateOperand(operand);
  updateSections();
});

// Money and price labels name the currency of the chosen underlying ("Strategy max loss (₹)", "($)" for
// EURUSD): the server writes the one it was given; a change of underlying rewrites them here.
const signs = JSON.parse(document.getElementById("currency-signs").textContent);
const underlyingSelect = form.querySelector("[name=underlying]");
let sign = signs[underlyingSelect?.value] || "₹";

function writeSign(next) {
  const swap = (text) => text.replaceAll(`(${sign})`, `(${next})`).replace(`A number, ${sign} or`, `A number, ${next} or`);
  for (const root of [form, template.content]) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = swap(node.nodeValue);
      if (text !== node.nodeValue) node.nodeValue = text;
    }
  }
  sign = next;
}
underlyingSelect?.addEventListener("change", () => writeSign(signs[underlyingSelect.value] || "₹"));

// Time fields are on the chosen underlying's clock (the server's clock_of: 09:15-15:29 on the NSE, any time of
// day for a market open around the clock), with the start time's help saying which; rewritten here too.
const clocks = JSON.parse(document.getElementById("underlying-clocks").textContent);
underlyingSelect?.addEventListener("change", () => {
  const clock = clocks[underlyingSelect.value];
  if (!clock) return;
  for (const root of [form, template.content]) {
    for (const input of root.querySelectorAll("input[type=time]")) Object.assign(input, {min: clock.min, max: clock.max});
  }
  const help = document.getElementById("id_start_time_helptext");
  if (help) help.textContent = clock.help;
});

renumber();
updateAll();

// Leaving with unsaved changes asks first, as the JSON editor does. A page re-shown with errors, or opened
// from the JSON editor, is unsaved from the start; Save and "Open in JSON editor" (submits) carry the fields.
const snapshot = () => new URLSearchParams(new FormData(form)).toString();
const opened = snapshot();
let submitting = false;
form.addEventListener("submit", () => { submitting = true; });
window.addEventListener("beforeunload", (event) => {
  if (!submitting && (form.dataset.unsaved === "true" || snapshot() !== opened)) event.preventDefault();
});
