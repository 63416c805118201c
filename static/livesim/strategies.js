// The strategy pages (/strategies/, a strategy's page, a version's page): the graph drawn with the session
// page's drawing module (elkjs), and a confirmation dialog before a delete form is sent.
import {drawGraph} from "/static/livesim/graph-drawing.js";

const box = document.getElementById("strategy-graph");
if (box) {
  const graph = JSON.parse(document.getElementById("strategy-graph-data").textContent);
  drawGraph(box, graph, {label: box.dataset.label}).then(() => {
    // On a narrow screen the graph scrolls inside its box: start with the controller's column in view.
    box.scrollLeft = Math.max(0, (box.scrollWidth - box.clientWidth) / 2);
    box.dataset.ready = "true";
  });
}

// A delete form asks first (the dashboard's stop-all dialog does the same); without scripts it is sent as is.
const dialog = document.getElementById("delete-strategy-dialog");
let pending = null;
for (const form of document.querySelectorAll("form[data-confirm-delete]")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.confirmed === "true") return;
    event.preventDefault();
    pending = form;
    document.getElementById("delete-strategy-name").textContent = form.dataset.confirmDelete;
    dialog.returnValue = "";
    dialog.showModal();
  });
}
dialog?.addEventListener("close", () => {
  if (dialog.returnValue === "confirm" && pending) {
    pending.dataset.confirmed = "true";
    pending.requestSubmit();
  }
  pending = null;
});
