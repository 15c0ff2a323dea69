// The profitability estimator recomputed as its inputs change, from each row's own
// figures (data-value): absences × share to recover × ticket − messages × price. A change
// of "months back" reads another period, so that one submits the form.
(function () {
  "use strict";
  var table = document.querySelector("table[data-estimator]");
  var form = document.querySelector("form.report-range");
  if (!table || !form) { return; }
  var lang = document.documentElement.lang === "gn" ? "es-PY" : document.documentElement.lang;
  var money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var decimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function read(name) {
    var input = form.elements[name];
    var value = input ? parseFloat(String(input.value).replace(",", ".")) : NaN;
    return isNaN(value) || value < 0 ? null : value;
  }

  function cell(row, key) { return row.querySelector('td[data-key="' + key + '"]'); }

  function put(row, key, value, format) {
    var found = cell(row, key);
    if (found) { found.dataset.value = String(value); found.textContent = format.format(value); }
  }

  function recompute() {
    var ticket = read("ticket"), share = read("recover"), price = read("price");
    if (ticket === null || share === null || share > 100 || price === null) { return; }
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (row) {
      var absences = parseFloat(cell(row, "absences").dataset.value || "0");
      var messages = parseFloat(cell(row, "messages").dataset.value || "0");
      var toRecover = absences * share / 100;
      var cost = messages * price;
      put(row, "to_recover", toRecover, decimal);
      put(row, "cost", cost, money);
      put(row, "gain", toRecover * ticket - cost, money);
    });
  }

  ["ticket", "recover", "price"].forEach(function (name) {
    if (form.elements[name]) { form.elements[name].addEventListener("input", recompute); }
  });
  if (form.elements.months) {
    form.elements.months.addEventListener("change", function () { form.requestSubmit(); });
  }
}());
