// The template editor's live preview: while the admin types, the text goes to the page's
// preview endpoint (with the form's CSRF token) and what comes back — the message filled
// with sample data, or why it cannot be saved — is shown as text, never as HTML. Without
// JavaScript the "Preview" button asks the server for the same, with a page load.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var body = document.getElementById("body");
  var out = document.getElementById("preview");
  var problems = document.getElementById("problems");
  var button = document.getElementById("preview-button");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var asked = 0;
  if (button) { button.hidden = true; }  // the preview follows the typing

  function showProblems(list) {
    problems.textContent = "";
    body.removeAttribute("aria-invalid");
    if (!list || !list.length) { return; }
    body.setAttribute("aria-invalid", "true");
    var title = document.createElement("p");
    title.className = "error";
    title.textContent = problems.getAttribute("data-title");
    var items = document.createElement("ul");
    items.className = "error";
    list.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      items.appendChild(item);
    });
    problems.appendChild(title);
    problems.appendChild(items);
  }

  function ask() {
    var mine = ++asked;
    var data = new URLSearchParams();
    data.append("csrf_token", token);
    data.append("body", body.value);
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token },
      body: data
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) {
        throw new Error("signed out or unavailable");
      }
      return response.json();
    }).then(function (answer) {
      if (mine !== asked) { return; }  // a later keystroke has asked again
      if (answer.ok) {
        out.textContent = answer.text;
        showProblems([]);
      } else {
        out.textContent = out.getAttribute("data-unavailable");
        showProblems(answer.problems);
      }
    }).catch(function () {
      if (button) { button.hidden = false; }  // fall back to the server-side preview
    });
  }

  body.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  });
})();
