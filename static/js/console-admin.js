// The console's one-time secrets (a new API token, a set-password link): a "Copy"
// button beside the field, shown only when the browser can copy (no inline script: CSP).
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", function (event) {
      var source = document.getElementById(event.currentTarget.getAttribute("data-copy"));
      var target = event.currentTarget;
      navigator.clipboard.writeText(source.value).then(function () {
        target.textContent = target.getAttribute("data-copied");
      });
    });
    field.addEventListener("focus", function (event) {
      event.currentTarget.select();
    });
  }
})();
