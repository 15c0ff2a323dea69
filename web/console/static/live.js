// Keeps an open agenda, inbox, conversation or waiting-room board current: every few
// seconds it asks the page's feed whether anything changed and, if so, swaps in what the
// server rendered (escaped there). On a conversation it also opens or closes the reply
// form as WhatsApp's window does. A lost connection is retried with a backoff
// (poller.js), and the page updates again once the server answers.
// Without JavaScript the page simply shows what it showed when loaded.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || !window.fetch || !window.turneroPoll) { return; }
  var status = document.getElementById("live-status");
  var state = document.getElementById("conversation-status");
  var reply = document.getElementById("reply-fields");

  function take(data) {
    if (data.stamp === box.getAttribute("data-stamp")) { return false; }
    box.innerHTML = data.html;
    box.setAttribute("data-stamp", data.stamp);
    if (state && data.status_html) { state.innerHTML = data.status_html; }
    if (reply && typeof data.window_open === "boolean") { reply.disabled = !data.window_open; }
    if (status) { status.textContent = status.getAttribute("data-updated"); }
    return false;
  }

  var poll = window.turneroPoll({
    url: function () { return box.getAttribute("data-feed"); },
    every: Math.max(1, Number(box.getAttribute("data-every")) || 20) * 1000,
    take: take,
    paused: function () { return document.hidden; },
    note: document.getElementById("live-reconnecting")
  });
  window.turneroRefresh = poll.now;  // after a change made here
})();
