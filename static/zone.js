// Tells the server the browser's time zone (the `tz` cookie, read by callback.words.customer_zone),
// so every time on the customer's pages is in their own zone. If this page was drawn in another zone
// (a first visit), a GET page is drawn again once; a page answering a form post is left as it is.
(function () {
  "use strict";
  var script = document.currentScript;
  var shown = script ? script.getAttribute("data-zone") : "";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\/-]{1,64}$/.test(zone)) { return; }
  var match = document.cookie.match(/(?:^|; )tz=([^;]*)/);
  if (!match || match[1] !== zone) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
  var redrawn = "tz-redrawn:" + zone;
  if (shown && shown !== zone && script.getAttribute("data-get") === "1" && !sessionStorage.getItem(redrawn)) {
    sessionStorage.setItem(redrawn, "1");
    window.location.reload();
  }
})();
