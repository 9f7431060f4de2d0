/*
 * The change form's heartbeat (articles/admin/presence.py): every ~30 s it tells the server this
 * form is still open, and puts the notices it answers with (who else is editing, pending
 * proposals) in place of the ones the page was rendered with. Leaving the page says so, so others
 * stop seeing this editor at once instead of after the entry expires.
 *
 * The server renders the notices, escaped, from the same templates as the page. Without
 * JavaScript the page shows them as they were when it was rendered.
 */
(function () {
  "use strict";

  var region = document.querySelector("[data-presence-region='presence'][data-presence-url]");
  if (!region || !window.fetch || !window.FormData) return;
  var pending = document.querySelector("[data-presence-region='pending']");
  var url = region.getAttribute("data-presence-url");
  var page = region.getAttribute("data-presence-page") || "";
  var interval = (parseInt(region.getAttribute("data-presence-interval"), 10) || 30) * 1000;
  var submitting = false;

  function csrfToken() {
    // The admin sets CSRF_COOKIE_HTTPONLY: the form's hidden input is the source.
    var input = document.querySelector("input[name='csrfmiddlewaretoken']");
    return input ? input.value : "";
  }

  function body(leaving) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    data.append("page", page);
    if (leaving) data.append("leaving", "1");
    return data;
  }

  function replace(node, html) {
    if (!node || typeof html !== "string") return;
    // Never pull a link from under the keyboard: a notice holding the focus waits for the next beat.
    if (node.contains(document.activeElement)) return;
    var parsed = document.createElement("template");
    parsed.innerHTML = html;
    if (parsed.innerHTML !== node.innerHTML) node.innerHTML = parsed.innerHTML;
  }

  function beat() {
    fetch(url, {
      method: "POST",
      body: body(false),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        replace(region, data.presence);
        replace(pending, data.pending);
      })
      .catch(function () { /* offline for a moment: the next beat tries again */ });
  }

  var form = region.closest("form");
  if (form) form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("pagehide", function () {
    // After a save the next page records this editor again; only a page really left says goodbye.
    if (!submitting && navigator.sendBeacon) navigator.sendBeacon(url, body(true));
  });
  setInterval(beat, interval);
})();
