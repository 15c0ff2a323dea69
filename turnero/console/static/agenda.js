// Keeps the open agenda current: every few seconds it asks the feed whether anything
// changed and, if so, swaps in the list the server rendered. Without JavaScript the page
// simply shows what it showed when loaded.
(function () {
  "use strict";
  var box = document.getElementById("agenda");
  if (!box || !window.fetch) { return; }
  var status = document.getElementById("agenda-status");
  var every = Math.max(1, Number(box.getAttribute("data-every")) || 20) * 1000;
  var timer = null;

  function check() {
    if (document.hidden) { return; }
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
      if (status) { status.textContent = status.getAttribute("data-updated"); }
    }).catch(function () {
      window.clearInterval(timer);  // a reload shows the login page if the session ended
    });
  }

  timer = window.setInterval(check, every);
})();
