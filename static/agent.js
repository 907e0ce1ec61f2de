// The agent's console: polls /agent/state every second and redraws status, the screen pop, the wrap-up
// form and today's calls in place. Everything the customer typed or said is set as text, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var stateUrl = root.dataset.stateUrl;
  var wrapUpUrl = root.dataset.wrapUpUrl;
  var callUrl = root.dataset.callUrl;
  var POLL_MS = 1000;
  var TITLE = document.title;
  var wrapUpFor = null;  // the request the wrap-up form is filled in for: never wipe what is being typed
  var wrapUpName = "";   // ... and whose it is, to name in "save it first"
  var wrapUpEdited = false;  // the agent changed the form since it was drawn: keep it until they save it
  var heldNote = "";  // a note about the form that stays until the agent acts (their draft, a refused save)

  function $(id) { return document.getElementById(id); }

  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) { Object.keys(props).forEach(function (k) { node[k] = props[k]; }); }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child !== null && child !== undefined) { node.append(child); }
    }
    return node;
  }

  function forRequest(template, id) { return template.replace("/0", "/" + id); }

  // A live region is announced when its text is set, even to the same words: set only on a change.
  function say(node, text) { if (node.textContent !== text) { node.textContent = text; } }

  // What was said after the last change stays until the agent's status moves on from what that change
  // made it (the first state drawn after it), so "you'll be away when this call ends" goes when it has.
  // `asked`: when the poll that read this state began; one begun before the message is older than it.
  var PENDING = {};
  var saidFor = $("console-messages").children.length ? PENDING : null;
  var saidAt = 0;
  function drawStatus(agent, asked) {
    var line = $("status-summary");
    if (asked === undefined || asked >= saidAt) {
      if (saidFor === PENDING) { saidFor = agent.summary; }
      else if (saidFor !== null && saidFor !== agent.summary) { clearMessages(); }
    }
    say(line, agent.summary);
    line.className = "status-line status-" + agent.status;
    document.querySelectorAll(".switch button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.status === agent.status));
    });
    $("ready-form").hidden = !agent.can_be_ready;
    say($("wrap-up-left"), agent.wrap_up_ends_in === null ? ""
      : "Wrap-up ends by itself in " + agent.wrap_up_ends_in + " s.");
  }

  function list(node, items, draw) {
    node.replaceChildren.apply(node, items.map(draw));
  }

  var onACall = false;
  function drawCall(call) {
    onACall = Boolean(call);
    var pop = $("pop");
    var card = $("call-card");
    if (!call) {
      say($("call-phase"), "No call right now.");
      card.className = "card call-card";
      pop.hidden = true;
      document.title = TITLE;
      return;
    }
    card.className = "card call-card phase-" + call.phase;
    say($("call-phase"), call.phase_text);
    // A console in a background tab: the tab's title says the phone rings, and for whom.
    var ringing = call.phase === "ringing" || call.phase === "screening";
    document.title = ringing ? "Ringing: " + call.name + " · " + TITLE : TITLE;
    pop.hidden = false;
    $("pop-name").textContent = call.name + (call.known_as ? " (this number's earlier name: " + call.known_as + ")" : "");
    var phone = $("pop-phone");
    phone.textContent = call.phone_display;
    if (call.phone.charAt(0) === "+") { phone.href = "tel:" + call.phone; } else { phone.removeAttribute("href"); }
    var phoneNote = $("pop-phone-note");
    phoneNote.textContent = call.caller_id_note || "";
    phoneNote.hidden = !call.caller_id_note;
    $("pop-topic").textContent = call.topic;
    $("pop-order").textContent = call.order ? call.order.number + ": " + call.order.text : "None given";
    $("pop-waited").textContent = call.waited_text + " in all";
    $("pop-asked").textContent = call.asked_at + ", through " + call.source +
      (call.booked_for ? ", booked for " + call.booked_for : "");
    $("pop-language").textContent = call.language_text;
    var menu = call.menu;
    $("pop-menu").hidden = !menu;
    if (menu) {
      $("pop-menu-summary").textContent = menu.summary;
      $("pop-menu-path").textContent = menu.path.length ? menu.path.join(" → ") : "-";
      // An empty list reads "-", as the call page's does, rather than a blank an agent might take for a fault.
      list($("pop-menu-said"), menu.said.length ? menu.said : [null], function (words) {
        return words === null ? el("li", {textContent: "-"}) : el("li", {}, el("q", {textContent: words}));
      });
      list($("pop-menu-lookups"), menu.looked_up.length ? menu.looked_up : [null], function (found) {
        return el("li", {textContent: found === null ? "-" : found.reference + ": " + found.result});
      });
    }
    drawMessages(call.messages || []);
    drawContacts(call.earlier_contacts || []);
    var earlier = call.earlier_attempts;
    list($("pop-attempts"), earlier.length ? earlier : [null], function (line) {
      if (!line) { return el("li", {className: "hint", textContent: "None: this is the first call."}); }
      var missed = line.agents_missed ? " (" + line.agents_missed + " agent" + (line.agents_missed > 1 ? "s" : "") + " missed it)" : "";
      return el("li", {textContent: line.at + ": " + line.text + missed});
    });
  }

  // The number's other requests (the same customer, another day or topic), with what their agent wrote.
  // Redrawn only when they change, so a link under the keyboard's focus stays.
  var contactsShown = null;
  function drawContacts(contacts) {
    $("pop-contacts").hidden = contacts.length === 0;
    var key = JSON.stringify(contacts);
    if (key === contactsShown) { return; }
    contactsShown = key;
    list($("pop-contacts-list"), contacts, function (c) {
      var said = c.at + ": " + c.name + ", " + c.topic + ", " + c.status_text +
        (c.disposition_text ? " (" + c.disposition_text.toLowerCase() + ")" : "");
      return el("li", {}, said, c.note ? el("p", {className: "note", textContent: c.note}) : null);
    });
  }

  // Redrawn only when the messages change: rebuilding an <audio> on every poll would stop it playing.
  var messagesShown = "";
  function drawMessages(messages) {
    var key = messages.map(function (m) { return m.id; }).join(",");
    $("pop-messages").hidden = messages.length === 0;
    if (key === messagesShown) { return; }
    messagesShown = key;
    list($("pop-messages-list"), messages, function (m) {
      var label = "Message left at " + m.at + " (" + m.seconds + " s)";
      return el("li", {},
        el("p", {textContent: label}),
        el("audio", {controls: true, preload: "none", src: root.dataset.recordingUrl.replace("RECORDING", m.id),
                     ariaLabel: label}));
    });
  }

  function drawWrapUp(target) {
    var card = $("wrap-up-card");
    var held = $("wrap-up-held");
    if (wrapUpEdited && wrapUpFor !== null && (!target || target.request_id !== wrapUpFor)) {
      // The line moved on (the next call was put through) while the agent was writing: keep their
      // words on screen for the call they are about, and say what comes next once they are saved.
      card.hidden = false;
      held.hidden = false;
      held.textContent = "Save your wrap-up for " + wrapUpName + " first" +
        (target ? "; then the form moves on to " + target.name + "." : ".");
      return;
    }
    held.hidden = !heldNote;
    held.textContent = heldNote;
    card.hidden = !target;
    if (!target) { wrapUpFor = null; return; }
    $("wrap-up-for").textContent = target.name + ", " + target.topic;
    var form = $("wrap-up-form");
    if (wrapUpFor === target.request_id) {
      // Saved meanwhile elsewhere (another tab, the call's page): show it, unless the agent is typing
      // (then their save is refused by the server rather than overwriting it, and they see it then).
      if (!wrapUpEdited && form.elements.saved_at.value !== (target.saved_at || "")) { fill(form, target); }
      return;
    }
    // Another call: point the form at it, with what is stored for it so far.
    wrapUpFor = target.request_id;
    wrapUpName = target.name;
    wrapUpEdited = false;
    form.action = forRequest(wrapUpUrl, target.request_id);
    form.elements.request_id.value = String(target.request_id);
    fill(form, target);
    heldNote = "";
    restoreDraft(form, target);
    held.hidden = !heldNote;
    held.textContent = heldNote;
  }

  function fill(form, target) {
    form.elements.saved_at.value = target.saved_at || "";
    form.elements.disposition.value = target.disposition || "";
    form.elements.note.value = target.note || "";
  }

  // DRAFTS: what the agent types is kept in this tab until it is saved, so a reload or a lapsed sign-in
  // does not lose it. sessionStorage, by agent and request, for 12 hours: never past the tab (a shared
  // computer keeps no customer's words), never another agent's. A draft begun on a wrap-up that has been
  // saved since (in another tab) is not put back over it; its words are shown so nothing typed is lost.
  var DRAFT_HOURS = 12;
  function draftKey(requestId) { return "callme.wrap-up." + root.dataset.staff + "." + requestId; }
  function drafts() { try { return window.sessionStorage; } catch (e) { return null; } }
  function saveDraft(form) {
    try {
      drafts().setItem(draftKey(form.elements.request_id.value), JSON.stringify({
        at: Date.now(), seen: form.elements.saved_at.value, disposition: form.elements.disposition.value,
        note: form.elements.note.value}));
    } catch (e) { /* storage off or full: the form still works, only without a draft */ }
  }
  // As the server stores a note (agents.desk.dispose): line ends as \n, no spaces around it.
  function stored(note) { return (note || "").replace(/\r\n/g, "\n").trim(); }
  function restoreDraft(form, target) {
    var store = drafts();
    var draft = null;
    try { draft = JSON.parse((store && store.getItem(draftKey(target.request_id))) || "null"); } catch (e) { draft = null; }
    if (!draft) { return; }
    store.removeItem(draftKey(target.request_id));
    if (Date.now() - (draft.at || 0) > DRAFT_HOURS * 3600 * 1000) { return; }
    if (draft.disposition === (target.disposition || "") && stored(draft.note) === stored(target.note)) {
      return;  // saved as typed
    }
    if (draft.seen === (target.saved_at || "")) {
      form.elements.disposition.value = draft.disposition;
      form.elements.note.value = draft.note;
      wrapUpEdited = true;
      saveDraft(form);
      heldNote = "Your unsaved wrap-up is back: save it when it is ready.";
      return;
    }
    if (draft.note) {
      heldNote = "This wrap-up was saved elsewhere while you were writing; what you had typed: \u201c" +
        draft.note + "\u201d";
    }
  }

  // Calls taken today with no wrap-up, other than the one the form is on: the line moved on to the next
  // call before the agent wrote one, and nothing else would bring them back to it.
  var leftDrawn = null;
  function drawWrapUpsLeft(calls) {
    var left = calls.filter(function (c) { return c.taken && !c.disposition && c.request_id !== wrapUpFor; });
    var key = JSON.stringify(left.map(function (c) { return [c.request_id, c.name, c.at]; }));
    if (key === leftDrawn) { return; }
    leftDrawn = key;
    var note = $("wrap-ups-left");
    note.hidden = left.length === 0;
    var links = [];
    left.forEach(function (c, i) {
      if (i) { links.push(", "); }
      links.push(el("a", {href: forRequest(callUrl, c.request_id), textContent: c.name + " (" + c.at + ")"}));
    });
    note.replaceChildren.apply(note, ["Wrap-up still to write for: "].concat(links));
  }

  var todayDrawn = null;
  function drawToday(calls) {
    drawWrapUpsLeft(calls);
    // Redrawn only when it changed: rebuilt every second, the list would take the focus from a
    // keyboard or screen-reader user on one of its links.
    var key = JSON.stringify(calls);
    if (key === todayDrawn) { return; }
    todayDrawn = key;
    $("today-empty").hidden = calls.length > 0;
    list($("today"), calls, function (call) {
      var head = el("div", {className: "today-head"},
        el("span", {className: "time", textContent: call.at}),
        el("a", {href: forRequest(callUrl, call.request_id), textContent: call.name}),
        el("span", {className: "hint nowrap", textContent: call.phone_display}),
        el("span", {className: "hint", textContent: call.topic}));
      var outcome = call.outcome_text + (call.talk_text ? " · " + call.talk_text : "");
      var body = el("div", {className: "today-body"},
        el("span", {className: "outcome outcome-" + (call.outcome || "live"), textContent: outcome}),
        call.disposition_text ? el("span", {className: "disposition", textContent: call.disposition_text}) : null,
        call.taken && !call.disposition ? el("span", {className: "hint", textContent: "No wrap-up yet"}) : null);
      var note = call.note ? el("p", {className: "note", textContent: call.note}) : null;
      // A call still going (ringing, being put through) is neither taken nor missed yet.
      var kind = call.taken ? "taken" : (call.outcome ? "missed" : "live");
      return el("li", {className: kind}, head, body, note);
    });
  }

  function draw(state, asked) {
    drawStatus(state.agent, asked);
    drawCall(state.call);
    drawWrapUp(state.wrap_up);
    drawToday(state.today);
    if (!leftShown) { showLeftDrafts(state.today); }
  }

  // Once a page: drafts of this agent's other calls (their wrap-up was saved elsewhere, or the line
  // moved on) are shown, with the call's name, and dropped from storage.
  var leftShown = false;
  function showLeftDrafts(today) {
    leftShown = true;
    var store = drafts();
    if (!store) { return; }
    var prefix = "callme.wrap-up." + root.dataset.staff + ".";
    var lines = [];
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (!key || key.indexOf(prefix) !== 0 || key === draftKey(wrapUpFor)) { continue; }
      var draft = null;
      try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }
      store.removeItem(key);
      var id = Number(key.slice(prefix.length));
      var call = (today || []).filter(function (c) { return c.request_id === id; })[0];
      if (draft && draft.note && stored(draft.note) !== stored(call && call.note) &&
          Date.now() - (draft.at || 0) <= DRAFT_HOURS * 3600 * 1000) {
        lines.push((call ? call.name : "an earlier call") + ": \u201c" + draft.note + "\u201d");
      }
    }
    if (lines.length) {
      var note = $("drafts-left");
      note.textContent = "Not saved, because the wrap-up was saved meanwhile elsewhere: what you had typed for " +
        lines.join("; ");
      note.hidden = false;
    }
  }

  // Polls that fail in a row before the console says it is out of date (one miss is a blip).
  var MISSES_BEFORE_STALE = 3;
  var misses = 0;
  function connection(ok) {
    misses = ok ? 0 : misses + 1;
    var lost = misses >= MISSES_BEFORE_STALE;
    if (lost === root.classList.contains("stale")) { return; }
    root.classList.toggle("stale", lost);
    $("console-connection").textContent = lost
      ? "Connection lost, retrying… What you see may be out of date; your phone still rings." : "";
  }

  var busy = false;
  var signedOut = false;
  var TIMEOUT_MS = 5000;  // a poll that hangs longer is given up, so the next one can go and a lost
                          // connection is said (a server that stops answering never fails a fetch)
  function refresh(now) {
    if (busy || signedOut) { if (now === true) { window.setTimeout(refresh, 200); } return; }
    busy = true;
    var asked = Date.now();
    var abort = window.AbortController ? new AbortController() : null;
    var giveUp = abort ? window.setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    fetch(stateUrl, {headers: {Accept: "application/json"}, cache: "no-store", credentials: "same-origin",
                     signal: abort ? abort.signal : undefined})
      .then(function (response) {
        if (response.status === 401) { signOut(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (signedOut) { return; }
        connection(Boolean(state));
        if (state) { draw(state, asked); sendWrapUpAgain(); }
      })
      .catch(function () { connection(false); /* the next tick tries again */ })
      .then(function () { window.clearTimeout(giveUp); busy = false; });
  }

  // Signed out (elsewhere, or the sign-in's time ran out). An agent writing a wrap-up is not taken away
  // from it mid-sentence: the draft is kept in this browser and they sign in again when ready.
  function signOut() {
    if (!wrapUpEdited) { window.location.assign(root.dataset.loginUrl); return; }
    signedOut = true;
    root.classList.add("stale");
    var said = $("console-connection");
    said.replaceChildren("You were signed out. Your wrap-up is kept in this browser: ",
      el("a", {href: root.dataset.loginUrl, textContent: "sign in again"}), " to save it.");
  }

  // THE FORMS (status, Ready, wrap-up) are posted from here, never by the browser: a page load would
  // drop a browser-phone call in progress, and a post made while the network is down would leave the
  // console for the browser's error page. Without JavaScript they post as plain forms.
  function clearMessages() { $("console-messages").replaceChildren(); saidFor = null; }
  function showMessage(text, ok) {
    var banner = el("div", {className: "banner " + (ok ? "ok" : "error"), textContent: text});
    banner.setAttribute("role", ok ? "status" : "alert");
    $("console-messages").replaceChildren(banner);
    saidFor = PENDING;
    saidAt = Date.now();
  }

  function post(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    return fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                              headers: {Accept: "application/json"}})
      .then(function (response) {
        if (response.status === 401) { signOut(); return {signedOut: true}; }
        return response.json().then(function (body) { return {ok: response.ok, body: body}; },
                                    function () { return {ok: false, body: null}; });
      });
  }

  function answered(result, done, refused) {
    if (result.signedOut) { return; }
    if (result.ok) {
      if (result.body && result.body.message) { showMessage(result.body.message, true); } else { clearMessages(); }
      if (done) { done(); }
    } else {
      var error = result.body && result.body.error;
      showMessage(error ? error.message : "That did not work; please try again.", false);
      if (refused && error) { refused(error); }
    }
    refresh(true);
  }

  function postedFrom(form, sending, done, offline, refused) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }  // an old browser posts the plain form
      event.preventDefault();
      if (form.dataset.sending === "1") { return; }
      form.dataset.sending = "1";
      showMessage(sending, true);
      post(form, event.submitter)
        .then(function (result) { answered(result, done, refused); })
        .catch(function () { offline(); })
        .then(function () { form.dataset.sending = ""; });
    });
  }

  postedFrom(document.querySelector(".switch"), "Changing your status…", null, function () {
    showMessage("Your status was not changed: the connection is down. Try again when it is back.", false);
  });
  postedFrom($("ready-form"), "One moment…", null, function () {
    showMessage("Not done: the connection is down. Try again when it is back.", false);
  });

  // A wrap-up that could not be sent is kept on screen (and in this tab's draft) and sent again by
  // itself once the console can reach the server.
  var wrapUpWaiting = false;
  function wrapUpSaved() {
    var form = $("wrap-up-form");
    try { drafts().removeItem(draftKey(form.elements.request_id.value)); } catch (e) { /* no storage */ }
    wrapUpEdited = false;
    wrapUpWaiting = false;
    heldNote = "";
  }
  function sendWrapUpAgain() {
    var form = $("wrap-up-form");
    if (!wrapUpWaiting || form.dataset.sending === "1") { return; }
    form.dataset.sending = "1";
    post(form, null)
      .then(function (result) {
        wrapUpWaiting = false;
        answered(result, wrapUpSaved, savedElsewhere);
      })
      .catch(function () { /* still down: the next poll that gets through tries again */ })
      .then(function () { form.dataset.sending = ""; });
  }
  // Refused because it was saved meanwhile elsewhere (another tab, the call's page): the form shows it as
  // saved, and what this tab had typed is shown beside it, never lost unseen.
  function savedElsewhere(error) {
    if (error.code !== "wrap_up_changed") { return; }
    var form = $("wrap-up-form");
    var typed = form.elements.note.value;
    try { drafts().removeItem(draftKey(form.elements.request_id.value)); } catch (e) { /* no storage */ }
    if (typed) {
      var note = $("drafts-left");
      note.textContent = "Not saved, because the wrap-up was saved meanwhile elsewhere: what you had typed for " +
        wrapUpName + ": \u201c" + typed + "\u201d";
      note.hidden = false;
    }
    wrapUpEdited = false;
    wrapUpWaiting = false;
    wrapUpFor = null;  // drawn afresh from the next state: the wrap-up as saved
  }
  if ($("wrap-up-form")) {
    postedFrom($("wrap-up-form"), "Saving…", wrapUpSaved, function () {
      wrapUpWaiting = true;
      showMessage("Not saved yet: the connection is down. Your wrap-up is kept here and is saved by itself " +
        "when the connection is back.", false);
    }, savedElsewhere);
  }

  // Signing out mid-call: the call goes on (the line does not hang up on the customer), and the agent is
  // offline once it ends. Said first, so nobody signs out thinking it ends the call, or by a slip.
  var signOutForm = document.querySelector("form.sign-out");
  if (signOutForm) {
    signOutForm.addEventListener("submit", function (event) {
      if (onACall && !window.confirm("You are on a call. Sign out anyway? The call goes on until it ends, " +
                                     "and you will be offline after it.")) {
        event.preventDefault();
      }
    });
  }

  var wrapUpForm = $("wrap-up-form");
  if (wrapUpForm) {
    var edited = function () {
      wrapUpEdited = true;
      saveDraft(wrapUpForm);
      // "Your draft is back" has done its work once they type; words of a refused save stay in view.
      if (heldNote.indexOf("Your unsaved") === 0) { heldNote = ""; $("wrap-up-held").hidden = true; }
    };
    wrapUpForm.addEventListener("input", edited);
    wrapUpForm.addEventListener("change", edited);
  }

  // THE BROWSER PHONE (real Twilio): the Twilio Voice JavaScript SDK, bundled from its npm package into
  // static/vendor/twilio-voice.min.js by scripts/build-assets.sh (web/twilio-voice.js), never from a CDN; it
  // exposes window.Twilio.Device. Without the bundle this says so. Against the sandbox the console embeds the
  // sandbox's softphone instead (see templates/agent/console.html).
  function startBrowserPhone() {
    var note = $("browser-phone-state");
    if (!note) { return; }
    if (!window.Twilio || !window.Twilio.Device) {
      note.textContent = "The browser phone is not built on this server (make assets: "
        + "static/vendor/twilio-voice.min.js), so calls to you cannot ring here.";
      return;
    }
    fetch(root.dataset.tokenUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (body) {
        var device = new window.Twilio.Device(body.token);
        var ready = "Ready: calls to " + body.identity + " ring here.";
        device.on("incoming", function (call) {
          // The screen pop above shows who it is; the agent accepts the call here, then presses 1.
          var hangUp = el("button", {className: "danger", textContent: "Hang up", onclick: function () {
            call.disconnect();
          }});
          // The line screens every agent leg: after answering, the agent presses 1 to take the call.
          // The button pressed goes away, so focus moves to the next one: a keyboard or screen-reader
          // user has seconds to take the call, not time to find the button again.
          var take = el("button", {className: "primary", textContent: "Take the call (1)", onclick: function () {
            call.sendDigits("1");
            note.replaceChildren("On the call. ", hangUp);
            hangUp.focus();
          }});
          note.replaceChildren("Incoming call: ", el("button", {className: "primary", textContent: "Answer", onclick: function () {
            call.accept();
            note.replaceChildren("Answered: listen, then ", take, " ", hangUp);
            take.focus();
          }}), " ", el("button", {textContent: "Decline", onclick: function () { call.reject(); }}));
          // However the call ends (hung up, declined here, the caller gone before an answer, an error),
          // the buttons go: none of them can do anything any more.
          var over = function () {
            var hadFocus = note.contains(document.activeElement);
            note.textContent = ready;
            if (hadFocus) { note.setAttribute("tabindex", "-1"); note.focus(); }
          };
          ["disconnect", "cancel", "reject", "error"].forEach(function (event) { call.on(event, over); });
        });
        // The SDK unregisters and registers again when its signalling connection blips, even with a
        // call up: the note then holds that call's buttons, which must stay.
        var inCall = function () { return device.calls && device.calls.length > 0; };
        device.on("registered", function () { if (!inCall()) { note.textContent = ready; } });
        device.on("unregistered", function () {
          if (!inCall()) {
            note.textContent = "The browser phone is not connected: calls cannot ring here. Reload to try again.";
          }
        });
        device.on("error", function () {
          if (!inCall()) {
            note.textContent = "The browser phone had a problem and may not ring. Reload to try again.";
          }
        });
        device.on("tokenWillExpire", function () {
          fetch(root.dataset.tokenUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
            .then(function (response) { return response.json(); })
            .then(function (fresh) { device.updateToken(fresh.token); });
        });
        note.textContent = "Connecting the browser phone…";
        device.register();
      })
      .catch(function () { note.textContent = "The browser phone could not start; reload to try again."; });
  }

  try { draw(JSON.parse(root.dataset.state)); } catch (e) { /* the first poll draws it */ }
  if (root.dataset.browserPhone === "on") { startBrowserPhone(); }
  window.setInterval(refresh, POLL_MS);
})();
