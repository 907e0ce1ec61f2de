// A form with data-confirm asks before it is sent ("Disable Alice Moreau? ..."): a one-click action that
// takes someone off the line is not taken by a slip. Without JavaScript the form is sent as before.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
