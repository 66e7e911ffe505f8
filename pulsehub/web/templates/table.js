// Sort any table with th[data-sort] by clicking its header; filter rows with input[data-filter].
document.querySelectorAll("table").forEach(function (table) {
  table.querySelectorAll("th[data-sort]").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.dataset.dir !== "asc"; th.dataset.dir = asc ? "asc" : "desc";
      var key = function (r) { var c = r.cells[idx]; var v = c ? (c.dataset.v !== undefined ? c.dataset.v : c.textContent.trim()) : "";
        var n = parseFloat(v); return th.dataset.sort === "num" ? (isNaN(n) ? -Infinity : n) : v.toLowerCase(); };
      rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.querySelectorAll("input[data-filter]").forEach(function (input) {
  var table = document.getElementById(input.dataset.filter);
  input.addEventListener("input", function () {
    var q = input.value.toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none"; });
  });
});
