// The history page: "Compare selected" is on only when exactly two sessions are ticked, and says so.
// Without this script the form still works: the compare page answers a wrong count with a 400 that says why.
const form = document.getElementById("compare-form");
if (form) {
  const button = document.getElementById("compare-selected");
  const hint = document.getElementById("compare-hint");
  const boxes = () => [...form.querySelectorAll('input[type="checkbox"][name="session"]')];

  function update() {
    const picked = boxes().filter((b) => b.checked).length;
    button.disabled = picked !== 2;
    hint.textContent = picked === 2 ? "Two sessions ticked." :
      picked < 2 ? `Tick two sessions to compare them (${picked} ticked).` :
        `Compare takes exactly two sessions (${picked} ticked).`;
  }

  form.addEventListener("change", update);
  // Compare's own address names the two as a and b, so the link can be kept and shared.
  form.addEventListener("submit", (event) => {
    const [a, b] = boxes().filter((x) => x.checked).map((x) => x.value);
    if (!a || !b) return;
    event.preventDefault();
    window.location.assign(`${form.action}?${new URLSearchParams({a, b})}`);
  });
  update();
}
