// The live board: polls /board/state every second and redraws the alerts, the queues and the agents in
// place, with the same structure templates/board.html draws first. Durations tick between polls. Names
// and messages are set as text, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var POLL_MS = 1000;
  var TIMEOUT_MS = 5000;  // a request that hangs longer is given up, so the next poll can go
  var STATUS_WORDS = {
    available: "Available", away: "Away", offline: "Offline",
    reserved: "Reserved for a call", on_call: "On a call", wrap_up: "Wrapping up"
  };
  var CALL_WORDS = {
    queued: "Waiting to be called", retry_wait: "Waiting to be called again", dialing: "Calling the customer",
    connecting: "Putting the customer through", connected: "Talking"
  };
  var AGENT_COUNTS = [  // reports.board.AGENT_COUNTS
    ["available", "available"], ["reserved", "reserved for a call"], ["on_call", "on a call"],
    ["wrap_up", "wrapping up"], ["away", "away"], ["offline", "offline"]
  ];

  var zone = "UTC";
  var skewMs = 0;  // the server's clock minus ours, so durations agree with the server's
  var drawnAlerts = null;  // the alerts as last drawn, as JSON
  var knownAlerts = {};  // alert key -> severity and message, as last drawn

  function $(id) { return document.getElementById(id); }

  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        // ARIA roles as attributes: not every browser reflects the role property.
        if (k === "role" || k === "scope") { node.setAttribute(k, props[k]); } else { node[k] = props[k]; }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child !== null && child !== undefined) { node.append(child); }
    }
    return node;
  }

  // '45 s', '12 min', '1 h 5 min' (agents.desk.duration_words).
  function durationWords(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) { return seconds + " s"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min"; }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function serverNow() { return Date.now() + skewMs; }

  function parts(moment, options) {
    var found = {};
    new Intl.DateTimeFormat("en-US", Object.assign({timeZone: zone}, options)).formatToParts(moment)
      .forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  // '10:42 EST' today in the shop's zone, else 'Sun 22 Nov, 18:05 EST' (agents.admin.local_time).
  function clockTime(iso, withSeconds) {
    var moment = new Date(iso);
    var p = parts(moment, {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
      weekday: "short", day: "2-digit", month: "short", year: "numeric",
      timeZoneName: "short"});
    var today = parts(new Date(serverNow()), {day: "2-digit", month: "short", year: "numeric"});
    var time = p.hour + ":" + p.minute + (withSeconds ? ":" + p.second : "") + " " + p.timeZoneName;
    if (p.day === today.day && p.month === today.month && p.year === today.year) { return time; }
    return p.weekday + " " + p.day + " " + p.month + ", " + time;
  }

  // A duration that keeps counting from `iso` (tick() updates every one each second).
  function sinceSpan(iso) {
    var span = el("span", {textContent: durationWords((serverNow() - Date.parse(iso)) / 1000)});
    span.dataset.since = iso;
    return span;
  }

  function tick() {
    document.querySelectorAll("#board [data-since]").forEach(function (node) {
      node.textContent = durationWords((serverNow() - Date.parse(node.dataset.since)) / 1000);
    });
  }

  // -- alerts: kept node by node, so a screen reader hears what changed, not the whole list each second --

  function alertKey(alert) { return alert.kind + ":" + (alert.queue || ""); }

  function alertLink(alert) {
    if (alert.kind === "failed_recently" && alert.queue) {
      var query = "?status=failed&queue=" + encodeURIComponent(alert.queue);
      return el("a", {className: "alert-link", href: root.dataset.failedUrl + query,
        textContent: "See the failed requests"});
    }
    if (alert.kind === "nobody_staffed") {
      return el("a", {className: "alert-link", href: root.dataset.agentsUrl, textContent: "See the agents"});
    }
    return null;
  }

  function alertItem(alert) {
    var item = el("li", {className: "alert alert-" + alert.severity},
      el("span", {className: "alert-severity", textContent: alert.severity === "critical" ? "Urgent" : "Check"}),
      " ", el("span", {className: "alert-text", textContent: alert.message}), " ", alertLink(alert));
    item.dataset.key = alertKey(alert);
    return item;
  }

  function drawAlerts(alerts) {
    var list = $("alert-list");
    var existing = {};
    list.querySelectorAll("li[data-key]").forEach(function (item) { existing[item.dataset.key] = item; });
    var now = {};
    alerts.forEach(function (alert, index) {
      var key = alertKey(alert);
      var seen = knownAlerts[key];
      now[key] = alert.severity + " " + alert.message;
      var item = existing[key];
      if (item && seen === now[key]) {
        item.removeAttribute("role");  // seen already: announced once, not again
      } else {
        var fresh = alertItem(alert);
        // Only an alert newly critical interrupts; the rest (and new numbers in one) wait their turn.
        var newlyCritical = alert.severity === "critical" && (!seen || seen.indexOf("critical ") !== 0);
        if (newlyCritical) { fresh.setAttribute("role", "alert"); }
        if (item) { item.replaceWith(fresh); } else { list.append(fresh); }
        item = fresh;
      }
      if (list.children[index] !== item) { list.insertBefore(item, list.children[index] || null); }
    });
    Object.keys(existing).forEach(function (key) { if (!(key in now)) { existing[key].remove(); } });
    knownAlerts = now;
    $("alerts-none").hidden = alerts.length > 0;
  }

  // -- queues: one row each ------------------------------------------------------------------------------

  function cell(id, label, content, className) {
    var td = el("td", {id: id, className: className || ""}, content);
    td.setAttribute("role", "cell");
    td.dataset.label = label;
    return td;
  }

  function agentCounts(q) {
    var present = AGENT_COUNTS.filter(function (pair) { return q.agents[pair[0]]; });
    if (!present.length) { return el("span", {className: "none", textContent: "None"}); }
    return el.apply(null, ["ul", {className: "agent-counts"}].concat(present.map(function (pair) {
      return el("li", {id: "queue-" + q.name + "-" + pair[0], className: "count-" + pair[0]},
        el("b", {textContent: String(q.agents[pair[0]])}), " " + pair[1]);
    })));
  }

  // Rows are kept by id and rebuilt only when what they show changed, and never moved needlessly: a link
  // someone has focused, or a row a screen reader is on, stays put between polls.
  function patch(body, items) {
    var existing = {};
    Array.prototype.forEach.call(body.children, function (row) { existing[row.id] = row; });
    items.forEach(function (item, index) {
      var row = existing[item.id];
      delete existing[item.id];
      if (!row || row.dataset.sig !== item.sig) {
        var fresh = item.build();
        fresh.dataset.sig = item.sig;
        if (row) { row.replaceWith(fresh); }
        row = fresh;
      }
      if (body.children[index] !== row) { body.insertBefore(row, body.children[index] || null); }
    });
    Object.keys(existing).forEach(function (id) { existing[id].remove(); });
  }

  function drawQueues(queues, at) {
    patch($("queues-body"), queues.map(function (q) {
      // The longest wait ticks by itself: what the row shows is when that wait began.
      var from = q.longest_wait_seconds === null ? null
        : new Date(Date.parse(at) - q.longest_wait_seconds * 1000).toISOString();
      var shown = Object.assign({}, q, {longest_wait_seconds: from});
      return {id: "queue-" + q.name, sig: JSON.stringify(shown), build: function () { return queueRow(q, from); }};
    }));
  }

  function queueRow(q, from) {
    var id = "queue-" + q.name;
    var longest = from === null ? "—" : sinceSpan(from);
    var head = el("th", {scope: "row"},
      el("span", {className: "queue-name", textContent: q.display_name}), " ",
      el("span", {id: id + "-open", className: "open-state " + (q.open ? "is-open" : "is-closed"),
        textContent: q.open ? "Open" : "Closed"}));
    head.setAttribute("role", "rowheader");
    var tr = el("tr", {id: id, className: q.open ? "is-open" : "is-closed"}, head,
      cell(id + "-waiting", "Waiting callbacks", String(q.waiting), "big"),
      cell(id + "-holding", "Callers holding", String(q.holding), "big"),
      cell(id + "-longest", "Longest wait", longest, "big"),
      cell(id + "-quoted", "Quoted to a new customer",
        q.quoted_wait_seconds === null ? "No estimate" : durationWords(q.quoted_wait_seconds)),
      cell(id + "-calls", "Calls in progress", String(q.calls_in_progress)),
      cell(id + "-agents", "Agents", agentCounts(q)),
      cell(id + "-scheduled", "Booked for later", String(q.scheduled)),
      cell(id + "-messages", "Messages to hear", String(q.messages)),
      cell(id + "-failed", "Failed in the last hour", String(q.failed_last_hour),
        q.failed_last_hour ? "bad" : ""));
    tr.setAttribute("role", "row");
    return tr;
  }

  // -- agents: one row each -------------------------------------------------------------------------------

  function drawAgents(agents, queues) {
    var names = {};
    queues.forEach(function (q) { names[q.name] = q.display_name; });
    patch($("agents-body"), agents.map(function (a) {
      var sig = JSON.stringify([a, a.queues.map(function (name) { return names[name]; }), names[a.call && a.call.queue]]);
      return {id: "agent-" + a.id, sig: sig, build: function () { return agentRow(a, names); }};
    }));
    $("agents-none").hidden = agents.length > 0;
  }

  function agentRow(a, names) {
    var status = el("td", {role: "cell"},
      el("span", {className: "badge badge-" + a.status, textContent: STATUS_WORDS[a.status] || a.status}), " ",
      a.after_call ? el("span", {className: "badge", textContent: a.after_call}) : null, a.after_call ? " " : null,
      el("span", {className: "since"}, "for ", sinceSpan(a.since), ", since " + clockTime(a.since, false)),
      a.reason ? el("span", {className: "reason", textContent: a.reason}) : null);
    var call;
    if (a.call) {
      call = el("td", {role: "cell"},
        el("a", {href: root.dataset.requestUrl.replace(/\/0$/, "/" + a.call.request_id),
          textContent: a.call.customer}), " ",
        el("span", {className: "call-detail"}, (names[a.call.queue] || a.call.queue) + " · ",
          el("span", {className: "call-status", textContent: CALL_WORDS[a.call.status] || a.call.status}),
          " · ", sinceSpan(a.call.since)));
    } else {
      call = el("td", {role: "cell"}, el("span", {className: "no-call", textContent: "No call"}));
    }
    var queueNames = a.queues.map(function (name) { return names[name] || name; }).join(", ");
    return el("tr", {id: "agent-" + a.id, role: "row"},
      el("th", {scope: "row", role: "rowheader"}, el("span", {className: "agent-name", textContent: a.name}), " ",
        el("span", {className: "agent-queues", textContent: queueNames})),
      status, call);
  }


  function draw(state, first) {
    zone = state.timezone || "UTC";
    skewMs = Date.parse(state.at) - Date.now();
    $("board-updated").textContent = "Updated " + clockTime(state.at, true);
    var alerts = JSON.stringify(state.alerts);
    // The page drew the first alerts itself: redrawing them would announce them all a second time.
    if (alerts !== drawnAlerts && !first) { drawAlerts(state.alerts); }
    drawnAlerts = alerts;
    drawQueues(state.queues, state.at);
    drawAgents(state.agents, state.queues);
    tick();
  }

  // -- polling: one request at a time, paused while the tab is hidden ----------------------------------------

  var timer = null;
  var inFlight = false;
  var lost = false;

  function connection(ok) {
    if (ok === !lost) { return; }
    lost = !ok;
    root.classList.toggle("stale", lost);
    $("board-connection").textContent = lost ? "Connection lost, retrying…" : "";
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = document.hidden ? null : window.setTimeout(poll, delay);
  }

  function poll() {
    if (inFlight || document.hidden) { return; }
    inFlight = true;
    var started = Date.now();
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? window.setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    fetch(root.dataset.stateUrl, {headers: {Accept: "application/json"}, cache: "no-store",
      credentials: "same-origin", signal: abort ? abort.signal : undefined})
      .then(function (response) {
        if (response.status === 401) { window.location.assign(root.dataset.loginUrl); return null; }
        // The role was taken away: the page itself says so.
        if (response.status === 403) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (state) {
        if (state) { draw(state, false); connection(true); }
      })
      .catch(function () { connection(false); })
      .then(function () {
        window.clearTimeout(giveUp);
        inFlight = false;
        schedule(Math.max(0, POLL_MS - (Date.now() - started)));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { window.clearTimeout(timer); timer = null; } else { poll(); }
  });

  try {
    var first = JSON.parse(root.dataset.state);
    document.querySelectorAll("#alert-list li[data-key]").forEach(function (item) {
      var severity = item.classList.contains("alert-critical") ? "critical" : "warning";
      knownAlerts[item.dataset.key] = severity + " " + item.querySelector(".alert-text").textContent;
    });
    draw(first, true);
  } catch (e) { /* the first poll draws it */ }
  window.setInterval(tick, 1000);
  schedule(POLL_MS);
})();
