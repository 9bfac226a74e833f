// Sorting and filtering for the tables of a Sonde report, tree expansion, and a status for automated checks.
// This script holds no data from the guest: it only reads the escaped DOM.
(function () {
  'use strict';
  function key(td) {
    if (!td) { return ''; }
    if (td.hasAttribute('data-n')) { return Number(td.getAttribute('data-n')); }
    if (td.hasAttribute('data-k')) { return td.getAttribute('data-k'); }
    return td.textContent.toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : a > b ? 1 : 0; }
    return typeof a === 'number' ? -1 : 1;
  }
  var tables = document.querySelectorAll('table.data');
  Array.prototype.forEach.call(tables, function (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var filter = document.querySelector('input.filter[data-for="' + table.id + '"]');
    var kind = document.querySelector('select.kind[data-for="' + table.id + '"]');
    var shown = document.getElementById(table.id + '-shown');
    function apply() {
      var q = filter ? filter.value.trim().toLowerCase() : '';
      var k = kind ? kind.value : '';
      var n = 0;
      rows.forEach(function (r) {
        var ok = (!q || r.textContent.toLowerCase().indexOf(q) >= 0) && (!k || r.getAttribute('data-kind') === k);
        r.hidden = !ok;
        if (ok) { n++; }
      });
      if (shown) { shown.textContent = n === rows.length ? n + ' rows' : n + ' of ' + rows.length + ' rows'; }
    }
    if (filter) { filter.addEventListener('input', apply); }
    if (kind) { kind.addEventListener('change', apply); }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var keyed = rows.map(function (r, idx) { return [key(r.cells[i]), idx, r]; });
        keyed.sort(function (a, b) { return (asc ? compare(a[0], b[0]) : compare(b[0], a[0])) || a[1] - b[1]; });
        rows = keyed.map(function (x) { return x[2]; });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
    apply();
  });
  Array.prototype.forEach.call(document.querySelectorAll('button[data-tree]'), function (b) {
    b.addEventListener('click', function () {
      var open = b.getAttribute('data-tree') === 'open';
      Array.prototype.forEach.call(document.querySelectorAll('ul.tree details:not(.leaf)'), function (d) { d.open = open; });
    });
  });
  var summary = JSON.parse(document.getElementById('sonde-summary').textContent);
  var status = document.getElementById('sonde-status');
  status.value = 'ready ' + tables.length + ' tables ' + summary.completeness;
  document.documentElement.setAttribute('data-sonde-ready', String(tables.length));
})();
