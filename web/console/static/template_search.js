// The templates page's search as the admin types: the texts whose plain name, key or
// excerpt lack a word are hidden and the groups that hold a match open. Without
// JavaScript the form's `?q=` does the same on the server (over the whole text).
(function () {
  "use strict";
  var input = document.getElementById("q");
  if (!input || !String.prototype.normalize) { return; }

  function fold(words) {
    return words.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  input.addEventListener("input", function () {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var groups = document.querySelectorAll("details.group");
    for (var g = 0; g < groups.length; g++) {
      var items = groups[g].querySelectorAll("ul.texts li");
      var shown = 0;
      for (var i = 0; i < items.length; i++) {
        var said = fold(items[i].textContent);
        var found = words.every(function (word) { return said.indexOf(word) !== -1; });
        items[i].hidden = !found;
        if (found) { shown += 1; }
      }
      groups[g].hidden = shown === 0;
      groups[g].open = words.length > 0 && shown > 0;
    }
  });
})();
