// The WhatsApp simulator: each line is signed by the console (as Twilio signs) and posted
// to the real webhook; what the bot queued for the phone is shown as it arrives.
(function () {
  "use strict";
  var chat = document.getElementById("sim-chat");
  var form = document.getElementById("sim-form");
  if (!chat || !form || !window.fetch) { return; }
  var input = document.getElementById("sim-text");
  var audio = document.getElementById("sim-audio");
  var after = Number(chat.getAttribute("data-after")) || 0;
  var asking = false;

  function bubble(text, kind) {
    var item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    chat.appendChild(item);
    chat.scrollTop = chat.scrollHeight;
  }

  function json(response) {
    if (!response.ok) { throw new Error(String(response.status)); }
    return response.json();
  }

  function poll() {
    if (asking || document.hidden) { return; }
    asking = true;
    fetch(chat.getAttribute("data-messages") + "&after=" + after, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(json).then(function (replies) {
      replies.forEach(function (message) {  // in order; a message not yet sent waits
        after = Math.max(after, message.id);
        bubble(message.body, message.sent ? "theirs" : "theirs unsent");
        if (!message.sent) { bubble(message.note, "error"); }
      });
    }).catch(function () {}).then(function () { asking = false; });
  }

  function inlineAnswer(xml) {  // TwiML the webhook answered with, if any
    var found = new DOMParser().parseFromString(xml, "text/xml").getElementsByTagName("Message");
    return found.length ? found[0].textContent : "";
  }

  function send(line, shown) {
    bubble(shown, "mine");
    fetch(chat.getAttribute("data-sign"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": chat.getAttribute("data-csrf")
      },
      body: JSON.stringify({ phone: chat.getAttribute("data-phone"), text: line })
    }).then(json).then(function (signed) {
      return fetch(signed.url, {
        method: "POST",
        headers: { "X-Twilio-Signature": signed.signature },
        body: new URLSearchParams(signed.form)
      });
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (xml) {
      var said = inlineAnswer(xml);
      if (said) { bubble(said, "theirs"); }
      poll();
    }).catch(function () {
      bubble(chat.getAttribute("data-failed"), "error");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var line = input.value;
    if (!line.trim()) { return; }
    input.value = "";
    send(line, line);
  });
  audio.addEventListener("click", function () {
    send("/audio", chat.getAttribute("data-voice-note"));
  });
  window.setInterval(poll, 1000);
  form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
})();
