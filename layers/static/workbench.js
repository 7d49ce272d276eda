/* Workbench pages with htmx (首页, 巡查计划): no eval, no inline scripts from answers, requests only to this
   site, the CSRF header on every htmx request, and a refused form (422) swapped in with its Chinese errors. */
(function () {
  'use strict';
  if (!window.htmx) { return; }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return '';
  }

  window.htmx.config.allowEval = false;
  window.htmx.config.allowScriptTags = false;
  window.htmx.config.selfRequestsOnly = true;
  window.htmx.config.responseHandling = [
    {code: '204', swap: false}, {code: '[23]..', swap: true}, {code: '422', swap: true},
    {code: '[45]..', swap: false, error: true}];
  document.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['X-CSRF-Token'] = cookie('riskmap_csrf');
  });
})();
