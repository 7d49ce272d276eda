/* riskmap page behaviour. Every name a user wrote reaches the DOM as text (textContent, text nodes); the only
   HTML inserted is popup_html, rendered server-side by Jinja2 with autoescape. No inline handlers, no eval. */
(function () {
  'use strict';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return '';
  }

  /* Sign out: POST /logout with the CSRF token of the riskmap_csrf cookie (header and form field). */
  function logout() {
    var token = cookie('riskmap_csrf');
    var body = new URLSearchParams();
    body.set('csrf_token', token);
    return fetch('/logout', {method: 'POST', body: body, credentials: 'same-origin', redirect: 'manual',
                             headers: {'X-CSRF-Token': token}})
      .then(function () { window.location.assign('/login'); })
      .catch(function () { window.location.assign('/logout'); });
  }

  function logoutButton(label) {
    var b = el('button', 'rm-logout-button', label || '退出');
    b.type = 'button';
    b.addEventListener('click', function (e) { e.preventDefault(); logout(); });
    return b;
  }

  /* GeoJSON layers of the map pages: style and marker from the properties, popup from the server-rendered
     popup_html, tooltip as text. kind: 'shape' (polygons, lines), 'point' (circle markers), 'stop' (numbered). */
  function bindFeature(feature, layer) {
    var p = feature.properties || {};
    if (p.popup_html) {
      layer.bindPopup(function () {
        var d = el('div', 'rm-popup-box');
        d.innerHTML = p.popup_html;  // escaped by the server's template; see layers/templates/popups.html
        return d;
      }, {maxWidth: Math.min(380, window.innerWidth - 60), autoPanPadding: [10, 10]});
    }
    if (p.tooltip !== undefined && p.tooltip !== null && p.tooltip !== '') {
      layer.bindTooltip(function () { return el('span', 'rm-tip', p.tooltip); }, {sticky: !layer.getLatLng});
    }
  }

  function stopIcon(p) {
    var d = el('div', 'rm-stop', p.seq);
    d.style.background = p.team_colour;
    d.style.borderColor = p.level_colour;
    return L.divIcon({html: d, className: 'rm-stop-icon', iconSize: [22, 22], iconAnchor: [11, 11]});
  }

  function featureLayer(data, kind, opts) {
    var interactive = !opts || opts.interactive !== false;
    var common = (opts && opts.style) || {};
    function style(f) { return Object.assign({}, common, (f.properties && f.properties.style) || {}); }
    return L.geoJson(data, {
      interactive: interactive,
      style: style,
      pointToLayer: function (f, latlng) {
        if (kind === 'stop') { return L.marker(latlng, {icon: stopIcon(f.properties)}); }
        return L.circleMarker(latlng, style(f));
      },
      onEachFeature: interactive ? bindFeature : null
    });
  }

  /* leaflet-search over a feature layer: tips are text nodes, a found feature opens its popup. */
  /* leaflet-search's setLayer also adds the layer to the map: the enterprises would be drawn a second time, beside
     their clusters and whatever the layer control says. Ours only searches the layer. */
  var SearchOnly = null;
  function searchControl(map, layer, opts) {
    SearchOnly = SearchOnly || L.Control.Search.extend({setLayer: function (l) { this._layer = l; return this; }});
    var control = new SearchOnly({
      layer: layer, propertyName: opts.property || 'name', collapsed: false, position: 'topleft',
      textPlaceholder: opts.placeholder || '', textErr: opts.notFound || '未找到', textCancel: '取消',
      initial: false, zoom: opts.zoom, hideMarkerOnCollapse: true,
      buildTip: function (text) { return el('li', null, text); }
    });
    control.on('search:locationfound', function (e) {
      // the search zooms past the clustering zoom: once there the enterprise is its own dot and opens
      var done = false;
      function open() {
        if (!done && e.layer && e.layer._map && e.layer.getPopup()) { done = true; e.layer.openPopup(); }
      }
      map.once('moveend', function () { setTimeout(open, 50); });
      setTimeout(open, 300);
      setTimeout(open, 1000);
    });
    map.addControl(control);
    return control;
  }

  /* The popup of a vector-tile feature (fetched as GeoJSON on click), built from text nodes. */
  function tilePopup(q, id, statusLabels) {
    var box = el('div', 'rm-popup');
    box.appendChild(el('h4', null, q.name || q.code || ('#' + id)));
    var line = el('div');
    var b;
    if (q.status) {
      line.appendChild(document.createTextNode('状态：'));
      b = el('b', null, (statusLabels || {})[q.status] || q.status);
    } else {
      line.appendChild(document.createTextNode('风险等级：'));
      b = el('b', null, q.level_label || '未评估');
    }
    line.appendChild(b);
    box.appendChild(line);
    var reasons = q.reasons || [];
    if (reasons.length) {
      var ul = el('ul', 'rm-reasons');
      reasons.forEach(function (x) { ul.appendChild(el('li', null, typeof x === 'string' ? x : (x && x.text) || '')); });
      box.appendChild(ul);
    }
    return box;
  }

  function vectorTileClick(layer, featureUrl, statusLabels) {
    layer.on('click', function (e) {
      var p = e.layer.properties, map = e.target._map;
      if (p.n && p.n > 1) { map.setView(e.latlng, Math.min(map.getZoom() + 2, 18)); return; }
      fetch(featureUrl + encodeURIComponent(p.id), {credentials: 'same-origin'})
        .then(function (r) { return r.json(); })
        .then(function (f) {
          L.popup().setLatLng(e.latlng).setContent(tilePopup(f.properties || {}, p.id, statusLabels)).openOn(map);
        });
    });
  }

  /* The signed-in user and 退出 on a map page (served pages only: an offline file has no /auth/me). */
  function accountControl(map) {
    if (location.protocol === 'file:') { return; }
    fetch('/auth/me', {credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (me) {
        if (!me) { return; }
        var box = L.control({position: 'topright'});
        box.onAdd = function () {
          var div = L.DomUtil.create('div', 'leaflet-bar rm-account');
          div.appendChild(el('span', null, '当前用户：' + me.label + ' '));
          div.appendChild(logoutButton('退出'));
          L.DomEvent.disableClickPropagation(div);
          return div;
        };
        box.addTo(map);
      })
      .catch(function () {});
  }

  /* 打印 and 导出图片 (leaflet-easyprint), A4 and A3: the page shows its title, date, legend and north arrow on
     the sheet (the rm-printing class, layers/static/riskmap.css). */
  /* easyprint's print window runs an inline script (and a setTimeout string), which the pages' CSP refuses: ours
     writes the sheet as plain DOM and prints it from this page. */
  var PrintClass = null;
  function printClass() {
    PrintClass = PrintClass || L.Control.EasyPrint.extend({
      _sendToBrowserPrint: function (img, orientation) {
        var w = this._page, d = w.document;
        d.body.innerHTML = '';
        var st = d.createElement('style');
        st.textContent = '@media print { img { max-width: 98% !important; max-height: 98% !important; } ' +
          '@page { size: ' + (orientation === 'portrait' ? 'portrait' : 'landscape') + '; } }';
        d.head.appendChild(st);
        var im = d.createElement('img');
        im.style.display = 'block'; im.style.margin = 'auto';
        im.addEventListener('load', function () { w.focus(); w.print(); });
        im.src = img;
        d.body.appendChild(im);
      }
    });
    return PrintClass;
  }

  function printControl(map, opts) {
    if (!L.easyPrint) { return; }
    opts = opts || {};
    var head = L.control({position: 'topright'});
    head.onAdd = function () {
      var d = L.DomUtil.create('div', 'rm-print-head');
      d.appendChild(el('div', 'rm-print-title', opts.title || ''));
      d.appendChild(el('div', 'rm-print-date', '制图日期：' + (opts.date || '')));
      return d;
    };
    head.addTo(map);
    var sizes = ['A4Landscape', 'A4Portrait',
                 {width: 1587, height: 1123, className: 'rm-a3-landscape', tooltip: 'A3 横向'},
                 {width: 1123, height: 1587, className: 'rm-a3-portrait', tooltip: 'A3 纵向'}];
    var titles = {Current: '当前大小', A4Landscape: 'A4 横向', A4Portrait: 'A4 纵向'};
    var c = map.getContainer();
    var more = null, wasOpen = false;
    map.on('easyPrint-start', function () {
      L.DomUtil.addClass(c, 'rm-printing');
      more = c.querySelector('.rm-legend-more');  // the sheet carries the whole legend
      if (more) { wasOpen = more.open; more.open = true; }
    });
    map.on('easyPrint-finished', function () {
      L.DomUtil.removeClass(c, 'rm-printing');
      if (more) { more.open = wasOpen; }
    });
    [['打印', false, 'rm-print-button'], ['导出图片', true, 'rm-export-button']].forEach(function (k) {
      var p = new (printClass())({title: k[0], position: 'topleft', exportOnly: k[1], hideControlContainer: false,
                           sizeModes: sizes, defaultSizeTitles: titles, filename: 'riskmap-map',
                           tileWait: 300, spinnerBgCOlor: '#1f5fa8'}).addTo(map);
      L.DomUtil.addClass(p.getContainer(), k[2]);
    });
  }

  /* The scale in metres and kilometres, in Chinese (米 / 公里), no miles (every map, workbench ones too). */
  function scaleControl(map) {
    var s = L.control.scale({imperial: false, metric: true, maxWidth: 120});
    s._updateMetric = function (maxMeters) {
      var meters = this._getRoundNum(maxMeters);
      this._updateScale(this._mScale, meters < 1000 ? meters + ' 米' : (meters / 1000) + ' 公里', meters / maxMeters);
    };
    s.addTo(map);
    return s;
  }

  /* 测量: click points on the map for the path length (m/km) and the enclosed area (ha); leaflet-measure is not
     used because it compiles its templates with eval, which the pages' CSP forbids. */
  function ringArea(latlngs) {
    var R = 6378137, rad = Math.PI / 180, sum = 0;
    for (var i = 0; i < latlngs.length; i++) {
      var a = latlngs[i], b = latlngs[(i + 1) % latlngs.length];
      sum += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
    }
    return Math.abs(sum * R * R / 2);
  }

  function measureControl(map) {
    var control = L.control({position: 'topleft'});
    var points = [], line = null, on = false, out;
    function show() {
      var d = 0;
      for (var i = 1; i < points.length; i++) { d += map.distance(points[i - 1], points[i]); }
      var text = d >= 1000 ? (d / 1000).toFixed(2) + ' 公里' : d.toFixed(0) + ' 米';
      if (points.length > 2) { text += '，面积 ' + (ringArea(points) / 10000).toFixed(2) + ' 公顷'; }
      out.textContent = on ? (points.length ? text : '在地图上点击测量点') : '';
    }
    function click(e) { points.push(e.latlng); line.setLatLngs(points); show(); }
    control.onAdd = function () {
      var div = L.DomUtil.create('div', 'leaflet-bar rm-measure');
      var b = el('a', null, '测量');
      b.href = '#'; b.title = '测量距离和面积'; b.setAttribute('role', 'button');
      out = el('span', 'rm-measure-out');
      div.appendChild(b); div.appendChild(out);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(b, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        on = !on; points = [];
        b.textContent = on ? '结束' : '测量';
        if (on) { line = L.polyline([], {color: '#d84315', weight: 3, dashArray: '6 4'}).addTo(map); map.on('click', click); }
        else { map.off('click', click); if (line) { map.removeLayer(line); line = null; } }
        show();
      });
      return div;
    };
    control.addTo(map);
    return control;
  }

  /* Plain pages (base.html): the nav's 退出 form posts with the CSRF token; print buttons print. */
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form.rm-logout').forEach(function (f) {
      f.addEventListener('submit', function (e) { e.preventDefault(); logout(); });
    });
    document.querySelectorAll('.rm-print').forEach(function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
  });

  window.riskmap = {featureLayer: featureLayer, searchControl: searchControl, tilePopup: tilePopup,
                    vectorTileClick: vectorTileClick, accountControl: accountControl, printControl: printControl,
                    measureControl: measureControl, scaleControl: scaleControl,
                    logout: logout,
                    /* the CSRF token of the riskmap_csrf cookie, for the X-CSRF-Token header of a page's writes */
                    csrfToken: function () { return cookie('riskmap_csrf'); }};
})();
