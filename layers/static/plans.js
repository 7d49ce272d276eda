/* 巡查计划 pages: the plan form shows one depot choice per team (htmx is set up by workbench.js). No inline
   handlers. */
(function () {
  'use strict';

  function depotRows() {
    var teams = document.getElementById('teams');
    if (!teams) { return; }
    function show() {
      var n = parseInt(teams.value, 10) || 0;
      document.querySelectorAll('.rm-depot').forEach(function (row) {
        row.hidden = parseInt(row.getAttribute('data-team'), 10) > n;
      });
    }
    teams.addEventListener('input', show);
    show();
  }

  document.addEventListener('DOMContentLoaded', depotRows);
})();
