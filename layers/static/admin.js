/* 用户与审计 pages: confirm before disabling an account; htmx requests carry the CSRF header from the riskmap_csrf
   cookie (the forms also carry the csrf_token field, so everything works without JavaScript). No eval. */
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

  document.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['X-CSRF-Token'] = cookie('riskmap_csrf');
  });

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form.rm-confirm').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
      });
    });
  });
})();
