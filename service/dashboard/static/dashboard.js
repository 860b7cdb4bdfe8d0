/* Sluice dashboard: optional improvements. Every page works without this script. */
(function () {
  "use strict";

  var live = document.getElementById("live");

  function announce(text) {
    if (!live) { return; }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // Show times in the reader's own time zone (the UTC text stays in the tooltip).
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    node.title = node.textContent;
    node.textContent = moment.toLocaleString([], {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  });

  // Copy a new API key.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        announce("Key copied to the clipboard.");
      });
    });
  });

  // "Select all" for bulk actions in the review queue.
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.closest("label").hidden = false;
    selectAll.addEventListener("change", function () {
      document.querySelectorAll(".queue input.select").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  function queueItem(checkId) {
    return document.getElementById("check-" + checkId);
  }

  function setBusy(ids, busy) {
    ids.forEach(function (id) {
      var item = queueItem(id);
      if (!item) { return; }
      item.setAttribute("aria-busy", busy ? "true" : "false");
      item.querySelectorAll(".actions button").forEach(function (b) { b.disabled = busy; });
    });
  }

  function markDone(done) {
    var item = queueItem(done.check_id);
    if (!item) { return; }
    item.classList.add("reviewed");
    item.classList.remove("done-ham", "done-spam");
    item.classList.add("done-" + done.label);
    item.setAttribute("data-feedback", done.label);
    var status = item.querySelector("[data-status]");
    if (status) { status.textContent = "Marked " + done.shown; }
    var box = item.querySelector("input.select");
    if (box) { box.checked = false; }
  }

  function focusNext(checkId) {
    var item = queueItem(checkId);
    var next = item && item.nextElementSibling;
    while (next && next.classList.contains("reviewed")) { next = next.nextElementSibling; }
    var button = next && next.querySelector(".actions button");
    if (button) { button.focus(); }
  }

  function submitQueue(event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!submitter || !window.fetch || !window.URLSearchParams) { return; }
    var ids;
    if (submitter.name === "one") {
      ids = [submitter.value.split(":")[1]];
    } else {
      ids = Array.prototype.map.call(
        form.querySelectorAll("input.select:checked"), function (box) { return box.value; });
      if (!ids.length) {
        event.preventDefault();
        announce("Select at least one comment first.");
        return;
      }
    }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.append(submitter.name, submitter.value);
    setBusy(ids, true);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      setBusy(ids, false);
      var done = (result.data && result.data.done) || [];
      if (result.status === 401 || result.status === 403) {
        announce(result.data.message || "Please reload the page and sign in again.");
        return;
      }
      done.forEach(markDone);
      var failed = (result.data && result.data.failed) || [];
      var text = done.length + " comment" + (done.length === 1 ? "" : "s") + " marked " +
        (done.length ? done[0].shown : "") + ".";
      if (failed.length) { text += " " + failed.length + " could not be found."; }
      announce(text);
      if (submitter.name === "one" && done.length) { focusNext(ids[0]); }
    }).catch(function () {
      setBusy(ids, false);
      announce("The server could not be reached; nothing was recorded. Try again.");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.getAttribute("data-enhance") === "queue") { submitQueue(event); }
  });
})();
