/* The field app's service worker (scope /field): keeps the app shell, its scripts and Leaflet, and the last
   answers of the tasks and layers, so the app opens and works without signal. Pages and data: network first,
   the kept copy when there is no network. Records are never sent from here: the page's queue does that. */
'use strict';

var CACHE = 'riskmap-field-v4';
var SHELL = ['/field', '/field/manifest.webmanifest', '/static/riskmap.css', '/static/riskmap.js',
             '/static/field/field.css', '/static/field/store.js', '/static/field/photo.js', '/static/field/app.js',
             '/static/field/icon.svg', '/vendor/piexifjs/piexif.js', '/static/reference.js', '/vendor/leaflet/dist/leaflet.js',
             '/vendor/leaflet/dist/leaflet.css', '/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js'];
var KEPT = ['/field', '/field/manifest.webmanifest', '/static/', '/vendor/leaflet/', '/vendor/leaflet.vectorgrid/', '/vendor/piexifjs/',
            '/api/field/tasks', '/api/field/layers', '/tiles/reference/'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(url) {
  if (url.origin !== self.location.origin) { return false; }
  return KEPT.some(function (p) { return url.pathname === p || (p.slice(-1) === '/' && url.pathname.indexOf(p) === 0); });
}

self.addEventListener('fetch', function (event) {
  var req = event.request, url = new URL(req.url);
  if (req.method !== 'GET' || !kept(url)) { return; }
  var key = url.pathname === '/field' ? '/field' : req;
  event.respondWith(fetch(req).then(function (res) {
    if (res.ok && !res.redirected) {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { return c.put(key, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(key).then(function (hit) {
      return hit || new Response('离线：此内容尚未保存在手机上', {status: 503, headers: {'Content-Type': 'text/plain; charset=utf-8'}});
    });
  }));
});
