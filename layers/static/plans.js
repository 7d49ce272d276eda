/* 巡查计划 pages: htmx without eval, the CSRF header on htmx writes, form errors (422) swapped in, the plan form
   shows one depot choice per team. No inline handlers. */
(function () {
  'use strict';

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return '';
  }

  if (window.htmx) {
    window.htmx.config.allowEval = false;
    window.htmx.config.allowScriptTags = false;
    window.htmx.config.selfRequestsOnly = true;
    // a refused form (422) comes back with its Chinese errors next to the fields: swap it in like a success
    window.htmx.config.responseHandling = [
      {code: '204', swap: false}, {code: '[23]..', swap: true}, {code: '422', swap: true},
      {code: '[45]..', swap: false, error: true}];
    document.addEventListener('htmx:configRequest', function (e) {
      e.detail.headers['X-CSRF-Token'] = cookie('riskmap_csrf');
    });
  }

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
