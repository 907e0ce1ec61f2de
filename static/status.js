// Keeps the status page current: polls the JSON API and reloads when the status changes.
(function () {
  "use strict";
  var card = document.getElementById("status-card");
  var url = card.dataset.api;
  var shown = card.dataset.status;

  function minutes(seconds) { return Math.max(1, Math.ceil(seconds / 60)); }

  function refresh() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        if (body.status !== shown) { window.location.reload(); return; }
        var position = document.getElementById("position");
        if (position && body.position !== null) {
          position.textContent = body.position === 0 ? "You're next"
            : body.position + (body.position === 1 ? " person" : " people") + " ahead of you";
        }
        var wait = document.getElementById("wait");
        if (wait && body.estimated_wait_seconds !== null) {
          wait.textContent = "about " + minutes(body.estimated_wait_seconds) + " minutes";
        }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  window.setInterval(refresh, 10000);
})();
