/* 用户与审计 pages: confirm before disabling an account; htmx requests carry the CSRF header from the riskmap_csrf
   cookie (the forms also carry the csrf_token field, so everything works without JavaScript). No eval. */
(function () {
  'use strict';


  document.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['X-CSRF-Token'] = window.riskmap.csrfToken();
  });

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form.rm-confirm').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
      });
    });
  });
})();
