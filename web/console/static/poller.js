// Asks a page's feed again and again: every few seconds while it answers; after a failure
// (no connection, a 5xx, a signed-out page) again in 2 s, doubling to 30 s, with the page's
// "reconnecting" note shown until the feed answers again. Used by live.js and screen.js.
(function () {
  "use strict";
  var FIRST_RETRY = 2000, LONGEST_RETRY = 30000;

  // options: url() the feed's address now; every (ms); take(data) true to ask again at
  // once; paused() true to skip a turn (a hidden tab); note, the element shown while
  // reconnecting.
  window.turneroPoll = function (options) {
    var timer = null, retry = 0, asking = false, again = false;

    function later(ms) {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, ms);
    }

    function answered(data) {
      retry = 0;
      if (options.note) { options.note.hidden = true; }
      later(options.take(data) || again ? 0 : options.every);
    }

    function failed() {
      retry = retry ? Math.min(retry * 2, LONGEST_RETRY) : FIRST_RETRY;
      if (options.note) { options.note.hidden = false; }
      later(retry);
    }

    function ask(force) {
      if (asking) { again = true; return; }  // one request at a time, in order
      if (options.paused && options.paused() && force !== true) { later(options.every); return; }
      asking = true;
      again = false;
      fetch(options.url(), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          throw new Error("unavailable or signed out");
        }
        return response.json();
      }).then(function (data) {
        asking = false;
        answered(data);
      }).catch(function () {
        asking = false;
        failed();
      });
    }

    later(options.every);
    return { now: function () { ask(true); } };
  };
})();
