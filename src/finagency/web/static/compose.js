// Compose: after each pause in typing, ask /compose/check for every platform's version and
// what the checks find, and show them with the findings marked. Nothing is saved by this.
// All text goes in with textContent; no innerHTML anywhere.
(function () {
  "use strict";

  var form = document.getElementById("compose-form");
  var out = document.getElementById("previews");
  var statusLine = document.getElementById("compose-status");
  if (!form || !out) {
    return;
  }
  var DELAY_MS = 350;
  var timer = null;
  var sequence = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function field(name) {
    var node = form.elements.namedItem(name);
    return node && node.value !== undefined ? node.value : "";
  }

  function marked(text, findings) {
    var box = el("div", "post-text");
    var spans = findings
      .filter(function (f) {
        return f.span && f.span[0] < f.span[1] && f.span[1] <= text.length;
      })
      .sort(function (a, b) {
        return a.span[0] - b.span[0];
      });
    var cursor = 0;
    spans.forEach(function (f) {
      if (f.span[0] < cursor) {
        return;
      }
      box.appendChild(document.createTextNode(text.slice(cursor, f.span[0])));
      var mark = el("mark", "sev-" + f.severity, text.slice(f.span[0], f.span[1]));
      mark.title = f.severity + ": " + f.reason_code + " \u2014 " + f.message;
      mark.tabIndex = 0;
      box.appendChild(mark);
      cursor = f.span[1];
    });
    box.appendChild(document.createTextNode(text.slice(cursor)));
    return box;
  }

  function card(preview) {
    var article = el("article", "card preview" + (preview.fits ? "" : " preview-over"));
    article.dataset.platform = preview.platform;
    var title = el("h3", "", preview.platform + (preview.handle ? " \u00b7 @" + preview.handle : ""));
    article.appendChild(title);
    var count = preview.limit
      ? preview.length + " / " + preview.limit
      : String(preview.length);
    var summary = el(
      "p",
      "meta preview-count",
      count + (preview.fits ? " \u00b7 fits" : " \u00b7 too long for one post") +
        (preview.parts.length > 1 ? " \u00b7 thread of " + preview.parts.length + " parts (" + preview.lengths.join(", ") + ")" : "") +
        " \u00b7 checks: " + preview.verdict
    );
    article.appendChild(summary);
    article.appendChild(marked(preview.text, preview.findings));
    if (preview.findings.length) {
      var list = el("ul", "findings");
      preview.findings.forEach(function (f) {
        var item = el("li", "sev-" + f.severity);
        item.appendChild(el("strong", "", f.severity));
        item.appendChild(document.createTextNode(" \u00b7 " + f.reason_code + " \u2014 " + f.message));
        list.appendChild(item);
      });
      article.appendChild(list);
    } else {
      article.appendChild(el("p", "meta", "No findings."));
    }
    return article;
  }

  function payload() {
    var accounts = [];
    form.querySelectorAll("input[name='account_ids']:checked").forEach(function (box) {
      accounts.push(Number(box.value));
    });
    var body = { text: field("text"), title: field("title"), link: field("link"), account_ids: accounts };
    if (form.dataset.postId) {
      body.post_id = Number(form.dataset.postId);
    } else {
      body.brand_id = Number(form.dataset.brandId);
    }
    return body;
  }

  function refresh() {
    var mine = ++sequence;
    statusLine.textContent = "Checking\u2026";
    fetch(form.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": form.dataset.csrf,
      },
      body: JSON.stringify(payload()),
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (mine !== sequence) {
          return; // a newer check is on its way
        }
        if (!result.ok) {
          statusLine.textContent = result.data && result.data.error ? result.data.error.message : "Could not check.";
          return;
        }
        var cards = result.data.previews.map(card);
        if (!cards.length) {
          cards = [el("p", "empty", "Choose at least one account.")];
        }
        out.replaceChildren.apply(out, cards);
        var total = 0;
        result.data.previews.forEach(function (p) {
          total += p.findings.length;
        });
        statusLine.textContent = "Checked: " + total + " finding(s) across " + result.data.previews.length + " platform(s).";
      })
      .catch(function () {
        if (mine === sequence) {
          statusLine.textContent = "Could not reach the server to check.";
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY_MS);
  }

  // Picking a slot or typing a time selects that choice of "When" too.
  function choose(value) {
    var radio = form.querySelector("input[name='when'][value='" + value + "']");
    if (radio) {
      radio.checked = true;
    }
  }
  var slotSelect = form.elements.namedItem("slot");
  if (slotSelect) {
    slotSelect.addEventListener("change", function () {
      choose("slot");
    });
  }
  var customAt = form.elements.namedItem("custom_at");
  if (customAt) {
    customAt.addEventListener("input", function () {
      choose("custom");
    });
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  if (field("text")) {
    refresh();
  }
})();
