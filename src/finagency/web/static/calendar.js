// Calendar drag and drop: drop a post on another day to move it there at the same time of day.
// The keyboard path is the "Move" link on every movable post (a plain form, no script needed).
(function () {
  "use strict";

  var grid = document.getElementById("calendar");
  if (!grid) {
    return;
  }
  var statusLine = document.getElementById("cal-status");
  var dragged = null;

  function say(text, kind) {
    if (!statusLine) {
      return;
    }
    statusLine.hidden = false;
    statusLine.className = "flash flash-" + kind;
    statusLine.textContent = text;
  }

  function insertSorted(list, entry) {
    var time = entry.dataset.time;
    var after = null;
    list.querySelectorAll(".cal-entry").forEach(function (other) {
      if (after === null && other !== entry && other.dataset.time > time) {
        after = other;
      }
    });
    list.insertBefore(entry, after);
  }

  function move(entry, day) {
    var postId = entry.dataset.postId;
    var at = day.dataset.date + "T" + entry.dataset.time + "Z";
    var body = new URLSearchParams();
    body.set("at", at);
    entry.classList.add("cal-moving");
    return fetch("/calendar/" + encodeURIComponent(postId) + "/move", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRF-Token": grid.dataset.csrf,
      },
      body: body.toString(),
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        entry.classList.remove("cal-moving");
        if (!result.ok) {
          var message = result.data && result.data.error ? result.data.error.message : "refused";
          say("Post " + postId + " was not moved: " + message, "error");
          return;
        }
        insertSorted(day.querySelector(".cal-entries"), entry);
        entry.dataset.movedTo = result.data.scheduled_at;
        say("Post " + postId + " moved to " + day.dataset.date + " " + entry.dataset.time.slice(0, 5) + " UTC.", "success");
      })
      .catch(function () {
        entry.classList.remove("cal-moving");
        say("Post " + postId + " was not moved: the server did not answer.", "error");
      });
  }

  grid.addEventListener("dragstart", function (event) {
    var entry = event.target.closest && event.target.closest(".cal-entry[draggable='true']");
    if (!entry) {
      return;
    }
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.postId);
  });
  grid.addEventListener("dragend", function () {
    dragged = null;
    grid.querySelectorAll(".cal-drop").forEach(function (day) {
      day.classList.remove("cal-drop");
    });
  });
  grid.addEventListener("dragover", function (event) {
    var day = event.target.closest && event.target.closest(".cal-day");
    if (!dragged || !day) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    day.classList.add("cal-drop");
  });
  grid.addEventListener("dragleave", function (event) {
    var day = event.target.closest && event.target.closest(".cal-day");
    if (day && !day.contains(event.relatedTarget)) {
      day.classList.remove("cal-drop");
    }
  });
  grid.addEventListener("drop", function (event) {
    var day = event.target.closest && event.target.closest(".cal-day");
    if (!dragged || !day) {
      return;
    }
    event.preventDefault();
    day.classList.remove("cal-drop");
    var entry = dragged;
    dragged = null;
    if (entry.closest(".cal-day") === day) {
      return;
    }
    move(entry, day);
  });
})();
