// meshreport: click a column heading of a table.sortable to sort by it (again: reverse).
// Cells sort by their data-v number when they have one, else by the number their text shows
// (report/format.py's units: "1,234 req/s", "<0.1 %", "1.20 s", "17.4 kB/s"; "–" sorts last),
// else by their text. No network, no eval.
(function () {
  "use strict";
  var UNITS = { "ms": 1, "s": 1000, "B/s": 1, "kB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9 };
  var NUMBER = /^(<)?([0-9][0-9,]*(?:\.[0-9]+)?)\s*(ms|s|B\/s|kB\/s|MB\/s|GB\/s|%|req\/s)?$/;
  // Status symbols, worst first, for the status column of lean tables (service pages), which
  // carries no data-v (the other tables' status cells say it in data-v).
  var RANK = { "\u2716": 0, "\u25B2": 1, "\u2013": 2, "\u2714": 3, "\u25C6": 4, "\u25CB": 5 };
  function key(cell, lean) {
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "" && !isNaN(Number(v))) { return Number(v); }
    var text = cell.textContent.trim();
    if (lean && cell.cellIndex === 1 && RANK[text.charAt(0)] !== undefined) { return RANK[text.charAt(0)]; }
    if (text === "–") { return -1; }
    var m = NUMBER.exec(text);
    if (m) {
      var n = Number(m[2].replace(/,/g, "")) * (UNITS[m[3]] || 1);
      return m[1] ? n / 2 : n;
    }
    return text.toLowerCase();
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var desc = th.getAttribute("aria-sort") !== "descending";
    var lean = table.classList.contains("lean");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], lean), y = key(b.cells[index], lean);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      var c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function init() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      if (!table.tHead) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "sort";
        while (th.firstChild) { b.appendChild(th.firstChild); }
        th.appendChild(b);
        b.addEventListener("click", function () { sortBy(table, i, th); });
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
