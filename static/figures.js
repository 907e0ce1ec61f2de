// The figures page's hourly charts, drawn with Chart.js (static/vendor/chart.min.js) from the JSON the
// page carries in <script type="application/json" id="figures-data"> (no inline script: the CSP forbids it).
// Without the bundle or the data the page keeps its tables, which hold the same numbers. It also ties the
// date fields to the "From … to …" choice.
(function () {
  "use strict";
  // Typing a date means a range: pick "From … to …" so the dates are not silently ignored.
  var range = document.querySelector('input[name="period"][value="range"]');
  ["from", "to"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field && range) {
      field.addEventListener("change", function () {
        range.checked = true;
      });
    }
  });

  var source = document.getElementById("figures-data");
  if (!source || typeof window.Chart !== "function") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // Animations only delay the chart for people who asked for less motion.
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: still ? false : { duration: 300 },
    plugins: { legend: { position: "bottom" } },
  };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) {
      new window.Chart(canvas, config);
      canvas.dataset.drawn = "true";
    }
  }

  draw("chart-requests", {
    type: "bar",
    data: {
      labels: data.hours,
      datasets: [
        { label: "Offered", data: data.offered, backgroundColor: "#8fa8d8" },
        { label: "Completed", data: data.completed, backgroundColor: "#1f7a3d" },
      ],
    },
    options: Object.assign({}, common, {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Requests" } } },
    }),
  });

  draw("chart-speed", {
    type: "line",
    data: {
      labels: data.hours,
      datasets: [
        {
          label: "Average speed of answer (minutes)",
          data: data.speed_of_answer_minutes,
          borderColor: "#0b3fa8",
          backgroundColor: "#0b3fa8",
          spanGaps: true,
        },
      ],
    },
    options: Object.assign({}, common, {
      scales: { y: { beginAtZero: true, title: { display: true, text: "Minutes" } } },
    }),
  });
})();
