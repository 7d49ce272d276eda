// Swagger UI for /docs, from the npm package the app serves itself (no CDN on a bureau intranet).
(function () {
  var el = document.getElementById('swagger-ui');
  if (!el || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({
    url: el.getAttribute('data-openapi-url'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    showExtensions: false,
    layout: 'BaseLayout',
    presets: [window.SwaggerUIBundle.presets.apis],
    oauth2RedirectUrl: null
  });
})();
