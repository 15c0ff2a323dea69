// Keeps an open agenda, inbox or conversation current: every few seconds it asks the
// page's feed whether anything changed and, if so, swaps in what the server rendered
// (escaped there). On a conversation it also opens or closes the reply form as WhatsApp's
// window does.
// Without JavaScript the page simply shows what it showed when loaded.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || !window.fetch) { return; }
  var status = document.getElementById("live-status");
  var state = document.getElementById("conversation-status");
  var reply = document.getElementById("reply-fields");
  var every = Math.max(1, Number(box.getAttribute("data-every")) || 20) * 1000;
  var timer = null;

  function check(now) {
    if (document.hidden && now !== true) { return; }
    fetch(box.getAttribute("data-feed"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) {
        throw new Error("signed out or unavailable");
      }
      return response.json();
    }).then(function (data) {
      if (data.stamp === box.getAttribute("data-stamp")) { return; }
      box.innerHTML = data.html;
      box.setAttribute("data-stamp", data.stamp);
      if (state && data.status_html) { state.innerHTML = data.status_html; }
      if (reply && typeof data.window_open === "boolean") { reply.disabled = !data.window_open; }
      if (status) { status.textContent = status.getAttribute("data-updated"); }
    }).catch(function () {
      window.clearInterval(timer);  // a reload shows the login page if the session ended
    });
  }

  timer = window.setInterval(check, every);
  window.turneroRefresh = function () { check(true); };  // after a change made here
})();
