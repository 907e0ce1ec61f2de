// A day picker and a time-of-day picker instead of one long list: the time <select> comes grouped by
// day (<optgroup data-day label="Monday, November 30">), which is what a browser without JavaScript
// shows; here the days move into their own <select> and the times list only the chosen day's.
(function () {
  "use strict";

  function Picker(daySelect, timeSelect) {
    this.day = daySelect;
    this.time = timeSelect;
    this.days = [];
    this.field = daySelect.closest(".day-field");
    var self = this;
    daySelect.addEventListener("change", function () { self.showDay(""); });
  }

  // days: [{day: "2026-11-30", label: "Monday, November 30", times: [{value, label}]}]
  Picker.prototype.load = function (days, emptyText) {
    var previous = this.time.value;
    this.days = days;
    this.emptyText = emptyText || "";
    this.day.innerHTML = "";
    var chosenDay = "";
    days.forEach(function (d) {
      this.day.add(new Option(d.label, d.day));
      d.times.forEach(function (t) { if (t.value === previous) { chosenDay = d.day; } });
    }, this);
    if (chosenDay) { this.day.value = chosenDay; }
    if (this.field) { this.field.hidden = days.length === 0; }
    this.showDay(previous);
  };

  Picker.prototype.showDay = function (previous) {
    var chosen = this.day.value;
    this.time.innerHTML = "";
    var day = this.days.filter(function (d) { return d.day === chosen; })[0];
    if (!day) {
      this.time.add(new Option(this.emptyText, ""));
      return;
    }
    day.times.forEach(function (t) {
      this.time.add(new Option(t.label, t.value, false, t.value === previous));
    }, this);
  };

  Picker.fromMarkup = function (daySelect, timeSelect) {
    var days = [];
    timeSelect.querySelectorAll("optgroup").forEach(function (group) {
      var times = [];
      group.querySelectorAll("option").forEach(function (o) { times.push({ value: o.value, label: o.textContent }); });
      days.push({ day: group.getAttribute("data-day"), label: group.label, times: times });
    });
    var picker = new Picker(daySelect, timeSelect);
    picker.load(days, "");
    return picker;
  };

  window.DayTimePicker = Picker;

  // The status page's "Change of plans?" picker; status.js calls this again when it puts in a fresh
  // copy of that section (a status change), whose time <select> comes grouped by day once more.
  Picker.setUpReschedule = function () {
    var rsDay = document.getElementById("rs-day");
    var rsSlot = document.getElementById("rs-slot");
    if (rsDay && rsSlot) { Picker.fromMarkup(rsDay, rsSlot); }
  };
  Picker.setUpReschedule();
})();
