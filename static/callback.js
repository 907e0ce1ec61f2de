// The form: a day and a time for the chosen topic, only that topic's wait, and the error summary
// focused after a refused post so a screen reader reads every problem at once.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("slot-data").textContent);
  var text = JSON.parse(document.getElementById("slot-words").textContent);
  var topic = document.getElementById("topic");
  var slotField = document.getElementById("slot-field");
  var radios = document.querySelectorAll("input[name=when]");
  var picker = new window.DayTimePicker(document.getElementById("day"), document.getElementById("slot"));

  function chosenWhen() {
    var checked = document.querySelector("input[name=when]:checked");
    return checked ? checked.value : "asap";
  }

  function fillSlots() {
    var days = data[topic.value] || [];
    picker.load(days, topic.value ? text.none : text.choose_topic);
    document.querySelectorAll(".queues li").forEach(function (li) {
      li.hidden = Boolean(topic.value) && li.dataset.topic !== topic.value;
    });
  }

  function toggleSlot() {
    slotField.hidden = chosenWhen() !== "slot";
  }

  topic.addEventListener("change", fillSlots);
  radios.forEach(function (r) { r.addEventListener("change", toggleSlot); });
  fillSlots();
  toggleSlot();

  // One post per click: a double click or tap would send the form twice. The server knows a second
  // post of this form as the same person's anyway (its form_id); this saves the round trip.
  var form = document.getElementById("callback-form");
  var button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", function (event) {
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.setAttribute("aria-disabled", "true");
  });
  // Back from the status page, the browser may show this page as it was left: with the button off,
  // and with the topic and the choice of when put back without a change event, after the lists above
  // were drawn for no topic.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.removeAttribute("aria-disabled");
    fillSlots();
    toggleSlot();
  });

  var summary = document.getElementById("error-summary") || document.getElementById("notice");
  if (summary) { summary.focus(); }
  // A link in the summary moves to its field, as a label would.
  document.querySelectorAll("#error-summary a[href^='#']").forEach(function (a) {
    a.addEventListener("click", function (event) {
      var field = document.getElementById(a.getAttribute("href").slice(1));
      if (field) { event.preventDefault(); field.focus(); }
    });
  });
})();
