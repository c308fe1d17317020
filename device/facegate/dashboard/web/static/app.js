// facegate dashboard: the little the server cannot do. Loaded from this server only (CSP);
// no inline script anywhere. Fills CSRF fields in fragments sent to every page, keeps the
// live list at its limit, shows alarm toasts with a sound, and says when the stream is down.
(function () {
  "use strict";

  function fillCsrf(root) {
    var token = document.body.dataset.csrf || "";
    root.querySelectorAll('input[name="csrf"]').forEach(function (input) {
      if (!input.value) { input.value = token; }
    });
  }

  function trimLive() {
    var body = document.getElementById("live-events");
    if (!body) { return; }
    var limit = parseInt(body.dataset.limit || "200", 10);
    var seen = {};
    Array.prototype.slice.call(body.rows).forEach(function (row) {
      var id = row.dataset.eventId;
      if (id && seen[id]) { row.remove(); } else if (id) { seen[id] = true; }
    });
    while (body.rows.length > limit) { body.deleteRow(body.rows.length - 1); }
  }

  function dedupeById(selector) {
    var seen = {};
    document.querySelectorAll(selector).forEach(function (el) {
      if (seen[el.id]) { el.remove(); } else { seen[el.id] = true; }
    });
  }

  var sound = null;
  function ring() {
    if (!sound) { sound = new Audio("/static/alarm.wav"); }
    sound.currentTime = 0;
    var played = sound.play();
    if (played && played.catch) { played.catch(function () { /* no gesture yet: silent */ }); }
  }

  function showToasts() {
    document.querySelectorAll(".toast[data-sound]").forEach(function (toast) {
      toast.removeAttribute("data-sound");
      ring();
      setTimeout(function () { toast.remove(); }, 60000);
    });
  }

  function setLive(text, ok) {
    var el = document.getElementById("live-state");
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("down", !ok);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.classList.contains("dismiss")) {
      var toast = target.closest(".toast");
      if (toast) { toast.remove(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    fillCsrf(document);
    trimLive();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    fillCsrf(document);
    trimLive();
    dedupeById("article.door");
    dedupeById("article.alarm");
    var none = document.getElementById("no-alarms");
    if (none && document.querySelector("article.alarm")) { none.remove(); }
    var noDoors = document.getElementById("no-doors");
    if (noDoors && document.querySelector("article.door")) { noDoors.remove(); }
    showToasts();
  });

  document.addEventListener("htmx:sseOpen", function () { setLive("live", true); });
  document.addEventListener("htmx:sseError", function () { setLive("reconnecting…", false); });
})();
