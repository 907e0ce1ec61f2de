// Fills the time picker with the chosen topic's bookable slots and shows only that topic's wait.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("slot-data").textContent);
  var topic = document.getElementById("topic");
  var slot = document.getElementById("slot");
  var slotField = document.getElementById("slot-field");
  var radios = document.querySelectorAll("input[name=when]");

  function chosenWhen() {
    var checked = document.querySelector("input[name=when]:checked");
    return checked ? checked.value : "asap";
  }

  function fillSlots() {
    var previous = slot.value;
    var list = data[topic.value] || [];
    slot.innerHTML = "";
    if (!topic.value) {
      slot.add(new Option("Choose a topic first", ""));
    } else if (list.length === 0) {
      slot.add(new Option("No times available in the next 7 days", ""));
    }
    list.forEach(function (s) {
      slot.add(new Option(s.label, s.value, false, s.value === previous));
    });
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
})();
