// The agenda grid's drag and drop: take an appointment with the mouse (or a pen or a
// finger) and drop it on another time or another professional's column; it is moved
// through the same endpoint as the move form (the same checks, the same WhatsApp message
// to the patient). A refused move snaps the block back and says why. Without JavaScript
// the move form on the appointment's page does the same.
(function () {
  "use strict";
  var box = document.getElementById("live");
  var status = document.getElementById("grid-status");
  if (!box || !window.fetch || !window.FormData || !document.elementsFromPoint) { return; }
  var ROW_MINUTES = 5;
  var THRESHOLD = 6;  // pixels the pointer moves before a press becomes a drag
  var held = null;  // {block, x, y, dragging}

  function say(text) {
    if (!status) { return; }
    status.textContent = text;
    status.hidden = !text;
  }

  function settle(block) {
    block.classList.remove("dragging");
    block.style.transform = "";
  }

  function columnAt(x, y) {
    var found = document.elementsFromPoint(x, y);
    for (var i = 0; i < found.length; i++) {
      var body = found[i].closest && found[i].closest("[data-drop]");
      if (body && box.contains(body)) { return body; }
    }
    return null;
  }

  function slotFor(block, body) {
    var grid = body.closest(".time-grid");
    var step = Number(grid && grid.getAttribute("data-step")) || 15;
    var rows = Number(body.getAttribute("data-rows")) || 1;
    var area = body.getBoundingClientRect();
    var top = block.getBoundingClientRect().top;
    var minutes = Math.max(0, (top - area.top) / (area.height / rows) * ROW_MINUTES);
    minutes = Math.round(minutes / step) * step;
    var since = new Date(body.getAttribute("data-since"));
    var start = new Date(since.getTime() + minutes * 60000);
    var professional = body.getAttribute("data-professional") ||
      block.getAttribute("data-professional");
    return professional + "|" + start.toISOString().slice(0, 16) + "Z";
  }

  function move(block, slot) {
    var form = new FormData();
    form.append("csrf_token", box.getAttribute("data-csrf"));
    form.append("slot", slot);
    block.classList.add("moving");
    fetch(block.getAttribute("data-move"), {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) { return { moved: false }; }
      return response.json();
    }).then(function (answer) {
      block.classList.remove("moving");
      if (answer.moved) {
        say("");
        if (window.turneroRefresh) { window.turneroRefresh(); }
      } else {
        settle(block);  // back where it was
        say(answer.message || box.getAttribute("data-refused"));
      }
    }).catch(function () {
      block.classList.remove("moving");
      settle(block);
      say(box.getAttribute("data-refused"));
    });
  }

  box.addEventListener("dragstart", function (event) {
    if (held || (event.target.closest && event.target.closest("li[data-move]"))) {
      event.preventDefault();  // no link is dragged away on its own while a block moves
    }
  });
  box.addEventListener("pointerdown", function (event) {
    var block = event.target.closest && event.target.closest("li[data-move]");
    if (!block || event.button !== 0 || event.target.closest("details")) { return; }
    held = { block: block, x: event.pageX, y: event.pageY, dragging: false };
  });
  document.addEventListener("pointermove", function (event) {
    if (!held) { return; }
    var dx = event.pageX - held.x;  // the page may scroll meanwhile
    var dy = event.pageY - held.y;
    if (!held.dragging && Math.abs(dx) + Math.abs(dy) < THRESHOLD) { return; }
    held.dragging = true;
    held.block.classList.add("dragging");
    held.block.style.transform = "translate(" + dx + "px," + dy + "px)";
    event.preventDefault();
  });
  document.addEventListener("pointerup", function (event) {
    if (!held) { return; }
    var was = held;
    held = null;
    if (!was.dragging) { return; }
    var swallow = function (click) {  // the click that ends a drag opens no link
      click.preventDefault();
      click.stopPropagation();
    };
    document.addEventListener("click", swallow, true);
    window.setTimeout(function () { document.removeEventListener("click", swallow, true); }, 0);
    var body = columnAt(event.clientX, event.clientY);
    if (!body) { settle(was.block); return; }
    move(was.block, slotFor(was.block, body));
  });
  document.addEventListener("pointercancel", function () {
    if (held) { settle(held.block); held = null; }
  });
})();
