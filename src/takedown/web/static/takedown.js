// Takedown workspace: reveal one blurred item on a deliberate click. No other script.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target;
  if (!(button instanceof HTMLButtonElement) || !button.classList.contains("reveal")) {
    return;
  }
  var media = document.getElementById(button.dataset.target || "");
  if (!media) {
    return;
  }
  var hidden = media.classList.contains("blurred");
  media.classList.toggle("blurred", !hidden);
  media.classList.toggle("revealed", hidden);
  button.textContent = hidden ? "Blur again" : "Show this item";
  button.setAttribute("aria-pressed", hidden ? "true" : "false");
});
