// The waiting room's screen: every few seconds it asks the feed for the latest calls and
// shows them (text only, never HTML); a new call or a recall flashes and chimes. A lost
// connection is tried again at the next tick, so the screen catches up when it is back.
(function () {
  "use strict";
  var screen = document.getElementById("screen");
  if (!screen || !window.fetch) { return; }
  var every = Math.max(1, Number(screen.getAttribute("data-every")) || 2) * 1000;
  var number = document.getElementById("now-number");
  var room = document.getElementById("now-room");
  var initials = document.getElementById("now-initials");
  var before = document.getElementById("before");
  var audio = null;

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

  function show(calls) {
    var first = calls[0];
    var key = first ? first.id + ":" + first.calls : "";
    var changed = key !== number.getAttribute("data-call");
    number.textContent = first ? first.number : "—";
    room.textContent = first ? screen.getAttribute("data-to") + " " + first.room : screen.getAttribute("data-empty");
    initials.textContent = first ? first.initials : "";
    number.setAttribute("data-call", key);
    while (before.firstChild) { before.removeChild(before.firstChild); }
    calls.slice(1).forEach(function (call) {
      var item = document.createElement("li");
      var label = document.createElement("span");
      var where = document.createElement("span");
      label.className = "number";
      label.textContent = call.number;
      where.className = "room";
      where.textContent = call.room;
      item.appendChild(label);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(where);
      before.appendChild(item);
    });
    if (changed && first) {
      number.classList.remove("fresh");
      void number.offsetWidth;  // restart the flash
      number.classList.add("fresh");
      chime();
    }
  }

  function check() {
    fetch(screen.getAttribute("data-feed"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) { throw new Error("unavailable"); }
      return response.json();
    }).then(function (data) { show(data.calls || []); })
      .catch(function () { /* tried again at the next tick */ });
  }

  window.setInterval(check, every);
})();
