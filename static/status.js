// Keeps the status page current: reads the page again every 10 s and puts in what changed, telling
// screen readers politely (#live) about a new status or a new place in line, never the whole page.
(function () {
  "use strict";
  var timer = null;

  function text(doc, id) {
    var el = doc.getElementById(id);
    return el ? el.textContent.trim() : null;
  }

  function announce(words) {
    var live = document.getElementById("live");
    if (live && words) { live.textContent = words; }
  }

  // Where focus was, said so that the same control can be found in a fresh copy of the page.
  function focusKey(el) {
    if (!el || el === document.body) { return null; }
    if (el.id) { return "#" + el.id; }
    var text = el.textContent.replace(/\s+/g, " ").trim();
    return el.tagName + "|" + (el.getAttribute("href") || el.getAttribute("value") || "") + "|" + text;
  }

  function findByKey(root, key) {
    if (!key) { return null; }
    if (key.charAt(0) === "#") { return document.getElementById(key.slice(1)); }
    var found = null;
    root.querySelectorAll("a, button, select, input").forEach(function (el) {
      if (!found && focusKey(el) === key) { found = el; }
    });
    return found;
  }

  function swap(doc, id) {
    var fresh = doc.getElementById(id);
    var old = document.getElementById(id);
    if (!fresh || !old) { return; }
    // A keyboard user's place survives the swap: the same control in the new copy takes the focus.
    var key = old.contains(document.activeElement) ? focusKey(document.activeElement) : null;
    var copy = document.importNode(fresh, true);
    old.replaceWith(copy);
    var again = findByKey(copy, key);
    if (again) { again.focus(); } else if (key) { copy.setAttribute("tabindex", "-1"); copy.focus(); }
  }

  // The status page's own address: a refused change draws the page at the form's (POST) address,
  // which cannot be read again, so the refresh and the address bar both go back to the status page.
  var card = document.getElementById("status-card");
  var url = (card && card.dataset.url) || window.location.pathname;
  if (window.location.pathname !== url && window.history.replaceState) {
    window.history.replaceState(null, "", url);
  }

  function refresh() {
    fetch(url, { headers: { Accept: "text/html" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var card = doc.getElementById("status-card");
        var shown = document.getElementById("status-card");
        if (!card || !shown) { return; }
        if (card.dataset.status !== shown.dataset.status) {
          swap(doc, "status-card");
          swap(doc, "actions");
          if (window.DayTimePicker) { window.DayTimePicker.setUpReschedule(); }
          announce(text(doc, "status-words"));
          if (["queued", "retry_wait", "dialing", "connecting", "connected"].indexOf(card.dataset.status) < 0) {
            window.clearInterval(timer);
          }
          return;
        }
        var said = [];
        ["status-words", "scheduled", "position", "wait"].forEach(function (id) {
          var now = text(doc, id);
          var el = document.getElementById(id);
          if (el && now !== null && el.textContent.trim() !== now) {
            el.textContent = now;
            if (id !== "wait") { said.push(now); }
          }
        });
        announce(said.join(". "));
        // The call history and the count of calls change within one status too (a retry, a press of 1):
        // the card is replaced quietly so it never contradicts the headline above it.
        var squeeze = function (node) { return node.textContent.replace(/\s+/g, " ").trim(); };
        if (squeeze(card) !== squeeze(document.getElementById("status-card"))) { swap(doc, "status-card"); }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  timer = window.setInterval(refresh, 10000);
})();
