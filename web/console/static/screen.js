// The waiting room's screen: it asks the feed for the calls after the last one it saw
// (a cursor the feed hands back) and announces each in the order they were made: the
// number large with its room, a flash and a chime, once per call or recall. While others
// wait, each is held a second; the ones before move to the list beside. Text only, never
// HTML. A lost connection is retried with a backoff (poller.js), and the screen then
// announces all it missed.
(function () {
  "use strict";
  var screen = document.getElementById("screen");
  if (!screen || !window.fetch || !window.turneroPoll) { return; }
  var HOLD_MS = 1000, KEPT = 5;
  var number = document.getElementById("now-number");
  var room = document.getElementById("now-room");
  var initials = document.getElementById("now-initials");
  var before = document.getElementById("before");
  var cursor = screen.getAttribute("data-cursor") || "0";
  var day = screen.getAttribute("data-day") || "";
  var pending = [], holding = false, audio = null;

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      [660, 880].forEach(function (pitch, n) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = pitch;
        gain.gain.setValueAtTime(0.2, audio.currentTime + n * 0.35);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + n * 0.35 + 0.3);
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + n * 0.35);
        tone.stop(audio.currentTime + n * 0.35 + 0.3);
      });
    } catch (ignored) { /* a screen without sound still shows the call */ }
  }

  function keepBefore() {
    // the call shown until now moves to the top of the list beside
    var id = number.getAttribute("data-id");
    if (!id) { return; }
    Array.prototype.slice.call(before.children).forEach(function (item) {
      if (item.getAttribute("data-id") === id) { before.removeChild(item); }
    });
    var item = document.createElement("li");
    var label = document.createElement("span");
    var where = document.createElement("span");
    item.setAttribute("data-id", id);
    label.className = "number";
    label.textContent = number.textContent;
    where.className = "room";
    where.textContent = number.getAttribute("data-room");
    item.appendChild(label);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(where);
    before.insertBefore(item, before.firstChild);
    while (before.children.length > KEPT) { before.removeChild(before.lastChild); }
  }

  function announce(call) {
    keepBefore();
    number.textContent = call.number;
    number.setAttribute("data-id", String(call.id));
    number.setAttribute("data-room", call.room);
    number.setAttribute("data-call", String(call.seq));
    room.textContent = screen.getAttribute("data-to") + " " + call.room;
    initials.textContent = call.initials;
    number.classList.remove("fresh");
    void number.offsetWidth;  // restart the flash
    number.classList.add("fresh");
    chime();
  }

  function next() {
    holding = false;
    var call = pending.shift();
    if (!call) { return; }
    announce(call);
    holding = true;
    window.setTimeout(next, HOLD_MS);
  }

  function take(data) {
    if (data.day !== day) { day = data.day; }
    cursor = String(data.cursor);
    pending = pending.concat(data.calls || []);
    if (!holding) { next(); }
    return data.more === true;
  }

  window.turneroPoll({
    url: function () {
      var feed = screen.getAttribute("data-feed");
      var joiner = feed.indexOf("?") < 0 ? "?" : "&";
      return feed + joiner + "after=" + encodeURIComponent(cursor) + "&day=" + encodeURIComponent(day);
    },
    every: Math.max(1, Number(screen.getAttribute("data-every")) || 2) * 1000,
    take: take,
    note: document.getElementById("reconnecting")
  });
})();
