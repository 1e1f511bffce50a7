// The filter box: hides the rows of every list whose name (or description) does not
// hold the text typed, case-insensitively; opens the lists with matches; says how many.
// Without this script the box stays hidden and every row is on the page.
(function () {
  'use strict';
  var box = document.getElementById('syncscope-filter');
  var input = document.getElementById('syncscope-q');
  var status = document.getElementById('syncscope-matches');
  if (!box || !input || !status) return;
  var lists = [];
  var tables = document.querySelectorAll('table[data-syncscope-cols]');
  for (var i = 0; i < tables.length; i++) {
    var table = tables[i];
    var cols = Number(table.getAttribute('data-syncscope-cols')) || 1;
    var rows = table.tBodies.length ? table.tBodies[0].rows : [];
    var texts = [];
    for (var r = 0; r < rows.length; r++) {
      var text = '';
      for (var c = 0; c < cols && c < rows[r].cells.length; c++) text += rows[r].cells[c].textContent + '\n';
      texts.push(text.toLowerCase());
    }
    var details = table.closest('details');
    lists.push({
      rows: rows,
      texts: texts,
      details: details,
      open: details ? details.open : true,
      shown: details ? details.querySelector('.syncscope-shown') : null
    });
  }
  var total = lists.reduce(function (sum, list) { return sum + list.rows.length; }, 0);
  function apply() {
    var query = input.value.trim().toLowerCase();
    var matches = 0;
    lists.forEach(function (list) {
      var hits = 0;
      for (var r = 0; r < list.rows.length; r++) {
        var hit = !query || list.texts[r].indexOf(query) !== -1;
        if (list.rows[r].hidden === hit) list.rows[r].hidden = !hit;
        if (hit) hits++;
      }
      matches += hits;
      if (list.details) list.details.open = query ? hits > 0 : list.open;
      if (list.shown) list.shown.textContent = query ? ' (' + hits + ' shown)' : '';
    });
    status.textContent = query ? matches + ' of ' + total + ' rows match' : '';
  }
  input.addEventListener('input', apply);
  box.hidden = false;
  if (input.value) apply();
})();
