// Takedown workspace script (same origin only, no outside resources).
// - reveal one blurred item on a deliberate click (never autoplay);
// - times shown in the reader's local time, UTC kept on hover;
// - countdowns to deadlines; sortable tables;
// - the review queue: decide in place, move to the next item, undo, keyboard, bulk select.
"use strict";

(function () {
  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // -- blurred media ---------------------------------------------------------------------------
  function toggleMedia(button) {
    var media = document.getElementById(button.dataset.target || "");
    if (!media) { return; }
    var hidden = media.classList.contains("blurred");
    media.classList.toggle("blurred", !hidden);
    media.classList.toggle("revealed", hidden);
    if (!button.dataset.showText) { button.dataset.showText = button.textContent; }
    var label = button.getAttribute("aria-label") || "";
    button.textContent = hidden ? "Blur again" : button.dataset.showText;
    if (label) { button.setAttribute("aria-label", hidden ? label.replace(/^Show /, "Blur ") : label.replace(/^Blur /, "Show ")); }
    button.setAttribute("aria-pressed", hidden ? "true" : "false");
    if (!hidden) { $all("video", media).forEach(function (v) { v.pause(); }); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target;
    if (button instanceof HTMLButtonElement && button.classList.contains("reveal")) { toggleMedia(button); }
  });

  // -- times and countdowns --------------------------------------------------------------------
  var two = function (n) { return (n < 10 ? "0" : "") + n; };
  function localText(date) {
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) + " " +
      two(date.getHours()) + ":" + two(date.getMinutes());
  }
  $all("time[datetime]").forEach(function (el) {
    var date = new Date(el.getAttribute("datetime"));
    if (isNaN(date.getTime())) { return; }
    el.title = el.textContent;  // UTC on hover
    el.textContent = localText(date);
  });
  function span(seconds) {
    var s = Math.round(Math.abs(seconds)), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) { return d + " d" + (h ? " " + h + " h" : ""); }
    if (h) { return h + " h" + (m ? " " + m + " min" : ""); }
    return m ? m + " min" : (s % 60) + " s";
  }
  function countdowns() {
    $all("[data-deadline]").forEach(function (el) {
      var left = (new Date(el.dataset.deadline).getTime() - Date.now()) / 1000;
      if (isNaN(left)) { return; }
      el.textContent = left >= 0 ? "in " + span(left) : "overdue by " + span(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  countdowns();
  setInterval(countdowns, 30000);

  // -- sortable tables ---------------------------------------------------------------------------
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    var number = parseFloat(raw.replace(/[,\s%]/g, ""));
    return raw !== "" && !isNaN(number) && /^[-−]?[\d.,\s%]+$/.test(raw) ? number : raw.toLowerCase();
  }
  $all("table.sortable").forEach(function (table) {
    $all("thead th", table).forEach(function (th, index) {
      if (th.classList.contains("nosort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        $all("thead th", table).forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // -- the review queue --------------------------------------------------------------------------
  var list = $("ol.queue");
  if (!list) { return; }
  var status = $("#queue-status");
  var undoStack = [];
  var current = null;

  function say(message, bad) {
    if (!status) { return; }
    status.textContent = message;
    status.classList.toggle("error", !!bad);
  }
  function items() { return $all("li.item", list); }
  function open() { return items().filter(function (li) { return !li.classList.contains("done"); }); }
  function setCurrent(li, scroll) {
    if (current) { current.classList.remove("current"); }
    current = li;
    if (!li) { return; }
    li.classList.add("current");
    li.focus({ preventScroll: true });
    if (scroll !== false) { li.scrollIntoView({ block: "start" }); }
  }
  function step(direction) {
    var all = open();
    if (!all.length) { return; }
    var index = all.indexOf(current);
    var next = index < 0 ? all[0] : all[Math.min(all.length - 1, Math.max(0, index + direction))];
    setCurrent(next);
  }
  function bump(selector, delta) {
    var el = $(selector);
    if (!el) { return; }
    var value = parseInt(el.textContent.replace(/[^\d]/g, ""), 10);
    if (!isNaN(value)) { el.textContent = Math.max(0, value + delta).toLocaleString("en"); }
  }
  function post(form, decision) {
    var data = new URLSearchParams(new FormData(form));
    data.set("decision", decision);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return { message: "HTTP " + response.status }; })
        .then(function (body) { return { ok: response.ok, message: body.message || "" }; });
    });
  }
  function afterDecision(li) {
    var all = open();
    var later = all.filter(function (other) {
      return li.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    if (later.length) { setCurrent(later[0]); return; }
    if (all.length) { setCurrent(all[0]); return; }
    say("Page cleared: loading the next items…");
    window.location.reload();
  }
  function decide(li, decision) {
    var form = $("form.decide", li);
    if (!form || li.classList.contains("done") || li.classList.contains("busy")) { return; }
    li.classList.add("busy");
    post(form, decision).then(function (answer) {
      li.classList.remove("busy");
      if (!answer.ok) { say(answer.message, true); return; }
      if (decision === "second_review") { say(answer.message + " (item " + li.dataset.sighting + ")"); afterDecision(li); return; }
      li.classList.add("done");
      var line = document.createElement("p");
      line.className = "done-line";
      line.textContent = "Item #" + li.dataset.sighting + ": " + answer.message + ". ";
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "undo";
      undo.textContent = "Undo";
      undo.setAttribute("aria-label", "Undo the decision on item " + li.dataset.sighting);
      undo.addEventListener("click", function () { undoOne(li); });
      line.appendChild(undo);
      li.appendChild(line);
      undoStack.push(li);
      bump("nav.tabs a[aria-current] .count", -1);
      if (!$("nav.tabs .tab-open[aria-current]")) { bump("nav.tabs .tab-open .count", -1); }
      bump("nav.tabs .tab-decided .count", 1);
      say("Item #" + li.dataset.sighting + ": " + answer.message + ". Press u to undo.");
      afterDecision(li);
    }, function () { li.classList.remove("busy"); say("Network error: nothing was decided.", true); });
  }
  function undoOne(li) {
    if (!li || !li.classList.contains("done")) { return; }
    post($("form.decide", li), "reopen").then(function (answer) {
      if (!answer.ok) { say(answer.message, true); return; }
      li.classList.remove("done");
      var line = $(".done-line", li);
      if (line) { line.remove(); }
      undoStack = undoStack.filter(function (other) { return other !== li; });
      bump("nav.tabs a[aria-current] .count", 1);
      if (!$("nav.tabs .tab-open[aria-current]")) { bump("nav.tabs .tab-open .count", 1); }
      bump("nav.tabs .tab-decided .count", -1);
      say("Item #" + li.dataset.sighting + " is back in the queue.");
      setCurrent(li);
    });
  }

  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("decide")) { return; }
    var button = event.submitter;
    if (!button || !button.value) { return; }
    event.preventDefault();
    var li = form.closest("li.item");
    setCurrent(li, false);
    decide(li, button.value);
  });
  list.addEventListener("click", function (event) {
    var li = event.target instanceof Element ? event.target.closest("li.item") : null;
    if (li && li !== current && !li.classList.contains("done")) { setCurrent(li, false); }
  });
  var all = $(".select-all");
  if (all) {
    all.addEventListener("change", function () {
      $all("li.item:not(.done) input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var dialog = $("#keys");
    if (dialog && dialog.open) { return; }
    var key = event.key;
    var handled = true;
    if (key === "j") { step(1); }
    else if (key === "k") { step(-1); }
    else if (key === "r" || key === "d" || key === "s") {
      if (!current || current.classList.contains("done")) { step(1); }
      if (current) { decide(current, { r: "refer", d: "not_in_scope", s: "second_review" }[key]); }
    }
    else if (key === "u") { undoOne(undoStack[undoStack.length - 1]); }
    else if (key === "v" && current) { var b = $("button.reveal", current); if (b) { toggleMedia(b); } }
    else if (key === "x" && current) { var box = $("input[name=ids]", current); if (box) { box.checked = !box.checked; } }
    else if (key === "h" && current) { var hold = $("a.hold-link", current); if (hold) { hold.click(); } }
    else if (key === "n") { var next = $("nav.pager a.next"); if (next) { next.click(); } }
    else if (key === "p") { var prev = $("nav.pager a.prev"); if (prev) { prev.click(); } }
    else if (key === "?") { if (dialog) { dialog.showModal(); } }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });
  if (open().length) { setCurrent(open()[0], false); }
})();
