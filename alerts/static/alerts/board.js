/* The live operator board: polls a small JSON feed, draws rows with textContent only (nothing
   from an e-mail is ever parsed as HTML), sounds the alarm with the Web Audio API and shows a
   banner while an unacknowledged critical/major incident is open. */
(function () {
  "use strict";
  var config = document.getElementById("board-config");
  var labels = JSON.parse(document.getElementById("board-labels").textContent);
  var feedUrl = config.dataset.feedUrl + window.location.search;
  var interval = parseInt(config.dataset.interval, 10) || 1000;
  var apiBase = config.dataset.apiBase;
  var tbody = document.querySelector("#incidents tbody");
  var banner = document.getElementById("alarm-banner");
  var soundButton = document.getElementById("sound-enable");
  var status = document.getElementById("board-status");
  var emptyNote = document.getElementById("empty-note");
  var rows = {};
  var audio = null, beepTimer = null;
  document.body.dataset.alarm = "off";

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  // --- sound ---------------------------------------------------------------------------------
  function ensureAudio() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      audio = new Ctx();
    }
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  function beep() {
    var ctx = ensureAudio();
    if (!ctx) return;
    document.body.dataset.sound = ctx.state;
    soundButton.hidden = ctx.state === "running";
    if (ctx.state !== "running") return;
    [0, 0.25].forEach(function (offset) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = offset ? 660 : 880;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + offset); osc.stop(ctx.currentTime + offset + 0.18);
    });
  }
  soundButton.addEventListener("click", function () { ensureAudio(); beep(); });
  document.addEventListener("click", function () { if (audio && audio.state === "suspended") audio.resume(); });

  function setAlarm(on) {
    document.body.dataset.alarm = on ? "on" : "off";
    banner.hidden = !on;
    if (on && !beepTimer) { beep(); beepTimer = setInterval(beep, 1500); }
    if (!on && beepTimer) { clearInterval(beepTimer); beepTimer = null; }
  }

  // --- actions -------------------------------------------------------------------------------
  function post(id, action, body) {
    return fetch(apiBase + id + "/" + action + "/", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) status.textContent = data.detail || response.statusText;
        refresh();
      });
    }).catch(function () { status.textContent = labels.offline; });
  }

  function inlineForm(summary, fields, onSubmit) {
    var details = el("details"), form = el("form");
    details.appendChild(el("summary", summary));
    fields.forEach(function (f) {
      var input = el("input");
      input.name = f.name; input.placeholder = f.label; input.setAttribute("aria-label", f.label);
      if (f.type) input.type = f.type;
      if (f.value) input.value = f.value;
      if (f.required) input.required = true;
      input.size = f.size || 12;
      form.appendChild(input);
    });
    var submit = el("button", labels.confirm, "secondary"); submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      onSubmit(form); details.open = false;
    });
    details.appendChild(form);
    return details;
  }

  function buildActions(cell, inc) {
    var ack = el("button", labels.acknowledge, "secondary");
    ack.type = "button"; ack.dataset.action = "acknowledge";
    ack.addEventListener("click", function () { post(inc.id, "acknowledge", {}); });
    cell.appendChild(ack);
    var resolve = inlineForm(labels.resolve, [{name: "comment", label: labels.note}], function (form) {
      post(inc.id, "resolve", {comment: form.elements.comment.value});
    });
    resolve.dataset.action = "resolve";
    cell.appendChild(resolve);
    var silence = inlineForm(labels.silence, [
      {name: "minutes", label: labels.minutes, type: "number", value: "60", required: true, size: 5},
      {name: "reason", label: labels.reason, required: true}], function (form) {
      post(inc.id, "silence", {minutes: parseInt(form.elements.minutes.value, 10), reason: form.elements.reason.value});
    });
    silence.dataset.action = "silence";
    cell.appendChild(silence);
    if (inc.ticket_url) {
      var link = el("a", labels.ticket); link.href = inc.ticket_url; link.dataset.action = "ticket";
      link.style.marginLeft = ".4rem";
      cell.appendChild(link);
    }
  }

  // --- rows ----------------------------------------------------------------------------------
  function makeRow(inc) {
    var tr = el("tr");
    tr.dataset.incident = inc.id;
    tr.cells_ = {};
    ["severity", "state", "host", "check", "system", "category", "summary", "age", "count", "actions"].forEach(
      function (name) { var td = el("td"); td.dataset.col = name; tr.appendChild(td); tr.cells_[name] = td; });
    var link = el("a"); link.href = inc.detail_url; tr.cells_.host.appendChild(link);
    tr.cells_.severity.appendChild(el("span", "", "badge"));
    tr.cells_.actions.className = "actions";
    buildActions(tr.cells_.actions, inc);
    return tr;
  }

  function updateRow(tr, inc) {
    var c = tr.cells_;
    var badge = c.severity.firstChild;
    badge.textContent = inc.severity_label; badge.className = "badge sev-" + inc.severity;
    var state = inc.state_label + (inc.flapping ? " · " + labels.flapping : "") + (inc.silenced ? " · " + labels.silenced : "");
    c.state.textContent = state;
    if (inc.needs_review) {
      // The mail did not say clearly what it reports: read as a problem, to be checked.
      var review = el("span", labels.needs_review, "badge needs-review");
      review.title = inc.needs_review;
      c.state.appendChild(document.createTextNode(" "));
      c.state.appendChild(review);
    }
    c.host.firstChild.textContent = inc.host;
    c.check.textContent = inc.check;
    c.system.textContent = inc.system;
    c.category.textContent = inc.category;
    c.summary.textContent = inc.summary;
    c.age.textContent = inc.age;
    c.count.textContent = inc.occurrences;
    tr.className = "state-" + inc.state + (inc.alarming ? " alarming" : "");
    tr.dataset.state = inc.state;
    tr.dataset.severity = inc.severity;
    c.actions.querySelector("[data-action=acknowledge]").hidden = !inc.can_acknowledge;
    c.actions.querySelector("[data-action=resolve]").hidden = !inc.can_resolve;
    c.actions.querySelector("[data-action=silence]").hidden = !inc.can_silence;
  }

  function render(data) {
    var seen = {};
    var previous = null;
    data.incidents.forEach(function (inc) {
      seen[inc.id] = true;
      var tr = rows[inc.id];
      if (!tr) { tr = makeRow(inc); rows[inc.id] = tr; }
      updateRow(tr, inc);
      var expectedNext = previous ? previous.nextSibling : tbody.firstChild;
      if (expectedNext !== tr) tbody.insertBefore(tr, expectedNext);
      previous = tr;
    });
    Object.keys(rows).forEach(function (id) {
      if (!seen[id]) { rows[id].remove(); delete rows[id]; }
    });
    emptyNote.hidden = data.incidents.length > 0;
    setAlarm(Boolean(data.alarm));
    status.textContent = labels.updated + " " + new Date().toLocaleTimeString();
    document.body.dataset.boardLoaded = "1";
  }

  var inFlight = false;
  function refresh() {
    if (inFlight) return;
    inFlight = true;
    fetch(feedUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function () { status.textContent = labels.offline; })
      .then(function () { inFlight = false; });
  }
  refresh();
  setInterval(refresh, interval);
})();
