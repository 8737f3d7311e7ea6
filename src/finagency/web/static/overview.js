// Overview live numbers: listen to /events/stats (Server-Sent Events) and update in place.
// No innerHTML anywhere: values are written with textContent only.
(function () {
  "use strict";

  var section = document.getElementById("metrics");
  if (!section || !window.EventSource) {
    return;
  }
  var live = document.getElementById("live");
  var liveText = document.getElementById("live-text");
  var asOf = document.getElementById("as-of");
  var jobsBody = document.getElementById("jobs-by-state");
  var grouping = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  var oneDecimal = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });

  // Mirrors format_metric in web/overview.py so the first paint and the updates agree.
  function format(value, kind) {
    if (value === null || value === undefined) {
      return "\u2014";
    }
    if (kind === "pct") {
      return oneDecimal.format(value) + "%";
    }
    if (kind === "seconds") {
      return oneDecimal.format(value) + " s";
    }
    return grouping.format(value);
  }

  function setState(state, text) {
    if (live) {
      live.dataset.state = state;
    }
    if (liveText) {
      liveText.textContent = text;
    }
  }

  function updateJobs(byState) {
    if (!jobsBody || !byState) {
      return;
    }
    var names = Object.keys(byState).sort();
    var rows = [];
    names.forEach(function (name) {
      var row = document.createElement("tr");
      var label = document.createElement("td");
      var count = document.createElement("td");
      label.textContent = name;
      count.textContent = String(byState[name]);
      count.className = "num";
      row.appendChild(label);
      row.appendChild(count);
      rows.push(row);
    });
    if (rows.length === 0) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 2;
      cell.textContent = "No jobs yet.";
      empty.appendChild(cell);
      rows.push(empty);
    }
    jobsBody.replaceChildren.apply(jobsBody, rows);
  }

  function apply(stats) {
    section.querySelectorAll("[data-metric]").forEach(function (element) {
      var key = element.dataset.metric;
      if (!(key in stats)) {
        return;
      }
      var text = format(stats[key], element.dataset.format);
      if (element.textContent !== text) {
        element.textContent = text;
        element.classList.add("changed");
        window.setTimeout(function () {
          element.classList.remove("changed");
        }, 1200);
      }
    });
    if (asOf && stats.as_of) {
      asOf.setAttribute("datetime", stats.as_of);
      asOf.textContent = stats.as_of.slice(0, 19).replace("T", " ") + " UTC";
    }
    updateJobs(stats.jobs_by_state);
  }

  var source = new EventSource(section.dataset.streamUrl);
  setState("connecting", "Connecting to live updates\u2026 numbers as of");
  source.addEventListener("open", function () {
    setState("live", "Live \u00b7 numbers as of");
  });
  source.addEventListener("stats", function (event) {
    try {
      apply(JSON.parse(event.data));
      setState("live", "Live \u00b7 numbers as of");
    } catch (error) {
      setState("lost", "Could not read an update \u00b7 numbers as of");
    }
  });
  source.addEventListener("error", function () {
    // EventSource reconnects by itself unless the server refused (e.g. signed out).
    if (source.readyState === EventSource.CLOSED) {
      setState("lost", "Live updates stopped (reload the page) \u00b7 numbers as of");
    } else {
      setState("lost", "Reconnecting\u2026 numbers as of");
    }
  });
})();
